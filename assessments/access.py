"""The one scoping path: every read of fund data goes through these functions.

A user sees the funds they are a member of (superusers see all). Another fund's
object answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import (
    Alert,
    Company,
    CompanySnapshot,
    Evidence,
    EvidenceImport,
    Fund,
    ICPack,
    Membership,
    Role,
    Task,
    TaskSnapshot,
)

# What each kind of object is scoped by: the path from it to its fund.
FUND_PATH = {
    Fund: "id",
    Membership: "fund_id",
    Company: "fund_id",
    Task: "company__fund_id",
    Evidence: "task__company__fund_id",
    TaskSnapshot: "task__company__fund_id",
    CompanySnapshot: "company__fund_id",
    Alert: "company__fund_id",
    ICPack: "fund_id",
    EvidenceImport: "fund_id",
}

# What each role may do, on top of reading.
ADD_EVIDENCE = "add_evidence"
EDIT_COMPANIES = "edit_companies"
EDIT_ANY_EVIDENCE = "edit_any_evidence"
VERIFY_EVIDENCE = "verify_evidence"
MANAGE_MEMBERS = "manage_members"
MANAGE_RUBRIC = "manage_rubric"
READ_AUDIT = "read_audit"
# An IC pack build runs Chromium for every company: members who work on the fund start one.
BUILD_IC_PACK = "build_ic_pack"
MANAGE_WEBHOOKS = "manage_webhooks"

ROLE_ACTIONS = {
    Role.VIEWER: frozenset(),
    Role.ASSOCIATE: frozenset({ADD_EVIDENCE, EDIT_COMPANIES, BUILD_IC_PACK}),
    Role.PARTNER: frozenset(
        {
            ADD_EVIDENCE,
            EDIT_COMPANIES,
            EDIT_ANY_EVIDENCE,
            VERIFY_EVIDENCE,
            MANAGE_MEMBERS,
            MANAGE_RUBRIC,
            READ_AUDIT,
            BUILD_IC_PACK,
            MANAGE_WEBHOOKS,
        }
    ),
}


def fund_roles(user: AbstractBaseUser | AnonymousUser) -> dict[int, str]:
    """The user's role in each fund they belong to, keyed by fund id (cached on the user)."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_moat_fund_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("fund_id", "role"))
        user._moat_fund_roles = cached
    return cached


def scoped(queryset: QuerySet, user: AbstractBaseUser | AnonymousUser) -> QuerySet:
    """Narrow a queryset of fund data to what the user may see."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    path = FUND_PATH[queryset.model]
    return queryset.filter(**{f"{path}__in": list(fund_roles(user))})


def get_scoped_or_404(queryset: QuerySet, user, **lookup):
    """One object the user may see, or 404 whether it is another fund's or missing."""
    try:
        return scoped(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist as missing:
        raise Http404("No such object.") from missing


def role_in(user, fund_id: int) -> str | None:
    """The user's role in a fund; superusers act as partners everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.PARTNER
    return fund_roles(user).get(fund_id)


def can(user, action: str, fund_id: int) -> bool:
    role = role_in(user, fund_id)
    return role is not None and action in ROLE_ACTIONS[Role(role)]


def require(user, action: str, fund_id: int) -> None:
    """Refuse an action the user's role in that fund does not allow.

    A non-member gets 404 (the fund is invisible to them); a member lacking the
    role gets 403.
    """
    role = role_in(user, fund_id)
    if role is None:
        raise Http404("No such object.")
    if action not in ROLE_ACTIONS[Role(role)]:
        raise PermissionDenied("Your role in this fund does not allow that.")


def require_evidence_edit(user, evidence: Evidence) -> None:
    """Partners edit any evidence of their fund; associates only their own."""
    fund_id = evidence.task.company.fund_id
    if can(user, EDIT_ANY_EVIDENCE, fund_id):
        return
    require(user, ADD_EVIDENCE, fund_id)
    if evidence.author_id != user.pk:
        raise PermissionDenied("Associates edit only their own evidence.")


def visible_funds(user) -> QuerySet:
    return scoped(Fund.objects.all(), user)


RUBRIC_OWNER = "assessments.own_rubric"


def can_manage_rubric(user) -> bool:
    """The rubric is the firm's, and moves every fund's scores: superusers and the rubric
    owners they name (the own_rubric permission, given in the admin) change it, not the
    partners of one fund."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_perm(RUBRIC_OWNER)


def require_rubric_reader(user) -> None:
    """The rubric's versions are read by the members of a fund (and by its owners): an
    account that belongs to no fund learns nothing of how the firm scores."""
    if not (fund_roles(user) or can_manage_rubric(user)):
        raise PermissionDenied("The rubric is read by the members of a fund.")


def require_rubric_manager(user) -> None:
    if not can_manage_rubric(user):
        raise PermissionDenied(
            "Only a rubric owner may change the firm's rubric: ask an administrator."
        )


def partner_fund_ids(user) -> list[int] | None:
    """The funds in which the user verifies evidence; None means every fund (superuser)."""
    if user.is_superuser:
        return None
    return [fund_id for fund_id in fund_roles(user) if can(user, VERIFY_EVIDENCE, fund_id)]


def in_funds(queryset: QuerySet, fund_ids: list[int] | None) -> QuerySet:
    if fund_ids is None:
        return queryset
    return queryset.filter(**{f"{FUND_PATH[queryset.model]}__in": fund_ids})
