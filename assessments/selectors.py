"""Reads: what pages, exports and jobs need, in a fixed number of queries.

The bulk scoring path lives here: the sum of contributions per task and axis is
computed in SQL (one grouped statement over the evidence), and scoring.py
finishes each task from those sums. scoring.score_task is the reference the
SQL path is tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from . import access, scoring
from .models import (
    Alert,
    Company,
    CompanySnapshot,
    Evidence,
    Membership,
    RubricVersion,
    Task,
    TaskSnapshot,
)


def today() -> date:
    return timezone.localdate()


def active_rubric_version() -> RubricVersion:
    """The active rubric version; the defaults of scoring.md become version 1 if none exists."""
    version = RubricVersion.objects.filter(is_active=True).first()
    if version is None:
        version, _ = RubricVersion.objects.get_or_create(
            number=1,
            defaults={"name": "Defaults", "is_active": True, "activated_at": timezone.now()},
        )
    return version


def contribution_sql(as_of: date, rubric: scoring.Rubric) -> tuple[str, list]:
    """The contributions of scoring.md as a CTE ``contribution(task_id, day, is_x, value)``.

    value = polarity·s·weight·(k/5)·c·verified_weight·decay. The factor weights and
    confidences are joined from VALUES lists, and each row's contribution is computed once
    and then summed three ways; an ORM Case per factor would be evaluated once per sum.
    Plain SQL that PostgreSQL and SQLite both run (Django gives SQLite POWER).
    """
    # Every float is cast: PostgreSQL would read a bound 0.5 as NUMERIC (slow, and Decimal).
    real = "CAST(%s AS DOUBLE PRECISION)"
    factors = ", ".join([f"(%s, %s, {real}, {real})"] * len(scoring.FACTORS))
    levels = ", ".join([f"(%s, {real})"] * len(scoring.CONFIDENCE_VALUES))
    params: list = []
    for f in scoring.FACTORS:
        params += [
            f.code,
            int(f.axis == scoring.X),
            float(f.polarity * rubric.factor_weights[f.code]),
            float(rubric.half_lives[f.code]),
        ]
    for level, value in scoring.CONFIDENCE_VALUES.items():
        params += [level, float(value)]
    table = connection.ops.quote_name(Evidence._meta.db_table)
    sql = f"""
        factor_weight(code, is_x, signed_weight, half_life) AS (VALUES {factors}),
        confidence_value(level, value) AS (VALUES {levels}),
        contribution(task_id, day, is_x, value) AS (
            SELECT e.task_id, e.observed_day, f.is_x,
                   f.signed_weight * (e.stance * e.strength) / {real} * c.value
                   * CASE WHEN e.verified_at IS NULL THEN {real} ELSE {real} END
                   * POWER({real}, (%s - e.observed_day) / f.half_life)
            FROM {table} e
            JOIN factor_weight f ON f.code = e.factor
            JOIN confidence_value c ON c.level = e.confidence
            WHERE e.observed_day <= %s {{task_filter}}
        )"""
    day = as_of.toordinal()
    return sql, [*params, 5.0, float(rubric.unverified_weight), 1.0, 0.5, day, day]


@dataclass(frozen=True)
class TaskSums:
    raw_x: float
    raw_y: float
    mass: float
    count: int
    latest_day: int | None


def task_sums_as_of(
    tasks: QuerySet | Iterable[int] | None, as_of: date, rubric: scoring.Rubric
) -> dict[int, TaskSums]:
    """Per task: the raw sums on each axis, the evidence mass and count, as of a date.

    One grouped SQL statement whatever the number of tasks or rows.
    """
    cte, params = contribution_sql(as_of, rubric)
    task_filter = ""
    if tasks is not None:
        if isinstance(tasks, QuerySet):
            subquery, sub_params = tasks.values("id").query.sql_with_params()
        else:
            ids = list(tasks)
            if not ids:
                return {}
            subquery = ", ".join(["%s"] * len(ids))
            sub_params = tuple(ids)
        task_filter = f"AND e.task_id IN ({subquery})"
        params = [*params, *sub_params]
    sql = (
        "WITH "
        + cte.replace("{task_filter}", task_filter)
        + """
        SELECT task_id,
               SUM(CASE WHEN is_x = 1 THEN value ELSE 0 END),
               SUM(CASE WHEN is_x = 1 THEN 0 ELSE value END),
               SUM(ABS(value)), COUNT(*), MAX(day)
        FROM contribution GROUP BY task_id"""
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            task_id: TaskSums(raw_x or 0.0, raw_y or 0.0, mass or 0.0, count, latest_day)
            for task_id, raw_x, raw_y, mass, count, latest_day in cursor.fetchall()
        }


def task_scores_as_of(
    tasks: QuerySet | Iterable[int] | None, as_of: date, rubric: scoring.Rubric
) -> dict[int, scoring.Score]:
    """Scores of the given tasks (all tasks with None) as of a date; tasks without
    counting evidence are absent (Unscored)."""
    return {
        task_id: scoring.score_from_sums(s.raw_x, s.raw_y, s.mass, s.count, as_of, rubric)
        for task_id, s in task_sums_as_of(tasks, as_of, rubric).items()
    }


def company_scores(
    task_weights: Iterable[tuple[int, int, float]],
    task_scores: dict[int, scoring.Score],
    as_of: date,
    rubric: scoring.Rubric,
) -> dict[int, scoring.Score]:
    """Company scores from (task id, company id, weight) triples and the tasks' scores."""
    per_company: dict[int, list[tuple[float, scoring.Score]]] = defaultdict(list)
    unscored = scoring.score_task([], as_of, rubric)
    for task_id, company_id, weight in task_weights:
        per_company[company_id].append((weight, task_scores.get(task_id, unscored)))
    return {
        company_id: scoring.score_company(weighted, as_of, rubric)
        for company_id, weighted in per_company.items()
    }


