"""What the exports read: the map's rows for a user and a set of filters, as plain data.

Scores are computed from the evidence as of the requested date with the active
rubric (the same functions as `export_scores`), so an exported chart, its CSV
and the command line agree to the last digit. Every read goes through access.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.utils.text import slugify

from . import access, memo, scoring, selectors
from .models import Company, CompanySnapshot, Evidence, Task

LEVELS = ("company", "task")
COLOUR_BY = ("quadrant", "sector")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@dataclass(frozen=True)
class MapQuery:
    """The map's filters, as its query string carries them."""

    as_of: date
    fund: int | None = None
    sector: str = ""
    stage: str = ""
    status: str = ""
    lead: int | None = None
    quadrant: str = ""
    level: str = "company"
    since: date | None = None
    colour: str = "quadrant"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> MapQuery:
        level = params.get("level", "company")
        colour = params.get("colour", "quadrant")
        return cls(
            as_of=_date(params.get("as_of")) or selectors.today(),
            fund=_int(params.get("fund")),
            sector=params.get("sector", ""),
            stage=params.get("stage", ""),
            status=params.get("status", ""),
            lead=_int(params.get("lead")),
            quadrant=params.get("quadrant", ""),
            level=level if level in LEVELS else "company",
            since=_date(params.get("since")),
            colour=colour if colour in COLOUR_BY else "quadrant",
        )


@dataclass
class MapRow:
    """One bubble and table row: a company, or one of its tasks."""

    company: Company
    task: Task | None
    score: scoring.Score
    trail_from: scoring.Score | None = None

    @property
    def label(self) -> str:
        return self.task.name if self.task else self.company.name


@dataclass
class MapData:
    query: MapQuery
    rows: list[MapRow]
    rubric: scoring.Rubric
    rubric_name: str
    evidence_count: int
    fund_names: list[str] = field(default_factory=list)

    @property
    def company_count(self) -> int:
        return len({row.company.id for row in self.rows})


def map_data(user, query: MapQuery) -> MapData:
    """The map's rows for this user and these filters. A fixed number of queries."""
    companies = access.scoped(Company.objects.select_related("fund", "lead_partner"), user)
    filters = {
        "fund_id": query.fund,
        "sector": query.sector,
        "stage": query.stage,
        "status": query.status,
        "lead_partner_id": query.lead,
    }
    companies = companies.filter(**{k: v for k, v in filters.items() if v}).order_by(
        "fund__name", "name"
    )
    company_list = list(companies)
    tasks = list(
        access.scoped(Task.objects.all(), user)
        .filter(company__in=[c.id for c in company_list])
        .order_by("company_id", "name")
    )
    version = selectors.active_rubric_version()
    rubric = version.to_rubric()
    triples = [(t.id, t.company_id, t.weight) for t in tasks]
    unscored = scoring.score_task([], query.as_of, rubric)

    def scores_on(day: date):
        per_task = selectors.task_scores_as_of([t.id for t in tasks], day, rubric)
        return per_task, selectors.company_scores(triples, per_task, day, rubric)

    task_now, company_now = scores_on(query.as_of)
    task_then, company_then = scores_on(query.since) if query.since else ({}, {})
    by_id = {c.id: c for c in company_list}
    if query.level == "task":
        rows = [
            MapRow(by_id[t.company_id], t, task_now.get(t.id, unscored), task_then.get(t.id))
            for t in tasks
        ]
    else:
        rows = [
            MapRow(c, None, company_now.get(c.id, unscored), company_then.get(c.id))
            for c in company_list
        ]
    if query.quadrant:
        rows = [row for row in rows if row.score.quadrant == query.quadrant]
    shown = {row.company.id for row in rows}
    company_of = {t.id: t.company_id for t in tasks}
    evidence = sum(s.evidence_count for t, s in task_now.items() if company_of[t] in shown)
    return MapData(
        query=query,
        rows=rows,
        rubric=rubric,
        rubric_name=str(version),
        evidence_count=evidence,
        fund_names=sorted({c.fund.name for c in company_list}),
    )


def describe_filters(data: MapData) -> str:
    """The subtitle: fund and every active filter, in words."""
    q = data.query
    parts = [", ".join(data.fund_names) or "No fund"]
    if q.sector:
        parts.append(f"sector {q.sector}")
    if q.stage:
        parts.append(f"stage {q.stage}")
    if q.status:
        parts.append(f"status {q.status}")
    if q.lead:
        lead = next((r.company.lead_partner for r in data.rows if r.company.lead_partner), None)
        parts.append(f"lead {lead.get_full_name() or lead.username}" if lead else "lead partner")
    if q.quadrant:
        parts.append(data.rubric.label(q.quadrant))
    parts.append("per task" if q.level == "task" else "per company")
    if q.since:
        parts.append(f"trails since {q.since:%d %b %Y}")
    return " · ".join(parts)


