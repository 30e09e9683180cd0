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
    as_of: date, rubric: scoring.Rubric, aged_to: date | None = None
) -> tuple[str, list]:
    """The contributions of scoring.md as a CTE ``contribution(task_id, day, is_x, value,
    aged)``: the rows observed by as_of, decayed to as_of; ``aged`` is the same row decayed
    further, to ``aged_to`` (the "decay" state of scoring.decompose_move: the evidence held
    on a trail's start date, aged to its end), 0 without aged_to.

    value = polarity·s·weight·(k/5)·c·verified_weight·decay. The factor weights and
    confidences are joined from VALUES lists, and each row's contribution is computed once
    and then summed several ways; an ORM Case per factor would be evaluated once per sum.
    Both decays come from one scan of the evidence.
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
    decay = f"undecayed * POWER({real}, (%s - day) / half_life)"
    sql = f"""
        factor_weight(code, is_x, signed_weight, half_life) AS (VALUES {factors}),
        confidence_value(level, value) AS (VALUES {levels}),
        contribution(task_id, day, is_x, value, aged) AS (
            SELECT task_id, day, is_x, {decay}, {decay if aged_to else "0"}
            FROM (
                SELECT e.task_id, e.observed_day AS day, f.is_x, f.half_life,
                       f.signed_weight * (e.stance * e.strength) / {real} * c.value
                       * CASE WHEN e.verified_at IS NULL THEN {real} ELSE {real} END
                       AS undecayed
                FROM {table} e
                JOIN factor_weight f ON f.code = e.factor
                JOIN confidence_value c ON c.level = e.confidence
                WHERE e.observed_day <= %s
                  AND e.sent_back_at IS NULL AND e.superseded_at IS NULL {{task_filter}}
            ) AS row_value
        )"""
    day = as_of.toordinal()
    # In the order the text binds them: the decays (of the outer select), then the weights
    # of the inner one and its last day.
    decays = [0.5, day] + ([0.5, max(aged_to, as_of).toordinal()] if aged_to else [])
    return sql, [*params, *decays, 5.0, float(rubric.unverified_weight), 1.0, day]


@dataclass(frozen=True)
class TaskSums:
    raw_x: float
    raw_y: float
    mass: float
    count: int
    latest_day: int | None


def _grouped_sums(
    tasks: QuerySet | Iterable[int] | None, as_of: date, rubric: scoring.Rubric, aged_to
) -> list[tuple]:
    """Per task: its id, then the raw sums on each axis and the mass as of as_of, the same
    three aged to aged_to, the count and the latest day. One grouped SQL statement."""
    cte, params = contribution_sql(as_of, rubric, aged_to)
    task_filter = ""
    if tasks is not None:
        if isinstance(tasks, QuerySet):
            try:
                subquery, sub_params = tasks.values("id").query.sql_with_params()
            except EmptyResultSet:  # e.g. the tasks of no company: nothing to score
                return []
        else:
            ids = list(tasks)
            if not ids:
                return []
            subquery = ", ".join(["%s"] * len(ids))
            sub_params = tuple(ids)
        task_filter = f"AND e.task_id IN ({subquery})"
        params = [*params, *sub_params]
    aged_sums = "0, 0, 0"
    if aged_to is not None:
        aged_sums = """SUM(CASE WHEN is_x = 1 THEN aged ELSE 0 END),
               SUM(CASE WHEN is_x = 1 THEN 0 ELSE aged END), SUM(ABS(aged))"""
    sql = (
        "WITH "
        + cte.replace("{task_filter}", task_filter)
        + f"""
        SELECT task_id,
               SUM(CASE WHEN is_x = 1 THEN value ELSE 0 END),
               SUM(CASE WHEN is_x = 1 THEN 0 ELSE value END), SUM(ABS(value)),
               {aged_sums}, COUNT(*), MAX(day)
        FROM contribution GROUP BY task_id"""
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def task_sums_as_of(
    tasks: QuerySet | Iterable[int] | None, as_of: date, rubric: scoring.Rubric
) -> dict[int, TaskSums]:
    """Per task: the raw sums on each axis, the evidence mass and count, as of a date.

    One grouped SQL statement whatever the number of tasks or rows.
    """
    return {
        task_id: TaskSums(raw_x or 0.0, raw_y or 0.0, mass or 0.0, count, latest_day)
        for task_id, raw_x, raw_y, mass, _, _, _, count, latest_day in _grouped_sums(
            tasks, as_of, rubric, None
        )
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


def task_scores_then_and_aged(
    tasks: QuerySet | Iterable[int], since: date, as_of: date, rubric: scoring.Rubric
) -> tuple[dict[int, scoring.Score], dict[int, scoring.Score]]:
    """The tasks' scores as of ``since``, and the same evidence (the rows observed by
    since) decayed to ``as_of`` and scored then: the start and "decay" states of why a
    trail moved, from one grouped statement (tasks without evidence then are absent)."""
    then, aged = {}, {}
    for task_id, x, y, mass, aged_x, aged_y, aged_mass, count, _ in _grouped_sums(
        tasks, since, rubric, as_of
    ):
        then[task_id] = scoring.score_from_sums(
            x or 0.0, y or 0.0, mass or 0.0, count, since, rubric
        )
        aged[task_id] = scoring.score_from_sums(
            aged_x or 0.0, aged_y or 0.0, aged_mass or 0.0, count, as_of, rubric
        )
    return then, aged


def _per_company(
    task_weights: Iterable[tuple[int, int, float]], task_scores: dict[int, scoring.Score]
) -> dict[int, list[tuple[float, scoring.Score]]]:
    per_company: dict[int, list[tuple[float, scoring.Score]]] = defaultdict(list)
    unscored = scoring.Score.unscored()
    for task_id, company_id, weight in task_weights:
        per_company[company_id].append((weight, task_scores.get(task_id, unscored)))
    return per_company


def company_scores(
    task_weights: Iterable[tuple[int, int, float]],
    task_scores: dict[int, scoring.Score],
    as_of: date,
    rubric: scoring.Rubric,
) -> dict[int, scoring.Score]:
    """Company scores from (task id, company id, weight) triples and the tasks' scores."""
    return {
        company_id: scoring.score_company(weighted, as_of, rubric)
        for company_id, weighted in _per_company(task_weights, task_scores).items()
    }


def company_value_shares(
    task_weights: Iterable[tuple[int, int, float]],
    task_scores: dict[int, scoring.Score],
    as_of: date,
    rubric: scoring.Rubric,
) -> dict[int, scoring.ValueShares]:
    """Each company's shares of value absorbed and unscored (scoring.value_shares) from the
    same triples and task scores as company_scores: no statement of its own."""
    return {
        company_id: scoring.value_shares(weighted, as_of, rubric)
        for company_id, weighted in _per_company(task_weights, task_scores).items()
    }
