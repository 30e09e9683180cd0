"""Writes: evidence, companies, tasks, recomputes, rubric activation.

The database is the truth and a queue message only a hint: every evidence
change bumps its task's input version and marks it stale in the same
transaction, and the recompute job is enqueued only after commit. Recomputes
work from scratch and store a task's result only if its input version is still
the one they read, so racing workers cannot store an older result; the sweeper
picks up anything a lost job left stale.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import access, scoring, selectors
from .models import (
    SCORE_FIELDS,
    Alert,
    AlertKind,
    Company,
    CompanySnapshot,
    Evidence,
    Membership,
    Quadrant,
    Role,
    RubricVersion,
    Task,
    TaskSnapshot,
)

logger = logging.getLogger(__name__)

SNAPSHOT_FIELDS = ("x", "y", "confidence", "quadrant", "margin", "runway_years", "evidence_count")
# Above this many tasks a recompute writes in bulk instead of one guarded UPDATE per task.
BULK_WRITE_THRESHOLD = 200


class ConflictError(Exception):
    """Someone else saved the record since this edit started: nothing was overwritten."""

    def __init__(self, current):
        super().__init__(
            "Someone else saved this record after you opened it. Your changes were not saved; "
            "compare them with the current version below."
        )
        self.current = current


# --- Staleness and enqueueing -------------------------------------------------------------


def task_mark_stale(*, task_id: int) -> None:
    """Bump the task's input version and mark it stale, in the caller's transaction."""
    Task.objects.filter(pk=task_id).update(
        input_version=F("input_version") + 1,
        stale_since=Coalesce(F("stale_since"), Now()),
    )


def enqueue_rescore(*, task_id: int) -> None:
    """Enqueue the task's recompute once the surrounding transaction commits.

    A broker outage must not lose the evidence or fail the save: the task stays
    stale and the sweeper re-scores it.
    """
    from . import tasks as jobs

    def send() -> None:
        try:
            jobs.recompute_task.delay(task_id)
        except Exception:
            if getattr(jobs.recompute_task.app.conf, "task_always_eager", False):
                raise
            logger.warning("Could not enqueue the recompute of task %s; the sweeper will.", task_id)

    transaction.on_commit(send)


def task_inputs_changed(*, task_id: int) -> None:
    """What every change to a task's inputs does: mark it stale now, re-score after commit."""
    task_mark_stale(task_id=task_id)
    enqueue_rescore(task_id=task_id)


# --- Evidence -----------------------------------------------------------------------------

EVIDENCE_FIELDS = (
    "factor",
    "stance",
    "strength",
    "confidence",
    "observed_on",
    "source",
    "note",
)


@transaction.atomic
def evidence_create(*, task: Task, author, verified_by=None, **fields) -> Evidence:
    """Record one evidence row, mark its task stale and enqueue the recompute after commit."""
    evidence = Evidence(task=task, author=author, **fields)
    if verified_by is not None:
        evidence.verified_by = verified_by
        evidence.verified_at = timezone.now()
    evidence.full_clean()
    evidence.save()
    task_inputs_changed(task_id=task.id)
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
    task_inputs_changed(task_id=current.task_id)
    return current


@transaction.atomic
def evidence_delete(*, evidence: Evidence, user) -> None:
    """Delete evidence and re-score its task."""
    task_id = evidence.task_id
    evidence._history_user = user
    evidence.delete()
    task_inputs_changed(task_id=task_id)


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
    task_inputs_changed(task_id=evidence.task_id)
    return evidence


# --- Recompute ----------------------------------------------------------------------------


