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
from ..charts import base, memo
from ..models import Company, CompanySnapshot, Evidence, Task
from ..selectors import company as company_selectors
from ..selectors import map as map_selectors
from ..selectors import rubric as rubric_selectors


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
        parts.append(f"trails since {f.since:%-d %b %Y}")
    return " · ".join(parts)


def per_task(data: MapExport) -> bool:
    return data.filters.per == map_selectors.TASK


def map_text(data: MapExport, figure: dict | None = None) -> memo.ChartText:
    """Title, subtitle and footnote; given the figure drawn without its text (the slide's
    picture), the footnote also carries the key to the bubbles it numbered."""
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
            extra=" ".join(
                part
                for part in (
                    f"{unscored} unscored {kind} not shown." if unscored else "",
                    "Each task's bubble is its share (its weight) of its company's size."
                    if per_task(data)
                    else "",
                    base.number_key(figure["layout"]["meta"]["numbered"]) if figure else "",
                )
                if part
            ),
        ),
    )


def plot_points(view: map_selectors.MapView) -> list[base.PlotPoint]:
    """The map's scored rows as chart points, for the screen and for print alike."""
    per_task = view.filters.per == map_selectors.TASK
    by_quadrant = view.filters.colour_by == map_selectors.BY_QUADRANT
    return [
        base.plot_point(p, view.rubric, per_task=per_task, by_quadrant=by_quadrant)
        for p in view.scored
    ]


def trail_start(filters: map_selectors.MapFilters, as_of: date) -> date | None:
    return filters.since if filters.since and filters.since < as_of else None


SIZE_TITLES = {map_selectors.CHECK_SIZE: "Check size", map_selectors.ARR: "ARR"}


def map_chart(data: MapExport, preset: str | memo.Preset = "memo", with_text: bool = True):
    size_title = SIZE_TITLES.get(data.filters.size_by, "Size")
    return memo.memo_map(
        plot_points(data.view),
        rubric=data.rubric,
        as_of=data.as_of,
        text=map_text(data),
        preset=preset,
        with_text=with_text,
        since=trail_start(data.filters, data.as_of),
        size_reference=data.view.size_reference,
        size_title=f"{size_title}\nper task" if per_task(data) else size_title,
        label_chars=memo.TASK_LABEL_CHARS if per_task(data) else memo.LABEL_CHARS,
    )


def filename(data: MapExport, fmt: str, preset: str = "") -> str:
    """moat-map-<fund>-<per-company|per-task>-<date>[-trails-from-<date>][-<preset>].<fmt>:
    two downloads of different views never share a name."""
    fund = slugify("-".join(data.fund_names)) or "portfolio"
    mode = "per-task" if per_task(data) else "per-company"
    since = trail_start(data.filters, data.as_of)
    trails = f"-trails-from-{since.isoformat()}" if since else ""
    suffix = f"-{preset}" if preset else ""
    return f"moat-map-{fund}-{mode}-{data.as_of.isoformat()}{trails}{suffix}.{fmt}"


def waterfall_figure(user, task_id: int, as_of: date, preset: str = "memo"):
    """The waterfall of one task the user may see (404 otherwise)."""
    task = access.get_scoped_or_404(Task.objects.select_related("company__fund"), user, id=task_id)
    version = selectors.active_rubric_version()
    rubric = version.to_rubric()
    evidence = list(task.evidence.all())
    counted = [e for e in evidence if e.observed_on <= as_of and e.counts]
    text = memo.ChartText(
        title=f"{task.company.name}: {task.name}",
        subtitle=f"{task.company.fund.name} · how each evidence note moves the scores",
        footnote=memo.footnote(
            as_of=as_of, companies=1, evidence=len(counted), rubric_version=str(version)
        ),
    )
    contributions = company_selectors.task_contributions(counted, as_of, rubric)
    figure = memo.waterfall_figure(contributions, rubric=rubric, text=text, preset=preset)
    return figure, slugify(f"{task.company.name}-{task.name}-waterfall")


def task_contributions(evidence: list[Evidence], as_of: date, rubric: scoring.Rubric):
    """The IC pack's waterfalls read the same contributions as the company page's."""
    return company_selectors.task_contributions(evidence, as_of, rubric)


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
    series = company_selectors.history_series(
        snapshots, ("Frontier (x)", "Proprietary (y)", "Runway (years)")
    )
    marks = rubric_selectors.adoption_marks()
    figure = memo.history_figure(series, text=text, preset=preset, marks=marks)
    return figure, slugify(f"{company.name}-history")
