"""Writes: evidence, companies, tasks, members, rubric.

Each write is atomic, records its author in the audit trail, and tells the recompute
engine (recompute.py) that a task's inputs changed; the re-score runs after commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import access, recompute
from .models import (
    EVIDENCE_FIELDS,
    ActivationState,
    Company,
    Evidence,
    Membership,
    Role,
    RubricVersion,
    Task,
)


class ConflictError(Exception):
    """Someone else saved the record since this edit started: nothing was overwritten."""

    def __init__(self, current):
        super().__init__(
            "Someone else saved this record after you opened it. Your changes were not saved; "
            "compare them with the current version below."
        )
        self.current = current


@transaction.atomic
def evidence_create(*, task: Task, author, verified_by=None, **fields) -> Evidence:
    """Record one evidence row, mark its task stale and enqueue the recompute after commit."""
    evidence = Evidence(task=task, author=author, **fields)
    if verified_by is not None:
        evidence.verified_by = verified_by
        evidence.verified_at = timezone.now()
    evidence.full_clean()
    evidence.save()
    recompute.task_inputs_changed(task_id=task.id)
    return evidence


@transaction.atomic
def evidence_update(*, evidence: Evidence, editor, expected_version: int, **fields) -> Evidence:
    """Edit evidence if nobody saved it since expected_version; else raise ConflictError.

    The row is locked while the version is compared, so two saves from the same
    version cannot both pass.
    """
    current = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if current.version != expected_version:
        raise ConflictError(current)
    for name, value in fields.items():
        if name in EVIDENCE_FIELDS:
            setattr(current, name, value)
    # An edit answers a partner's send-back: the evidence returns to the review queue.
    current.review_comment = ""
    current.full_clean()
    current.version += 1
    current._history_user = editor
    current.save()
    recompute.task_inputs_changed(task_id=current.task_id)
    return current


@transaction.atomic
def evidence_delete(*, evidence: Evidence, user) -> None:
    """Delete evidence and re-score its task."""
    task_id = evidence.task_id
    evidence._history_user = user
    evidence.delete()
    recompute.task_inputs_changed(task_id=task_id)


@transaction.atomic
def evidence_verify(*, evidence: Evidence, partner) -> Evidence:
    """A partner vouches for the evidence: it now counts in full."""
    # A locked read, not an F() increment: the history record needs the new version's value.
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    evidence.verified_by = partner
    evidence.verified_at = timezone.now()
    evidence.review_comment = ""
    evidence.version += 1
    evidence._history_user = partner
    evidence.save(update_fields=["verified_by", "verified_at", "review_comment", "version"])
    recompute.task_inputs_changed(task_id=evidence.task_id)
    return evidence


# --- Rubric -------------------------------------------------------------------------------


class RubricError(ValueError):
    """A rubric change that cannot be made (shown to the partner as is)."""


@transaction.atomic
def rubric_activate(*, version: RubricVersion, user=None) -> RubricVersion:
    """Make this version the active one; after commit, one job re-scores everything under
    it and restates the stored history at the same dates, recording its progress."""
    if user is not None:  # None: a management command run by an operator
        access.require_rubric_manager(user)
    # Saved one by one, not with update(), so that the audit trail records the deactivation.
    for previous in RubricVersion.objects.filter(is_active=True).exclude(pk=version.pk):
        previous.is_active = False
        previous._history_user = user
        previous.save(update_fields=["is_active"])
    version.is_active = True
    version.activated_at = timezone.now()
    version.activation_state = ActivationState.QUEUED
    version.activation_done = 0
    version.activation_total = 0
    version.activation_error = ""
    version._history_user = user
    version.save(
        update_fields=[
            "is_active",
            "activated_at",
            "activation_state",
            "activation_done",
            "activation_total",
            "activation_error",
        ]
    )
    version_id = version.pk
    transaction.on_commit(lambda: recompute.enqueue_rubric_activation(version_id))
    return version


# --- Memberships --------------------------------------------------------------------------


class MembershipError(ValueError):
    """A membership change that would break a rule (shown to the partner as is)."""


def _guard_last_partner(membership: Membership, new_role: str | None) -> None:
    """Refuse to leave a fund without a partner: someone must be able to manage it."""
    if membership.role != Role.PARTNER or new_role == Role.PARTNER:
        return
    # Locked so that two partners demoting each other at once cannot both pass.
    partners = list(
        Membership.objects.select_for_update()
        .filter(fund_id=membership.fund_id, role=Role.PARTNER)
        .values_list("pk", flat=True)
    )
    if partners == [membership.pk]:
        raise MembershipError("A fund needs at least one partner: make someone else partner first.")


@transaction.atomic
def membership_add(*, actor, fund_id: int, username: str, role: str) -> Membership:
    """Invite an existing user into the fund with a role."""
    access.require(actor, access.MANAGE_MEMBERS, fund_id)
    if role not in Role.values:
        raise MembershipError(f"Unknown role {role!r}.")
    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise MembershipError(f"There is no active user named {username.strip()!r}.")
    if Membership.objects.filter(fund_id=fund_id, user=user).exists():
        raise MembershipError(f"{user.get_username()} is already a member of this fund.")
    membership = Membership(fund_id=fund_id, user=user, role=role)
    membership._history_user = actor
    membership.save()
    return membership


@transaction.atomic
def membership_change(*, actor, membership: Membership, role: str) -> Membership:
    """Give a member another role in the fund."""
    access.require(actor, access.MANAGE_MEMBERS, membership.fund_id)
    if role not in Role.values:
        raise MembershipError(f"Unknown role {role!r}.")
    _guard_last_partner(membership, role)
    if membership.role != role:
        membership.role = role
        membership._history_user = actor
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    """Take a member out of the fund."""
    access.require(actor, access.MANAGE_MEMBERS, membership.fund_id)
    _guard_last_partner(membership, None)
    membership._history_user = actor
    membership.delete()


# --- Rubric drafts ------------------------------------------------------------------------

RUBRIC_PARAMETERS = (
    "unverified_weight",
    "scale",
    "mass_for_confidence",
    "proprietary_weight",
    "boundary_at_epoch",
    "boundary_epoch",
    "boundary_drift_per_year",
    "reunderwrite_after_days",
)
RUBRIC_LABELS = (
    "label_untrainable",
    "label_lab_territory",
    "label_commodity_tokens",
    "label_specialist_models",
)
# Everything of a version a draft may change, beyond its per-factor weights and half-lives.
RUBRIC_FIELDS = ("name", *RUBRIC_PARAMETERS, *RUBRIC_LABELS)


def _apply_rubric_fields(
    draft: RubricVersion,
    factor_weights: dict[str, float] | None,
    half_lives: dict[str, float] | None,
    fields: dict,
) -> None:
    if factor_weights:
        draft.factor_weights = {**draft.factor_weights, **factor_weights}
    if half_lives:
        draft.half_lives = {**draft.half_lives, **half_lives}
    for name, value in fields.items():
        if name in RUBRIC_FIELDS:
            setattr(draft, name, value)


@transaction.atomic
def rubric_draft_create(
    *,
    user,
    base: RubricVersion,
    name: str = "",
    factor_weights: dict[str, float] | None = None,
    half_lives: dict[str, float] | None = None,
    **fields,
) -> RubricVersion:
    """A new, inactive rubric version: a copy of base with the given changes."""
    access.require_rubric_manager(user)
    last = RubricVersion.objects.select_for_update().order_by("-number").first()
    # A discarded draft's number is not given again: the audit trail still names it.
    discarded = RubricVersion.history.aggregate(Max("number"))["number__max"] or 0
    draft = RubricVersion.objects.get(pk=base.pk)
    draft.pk = None
    draft.number = max(last.number if last else 0, discarded) + 1
    draft.name = name
    draft.is_active = False
    draft.activated_at = None
    draft.activation_state = ""
    draft.activation_done = draft.activation_total = 0
    draft.activation_error = ""
    draft.created_by = user
    # Full dicts of the base's effective values, so a draft reads the same whatever defaults
    # the code later ships with.
    base_rubric = base.to_rubric()
    draft.factor_weights = dict(base_rubric.factor_weights)
    draft.half_lives = dict(base_rubric.half_lives)
    _apply_rubric_fields(draft, factor_weights, half_lives, fields)
    draft.full_clean()
    draft._history_user = user
    draft.save()
    return draft


def _locked_draft(draft: RubricVersion) -> RubricVersion:
    current = RubricVersion.objects.select_for_update().get(pk=draft.pk)
    if not current.is_draft:
        raise RubricError(
            f"{current} has been active, so its numbers are part of the record and cannot "
            "change. Start a new draft from it instead."
        )
    return current


@transaction.atomic
def rubric_draft_update(
    *,
    user,
    draft: RubricVersion,
    factor_weights: dict[str, float] | None = None,
    half_lives: dict[str, float] | None = None,
    **fields,
) -> RubricVersion:
    """Change a draft's numbers (a draft only: a version once active is part of the record)."""
    access.require_rubric_manager(user)
    current = _locked_draft(draft)
    _apply_rubric_fields(current, factor_weights, half_lives, fields)
    current.full_clean()
    current._history_user = user
    current.save()
    return current