@dataclass
class PortfolioRow:
    """One company as the portfolio page and the exports show it."""

    company: Company
    score: scoring.Score

    @property
    def fund(self):
        return self.company.fund


def portfolio(user, *, fund_id: int | None = None, as_of: date | None = None) -> list[PortfolioRow]:
    """The companies a user may see with their scores: stored current scores for today,
    computed from evidence in SQL for any other date. A fixed number of queries."""
    companies = list(
        access.scoped(Company.objects.select_related("fund", "lead_partner"), user).filter(
            **({"fund_id": fund_id} if fund_id else {})
        )
    )
    if as_of is None or as_of == today():
        return [PortfolioRow(c, stored_score(c)) for c in companies]
    rubric = active_rubric_version().to_rubric()
    ids = [c.id for c in companies]
    tasks = Task.objects.filter(company_id__in=ids)
    scores = company_scores(
        tasks.values_list("id", "company_id", "weight"),
        task_scores_as_of(tasks.values("id"), as_of, rubric),
        as_of,
        rubric,
    )
    unscored = scoring.score_task([], as_of, rubric)
    return [PortfolioRow(c, scores.get(c.id, unscored)) for c in companies]


def stored_score(obj) -> scoring.Score:
    """The pure model's view of a company's or task's stored current scores."""
    if not obj.is_scored:
        return scoring.Score(50.0, 50.0, 0.0, scoring.UNSCORED, None, None, obj.evidence_count)
    return scoring.Score(
        obj.x,
        obj.y,
        obj.confidence,
        obj.quadrant,
        obj.margin,
        obj.runway_years,
        obj.evidence_count,
    )


@dataclass(frozen=True)
class ScoreLine:
    """One row of export_scores: a task, or a company (task empty)."""

    fund: str
    company: str
    task: str
    score: scoring.Score


def score_lines(*, as_of: date, fund_name: str | None = None, user=None) -> list[ScoreLine]:
    """Every task and company computed from evidence as of a date, with the active rubric.

    Scoped to the user's funds when a user is given (the command line runs as the operator).
    """
    rubric = active_rubric_version().to_rubric()
    tasks = Task.objects.select_related("company__fund").order_by(
        "company__fund__name", "company__name", "name"
    )
    companies = Company.objects.select_related("fund").order_by("fund__name", "name")
    if user is not None:
        tasks = access.scoped(tasks, user)
        companies = access.scoped(companies, user)
    if fund_name:
        tasks = tasks.filter(company__fund__name=fund_name)
        companies = companies.filter(fund__name=fund_name)
    task_list = list(tasks)
    task_scores = task_scores_as_of([t.id for t in task_list], as_of, rubric)
    unscored = scoring.score_task([], as_of, rubric)
    per_company = company_scores(
        [(t.id, t.company_id, t.weight) for t in task_list], task_scores, as_of, rubric
    )
    lines = [
        ScoreLine(t.company.fund.name, t.company.name, t.name, task_scores.get(t.id, unscored))
        for t in task_list
    ]
    lines += [
        ScoreLine(c.fund.name, c.name, "", per_company.get(c.id, unscored)) for c in companies
    ]
    return lines


