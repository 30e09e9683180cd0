"""The scoring model's SQL twin for the bulk paths (docs/scoring.md).

The sum of contributions per task and axis is computed in SQL (one grouped
statement over the evidence), and scoring.py finishes each task from those sums.
scoring.score_task is the reference this path is tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    QuerySet,
)

from . import scoring
from .models import (
    Evidence,
)


def contribution_sql(
    as_of: date, rubric: scoring.Rubric, rows_until: date | None = None
) -> tuple[str, list]:
    """The contributions of scoring.md as a CTE ``contribution(task_id, day, is_x, value)``:
    the rows observed by ``rows_until`` (as_of unless given; never after as_of), decayed to
    as_of. An earlier rows_until is the evidence held then, aged to as_of (the "decay"
    state of scoring.decompose_move).

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
            WHERE e.observed_day <= %s
              AND e.sent_back_at IS NULL AND e.superseded_at IS NULL {{task_filter}}
        )"""
    day = as_of.toordinal()
    until = min(rows_until or as_of, as_of).toordinal()
    return sql, [*params, 5.0, float(rubric.unverified_weight), 1.0, 0.5, day, until]


@dataclass(frozen=True)
class TaskSums:
    raw_x: float
    raw_y: float
    mass: float
    count: int
    latest_day: int | None


def task_sums_as_of(
    tasks: QuerySet | Iterable[int] | None,
    as_of: date,
    rubric: scoring.Rubric,
    rows_until: date | None = None,
) -> dict[int, TaskSums]:
    """Per task: the raw sums on each axis, the evidence mass and count, as of a date (of
    the rows observed by rows_until, if given: see contribution_sql).

    One grouped SQL statement whatever the number of tasks or rows.
    """
    cte, params = contribution_sql(as_of, rubric, rows_until)
    task_filter = ""
    if tasks is not None:
        if isinstance(tasks, QuerySet):
            try:
                subquery, sub_params = tasks.values("id").query.sql_with_params()
            except EmptyResultSet:  # e.g. the tasks of no company: nothing to score
                return {}
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
    tasks: QuerySet | Iterable[int] | None,
    as_of: date,
    rubric: scoring.Rubric,
    rows_until: date | None = None,
) -> dict[int, scoring.Score]:
    """Scores of the given tasks (all tasks with None) as of a date; tasks without
    counting evidence are absent (Unscored). With rows_until, only the rows observed by
    then count, decayed to as_of: scoring.score_task of those rows as of as_of."""
    return {
        task_id: scoring.score_from_sums(s.raw_x, s.raw_y, s.mass, s.count, as_of, rubric)
        for task_id, s in task_sums_as_of(tasks, as_of, rubric, rows_until).items()
    }


def company_scores(
    task_weights: Iterable[tuple[int, int, float]],
    task_scores: dict[int, scoring.Score],
    as_of: date,
    rubric: scoring.Rubric,
) -> dict[int, scoring.Score]:
    """Company scores from (task id, company id, weight) triples and the tasks' scores."""
    per_company: dict[int, list[tuple[float, scoring.Score]]] = defaultdict(list)
    unscored = scoring.Score.unscored()
    for task_id, company_id, weight in task_weights:
        per_company[company_id].append((weight, task_scores.get(task_id, unscored)))
    return {
        company_id: scoring.score_company(weighted, as_of, rubric)
        for company_id, weighted in per_company.items()
    }
