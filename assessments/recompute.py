"""The recompute engine: stale marks, from-scratch re-scores with guarded set-based writes,
snapshots and alerts.

The database is the truth and a queue message only a hint: every evidence
change bumps its task's input version and marks it stale in the same
transaction, and the recompute job is enqueued only after commit. Recomputes
work from scratch and store a task's result only if its input version is still
the one they read, so racing workers cannot store an older result; the sweeper
picks up anything a lost job left stale.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from . import alert_causes, enqueue, scoring, scoring_sql, selectors, signals
from .models import (
    SCORE_FIELDS,
    SCORE_VALUES,
    ActivationState,
    Alert,
    AlertCause,
    AlertKind,
    Company,
    CompanySnapshot,
    Quadrant,
    RubricVersion,
    Task,
    TaskSnapshot,
    score_values,
)
from .selectors import rubric as rubric_selectors

# Above this many tasks a recompute writes in bulk instead of one guarded UPDATE per task.
BULK_WRITE_THRESHOLD = 200
logger = logging.getLogger(__name__)


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
    from . import jobs

    enqueue.after_commit(jobs.recompute_task, task_id)


def task_inputs_changed(*, task_id: int) -> None:
    """What every change to a task's inputs does: mark it stale now, re-score after commit."""
    task_mark_stale(task_id=task_id)
    enqueue_rescore(task_id=task_id)


# --- Recompute ----------------------------------------------------------------------------


