"""Writes: evidence, companies, tasks, members, rubric.

Each write is atomic, records its author in the audit trail, and tells the recompute
engine (recompute.py) that a task's inputs changed; the re-score runs after commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import access, recompute
from .models import (
    EVIDENCE_CONTENT_FIELDS,
    EVIDENCE_FIELDS,
    ActivationState,
    Company,
    Evidence,
    Membership,
    Role,
    RubricVersion,
    Stance,
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


class DuplicateSubmission(Exception):
    """The form that carried this token has already stored its note."""

    def __init__(self, evidence: Evidence):
        super().__init__("This note was already saved.")
        self.evidence = evidence


def evidence_create(
    *, task: Task, author, verified_by=None, submission_token=None, **fields
) -> Evidence:
    """Record one evidence row, mark its task stale and enqueue the recompute after commit.

    With a submission token a second identical submit (a double click, a retried request)
    raises DuplicateSubmission with the note the first one stored: the unique token is
    checked by the database, so two submits at the same instant still store one note.
    """
    if submission_token is not None:
        existing = Evidence.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            raise DuplicateSubmission(existing)
    try:
        return _evidence_insert(
            task=task,
            author=author,
            verified_by=verified_by,
            submission_token=submission_token,
            **fields,
        )
    except IntegrityError:
        existing = Evidence.objects.filter(submission_token=submission_token).first()
        if submission_token is None or existing is None:
            raise
        raise DuplicateSubmission(existing) from None


@transaction.atomic
def _evidence_insert(*, task: Task, author, verified_by, **fields) -> Evidence:
    evidence = Evidence(task=task, author=author, **fields)
    if verified_by is not None:
        evidence.verified_by = verified_by
        evidence.verified_at = timezone.now()
        evidence.verified_version = evidence.content_version
    evidence.full_clean(validate_unique=False)
    evidence._history_user = author
    evidence.save()
    recompute.task_inputs_changed(task_id=task.id)
    return evidence


def _partner_of(user, evidence: Evidence) -> bool:
    fund_id = Task.objects.filter(pk=evidence.task_id).values_list("company__fund_id", flat=True)
    return access.can(user, access.VERIFY_EVIDENCE, fund_id.get())


@transaction.atomic
def evidence_update(*, evidence: Evidence, editor, expected_version: int, **fields) -> Evidence:
    """Edit evidence if nobody saved it since expected_version; else raise ConflictError.

    The row is locked while the version is compared, so two saves from the same
    version cannot both pass. A change of the content (EVIDENCE_CONTENT_FIELDS) is a new
    version of it: a verification covered the old one, so it is cleared and the note
    returns to the review queue, unless the editor is a partner of the fund, whose own
    edit is verified by them at the new version. Any edit answers a send-back: the note
    counts again, pending.
    """
    current = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if current.version != expected_version:
        raise ConflictError(current)
    changed = False
    for name, value in fields.items():
        if name in EVIDENCE_FIELDS:
            if name in EVIDENCE_CONTENT_FIELDS and getattr(current, name) != value:
                changed = True
            setattr(current, name, value)
    current.review_comment = ""
    current.sent_back_at = None
    if changed:
        current.content_version += 1
        if current.is_verified and _partner_of(editor, current):
            current.verified_by = editor
            current.verified_at = timezone.now()
            current.verified_version = current.content_version
        else:
            current.verified_by = None
            current.verified_at = None
            current.verified_version = None
    current.full_clean(validate_unique=False)
    current.version += 1
    current._history_user = editor
    current.save()
    recompute.task_inputs_changed(task_id=current.task_id)
    return current


@transaction.atomic
def evidence_delete(*, evidence: Evidence, user) -> None:
    """Delete evidence and re-score its task; what a partner verified, only a partner."""
    task_id = evidence.task_id
    fund_id = Task.objects.filter(pk=task_id).values_list("company__fund_id", flat=True).get()
    _require_partner_to_delete_verified(user, fund_id, Evidence.objects.filter(pk=evidence.pk))
    evidence._history_user = user
    evidence.delete()
    recompute.task_inputs_changed(task_id=task_id)


@transaction.atomic
def evidence_verify(*, evidence: Evidence, partner) -> Evidence:
    """A partner vouches for the evidence as it reads now: it counts in full."""
    # A locked read, not an F() increment: the history record needs the new version's value.
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    evidence.verified_by = partner
    evidence.verified_at = timezone.now()
    evidence.verified_version = evidence.content_version
    evidence.review_comment = ""
    evidence.sent_back_at = None
    evidence.version += 1
    evidence._history_user = partner
    evidence.save(
        update_fields=[
            "verified_by",
            "verified_at",
            "verified_version",
            "review_comment",
            "sent_back_at",
            "version",
            "updated_at",
        ]
    )
    recompute.task_inputs_changed(task_id=evidence.task_id)
    return evidence


@transaction.atomic
def evidence_send_back(*, evidence: Evidence, partner, comment: str) -> Evidence:
    """A partner returns evidence to its author with a comment. It stops counting in the
    score (the task is re-scored now) until its author revises it (evidence_update)."""
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    evidence.review_comment = comment.strip() or "Sent back for revision."
    evidence.sent_back_at = timezone.now()
    evidence.verified_by = None
    evidence.verified_at = None
    evidence.verified_version = None
    evidence.version += 1
    evidence._history_user = partner
    evidence.save()
    recompute.task_inputs_changed(task_id=evidence.task_id)
    return evidence


# The two answers to a contradiction (evidence both for and against one factor of a task).
SUPERSEDE_SUPPORTS = "supersede_supports"
SUPERSEDE_CONTRADICTS = "supersede_contradicts"
MIXED = "mixed"
RESOLUTIONS = (SUPERSEDE_SUPPORTS, SUPERSEDE_CONTRADICTS, MIXED)


@transaction.atomic
def contradiction_resolve(*, task: Task, factor: str, partner, resolution: str, comment: str):
    """A partner resolves a contradiction: one side superseded (it stops counting and the
    task is re-scored), or both acknowledged as genuinely mixed (both keep counting; the
    pair leaves the queue until new evidence joins it). Returns how many rows changed."""
    access.require(partner, access.VERIFY_EVIDENCE, task.company.fund_id)
    if resolution not in RESOLUTIONS:
        raise ValueError(f"Unknown resolution {resolution!r}.")
    rows = Evidence.objects.counting().select_for_update().filter(task=task, factor=factor)
    if resolution == SUPERSEDE_SUPPORTS:
        rows = rows.filter(stance=Stance.SUPPORTS)
    elif resolution == SUPERSEDE_CONTRADICTS:
        rows = rows.filter(stance=Stance.CONTRADICTS)
    now = timezone.now()
    changed = 0
    # One by one, not update(): each row's change goes to the audit trail.
    for row in rows:
        if resolution == MIXED:
            row.mixed_acknowledged_at = now
        else:
            row.superseded_at = now
        row.resolution_comment = comment.strip()
        row.version += 1
        row._history_user = partner
        row.save()
        changed += 1
    if changed and resolution != MIXED:
        recompute.task_inputs_changed(task_id=task.pk)
    return changed


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
    recompute.enqueue_rubric_activation(version.pk)
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


class AlreadyExists(ValueError):
    """A create lost the race to an identical one: the name is taken (case-insensitively)."""


def _save_named(obj, message: str) -> None:
    """Validate and save a new row whose name must be unique; a concurrent create of the
    same name (both passed the form's check) meets the database constraint: AlreadyExists,
    never an error page. The constraints are left to the database, which alone sees the
    other transaction's row."""
    obj.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as clash:
        if not type(obj).objects.filter(name__iexact=obj.name, **_parent_of(obj)).exists():
            raise
        raise AlreadyExists(message) from clash


def _parent_of(obj) -> dict:
    return {"fund_id": obj.fund_id} if isinstance(obj, Company) else {"company_id": obj.company_id}


@transaction.atomic
def company_create(*, fund_id: int, user, **fields) -> Company:
    """Add a company to a fund (Unscored until its tasks have evidence)."""
    company = Company(fund_id=fund_id, **{k: v for k, v in fields.items() if k in COMPANY_FIELDS})
    company._history_user = user
    _save_named(company, "This fund already has a company of that name.")
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


class VerifiedEvidenceError(PermissionDenied):
    """Deleting this would delete evidence partners verified: a partner's decision."""


def _require_partner_to_delete_verified(user, fund_id: int, evidence) -> None:
    """What partners verified is deleted only by a partner, the cascade's included."""
    if access.can(user, access.VERIFY_EVIDENCE, fund_id):
        return
    verified = evidence.filter(verified_at__isnull=False).count()
    if verified:
        raise VerifiedEvidenceError(
            f"{verified} note{'s' if verified != 1 else ''} here "
            f"{'are' if verified != 1 else 'is'} verified by partners: only a partner may "
            "delete them."
        )


@transaction.atomic
def company_delete(*, company: Company, user) -> None:
    """Delete a company with its tasks, evidence and snapshots."""
    _require_partner_to_delete_verified(
        user, company.fund_id, Evidence.objects.filter(task__company=company)
    )
    company._history_user = user
    with _history_by(user):
        company.delete()


@transaction.atomic
def task_create(*, company: Company, user, **fields) -> Task:
    """Add a task to a company (Unscored until it has evidence)."""
    task = Task(company=company, **fields)
    task._history_user = user
    _save_named(task, "This company already has a task of that name.")
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
    fund_id = Company.objects.filter(pk=company_id).values_list("fund_id", flat=True).get()
    _require_partner_to_delete_verified(user, fund_id, Evidence.objects.filter(task=task))
    task._history_user = user
    with _history_by(user):
        task.delete()
    recompute.rescore_company_after_commit(company_id)


def alerts_mark_read(*, alerts, user) -> int:
    """Mark alerts read (a scoped queryset); returns how many changed."""
    return alerts.filter(read_at__isnull=True).update(read_at=timezone.now(), read_by=user)
