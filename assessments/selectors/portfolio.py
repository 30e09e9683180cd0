"""Reads for the portfolio list and the score export: every company (and task) a user may
see with its scores, stored for today or computed in SQL for any other date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .. import access, scoring
from ..models import (
    Company,
    Task,
)
from ..scoring_sql import company_scores, company_value_shares, task_scores_as_of
from . import active_rubric_version, stored_score, today


@dataclass
class PortfolioRow:
    """One company as the portfolio page and the exports show it."""

    company: Company
    score: scoring.Score
    # The shares of its value absorbed and unscored (None for a company without tasks).
    shares: scoring.ValueShares | None = None

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
        return [PortfolioRow(c, stored_score(c), c.value_shares) for c in companies]
    rubric = active_rubric_version().to_rubric()
    ids = [c.id for c in companies]
    tasks = Task.objects.filter(company_id__in=ids)
    weights = list(tasks.values_list("id", "company_id", "weight"))
    task_scores = task_scores_as_of(tasks.values("id"), as_of, rubric)
    scores = company_scores(weights, task_scores, as_of, rubric)
    shares = company_value_shares(weights, task_scores, as_of, rubric)
    unscored = scoring.Score.unscored()
    return [PortfolioRow(c, scores.get(c.id, unscored), shares.get(c.id)) for c in companies]


@dataclass(frozen=True)
class ScoreLine:
    """One row of export_scores: a task, or a company (task empty)."""

    fund: str
    company: str
    task: str
    score: scoring.Score
    # A company's shares of its value absorbed and unscored; None on a task's line.
    shares: scoring.ValueShares | None = None


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
    unscored = scoring.Score.unscored()
    weights = [(t.id, t.company_id, t.weight) for t in task_list]
    per_company = company_scores(weights, task_scores, as_of, rubric)
    shares = company_value_shares(weights, task_scores, as_of, rubric)
    lines = [
        ScoreLine(t.company.fund.name, t.company.name, t.name, task_scores.get(t.id, unscored))
        for t in task_list
    ]
    lines += [
        ScoreLine(c.fund.name, c.name, "", per_company.get(c.id, unscored), shares.get(c.id))
        for c in companies
    ]
    return lines