def rescore_companies(
    *,
    company_ids: Iterable[int] | None = None,
    as_of: date | None = None,
    cause: alert_causes.Cause | None = None,
    moved: dict | None = None,
) -> int:
    """Re-score companies and all their tasks from scratch; None means every company.

    Writes current scores (when as_of is today), a snapshot of every task and
    company as of that date, and alerts for quadrant changes, boundary crossings
    and runway under a year, each naming its cause: ``cause`` when the caller knows it
    (a rubric activation), else the latest change to the evidence (companies named) or
    time (the daily re-score of everything). Idempotent: running it twice, or
    concurrently, leaves the same rows. Returns the number of tasks scored; ``moved``,
    when given, receives how many task and company scores moved.
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
    task_scores = scoring_sql.task_scores_as_of(
        task_ids if company_ids is not None else None, as_of, rubric
    )
    unscored = scoring.Score.unscored()
    weights = [(tid, cid, weight) for tid, cid, weight, *_ in task_rows]
    company_results = scoring_sql.company_scores(weights, task_scores, as_of, rubric)
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
    shares = scoring_sql.company_value_shares(weights, task_scores, as_of, rubric)
    company_values = {
        cid: {**_score_values(score, as_of, now), **shares[cid].as_dict()}
        for cid, score in company_results.items()
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
            if moved is not None:
                moved["tasks"] = _moved(task_rows, task_scores, 4)
                moved["companies"] = _moved(companies, company_results, 1)
            if cause is None and company_ids is None:
                cause = TIME
            _write_alerts(task_rows, task_scores, companies, company_results, as_of, rubric, cause)
        _write_snapshots(version, as_of, task_values, company_values, staged)
    return len(task_rows)


def _score_values(score: scoring.Score, as_of: date, now) -> dict:
    return {**score_values(score), "scored_as_of": as_of, "scored_at": now}


# Above BULK_WRITE_THRESHOLD tasks on PostgreSQL, scores are copied (COPY) into temporary
# tables and written with one set-based statement per table: Django's bulk_update builds a
# CASE per row and field and takes tens of seconds for 10,000 tasks.
_STAGE_COLUMNS = (
    "id bigint, owner bigint, version integer, x double precision, y double precision, "
    "confidence double precision, quadrant text, margin double precision, "
    "runway_years double precision, evidence_count integer, scored_as_of date, "
    "scored_at timestamptz, "
    + ", ".join(f"{name} double precision" for name in scoring.VALUE_SHARE_FIELDS)
)
# A company's stored fields: its scores and the shares of its value (tasks have no shares).
COMPANY_FIELDS = (*SCORE_FIELDS, *scoring.VALUE_SHARE_FIELDS)


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
                    copy.write_row((pk, owner, version, *(values.get(f) for f in COMPANY_FIELDS)))


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


def _score_assignments(fields=SCORE_FIELDS) -> str:
    return ", ".join(f"{name} = s.{name}" for name in fields)


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
                f"UPDATE {Company._meta.db_table} AS t SET {_score_assignments(COMPANY_FIELDS)} "
                "FROM company_score_stage s WHERE t.id = s.id"
            )
        return
    objs = []
    for company_id, values in company_values.items():
        company = Company(pk=company_id)
        for name, value in values.items():
            setattr(company, name, value)
        objs.append(company)
    Company.objects.bulk_update(objs, list(COMPANY_FIELDS), batch_size=1000)


def _write_snapshots(version, as_of, task_values, company_values, staged: bool) -> None:
    if staged:
        fields = ", ".join(SCORE_VALUES)
        # A re-score records its date: a row restated there earlier becomes a recorded one.
        updates = (
            ", ".join(f"{name} = EXCLUDED.{name}" for name in (*SCORE_VALUES, "recorded_at"))
            + ", restated = false"
        )
        with connection.cursor() as cursor:
            for model, owner, stage in (
                (TaskSnapshot, "task_id", "task_score_stage"),
                (CompanySnapshot, "company_id", "company_score_stage"),
            ):
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} "
                    f"({owner}, as_of, rubric_version_id, {fields}, recorded_at, restated) "
                    f"SELECT id, %s, %s, {fields}, now(), false FROM {stage} ORDER BY id "
                    f"ON CONFLICT ({owner}, as_of, rubric_version_id) DO UPDATE SET {updates}",
                    [as_of, version.pk],
                )
        return
    options = {
        "update_conflicts": True,
        "update_fields": [*SCORE_VALUES, "recorded_at", "restated"],
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
    return {name: values[name] for name in SCORE_VALUES}


# The daily re-score's cause: time (decay or the boundary, by the kind of alert).
TIME = object()


def _moved(rows, results, first: int) -> int:
    """How many of the rows' stored scores moved as a person sees them: another quadrant,
    or a margin that reads differently (one decimal)."""
    unscored = scoring.Score.unscored()
    count = 0
    for row in rows:
        quadrant, margin = row[first], row[first + 1]
        after = results.get(row[0], unscored)
        shown = None if after.margin is None else round(after.margin, 1)
        if quadrant != after.quadrant or (None if margin is None else round(margin, 1)) != shown:
            count += 1
    return count


def alerts_for_change(
    before_quadrant: str,
    before_margin: float | None,
    before_runway: float | None,
    after: scoring.Score,
    rubric: scoring.Rubric,
) -> list[tuple[str, str, str]]:
    """(kind, to_state, message) for each alert a change from before to after deserves.
    Thresholds are compared on the values a person sees: a runway of 0.967 reads 1.0 y
    and is not under a year."""
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
    shown = scoring.runway_shown(after.runway_years)
    was_shown = None if before_runway is None else scoring.runway_shown(before_runway)
    if after.runway_years > 0 and shown < 1 and (was_shown is None or was_shown >= 1):
        alerts.append(
            (
                AlertKind.SHORT_RUNWAY,
                "under_a_year",
                f"runway down to {after.runway_years:.1f} years",
            )
        )
    return alerts


def _write_alerts(
    task_rows, task_scores, company_rows, company_results, as_of, rubric, cause
) -> None:
    """Alerts for what moved, compared with each subject's state before its burst of edits
    (signals.burst_states): the burst's earlier alerts are replaced, so a move
    undone within it raises nothing. Each names its cause and who caused it."""
    company_ids = {row[1] for row in task_rows} | {row[0] for row in company_rows}
    burst, pending = _before_burst(company_ids)
    before: dict = {}
    after: dict = {}
    for task_id, company_id, _, _, quadrant, margin, runway, *_ in task_rows:
        score = task_scores.get(task_id)
        if score is not None:
            subject = (company_id, task_id)
            before[subject] = burst.get(subject, (quadrant, margin, runway))
            after[subject] = score
    for company_id, quadrant, margin, runway in company_rows:
        subject = (company_id, None)
        before[subject] = burst.get(subject, (quadrant, margin, runway))
        after[subject] = company_results[company_id]
    new = []
    for subject, score in after.items():
        company_id, task_id = subject
        for kind, state, message in alerts_for_change(*before[subject], score, rubric):
            if pending.pop((*subject, kind, state), None):
                continue  # raised earlier in the burst, and still true: it stands as it is
            alert = Alert(
                company_id=company_id,
                task_id=task_id,
                kind=kind,
                to_state=state,
                message=f"{'Task' if task_id else 'Company'} {message}",
                as_of=as_of,
            )
            new.append(alert)
    causes = _causes(new, task_rows, cause)
    for alert in new:
        said = causes[id(alert)]
        alert.cause, alert.caused_by_id = said.kind, said.by_id
        alert.message = f"{alert.message} · cause: {said.words()}"[:300]
    # The burst's alerts this re-score no longer raises: undone, or replaced by new ones.
    Alert.objects.filter(pk__in=list(pending.values())).delete()
    # The unique constraints make a repeated recompute add nothing.
    Alert.objects.bulk_create(new, ignore_conflicts=True)
    signals.alerts_written.send(
        sender=None,
        new_alerts=new,
        before=before,
        after=after,
        causes={(a.company_id, a.task_id, a.kind, a.to_state): causes[id(a)] for a in new},
    )


def _before_burst(company_ids) -> tuple[dict, dict]:
    """The state before each subject's burst of edits and the burst's alerts still waiting
    to go out, from whoever sends alerts out (signals.burst_states): with nobody listening,
    no alert waits, so there is no burst to compare with."""
    states: dict = {}
    pending: dict = {}
    for _, (said_states, said_pending) in signals.burst_states.send(
        sender=None, company_ids=company_ids
    ):
        states |= said_states
        pending |= said_pending
    return states, pending


def _causes(alerts, task_rows, cause) -> dict[int, alert_causes.Cause]:
    """Each new alert's cause (by the alert's id()): the one given, time, or the latest
    change to the evidence of its task (of its company's tasks, for a company)."""
    if cause is TIME:
        return {id(a): alert_causes.time_cause(a.kind) for a in alerts}
    if cause is not None or not alerts:
        return dict.fromkeys((id(a) for a in alerts), cause)
    companies = {a.company_id for a in alerts}
    tasks_of: dict[int, list[int]] = {}
    for task_id, company_id, *_ in task_rows:
        if company_id in companies:
            tasks_of.setdefault(company_id, []).append(task_id)
    latest = alert_causes.evidence_causes(t for ids in tasks_of.values() for t in ids)
    unknown = alert_causes.Cause(AlertCause.EVIDENCE)
    found = {}
    for alert in alerts:
        ids = [alert.task_id] if alert.task_id else tasks_of.get(alert.company_id, [])
        changes = [latest[t] for t in ids if t in latest]
        found[id(alert)] = max(changes, key=lambda c: c[0])[1] if changes else unknown
    return found


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


def rescore_company_after_commit(company_id: int) -> None:
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
        **dict.fromkeys(scoring.VALUE_SHARE_FIELDS),
    )