def rescore_companies(
    *, company_ids: Iterable[int] | None = None, as_of: date | None = None
) -> int:
    """Re-score companies and all their tasks from scratch; None means every company.

    Writes current scores (when as_of is today), a snapshot of every task and
    company as of that date, and alerts for quadrant changes, boundary crossings
    and runway under a year. Idempotent: running it twice, or concurrently,
    leaves the same rows. Returns the number of tasks scored.
    """
    as_of = as_of or selectors.today()
    is_current = as_of >= selectors.today()
    version = selectors.active_rubric_version()
    rubric = version.to_rubric()

    tasks = Task.objects.all()
    if company_ids is not None:
        tasks = tasks.filter(company_id__in=list(company_ids))
    # Versions are read before the evidence: a change committed after this read
    # bumps input_version, so the guarded write below refuses the older result.
    task_rows = list(
        tasks.values_list(
            "id", "company_id", "weight", "input_version", "quadrant", "margin", "runway_years"
        ).order_by("id")
    )
    task_ids = [row[0] for row in task_rows]
    task_scores = selectors.task_scores_as_of(
        task_ids if company_ids is not None else None, as_of, rubric
    )
    unscored = scoring.score_task([], as_of, rubric)
    company_results = selectors.company_scores(
        [(tid, cid, weight) for tid, cid, weight, *_ in task_rows], task_scores, as_of, rubric
    )
    # Read before the writes below: alerts compare the new scores with these.
    companies = list(
        Company.objects.filter(pk__in=list(company_results)).values_list(
            "id", "quadrant", "margin", "runway_years"
        )
    )
    now = timezone.now()
    task_values = {
        tid: _score_values(task_scores.get(tid, unscored), as_of, now) for tid in task_ids
    }
    company_values = {
        cid: _score_values(score, as_of, now) for cid, score in company_results.items()
    }
    with transaction.atomic():
        staged = connection.vendor == "postgresql" and len(task_rows) > BULK_WRITE_THRESHOLD
        if staged:
            _stage_scores(task_rows, task_values, company_values)
        if is_current:
            written = _write_task_scores(task_rows, task_values, staged)
            # A company's score is stored only if every one of its tasks was: otherwise a
            # newer job (which will store them all) is already on its way.
            refused = {cid for tid, cid, *_ in task_rows if tid not in written}
            if refused:
                task_rows = [row for row in task_rows if row[1] not in refused]
                task_values = {row[0]: task_values[row[0]] for row in task_rows}
                company_values = {c: v for c, v in company_values.items() if c not in refused}
                company_results = {c: company_results[c] for c in company_values}
                if staged:
                    _unstage_companies(refused)
            _write_company_scores(company_values, staged)
            # Alerts compare with the stored current scores, so only a current recompute has any.
            companies = [row for row in companies if row[0] in company_results]
            _write_alerts(task_rows, task_scores, companies, company_results, as_of, rubric)
        _write_snapshots(version, as_of, task_values, company_values, staged)
    return len(task_rows)


def _score_values(score: scoring.Score, as_of: date, now) -> dict:
    scored = score.is_scored
    return {
        "x": score.x if scored else None,
        "y": score.y if scored else None,
        "confidence": score.confidence,
        "quadrant": score.quadrant,
        "margin": score.margin,
        "runway_years": score.runway_years,
        "evidence_count": score.evidence_count,
        "scored_as_of": as_of,
        "scored_at": now,
    }


# Above BULK_WRITE_THRESHOLD tasks on PostgreSQL, scores are copied (COPY) into temporary
# tables and written with one set-based statement per table: Django's bulk_update builds a
# CASE per row and field and takes tens of seconds for 10,000 tasks.
_STAGE_COLUMNS = (
    "id bigint, owner bigint, version integer, x double precision, y double precision, "
    "confidence double precision, quadrant text, margin double precision, "
    "runway_years double precision, evidence_count integer, scored_as_of date, "
    "scored_at timestamptz"
)


def _stage_scores(task_rows, task_values, company_values) -> None:
    with connection.cursor() as cursor:
        for stage, rows in (
            (
                "task_score_stage",
                ((tid, cid, version, task_values[tid]) for tid, cid, _, version, *_ in task_rows),
            ),
            ("company_score_stage", ((cid, cid, 0, v) for cid, v in company_values.items())),
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} ({_STAGE_COLUMNS}) ON COMMIT DROP")
            with cursor.copy(f"COPY {stage} FROM STDIN") as copy:
                for pk, owner, version, values in rows:
                    copy.write_row((pk, owner, version, *(values[f] for f in SCORE_FIELDS)))


def _unstage_companies(company_ids) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM task_score_stage WHERE owner = ANY(%s)", [list(company_ids)])
        cursor.execute("DELETE FROM company_score_stage WHERE id = ANY(%s)", [list(company_ids)])


def _lock_in_id_order(cursor, model, stage: str) -> None:
    """Lock the rows about to be updated in id order, as the per-task path does: a set-based
    UPDATE locks in join order, and two recomputes locking in different orders deadlock."""
    table = model._meta.db_table
    cursor.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT id FROM {stage}) ORDER BY id FOR UPDATE"
    )


def _score_assignments() -> str:
    return ", ".join(f"{name} = s.{name}" for name in SCORE_FIELDS)