def map_text(data: MapData) -> memo.ChartText:
    unscored = sum(1 for row in data.rows if not row.score.is_scored)
    kind = "tasks" if data.query.level == "task" else "companies"
    title = "Portfolio map"
    if len(data.fund_names) == 1:
        title += f" — {data.fund_names[0]}"
    return memo.ChartText(
        title=title,
        subtitle=describe_filters(data),
        footnote=memo.footnote(
            as_of=data.query.as_of,
            companies=data.company_count,
            evidence=data.evidence_count,
            rubric_version=data.rubric_name,
            extra=f"{unscored} unscored {kind} not shown." if unscored else "",
        ),
    )


def map_points(data: MapData) -> list[memo.MapPoint]:
    points = []
    for row in data.rows:
        company, score = row.company, row.score
        size = company.check_size or company.arr
        then = row.trail_from
        points.append(
            memo.MapPoint(
                label=row.label,
                x=score.x,
                y=score.y,
                size_value=float(size) if size else None,
                quadrant=score.quadrant,
                colour_key=score.quadrant
                if data.query.colour == "quadrant"
                else (company.sector or "No sector"),
                confidence=score.confidence,
                trail_from=(then.x, then.y) if then is not None and then.is_scored else None,
            )
        )
    return points


def map_figure(data: MapData, preset: str = "memo", with_text: bool = True):
    return memo.map_figure(
        map_points(data),
        rubric=data.rubric,
        as_of=data.query.as_of,
        text=map_text(data),
        preset=preset,
        with_text=with_text,
    )


def score_lines(data: MapData) -> list[selectors.ScoreLine]:
    """The map's table as export_scores' lines (same columns, same numbers)."""
    return [
        selectors.ScoreLine(
            row.company.fund.name, row.company.name, row.task.name if row.task else "", row.score
        )
        for row in data.rows
    ]


def filename(data: MapData, fmt: str) -> str:
    fund = slugify("-".join(data.fund_names)) or "portfolio"
    return f"moat-map-{fund}-{data.query.as_of.isoformat()}.{fmt}"


def task_contributions(
    evidence: list[Evidence], as_of: date, rubric: scoring.Rubric
) -> list[memo.Contribution]:
    """Each evidence note's signed raw contribution, labelled by factor and date."""
    return [
        memo.Contribution(
            f"{e.factor.replace('_', ' ')} · {e.observed_on:%d %b %Y}",
            scoring.FACTORS_BY_CODE[e.factor].axis,
            scoring.contribution(e.as_scoring_row(), as_of, rubric),
        )
        for e in evidence
        if e.observed_on <= as_of
    ]


def waterfall_figure(user, task_id: int, as_of: date, preset: str = "memo"):
    """The waterfall of one task the user may see (404 otherwise)."""
    task = access.get_scoped_or_404(Task.objects.select_related("company__fund"), user, id=task_id)
    version = selectors.active_rubric_version()
    rubric = version.to_rubric()
    evidence = list(task.evidence.all())
    counted = [e for e in evidence if e.observed_on <= as_of]
    text = memo.ChartText(
        title=f"{task.company.name}: {task.name}",
        subtitle=f"{task.company.fund.name} · how each evidence note moves the scores",
        footnote=memo.footnote(
            as_of=as_of, companies=1, evidence=len(counted), rubric_version=str(version)
        ),
    )
    figure = memo.waterfall_figure(
        task_contributions(counted, as_of, rubric), rubric=rubric, text=text, preset=preset
    )
    return figure, slugify(f"{task.company.name}-{task.name}-waterfall")


def history_figure(user, company_id: int, preset: str = "memo"):
    """A company's score history from its snapshots under the active rubric."""
    company = access.get_scoped_or_404(Company.objects.select_related("fund"), user, id=company_id)
    version = selectors.active_rubric_version()
    snapshots = list(
        CompanySnapshot.objects.filter(
            company=company, rubric_version=version, x__isnull=False
        ).order_by("as_of")
    )
    dates = [s.as_of for s in snapshots]
    last = dates[-1] if dates else selectors.today()
    text = memo.ChartText(
        title=f"{company.name}: score history",
        subtitle=company.fund.name,
        footnote=memo.footnote(
            as_of=last,
            companies=1,
            evidence=snapshots[-1].evidence_count if snapshots else 0,
            rubric_version=str(version),
        ),
    )
    series = [
        memo.HistorySeries("Frontier (x)", dates, [s.x for s in snapshots]),
        memo.HistorySeries("Proprietary (y)", dates, [s.y for s in snapshots]),
    ]
    return memo.history_figure(series, text=text, preset=preset), slugify(f"{company.name}-history")