# --- Activating a rubric version: re-score, then restate the history ----------------------


def _activation_progress(version_id: int, **fields) -> None:
    """Written in its own statement outside any job transaction, so the page polling the
    progress sees each step as it finishes."""
    RubricVersion.objects.filter(pk=version_id).update(
        **{f"activation_{name}": value for name, value in fields.items()}
    )


@transaction.atomic
def restate_history(*, version: RubricVersion, day: date) -> int:
    """The history at one date restated under a version: every task and company that has a
    snapshot there under another version gets one under this version, scored by the SQL
    path from the evidence observed by that date (as the map as of that date is). Set-based:
    one grouped scoring statement and bulk inserts. Rows recorded under this version at
    that date are kept; rows restated there before are replaced. Returns the rows written."""
    rubric = version.to_rubric()
    others = {"as_of": day}
    task_ids = set(
        TaskSnapshot.objects.filter(**others)
        .exclude(rubric_version=version)
        .values_list("task_id", flat=True)
    )
    company_ids = set(
        CompanySnapshot.objects.filter(**others)
        .exclude(rubric_version=version)
        .values_list("company_id", flat=True)
    )
    # A company's score needs all its tasks, as the map as of that date counts them.
    tasks = Task.objects.filter(Q(pk__in=task_ids) | Q(company_id__in=company_ids))
    weights = list(tasks.values_list("id", "company_id", "weight"))
    task_scores = scoring_sql.task_scores_as_of(tasks, day, rubric)
    company_results = scoring_sql.company_scores(weights, task_scores, day, rubric)
    unscored = scoring.score_task([], day, rubric)
    now = timezone.now()
    for model in (TaskSnapshot, CompanySnapshot):
        model.objects.filter(as_of=day, rubric_version=version, restated=True).delete()
    written = 0
    for model, owner, ids, results in (
        (TaskSnapshot, "task_id", task_ids, task_scores),
        (CompanySnapshot, "company_id", company_ids, company_results),
    ):
        rows = [
            model(
                **{owner: pk},
                as_of=day,
                rubric_version=version,
                restated=True,
                **_snapshot_values(_score_values(results.get(pk, unscored), day, now)),
            )
            for pk in sorted(ids)
        ]
        # ignore_conflicts: a row recorded under this version on that date stays as recorded.
        model.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        written += len(rows)
    return written


def activate_rubric_version(*, version_id: int) -> int:
    """The activation job: re-score everything under the version (current scores, today's
    snapshot, alerts), then restate the history at every stored date, one date per step,
    recording progress on the version. Idempotent: a retried job redoes the same rows.
    Returns the number of history dates restated."""
    version = RubricVersion.objects.get(pk=version_id)
    dates = rubric_selectors.restatement_dates(version)
    _activation_progress(
        version_id, state=ActivationState.RUNNING, done=0, total=len(dates) + 1, error=""
    )
    try:
        moved: dict = {}
        rescore_companies(cause=alert_causes.rubric_cause(version), moved=moved)
        _activation_progress(version_id, done=1, moved=moved)
        for step, day in enumerate(dates, start=2):
            restate_history(version=version, day=day)
            _activation_progress(version_id, done=step)
    except Exception as failure:
        _activation_progress(version_id, state=ActivationState.FAILED, error=str(failure)[:500])
        raise
    _activation_progress(version_id, state=ActivationState.DONE)
    return len(dates)


def enqueue_rubric_activation(version_id: int) -> None:
    """Queue the activation's re-score once the surrounding transaction commits."""
    from . import jobs

    enqueue.after_commit(jobs.activate_rubric, version_id)
