"""What the exports read: the map's rows for a user and a set of filters, as plain data.

The map's rows come from the map's own read (map_selectors.map_points with the
filters parsed by forms.parse_filters), so an export is exactly the view it came from;
past dates are scored by the same SQL path as `export_scores`, so the chart, its
CSV and the command line agree. Every read goes through access.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.text import slugify

from .. import access, scoring, selectors
from ..charts import memo
from ..models import Company, CompanySnapshot, Evidence, Task
from ..selectors import map as map_selectors
from ..selectors import portfolio as portfolio_selectors


@dataclass
class MapExport:
    """The map's own read (map_selectors.map_points) and what the memo text needs besides."""

    view: map_selectors.MapView
    rubric_name: str

    @property
    def filters(self) -> map_selectors.MapFilters:
        return self.view.filters

    @property
    def as_of(self) -> date:
        return self.view.as_of

    @property
    def rubric(self) -> scoring.Rubric:
        return self.view.rubric

    @property
    def points(self) -> list[map_selectors.MapPoint]:
        return self.view.points

    @property
    def fund_names(self) -> list[str]:
        return sorted({p.fund for p in self.points})

    @property
    def company_count(self) -> int:
        return len({p.company_id for p in self.points})

    @property
    def evidence_count(self) -> int:
        # A company's count is the sum of its tasks', so either level adds up the same.
        return sum(p.score.evidence_count for p in self.points)


def map_data(user, filters: map_selectors.MapFilters) -> MapExport:
    """Exactly what the map shows this user under these filters (the map's own read)."""
    view = map_selectors.map_points(user, filters)
    return MapExport(view=view, rubric_name=str(selectors.active_rubric_version()))


def describe_filters(data: MapExport) -> str:
    """The subtitle: fund and every active filter, in words."""
    f = data.filters
    parts = [", ".join(data.fund_names) or "No fund"]
    if f.sector:
        parts.append(f"sector {f.sector}")
    if f.stage:
        parts.append(f"stage {f.stage}")
    if f.status:
        parts.append(f"status {map_selectors.STATUS_LABELS.get(f.status, f.status)}")
    if f.lead:
        lead = next((p.lead for p in data.points if p.lead), "")
        parts.append(f"lead {lead}" if lead else "lead partner")
    if f.quadrant:
        parts.append(data.rubric.label(f.quadrant))
    parts.append("per task" if f.per == map_selectors.TASK else "per company")
    if f.since and f.since < data.as_of:
        parts.append(f"trails since {f.since:%d %b %Y}")
    return " · ".join(parts)


def map_text(data: MapExport) -> memo.ChartText:
    unscored = len(data.view.unscored)
    kind = "tasks" if data.filters.per == map_selectors.TASK else "companies"
    title = "Portfolio map"
    if len(data.fund_names) == 1:
        title += f" — {data.fund_names[0]}"
    return memo.ChartText(
        title=title,
        subtitle=describe_filters(data),
        footnote=memo.footnote(
            as_of=data.as_of,
            companies=data.company_count,
            evidence=data.evidence_count,
            rubric_version=data.rubric_name,
            extra=f"{unscored} unscored {kind} not shown." if unscored else "",
        ),
    )


def print_points(data: MapExport) -> list[memo.MapPoint]:
    by_quadrant = data.filters.colour_by == map_selectors.BY_QUADRANT
    return [
        memo.MapPoint(
            label=p.name,
            x=p.score.x,
            y=p.score.y,
            size_value=p.size,
            quadrant=p.score.quadrant,
            colour_key=p.score.quadrant if by_quadrant else (p.sector or "No sector"),
            confidence=p.score.confidence,
            trail_from=(p.before.x, p.before.y) if p.before is not None else None,
        )
        for p in data.view.scored
    ]


def map_chart(data: MapExport, preset: str = "memo", with_text: bool = True):
    return memo.memo_map(
        print_points(data),
        rubric=data.rubric,
        as_of=data.as_of,
        text=map_text(data),
        preset=preset,
        with_text=with_text,
    )


def score_lines(data: MapExport) -> list[portfolio_selectors.ScoreLine]:
    """The map's table as export_scores' lines (same columns, same numbers)."""
    per_task = data.filters.per == map_selectors.TASK
    return [
        portfolio_selectors.ScoreLine(
            p.fund, p.company if per_task else p.name, p.name if per_task else "", p.score
        )
        for p in data.points
    ]


def filename(data: MapExport, fmt: str) -> str:
    fund = slugify("-".join(data.fund_names)) or "portfolio"
    return f"moat-map-{fund}-{data.as_of.isoformat()}.{fmt}"


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