def _write_task_scores(task_rows, task_values, staged: bool) -> set[int]:
    """Store each task's score only if its input version is still the one read; returns the
    ids written. A task changed meanwhile keeps its stale mark: its own job (or the sweeper)
    re-scores it."""
    if staged:
        with connection.cursor() as cursor:
            _lock_in_id_order(cursor, Task, "task_score_stage")
            cursor.execute(
                f"UPDATE {Task._meta.db_table} AS t SET {_score_assignments()}, "
                "scored_version = s.version, stale_since = NULL FROM task_score_stage s "
                "WHERE t.id = s.id AND t.input_version = s.version RETURNING t.id"
            )
            return {row[0] for row in cursor.fetchall()}
    written = set()
    for task_id, _, _, input_version, *_ in task_rows:
        if Task.objects.filter(pk=task_id, input_version=input_version).update(
            **task_values[task_id], scored_version=input_version, stale_since=None
        ):
            written.add(task_id)
    return written


def _write_company_scores(company_values, staged: bool) -> None:
    if staged:
        with connection.cursor() as cursor:
            _lock_in_id_order(cursor, Company, "company_score_stage")
            cursor.execute(
                f"UPDATE {Company._meta.db_table} AS t SET {_score_assignments()} "
                "FROM company_score_stage s WHERE t.id = s.id"
            )
        return
    objs = []
    for company_id, values in company_values.items():
        company = Company(pk=company_id)
        for name, value in values.items():
            setattr(company, name, value)
        objs.append(company)
    Company.objects.bulk_update(objs, list(SCORE_FIELDS), batch_size=1000)


def _write_snapshots(version, as_of, task_values, company_values, staged: bool) -> None:
    if staged:
        fields = ", ".join(SNAPSHOT_FIELDS)
        updates = ", ".join(
            f"{name} = EXCLUDED.{name}" for name in (*SNAPSHOT_FIELDS, "recorded_at")
        )
        with connection.cursor() as cursor:
            for model, owner, stage in (
                (TaskSnapshot, "task_id", "task_score_stage"),
                (CompanySnapshot, "company_id", "company_score_stage"),
            ):
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} "
                    f"({owner}, as_of, rubric_version_id, {fields}, recorded_at) "
                    f"SELECT id, %s, %s, {fields}, now() FROM {stage} ORDER BY id "
                    f"ON CONFLICT ({owner}, as_of, rubric_version_id) DO UPDATE SET {updates}",
                    [as_of, version.pk],
                )
        return
    options = {
        "update_conflicts": True,
        "update_fields": [*SNAPSHOT_FIELDS, "recorded_at"],
        "batch_size": 1000,
    }
    TaskSnapshot.objects.bulk_create(
        [
            TaskSnapshot(task_id=tid, as_of=as_of, rubric_version=version, **_snapshot_values(v))
            for tid, v in sorted(task_values.items())
        ],
        unique_fields=["task", "as_of", "rubric_version"],
        **options,
    )
    CompanySnapshot.objects.bulk_create(
        [
            CompanySnapshot(
                company_id=cid, as_of=as_of, rubric_version=version, **_snapshot_values(v)
            )
            for cid, v in sorted(company_values.items())
        ],
        unique_fields=["company", "as_of", "rubric_version"],
        **options,
    )


def _snapshot_values(values: dict) -> dict:
    return {name: values[name] for name in SNAPSHOT_FIELDS}


def alerts_for_change(
    before_quadrant: str,
    before_margin: float | None,
    before_runway: float | None,
    after: scoring.Score,
    rubric: scoring.Rubric,
) -> list[tuple[str, str, str]]:
    """(kind, to_state, message) for each alert a change from before to after deserves."""
    if not after.is_scored:
        return []
    alerts = []
    was_scored = before_quadrant != Quadrant.UNSCORED
    if was_scored and before_quadrant != after.quadrant:
        alerts.append(
            (
                AlertKind.QUADRANT_CHANGE,
                after.quadrant,
                f"moved from {rubric.label(before_quadrant)} to {rubric.label(after.quadrant)}",
            )
        )
    if was_scored and before_margin is not None and (before_margin > 0) != (after.margin > 0):
        absorbed = after.margin <= 0
        alerts.append(
            (
                AlertKind.BOUNDARY_CROSSING,
                "absorbed" if absorbed else "above",
                "crossed below the absorption boundary"
                if absorbed
                else "rose above the absorption boundary",
            )
        )
    if 0 < after.runway_years < 1 and (before_runway is None or before_runway >= 1):
        alerts.append(
            (
                AlertKind.SHORT_RUNWAY,
                "under_a_year",
                f"runway down to {after.runway_years:.1f} years",
            )
        )
    return alerts


