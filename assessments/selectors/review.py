"""Reads for the review queue: the partner's four tabs (alerts, evidence pending
verification, contradictions, tasks due for re-underwriting), limited to the funds where the
user verifies evidence, filtered by fund and company, counted and paged in SQL or, for the
impact sort, in one pass over the pending rows' few columns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet

from .. import access, directions, notes, scoring, scoring_sql
from ..models import Alert, Company, Evidence, Fund, Task
from . import active_rubric_version, today

PER_PAGE = 25

ALERTS = "alerts"
PENDING = "pending"
CONTRADICTIONS = "contradictions"
REUNDERWRITE = "reunderwrite"
TABS = (
    (ALERTS, "Alerts"),
    (PENDING, "Pending"),
    (CONTRADICTIONS, "Contradictions"),
    (REUNDERWRITE, "Re-underwrite"),
)

BY_IMPACT = "impact"
OLDEST = "oldest"
NEWEST = "newest"
SORTS = ((BY_IMPACT, "Impact once verified"), (OLDEST, "Waiting longest"), (NEWEST, "Newest"))


@dataclass(frozen=True)
class QueueFilters:
    tab: str | None = None  # None: Alerts while any is unread, else Pending
    fund: int | None = None
    company: int | None = None
    sort: str = BY_IMPACT
    page: str | int = 1

    def query(self, **changes) -> dict:
        """The filters as query-string parameters (links keep the others)."""
        current = replace(self, **changes)
        params = {"tab": current.tab, "sort": current.sort, "page": current.page}
        if current.fund:
            params["fund"] = current.fund
        if current.company:
            params["company"] = current.company
        return params


# The path from each listed kind to its company, for the company filter.
COMPANY_PATH = {Evidence: "task__company_id", Task: "company_id", Alert: "company_id"}


def _in_scope(queryset: QuerySet, user, filters: QueueFilters) -> QuerySet:
    """The user's partner funds, narrowed to the chosen fund and company."""
    queryset = access.in_funds(access.scoped(queryset, user), access.partner_fund_ids(user))
    if filters.fund:
        queryset = queryset.filter(**{access.FUND_PATH[queryset.model]: filters.fund})
    if filters.company:
        queryset = queryset.filter(**{COMPANY_PATH[queryset.model]: filters.company})
    return queryset


def pending_evidence(user, filters: QueueFilters) -> QuerySet:
    """Counting evidence no partner has verified at its current version."""
    return _in_scope(Evidence.objects.counting(), user, filters).filter(verified_at__isnull=True)


def unread_alerts(user, filters: QueueFilters) -> QuerySet:
    return _in_scope(Alert.objects.filter(read_at__isnull=True), user, filters)


def contradiction_groups(user, filters: QueueFilters) -> QuerySet:
    """(task, factor) pairs whose counting evidence both supports and contradicts the factor,
    unless a partner acknowledged every row of the pair as genuinely mixed."""
    return (
        _in_scope(Evidence.objects.counting(), user, filters)
        .values("task_id", "factor")
        .annotate(
            supports=Count("id", filter=Q(stance=scoring.SUPPORTS)),
            contradicts=Count("id", filter=Q(stance=scoring.CONTRADICTS)),
            unacknowledged=Count("id", filter=Q(mixed_acknowledged_at__isnull=True)),
            latest=Max("observed_on"),
        )
        .filter(supports__gt=0, contradicts__gt=0, unacknowledged__gt=0)
        .order_by("-latest", "task_id", "factor")
    )


def due_tasks(user, filters: QueueFilters, as_of: date, rubric: scoring.Rubric) -> QuerySet:
    """Tasks whose latest counting evidence is older than the rubric's limit (or none)."""
    counting = Q(evidence__sent_back_at__isnull=True, evidence__superseded_at__isnull=True)
    cutoff = as_of - timedelta(days=rubric.reunderwrite_after_days)
    return (
        _in_scope(Task.objects.select_related("company"), user, filters)
        .annotate(latest=Max("evidence__observed_on", filter=counting))
        .filter(Q(latest__isnull=True) | Q(latest__lt=cutoff))
        .order_by("latest", "company__name", "name")
    )