@transaction.atomic
def rubric_draft_discard(*, user, draft: RubricVersion) -> None:
    """Delete a draft; the audit trail keeps its history."""
    access.require_rubric_manager(user)
    current = _locked_draft(draft)
    current._history_user = user
    current.delete()


# --- Companies, tasks and review (company pages and the review queue) ---------------------

COMPANY_FIELDS = (
    "name",
    "sector",
    "stage",
    "status",
    "lead_partner",
    "check_size",
    "arr",
    "description",
)


@transaction.atomic
def company_create(*, fund_id: int, user, **fields) -> Company:
    """Add a company to a fund (Unscored until its tasks have evidence)."""
    company = Company(fund_id=fund_id, **{k: v for k, v in fields.items() if k in COMPANY_FIELDS})
    company._history_user = user
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def company_update(*, company: Company, editor, expected_version: int, **fields) -> Company:
    """Edit a company if nobody saved it since expected_version; else raise ConflictError."""
    current = Company.objects.select_for_update().get(pk=company.pk)
    if current.version != expected_version:
        raise ConflictError(current)
    for name, value in fields.items():
        if name in COMPANY_FIELDS:
            setattr(current, name, value)
    current.full_clean()
    current.version += 1
    current._history_user = editor
    current.save()
    return current


@contextmanager
def _history_by(user) -> Iterator[None]:
    """Name the user on every history row written inside, the cascade's included (rows a
    cascade deletes carry no _history_user). The history middleware does the same for a
    request; the command line and jobs have none."""
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del context.request
        else:
            context.request = previous


