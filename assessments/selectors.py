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

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from . import access, scoring
from .models import Company, Evidence, RubricVersion, Task


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