def unread_alert_count(user) -> int:
    """The navigation badge: unread alerts in the funds where the user reviews."""
    if not user.is_authenticated or access.partner_fund_ids(user) == []:
        return 0
    return unread_alerts(user, QueueFilters()).count()


def counts(user, filters: QueueFilters, as_of: date, rubric: scoring.Rubric) -> dict[str, int]:
    """Each tab's count under the filters: four counting queries."""
    return {
        ALERTS: unread_alerts(user, filters).count(),
        PENDING: pending_evidence(user, filters).count(),
        CONTRADICTIONS: contradiction_groups(user, filters).count(),
        REUNDERWRITE: due_tasks(user, filters, as_of, rubric).count(),
    }


@dataclass
class PendingRow:
    evidence: Evidence
    impact: float  # score points the task moves on the note's axis once it is verified
    axis: str
    direction: directions.Direction
    first_line: str
    waiting_days: int


def _impacts(rows: list[dict], as_of: date, rubric: scoring.Rubric) -> dict[int, float]:
    """Per pending note: how many points its task moves on its axis once it counts in full.
    One grouped query for the tasks' sums; the rest is the pure model's arithmetic."""
    sums = scoring_sql.task_sums_as_of({r["task_id"] for r in rows}, as_of, rubric)
    impacts = {}
    for r in rows:
        factor = scoring.FACTORS_BY_CODE[r["factor"]]
        fields = {k: r[k] for k in ("factor", "stance", "strength", "confidence", "observed_on")}
        now = scoring.contribution(scoring.EvidenceRow(**fields, verified=False), as_of, rubric)
        then = scoring.contribution(scoring.EvidenceRow(**fields, verified=True), as_of, rubric)
        task = sums.get(r["task_id"])
        raw = 0.0 if task is None else (task.raw_x if factor.axis == scoring.X else task.raw_y)
        impacts[r["id"]] = scoring.axis_score(raw - now + then, rubric) - scoring.axis_score(
            raw, rubric
        )
    return impacts


def pending_page(user, filters: QueueFilters, as_of: date, rubric: scoring.Rubric) -> Page:
    """One page of pending notes, sorted by impact or by how long they have waited."""
    waiting = pending_evidence(user, filters)
    columns = list(
        waiting.values(
            "id", "task_id", "factor", "stance", "strength", "confidence", "observed_on"
        ).order_by("created_at", "id")
    )
    impacts = _impacts(columns, as_of, rubric)
    ids = [r["id"] for r in columns]
    if filters.sort == BY_IMPACT:
        ids.sort(key=lambda pk: (-abs(impacts[pk]), pk))
    elif filters.sort == NEWEST:
        ids.reverse()
    page = Paginator(ids, PER_PAGE).get_page(filters.page)
    loaded = Evidence.objects.select_related("task__company", "author").in_bulk(page.object_list)
    now = today()
    page.object_list = [
        PendingRow(
            evidence=loaded[pk],
            impact=impacts[pk],
            axis=loaded[pk].factor_info.axis,
            direction=directions.direction(loaded[pk].factor, loaded[pk].stance),
            first_line=notes.first_line(loaded[pk].note),
            waiting_days=(now - loaded[pk].created_at.date()).days,
        )
        for pk in page.object_list
        if pk in loaded
    ]
    return page


@dataclass
class Contradiction:
    task: Task
    factor: str
    supports: list[Evidence]
    contradicts: list[Evidence]

    @property
    def meaning(self) -> str:
        return scoring.FACTORS_BY_CODE[self.factor].meaning

    @property
    def sides(self) -> list[ContradictionSide]:
        """The two sides named by their effect on the moat, the one that strengthens it first
        (for a factor that lowers its axis, that is the contradicting side)."""
        sides = [
            ContradictionSide(
                directions.direction(self.factor, scoring.SUPPORTS),
                self.supports,
                "supersede_supports",
            ),
            ContradictionSide(
                directions.direction(self.factor, scoring.CONTRADICTS),
                self.contradicts,
                "supersede_contradicts",
            ),
        ]
        return sorted(sides, key=lambda s: s.direction.effect != directions.STRENGTHENS)


