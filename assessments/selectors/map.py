"""Reads for the portfolio map: the points a user may see under a set of filters.

Every function here runs a fixed number of queries whatever the portfolio's size:
one for the companies or tasks, and for a past date or a trail, one for the tasks'
weights and one grouped scoring statement per date (the SQL scoring path). The trail's
statement also ages the evidence held on its start date to the map's date (for "why it
moved"), and a trail reads the versions' audit trail (which rubric was in force then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from django.db.models import F, QuerySet, Subquery, Sum, Window

from .. import access, scoring, scoring_sql, selectors
from ..models import SCORE_VALUES, Company, CompanyStatus, Evidence, Quadrant, Task

# The company values a map point reads (of the company, or of a task's company).
MAP_COMPANY_VALUES = (
    "id",
    "name",
    "sector",
    "stage",
    "status",
    "check_size",
    "arr",
    "fund__name",
    "lead_partner__username",
    "lead_partner__first_name",
    "lead_partner__last_name",
)
COMPANY = "company"
TASK = "task"
CHECK_SIZE = "check"
ARR = "arr"
BY_QUADRANT = "quadrant"
BY_SECTOR = "sector"

# Table columns the user may sort by, and how each reads a point.
SORT_KEYS = {
    "name": lambda p: p.name.lower(),
    "company": lambda p: p.company.lower(),
    "fund": lambda p: p.fund.lower(),
    "sector": lambda p: p.sector.lower(),
    "stage": lambda p: p.stage.lower(),
    "status": lambda p: p.status,
    "lead": lambda p: p.lead.lower(),
    "x": lambda p: p.score.x if p.score.is_scored else None,
    "y": lambda p: p.score.y if p.score.is_scored else None,
    "quadrant": lambda p: p.score.quadrant,
    "runway": lambda p: p.score.runway_years,
    # Sorted by the share absorbed within two years: the widest view of what is at risk.
    "absorbed": lambda p: None if p.shares is None else p.shares.absorbed_2y,
    "unscored": lambda p: None if p.shares is None else p.shares.unscored,
    "confidence": lambda p: p.score.confidence,
    "evidence": lambda p: p.score.evidence_count,
    "size": lambda p: p.size,
}


@dataclass(frozen=True)
class MapFilters:
    """What the map shows: the filters, the dates and the display choices of the page."""

    fund: int | None = None
    sector: str = ""
    stage: str = ""
    status: str = ""
    lead: int | None = None
    quadrant: str = ""
    as_of: date | None = None
    since: date | None = None
    per: str = COMPANY
    size_by: str = CHECK_SIZE
    colour_by: str = BY_QUADRANT
    sort: str = "name"
    # The table's page (the chart always shows every point).
    page: int = 1


@dataclass
class MapPoint:
    """One bubble of the map (a company, or one of its tasks) and one row of its table."""

    id: int
    company_id: int
    name: str
    company: str
    fund: str
    sector: str
    stage: str
    status: str
    lead: str
    size: float | None
    score: scoring.Score
    # Where the point stood on the trail's start date (None without a trail or unscored then).
    before: scoring.Score | None = None
    # Why it moved since the trail's start date, under the map's rubric at both dates
    # (None without a trail).
    movement: scoring.Movement | None = None
    # A company's shares of its value absorbed and unscored (None for a task, or a company
    # without tasks).
    shares: scoring.ValueShares | None = None


@dataclass
class MapView:
    points: list[MapPoint]
    as_of: date
    rubric: scoring.Rubric
    rubric_number: int
    is_today: bool
    filters: MapFilters
    total_before_quadrant: int = 0
    # With a trail: the number of the version in force on its start date. The map scores
    # both dates under today's version, so a different one then is worth saying.
    rubric_then_number: int | None = None
    # The largest size (check or ARR) in the whole portfolio the user can see, whatever the
    # filters: bubbles are sized against it, so a bubble keeps its size from view to view.
    size_reference: float | None = None

    @property
    def scored(self) -> list[MapPoint]:
        return [p for p in self.points if p.score.is_scored]

    @property
    def unscored(self) -> list[MapPoint]:
        return [p for p in self.points if not p.score.is_scored]


def _filtered_companies(user, filters: MapFilters) -> QuerySet:
    companies = access.scoped(Company.objects.all(), user)
    if filters.fund:
        companies = companies.filter(fund_id=filters.fund)
    if filters.sector:
        companies = companies.filter(sector=filters.sector)
    if filters.stage:
        companies = companies.filter(stage=filters.stage)
    if filters.status:
        companies = companies.filter(status=filters.status)
    if filters.lead:
        companies = companies.filter(lead_partner_id=filters.lead)
    return companies


STATUS_LABELS = dict(CompanyStatus.choices)


def _point(row: dict, prefix: str, size_by: str, score: scoring.Score) -> MapPoint:
    """A point from a row of values(): company fields under ``prefix`` (tasks' rows)."""

    def company(name: str):
        return row[prefix + name]

    lead = f"{company('lead_partner__first_name') or ''} {company('lead_partner__last_name') or ''}"
    size = company("arr") if size_by == ARR else company("check_size")
    if size and "weight_share" in row:
        # A task's bubble is its share of the company's size (its weight over its
        # company's tasks' weights): a company's tasks add up to the company's bubble.
        size = float(size) * row["weight_share"]
    return MapPoint(
        id=row["id"],
        company_id=row["company_id"] if prefix else row["id"],
        name=row["name"],
        company=company("name"),
        fund=company("fund__name"),
        sector=company("sector"),
        stage=company("stage"),
        status=STATUS_LABELS.get(company("status"), company("status")),
        lead=lead.strip() or company("lead_partner__username") or "",
        size=float(size) if size else None,
        score=score,
    )


def _stored_score(row: dict) -> scoring.Score:
    return selectors.stored_score(
        SimpleNamespace(**row, is_scored=row["quadrant"] != scoring.UNSCORED)
    )


def task_weights(ids: list[int], per: str) -> list[tuple[int, int, float]] | None:
    """(task id, company id, weight) of the given companies' tasks, read once for every
    date scored; None per task (each task is its own point)."""
    if per == TASK:
        return None
    return list(Task.objects.filter(company_id__in=ids).values_list("id", "company_id", "weight"))


def scores_as_of(
    ids: list[int],
    weights: list[tuple[int, int, float]] | None,
    day: date,
    rubric: scoring.Rubric,
) -> dict[int, scoring.Score]:
    """Scores of the given companies (their task_weights) or tasks (weights None) as of a
    day under any rubric, by the SQL scoring path: one grouped statement."""
    return scores_and_shares_as_of(ids, weights, day, rubric)[0]


def scores_and_shares_as_of(
    ids: list[int],
    weights: list[tuple[int, int, float]] | None,
    day: date,
    rubric: scoring.Rubric,
) -> tuple[dict[int, scoring.Score], dict[int, scoring.ValueShares]]:
    """scores_as_of, and each company's shares of value absorbed and unscored from the same
    task scores (none per task)."""
    if weights is None:
        return scoring_sql.task_scores_as_of(ids, day, rubric), {}
    task_scores = scoring_sql.task_scores_as_of(_tasks_of(ids), day, rubric)
    return (
        scoring_sql.company_scores(weights, task_scores, day, rubric),
        scoring_sql.company_value_shares(weights, task_scores, day, rubric),
    )


def _tasks_of(company_ids: list[int]) -> QuerySet:
    """The companies' tasks as a subquery of the scoring statement: PostgreSQL joins it
    faster than it matches each evidence row against ten times as many task ids."""
    return Task.objects.filter(company_id__in=company_ids)


def _trail(points: list[MapPoint], ids, weights, since: date, as_of: date, rubric) -> None:
    """Where each point stood on the trail's start date, and why it moved since: the states
    of scoring.movement_under_one_rubric from one more grouped statement (the score then,
    and the rows held then aged to as_of), never from the rows themselves."""
    tasks = ids if weights is None else _tasks_of(ids)
    before, aged = scoring_sql.task_scores_then_and_aged(tasks, since, as_of, rubric)
    if weights is not None:
        before = scoring_sql.company_scores(weights, before, since, rubric)
        aged = scoring_sql.company_scores(weights, aged, as_of, rubric)
    unscored = scoring.Score.unscored()
    for p in points:
        then = before.get(p.id, unscored)
        p.before = then if then.is_scored else None
        p.movement = scoring.movement_under_one_rubric(
            since, as_of, then, aged.get(p.id, unscored), p.score, rubric
        )


def map_points(user, filters: MapFilters) -> MapView:
    """The points of the map for a user and filters, scored as of filters.as_of (today if
    None): stored current scores for today, the SQL scoring path for any other day."""
    version = selectors.active_rubric_version()
    rubric = version.to_rubric()
    today = selectors.today()
    as_of = filters.as_of or today
    is_today = as_of == today
    companies = _filtered_companies(user, filters)
    # Rows of values(), not model instances: a map of 10,000 tasks would otherwise build
    # 40,000 objects, and that, not the database, was most of its time.
    if filters.per == TASK:
        prefix = "company__"
        rows = (
            Task.objects.filter(company__in=companies)
            .order_by("company__name", "-weight", "name")
            .values(
                "id", "name", "company_id", *SCORE_VALUES, *(prefix + f for f in MAP_COMPANY_VALUES)
            )
            .annotate(
                weight_share=F("weight") / Window(Sum("weight"), partition_by=[F("company_id")])
            )
        )
    else:
        prefix = ""
        rows = companies.order_by("name").values(
            *MAP_COMPANY_VALUES, *SCORE_VALUES, *scoring.VALUE_SHARE_FIELDS
        )
    # The largest size the user can see rides along in the same query (a scalar subquery).
    rows = list(rows.annotate(size_top=_largest_size(user, filters.size_by)))
    ids = [row["id"] for row in rows]
    trail = filters.since is not None and filters.since < as_of
    weights = task_weights(ids, filters.per) if trail or not is_today else None
    unscored = scoring.Score.unscored()
    if is_today:
        scores = {row["id"]: _stored_score(row) for row in rows}
        shares = (
            {}
            if prefix
            else {
                row["id"]: scoring.ValueShares.stored([row[f] for f in scoring.VALUE_SHARE_FIELDS])
                for row in rows
            }
        )
    else:
        scores, shares = scores_and_shares_as_of(ids, weights, as_of, rubric)
    points = [_point(row, prefix, filters.size_by, scores.get(row["id"], unscored)) for row in rows]
    for p in points:
        p.shares = shares.get(p.id)
    rubric_then_number = None
    if trail:
        _trail(points, ids, weights, filters.since, as_of, rubric)
        then = selectors.adoption_on(filters.since, selectors.adoptions())
        rubric_then_number = then.number if then else version.number
    total = len(points)
    if filters.quadrant:
        points = [p for p in points if p.score.quadrant == filters.quadrant]
    return MapView(
        size_reference=float(rows[0]["size_top"]) if rows and rows[0]["size_top"] else None,
        points=sort_points(points, filters.sort),
        as_of=as_of,
        rubric=rubric,
        rubric_number=version.number,
        is_today=is_today,
        filters=filters,
        total_before_quadrant=total,
        rubric_then_number=rubric_then_number,
    )


def _largest_size(user, size_by: str) -> Subquery:
    """The largest check size (or ARR) among every company the user can see, whatever the
    filters: bubbles are sized against it, so a bubble keeps its size from view to view."""
    field = "arr" if size_by == ARR else "check_size"
    visible = access.scoped(Company.objects.all(), user).filter(**{f"{field}__isnull": False})
    return Subquery(visible.order_by(f"-{field}").values(field)[:1])


def sort_points(points: list[MapPoint], sort: str) -> list[MapPoint]:
    """Sort by a column key, '-key' for descending; empty values always last."""
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["name"])
    present = [p for p in points if key(p) is not None]
    missing = [p for p in points if key(p) is None]
    present.sort(key=lambda p: (key(p), p.name.lower()), reverse=descending)
    return present + missing