def _write_alerts(task_rows, task_scores, company_rows, company_results, as_of, rubric) -> None:
    new = []
    company_of = {}
    for task_id, company_id, _, _, quadrant, margin, runway, *_ in task_rows:
        company_of[task_id] = company_id
        score = task_scores.get(task_id)
        if score is None:
            continue
        for kind, state, message in alerts_for_change(quadrant, margin, runway, score, rubric):
            new.append(
                Alert(
                    company_id=company_id,
                    task_id=task_id,
                    kind=kind,
                    to_state=state,
                    message=f"Task {message}",
                    as_of=as_of,
                )
            )
    for company_id, quadrant, margin, runway in company_rows:
        score = company_results[company_id]
        for kind, state, message in alerts_for_change(quadrant, margin, runway, score, rubric):
            new.append(
                Alert(
                    company_id=company_id,
                    kind=kind,
                    to_state=state,
                    message=f"Company {message}",
                    as_of=as_of,
                )
            )
    # The unique constraints make a repeated recompute add nothing.
    Alert.objects.bulk_create(new, ignore_conflicts=True)


def rescore_task(*, task_id: int) -> int:
    """Re-score a task and its company (the unit of a recompute job)."""
    company_id = Task.objects.filter(pk=task_id).values_list("company_id", flat=True).first()
    if company_id is None:
        return 0
    return rescore_companies(company_ids=[company_id])


def rescore_everything(*, as_of: date | None = None) -> int:
    """Re-score every task and company (daily: evidence decays and the boundary rises)."""
    return rescore_companies(as_of=as_of)


def sweep_stale(*, older_than: timedelta) -> int:
    """Re-score the companies of tasks whose recompute is overdue (a lost job); returns
    the number of companies re-scored."""
    cutoff = timezone.now() - older_than
    company_ids = sorted(
        set(
            Task.objects.filter(
                Q(stale_since__lt=cutoff)
                | Q(scored_version__lt=F("input_version"), updated_at__lt=cutoff)
            ).values_list("company_id", flat=True)
        )
    )
    if company_ids:
        rescore_companies(company_ids=company_ids)
    return len(company_ids)


# --- Rubric -------------------------------------------------------------------------------


@transaction.atomic
def rubric_activate(*, version: RubricVersion, user=None) -> RubricVersion:
    """Make this version the active one and re-score everything under it."""
    if user is not None:  # None: a management command run by an operator
        access.require_rubric_manager(user)
    # Saved one by one, not with update(), so that the audit trail records the deactivation.
    for previous in RubricVersion.objects.filter(is_active=True).exclude(pk=version.pk):
        previous.is_active = False
        previous._history_user = user
        previous.save(update_fields=["is_active"])
    version.is_active = True
    version.activated_at = timezone.now()
    version._history_user = user
    version.save(update_fields=["is_active", "activated_at"])
    transaction.on_commit(_enqueue_rescore_everything)
    return version


def _enqueue_rescore_everything() -> None:
    from . import tasks as jobs

    jobs.rescore_everything.delay()


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
    "boundary_drift_per_year",
    "reunderwrite_after_days",
)


@transaction.atomic
def rubric_draft_create(
    *, user, base: RubricVersion, name: str, factor_weights: dict[str, float], **parameters
) -> RubricVersion:
    """A new, inactive rubric version: a copy of base with the given changes."""
    access.require_rubric_manager(user)
    last = RubricVersion.objects.select_for_update().order_by("-number").first()
    draft = RubricVersion.objects.get(pk=base.pk)
    draft.pk = None
    draft.number = (last.number if last else 0) + 1
    draft.name = name
    draft.is_active = False
    draft.activated_at = None
    draft.created_by = user
    draft.factor_weights = {**base.factor_weights, **factor_weights}
    for field_name, value in parameters.items():
        if field_name in RUBRIC_PARAMETERS:
            setattr(draft, field_name, value)
    draft.full_clean()
    draft._history_user = user
    draft.save()
    return draft


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


def _rescore_company_after_commit(company_id: int) -> None:
    """Re-score a company after commit; with no task left it becomes Unscored."""
    remaining = Task.objects.filter(company_id=company_id).values_list("id", flat=True).first()
    if remaining is not None:
        task_inputs_changed(task_id=remaining)
        return
    Company.objects.filter(pk=company_id).update(
        x=None,
        y=None,
        confidence=0.0,
        quadrant=Quadrant.UNSCORED,
        margin=None,
        runway_years=None,
        evidence_count=0,
    )


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
    task_inputs_changed(task_id=task.id)
    return task


@transaction.atomic
def task_delete(*, task: Task, user) -> None:
    """Delete a task and its evidence, and re-score its company without it."""
    company_id = task.company_id
    task._history_user = user
    with _history_by(user):
        task.delete()
    _rescore_company_after_commit(company_id)


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
