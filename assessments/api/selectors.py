"""Reads for the JSON API: the same scoped querysets as the pages, with the scores stored
for today or computed by the SQL twin for any other date (as the portfolio does)."""

from __future__ import annotations

from datetime import date

from .. import access, scoring
from ..models import Alert, Company, Evidence, Fund, Task
from ..scoring_sql import task_scores_as_of
from ..selectors import active_rubric_version, stored_score, today
from ..selectors import map as map_selectors
from ..selectors.portfolio import portfolio


def funds(user):
    return access.visible_funds(user).order_by("name", "id")


def companies(
    user, *, fund: int | None, status: str, quadrant: str, sector: str, as_of: date | None
) -> list[tuple[Company, scoring.Score, scoring.ValueShares | None]]:
    """Companies with their scores and shares of value absorbed today or as of a date,
    filtered; ordered by name."""
    visible = access.scoped(Company.objects.filter(**({"fund_id": fund} if fund else {})), user)
    if not visible.exists():
        # portfolio() as of a date cannot compile its task filter for no company at all.
        return []
    rows = portfolio(user, fund_id=fund, as_of=as_of)
    return [
        (row.company, row.score, row.shares)
        for row in sorted(rows, key=lambda row: (row.company.name, row.company.pk))
        if (not status or row.company.status == status)
        and (not quadrant or row.score.quadrant == quadrant)
        and (not sector or row.company.sector == sector)
    ]


def company_score(
    user, company: Company, as_of: date | None
) -> tuple[scoring.Score, scoring.ValueShares | None]:
    """The company's score and shares of value absorbed, stored today, or computed as of a
    date from its own tasks (not from its whole fund's)."""
    if as_of is None or as_of == today():
        return stored_score(company), company.value_shares
    rubric = active_rubric_version().to_rubric()
    weights = map_selectors.task_weights([company.pk], map_selectors.COMPANY)
    scores, shares = map_selectors.scores_and_shares_as_of([company.pk], weights, as_of, rubric)
    return scores.get(company.pk) or scoring.score_task([], as_of, rubric), shares.get(company.pk)


def tasks(user, *, fund: int | None, company: int | None):
    queryset = access.scoped(Task.objects.select_related("company"), user).order_by(
        "company_id", "id"
    )
    if fund:
        queryset = queryset.filter(company__fund_id=fund)
    if company:
        queryset = queryset.filter(company_id=company)
    return queryset


def task_scores(task_list: list[Task], as_of: date | None) -> dict[int, scoring.Score]:
    """Each task's score: stored today, or computed from its evidence as of a date."""
    if as_of is None or as_of == today():
        return {t.pk: stored_score(t) for t in task_list}
    rubric = active_rubric_version().to_rubric()
    computed = task_scores_as_of([t.pk for t in task_list], as_of, rubric)
    unscored = scoring.score_task([], as_of, rubric)
    return {t.pk: computed.get(t.pk, unscored) for t in task_list}


def evidence(
    user, *, fund: int | None, company: int | None, task: int | None, verified: bool | None
):
    queryset = access.scoped(
        Evidence.objects.select_related("task__company", "author", "verified_by"), user
    ).order_by("-observed_on", "-id")
    if fund:
        queryset = queryset.filter(task__company__fund_id=fund)
    if company:
        queryset = queryset.filter(task__company_id=company)
    if task:
        queryset = queryset.filter(task_id=task)
    if verified is not None:
        queryset = queryset.filter(verified_at__isnull=not verified)
    return queryset


def alerts(user, *, fund: int | None, company: int | None, unread: bool | None):
    queryset = access.scoped(Alert.objects.select_related("company", "event"), user).order_by(
        "-created_at", "-id"
    )
    if fund:
        queryset = queryset.filter(company__fund_id=fund)
    if company:
        queryset = queryset.filter(company_id=company)
    if unread is not None:
        queryset = queryset.filter(read_at__isnull=unread)
    return queryset


def fund_or_404(user, pk: int) -> Fund:
    return access.get_scoped_or_404(Fund.objects.all(), user, pk=pk)