def fund_memberships(user, fund_id: int):
    """A fund's members with their users, in one query (scoped like every read)."""
    return (
        access.scoped(Membership.objects.filter(fund_id=fund_id), user)
        .select_related("user")
        .order_by("user__username")
    )


# --- Audit trail --------------------------------------------------------------------------

AUDIT_KINDS = ("company", "task", "evidence", "membership")


def _audit_histories(fund_id: int) -> dict:
    """Each audited kind's history rows that belong to the fund, deleted objects included.

    Joined through the history tables (not the live ones), so that the trail of a
    deleted company still shows its tasks and evidence.
    """
    companies = Company.history.filter(fund_id=fund_id)
    tasks = Task.history.filter(company_id__in=companies.values("id"))
    return {
        "company": companies,
        "task": tasks,
        "evidence": Evidence.history.filter(task_id__in=tasks.values("id")),
        "membership": Membership.history.filter(fund_id=fund_id),
    }


def audit_index(fund_id: int):
    """(kind, history_id, history_date) of every audited change in the fund, newest first.

    One UNION query, so that a page is sliced in SQL whatever the mix of kinds.
    """
    parts = [
        qs.order_by()
        .annotate(kind=Value(kind, output_field=CharField()))
        .values("kind", "history_id", "history_date")
        for kind, qs in _audit_histories(fund_id).items()
    ]
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-history_date", "-history_id")


@dataclass
class AuditEntry:
    kind: str
    record: object
    subject: str
    changed: list[str]


def audit_entries(index_rows: list[dict]) -> list[AuditEntry]:
    """The history records of one page, with what changed: a constant number of queries."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in index_rows:
        wanted[row["kind"]].append(row["history_id"])
    models = {"company": Company, "task": Task, "evidence": Evidence, "membership": Membership}
    related = {
        "company": ["history_user"],
        "task": ["history_user"],
        "evidence": ["history_user"],
        "membership": ["history_user", "user"],
    }
    records = {}
    for kind, ids in wanted.items():
        history = models[kind].history
        rows = list(history.filter(history_id__in=ids).select_related(*related[kind]))
        previous = _previous_records(history, rows)
        for record in rows:
            records[(kind, record.history_id)] = (record, previous.get(record.history_id))
    # Evidence is named by its task: one query for the page's task names.
    task_ids = {r.task_id for (kind, _), (r, _) in records.items() if kind == "evidence"}
    task_names = dict(Task.objects.filter(pk__in=task_ids).values_list("id", "name"))
    entries = []
    for row in index_rows:
        record, before = records[(row["kind"], row["history_id"])]
        entries.append(
            AuditEntry(
                kind=row["kind"],
                record=record,
                subject=_audit_subject(row["kind"], record, task_names),
                changed=_changed_fields(record, before),
            )
        )
    return entries


def _previous_records(history, rows) -> dict:
    """For each updated record, the history record just before it, in one query."""
    updates = [r for r in rows if r.history_type == "~"]
    if not updates:
        return {}
    object_ids = {r.id for r in updates}
    earlier = history.filter(id__in=object_ids, history_id__lt=max(r.history_id for r in updates))
    by_object = defaultdict(list)
    for record in earlier.order_by("history_id"):
        by_object[record.id].append(record)
    previous = {}
    for record in updates:
        candidates = [r for r in by_object[record.id] if r.history_id < record.history_id]
        if candidates:
            previous[record.history_id] = candidates[-1]
    return previous


def _changed_fields(record, before) -> list[str]:
    if before is None:
        return []
    return [change.field for change in record.diff_against(before).changes]


def _audit_subject(kind: str, record, task_names: dict[int, str]) -> str:
    if kind == "membership":
        return f"{record.user.get_username() if record.user else 'a removed user'} ({record.role})"
    if kind == "evidence":
        task = task_names.get(record.task_id, f"deleted task #{record.task_id}")
        return f"{record.factor.replace('_', ' ')} evidence on {task}"
    return record.name


# --- Company pages and the review queue --------------------------------------------------


@dataclass
class TaskView:
    """A task on its company page: the task, its evidence and its charts."""

    task: Task
    evidence: list
    waterfall: dict
    history: dict
    form: object = None

    @property
    def is_pending(self) -> bool:
        return rescore_pending(self.task)

    @property
    def waterfall_id(self) -> str:
        return f"task-{self.task.pk}-waterfall"

    @property
    def history_id(self) -> str:
        return f"task-{self.task.pk}-history"


def rescore_pending(task: Task) -> bool:
    """True while a change to the task's evidence waits for its recompute."""
    return task.stale_since is not None or task.scored_version < task.input_version