@dataclass
class ContradictionSide:
    direction: directions.Direction
    notes: list[Evidence]
    resolution: str  # the value that marks this side superseded


def contradictions_page(user, filters: QueueFilters) -> Page:
    page = Paginator(contradiction_groups(user, filters), PER_PAGE).get_page(filters.page)
    groups = list(page.object_list)
    task_ids = {g["task_id"] for g in groups}
    tasks = Task.objects.select_related("company").in_bulk(task_ids)
    rows = (
        Evidence.objects.counting()
        .filter(task_id__in=task_ids, factor__in={g["factor"] for g in groups})
        .select_related("author", "verified_by")
        .order_by("-observed_on", "-id")
    )
    by_pair: dict[tuple[int, str], list[Evidence]] = {}
    for row in rows:
        row.first_line = notes.first_line(row.note)
        by_pair.setdefault((row.task_id, row.factor), []).append(row)
    page.object_list = [
        Contradiction(
            task=tasks[g["task_id"]],
            factor=g["factor"],
            supports=[e for e in by_pair.get((g["task_id"], g["factor"]), []) if e.stance > 0],
            contradicts=[e for e in by_pair.get((g["task_id"], g["factor"]), []) if e.stance < 0],
        )
        for g in groups
        if g["task_id"] in tasks
    ]
    return page


def due_page(user, filters: QueueFilters, as_of: date, rubric: scoring.Rubric) -> Page:
    page = Paginator(due_tasks(user, filters, as_of, rubric), PER_PAGE).get_page(filters.page)
    tasks = list(page.object_list)
    for task in tasks:
        task.days_since = None if task.latest is None else (as_of - task.latest).days
    page.object_list = tasks
    return page


def alerts_page(user, filters: QueueFilters) -> Page:
    alerts = unread_alerts(user, filters).select_related("company", "task")
    return Paginator(alerts.order_by("-created_at", "-id"), PER_PAGE).get_page(filters.page)


def filter_choices(user, filters: QueueFilters) -> dict:
    """The funds and companies the partner may filter by (companies of the chosen fund)."""
    fund_ids = access.partner_fund_ids(user)
    funds = access.in_funds(access.scoped(Fund.objects.all(), user), fund_ids)
    companies = access.in_funds(access.scoped(Company.objects.all(), user), fund_ids)
    if filters.fund:
        companies = companies.filter(fund_id=filters.fund)
    return {
        "funds": list(funds.values_list("id", "name")),
        "companies": list(companies.order_by("name").values_list("id", "name")),
    }


def _query(filters: QueueFilters, **changes) -> str:
    return "?" + urlencode(filters.query(**changes))


def review_queue(user, filters: QueueFilters | None = None, *, as_of: date | None = None):
    """The queue as the partner sees it: tab counts, the active tab's page, the filters.
    A fixed number of queries whatever the number of rows."""
    filters = filters or QueueFilters()
    as_of = as_of or today()
    rubric = active_rubric_version().to_rubric()
    if filters.tab is None:
        first = ALERTS if unread_alerts(user, filters).exists() else PENDING
        filters = replace(filters, tab=first)
    if filters.tab == ALERTS:
        page = alerts_page(user, filters)
    elif filters.tab == CONTRADICTIONS:
        page = contradictions_page(user, filters)
    elif filters.tab == REUNDERWRITE:
        page = due_page(user, filters, as_of, rubric)
    else:
        page = pending_page(user, filters, as_of, rubric)
    tab_counts = counts(user, filters, as_of, rubric)
    return {
        "filters": filters,
        "tab_links": [
            {
                "code": code,
                "label": label,
                "count": tab_counts[code],
                "query": _query(filters, tab=code, page=1),
                "active": code == filters.tab,
            }
            for code, label in TABS
        ],
        "sort_links": [
            {"code": code, "label": label, "query": _query(filters, sort=code, page=1)}
            for code, label in SORTS
        ],
        "previous_query": _query(filters, page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_query": _query(filters, page=page.next_page_number()) if page.has_next() else "",
        "counts": tab_counts,
        "unread_alerts": unread_alert_count(user),
        "page": page,
        "rubric": rubric,
        "as_of": as_of,
        **filter_choices(user, filters),
    }
