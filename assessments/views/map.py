"""The portfolio map: the 2x2 with its filters, as-of date, trails and table.

The page and its htmx fragment come from one template; the fragment carries the
chart's figure as a JSON payload that static/js/map.js hands to plotly.js.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from .. import scoring, selectors
from ..charts import screen as screen_charts
from ..exports import data as export_data
from ..forms import parse_filters
from ..selectors import map as map_selectors
from .htmx import htmx_partial

TABLE_COLUMNS = (
    ("name", "Company"),
    ("fund", "Fund"),
    ("sector", "Sector"),
    ("stage", "Stage"),
    ("status", "Status"),
    ("x", "Frontier (x)"),
    ("y", "Proprietary (y)"),
    ("quadrant", "Quadrant"),
    ("runway", "Runway"),
    ("absorbed", "Absorbed now · 1 y · 2 y"),
    ("unscored", "No evidence"),
    ("confidence", "Confidence"),
    ("evidence", "Evidence"),
    ("size", "Size"),
)
# The table shows a page of rows in the chosen order, the chart every point: a filter change
# at 1,000 companies then swaps a region of well under 150 kB.
TABLE_PAGE = 50
NUMERIC_COLUMNS = {"x", "y", "runway", "absorbed", "unscored", "confidence", "evidence", "size"}


def _url(query: QueryDict, **changes) -> str:
    """This map's URL with some parameters changed (None drops one): links keep the state."""
    params = query.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    return "?" + params.urlencode()


def _sort_links(query: QueryDict, active: str, per: str) -> list[dict]:
    columns = TABLE_COLUMNS
    if per == map_selectors.TASK:
        columns = (("name", "Task"), ("company", "Company"), *TABLE_COLUMNS[1:])
    links = []
    for key, label in columns:
        descending = active == key
        links.append(
            {
                "key": key,
                "label": label,
                # A new order starts again at its first page.
                "url": _url(query, sort=f"-{key}" if descending else key, page=None),
                "numeric": key in NUMERIC_COLUMNS,
                "direction": "asc" if active == key else "desc" if active == f"-{key}" else "",
            }
        )
    return links


def _pager(query: QueryDict, rows) -> dict:
    """Links to the table's first, previous, next and last pages (None where there is none)."""
    paginator = rows.paginator

    def link(number: int):
        return _url(query, page=None if number == 1 else number)

    return {
        "first": link(1) if rows.number > 2 else None,
        "previous": link(rows.previous_page_number()) if rows.has_previous() else None,
        "next": link(rows.next_page_number()) if rows.has_next() else None,
        "last": link(paginator.num_pages) if rows.number < paginator.num_pages - 1 else None,
    }


def _a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@login_required
@require_safe
def map_page(request: HttpRequest) -> HttpResponse:
    """The portfolio map; its #map-region partial for htmx requests, and its #map-table
    partial for the table's own sort and page links (the chart stays as it is)."""
    filters = parse_filters(request.GET)
    data = map_selectors.map_points(request.user, filters)
    rows = Paginator(data.points, TABLE_PAGE).get_page(filters.page)
    today = selectors.today()
    context = {
        "data": data,
        "rows": rows,
        "pager": _pager(request.GET, rows),
        "filters": filters,
        "columns": _sort_links(request.GET, filters.sort, filters.per),
        "rubric": data.rubric,
        "boundary_level": scoring.boundary_at(data.as_of, data.rubric),
        "company_url": reverse("company_detail", kwargs={"pk": 0}),
        "today": today,
    }
    template = "assessments/map.html"
    partial = htmx_partial(request)
    if partial and request.htmx.target == "map-table":
        response = render(request, template + "#map-table", context)
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response
    context["figure"] = screen_charts.interactive_map(
        export_data.plot_points(data),
        as_of=data.as_of,
        rubric=data.rubric,
        since=export_data.trail_start(filters, data.as_of),
        size_reference=data.size_reference,
        size_by=filters.size_by,
    )
    if partial:
        template += "#map-region"
    else:
        choices = map_selectors.filter_choices(request.user, data.rubric)
        context["choices"] = choices
        context["year_ago"] = _a_year_before(today)
        first = choices.first_evidence
        if first and first < today:
            context["slider"] = {"first": first, "days": (today - first).days}
        context["advanced_filters"] = sum(
            bool(v) for v in (filters.stage, filters.status, filters.lead, filters.since)
        ) + (filters.size_by != map_selectors.CHECK_SIZE)
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response