def task_waterfall(task: Task, evidence: Iterable[Evidence], as_of: date, rubric) -> dict:
    """The "why it sits there" waterfall of one task from its evidence rows."""
    from html import escape

    from . import company_charts, notes

    bars = [
        company_charts.Bar(
            label=f"#{row.pk} {row.factor.replace('_', ' ')}",
            axis=row.factor_info.axis,
            contribution=scoring.contribution(row.as_scoring_row(), as_of, rubric),
            # Plotly reads hover text as HTML: the note is escaped first.
            hover=escape(notes.first_line(row.note)),
        )
        for row in evidence
    ]
    return company_charts.waterfall(bars, rubric)


def company_page(
    company: Company, *, as_of: date | None = None, task_id: int | None = None
) -> dict:
    """Everything the company page shows, in a fixed number of queries whatever the number
    of tasks, evidence rows and snapshots; with task_id, only that task (for its fragments)."""
    from . import company_charts

    as_of = as_of or today()
    version = active_rubric_version()
    rubric = version.to_rubric()
    task_rows = company.tasks.all() if task_id is None else company.tasks.filter(pk=task_id)
    tasks = list(
        task_rows.order_by("-weight", "name").prefetch_related(
            Prefetch(
                "evidence",
                queryset=Evidence.objects.select_related("author", "verified_by").order_by(
                    "-observed_on", "-id"
                ),
            )
        )
    )
    task_history: dict[int, list] = defaultdict(list)
    snapshots = TaskSnapshot.objects.filter(task__company=company, rubric_version=version)
    if task_id is not None:
        snapshots = snapshots.filter(task_id=task_id)
    for snap in snapshots.order_by("as_of"):
        task_history[snap.task_id].append(snap)
    company_history = list(
        CompanySnapshot.objects.filter(company=company, rubric_version=version).order_by("as_of")
    )
    views = []
    for task in tasks:
        evidence = list(task.evidence.all())
        snaps = task_history[task.id]
        dates = [s.as_of for s in snaps]
        views.append(
            TaskView(
                task=task,
                evidence=evidence,
                waterfall=task_waterfall(task, evidence, as_of, rubric),
                history=company_charts.score_history(
                    [
                        ("task x", dates, [s.x for s in snaps]),
                        ("task y", dates, [s.y for s in snaps]),
                        (
                            "company x",
                            [s.as_of for s in company_history],
                            [s.x for s in company_history],
                        ),
                        (
                            "company y",
                            [s.as_of for s in company_history],
                            [s.y for s in company_history],
                        ),
                    ]
                ),
            )
        )
    dates = [s.as_of for s in company_history]
    return {
        "company": company,
        "tasks": views,
        "rubric": rubric,
        "as_of": as_of,
        "history": company_charts.score_history(
            [
                ("x (frontier)", dates, [s.x for s in company_history]),
                ("y (proprietary)", dates, [s.y for s in company_history]),
                ("confidence × 100", dates, [s.confidence * 100 for s in company_history]),
            ]
        ),
    }


def partner_fund_ids(user) -> list[int] | None:
    """The funds in which the user verifies evidence; None means every fund (superuser)."""
    if user.is_superuser:
        return None
    return [
        fund_id
        for fund_id in access.fund_roles(user)
        if access.can(user, access.VERIFY_EVIDENCE, fund_id)
    ]


def _in_funds(queryset: QuerySet, fund_ids: list[int] | None) -> QuerySet:
    if fund_ids is None:
        return queryset
    return queryset.filter(**{f"{access.FUND_PATH[queryset.model]}__in": fund_ids})


REVIEW_LIMIT = 200