@dataclass(frozen=True)
class FilterChoices:
    funds: list
    sectors: list[str]
    stages: list[str]
    leads: list[tuple[int, str]]
    statuses: list[tuple[str, str]]
    quadrants: list[tuple[str, str]]
    first_evidence: date | None


def first_evidence_day(user) -> date | None:
    """The day of the earliest evidence the user may see: where the as-of slider starts.

    Found through the index on observed_day (the earliest row, not a scan of every
    row), so the map page stays fast however much evidence the portfolio holds.
    """
    return (
        access.scoped(Evidence.objects.all(), user)
        .order_by("observed_day")
        .values_list("observed_on", flat=True)
        .first()
    )


def filter_choices(user, rubric: scoring.Rubric) -> FilterChoices:
    """The options of the map's filters, from the companies the user may see (three queries)."""
    rows = (
        access.scoped(Company.objects.all(), user)
        .values_list(
            "sector",
            "stage",
            "lead_partner_id",
            "lead_partner__username",
            "lead_partner__first_name",
            "lead_partner__last_name",
        )
        .distinct()
        .order_by()
    )
    sectors, stages, leads = set(), set(), {}
    for sector, stage, lead_id, username, first, last in rows:
        sectors.add(sector)
        stages.add(stage)
        if lead_id:
            leads[lead_id] = f"{first} {last}".strip() or username
    return FilterChoices(
        funds=list(access.visible_funds(user)),
        sectors=sorted(s for s in sectors if s),
        stages=sorted(s for s in stages if s),
        leads=sorted(leads.items(), key=lambda item: item[1].lower()),
        statuses=list(CompanyStatus.choices),
        quadrants=[(q, rubric.label(q)) for q in (*scoring.QUADRANTS, Quadrant.UNSCORED.value)],
        first_evidence=first_evidence_day(user),
    )
