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
from datetime import date

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Max,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Cast, Power
from django.utils import timezone

from . import access, scoring
from .models import Company, Evidence, Membership, RubricVersion, Task


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


def _by_factor(values: dict[str, float]) -> Case:
    return Case(
        *[When(factor=code, then=Value(float(value))) for code, value in values.items()],
        output_field=FloatField(),
    )


def contribution_expression(as_of: date, rubric: scoring.Rubric):
    """contribution = polarity·s·weight·(k/5)·c·verified_weight·decay, as one SQL expression."""
    signed_weight = _by_factor(
        {f.code: f.polarity * rubric.factor_weights[f.code] for f in scoring.FACTORS}
    )
    half_life = _by_factor({f.code: rubric.half_lives[f.code] for f in scoring.FACTORS})
    confidence = Case(
        *[
            When(confidence=level, then=Value(value))
            for level, value in scoring.CONFIDENCE_VALUES.items()
        ],
        output_field=FloatField(),
    )
    verified = Case(
        When(verified_at__isnull=False, then=Value(1.0)),
        default=Value(float(rubric.unverified_weight)),
        output_field=FloatField(),
    )
    age_days = Cast(Value(as_of.toordinal()) - F("observed_day"), FloatField())
    decay = Power(Value(0.5), age_days / half_life)
    return (
        signed_weight
        * Cast(F("stance") * F("strength"), FloatField())
        / Value(5.0)
        * confidence
        * verified
        * decay
    )


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
    x_codes = [f.code for f in scoring.FACTORS if f.axis == scoring.X]
    contribution = contribution_expression(as_of, rubric)
    evidence = Evidence.objects.filter(observed_day__lte=as_of.toordinal())
    if tasks is not None:
        evidence = evidence.filter(task_id__in=tasks)
    rows = (
        evidence.values("task_id")
        .annotate(
            raw_x=Sum(Case(When(factor__in=x_codes, then=contribution), default=Value(0.0))),
            raw_y=Sum(Case(When(factor__in=x_codes, then=Value(0.0)), default=contribution)),
            mass=Sum(Abs(contribution)),
            count=Count("id"),
            latest_day=Max("observed_day"),
        )
        .order_by()
    )
    return {
        row["task_id"]: TaskSums(
            row["raw_x"] or 0.0,
            row["raw_y"] or 0.0,
            row["mass"] or 0.0,
            row["count"],
            row["latest_day"],
        )
        for row in rows
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