@transaction.atomic
def company_delete(*, company: Company, user) -> None:
    """Delete a company with its tasks, evidence and snapshots."""
    company._history_user = user
    with _history_by(user):
        company.delete()


@transaction.atomic
def task_create(*, company: Company, user, **fields) -> Task:
    """Add a task to a company (Unscored until it has evidence)."""
    task = Task(company=company, **fields)
    task._history_user = user
    task.full_clean()
    task.save()
    return task


@transaction.atomic
def task_update(*, task: Task, user, **fields) -> Task:
    """Edit a task; a new weight re-scores its company."""
    for name, value in fields.items():
        setattr(task, name, value)
    task.full_clean()
    task.version += 1
    task._history_user = user
    # Only the edited fields: the scores on this row belong to the recompute.
    task.save(update_fields=[*fields, "version", "updated_at"])
    recompute.task_inputs_changed(task_id=task.id)
    return task


@transaction.atomic
def task_delete(*, task: Task, user) -> None:
    """Delete a task and its evidence, and re-score its company without it."""
    company_id = task.company_id
    task._history_user = user
    with _history_by(user):
        task.delete()
    recompute.rescore_company_after_commit(company_id)


@transaction.atomic
def evidence_send_back(*, evidence: Evidence, partner, comment: str) -> Evidence:
    """A partner returns evidence to its author with a comment; it leaves the review queue
    until it is edited (evidence_update clears the comment)."""
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    evidence.review_comment = comment.strip() or "Sent back for revision."
    evidence.version += 1
    evidence._history_user = partner
    evidence.save(update_fields=["review_comment", "version"])
    return evidence


def alerts_mark_read(*, alerts, user) -> int:
    """Mark alerts read (a scoped queryset); returns how many changed."""
    return alerts.filter(read_at__isnull=True).update(read_at=timezone.now(), read_by=user)