def review_queue(user, *, as_of: date | None = None) -> dict:
    """The partner's four lists, each limited to the funds where the user verifies evidence:
    evidence waiting for verification, contradictions, tasks due for re-underwriting and
    unread alerts. A fixed number of queries."""
    as_of = as_of or today()
    rubric = active_rubric_version().to_rubric()
    fund_ids = partner_fund_ids(user)
    waiting = _in_funds(
        access.scoped(Evidence.objects.filter(verified_at__isnull=True, review_comment=""), user),
        fund_ids,
    )
    unverified = list(
        waiting.select_related("task__company", "author").order_by("-created_at", "-id")[
            :REVIEW_LIMIT
        ]
    )
    both = (
        _in_funds(access.scoped(Evidence.objects.all(), user), fund_ids)
        .values("task_id", "factor")
        .annotate(
            supports=Count("id", filter=Q(stance=scoring.SUPPORTS)),
            contradicts=Count("id", filter=Q(stance=scoring.CONTRADICTS)),
        )
        .filter(supports__gt=0, contradicts__gt=0)
        .order_by("task_id", "factor")
    )
    contradiction_rows = list(both[:REVIEW_LIMIT])
    tasks_by_id = Task.objects.select_related("company").in_bulk(
        {row["task_id"] for row in contradiction_rows}
    )
    contradictions = [
        {
            **row,
            "task": tasks_by_id[row["task_id"]],
            "factor_info": scoring.FACTORS_BY_CODE[row["factor"]],
        }
        for row in contradiction_rows
        if row["task_id"] in tasks_by_id
    ]
    cutoff = as_of - timedelta(days=rubric.reunderwrite_after_days)
    stale_tasks = (
        _in_funds(access.scoped(Task.objects.select_related("company"), user), fund_ids)
        .annotate(latest=Max("evidence__observed_on"))
        .filter(Q(latest__isnull=True) | Q(latest__lt=cutoff))
        .order_by("latest", "company__name", "name")
    )
    due = [
        task
        for task in stale_tasks[:REVIEW_LIMIT]
        if scoring.due_for_reunderwriting(task.latest, as_of, rubric)
    ]
    alerts = list(
        _in_funds(access.scoped(Alert.objects.filter(read_at__isnull=True), user), fund_ids)
        .select_related("company", "task")
        .order_by("-created_at", "-id")[:REVIEW_LIMIT]
    )
    return {
        "unverified": unverified,
        "unverified_total": waiting.count(),
        "contradictions": contradictions,
        "due": due,
        "alerts": alerts,
        "rubric": rubric,
        "as_of": as_of,
        "limit": REVIEW_LIMIT,
    }


@dataclass(frozen=True)
class HistoryEntry:
    """One saved change of a record: who, when, what kind, and the fields before and after."""

    who: str
    when: object
    kind: str
    changes: list[tuple[str, object, object]]


HISTORY_KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def _history_entries(records) -> list[HistoryEntry]:
    """Entries for one record's saved versions (oldest first in), newest first out."""
    # Imported here: services imports this module.
    from .services import EVIDENCE_FIELDS

    entries = []
    previous = None
    for record in records:
        if previous is None:
            changes = [(name, None, getattr(record, name)) for name in EVIDENCE_FIELDS]
        else:
            delta = record.diff_against(previous, excluded_fields=["updated_at", "version"])
            changes = [(c.field, c.old, c.new) for c in delta.changes]
        entries.append(
            HistoryEntry(
                who=record.history_user.get_username() if record.history_user else "system",
                when=record.history_date,
                kind=HISTORY_KINDS.get(record.history_type, record.history_type),
                changes=changes,
            )
        )
        previous = record
    return entries[::-1]


def evidence_history(evidence: Evidence) -> list[HistoryEntry]:
    """The evidence's saved versions, newest first, each with its diff from the one before."""
    return _history_entries(
        evidence.history.select_related("history_user").order_by("history_date", "history_id")
    )


def task_evidence_history(task: Task) -> list[tuple[int, list[HistoryEntry]]]:
    """Every change to every evidence row a task has ever had, deleted rows included:
    (evidence id, its entries), the most recently changed first. One query."""
    records = Evidence.history.filter(task_id=task.pk).select_related("history_user")
    per_row: dict[int, list] = defaultdict(list)
    for record in records.order_by("history_date", "history_id"):
        per_row[record.id].append(record)
    groups = [(evidence_id, _history_entries(rows)) for evidence_id, rows in per_row.items()]
    return sorted(groups, key=lambda group: group[1][0].when, reverse=True)
