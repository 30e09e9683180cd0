"""The portfolio map: the 2x2 with its filters, as-of date, trails and table.

The page and its htmx fragment come from one template; the fragment carries the
chart's figure as a JSON payload that static/js/map.js hands to plotly.js.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
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
    ("confidence", "Confidence"),
    ("evidence", "Evidence"),
    ("size", "Size"),
)
# A table longer than this is read by sorting and filtering, not scrolling; the chart
# still draws every point.
TABLE_LIMIT = 500
NUMERIC_COLUMNS = {"x", "y", "runway", "confidence", "evidence", "size"}


def _sort_links(query: QueryDict, active: str, per: str) -> list[dict]:
    columns = TABLE_COLUMNS
    if per == map_selectors.TASK:
        columns = (("name", "Task"), ("company", "Company"), *TABLE_COLUMNS[1:])
    links = []
    for key, label in columns:
        params = query.copy()
        descending = active == key
        params["sort"] = f"-{key}" if descending else key
        links.append(
            {
                "key": key,
                "label": label,
                "url": "?" + params.urlencode(),
                "numeric": key in NUMERIC_COLUMNS,
                "direction": "asc" if active == key else "desc" if active == f"-{key}" else "",
            }
        )
    return links


@login_required
@require_safe
def map_page(request: HttpRequest) -> HttpResponse:
    """The portfolio map; its #map-region partial for htmx requests."""
    filters = parse_filters(request.GET)
    data = map_selectors.map_points(request.user, filters)
    figure = screen_charts.interactive_map(
        export_data.plot_points(data),
        as_of=data.as_of,
        rubric=data.rubric,
        since=export_data.trail_start(filters, data.as_of),
        size_reference=data.size_reference,
        size_by=filters.size_by,
    )
    context = {
        "data": data,
        "table_rows": data.points[:TABLE_LIMIT],
        "table_limit": TABLE_LIMIT if len(data.points) > TABLE_LIMIT else None,
        "filters": filters,
        "figure": figure,
        "columns": _sort_links(request.GET, filters.sort, filters.per),
        "rubric": data.rubric,
        "boundary_level": scoring.boundary_at(data.as_of, data.rubric),
        "company_url": reverse("company_detail", kwargs={"pk": 0}),
        "today": selectors.today(),
    }
    template = "assessments/map.html"
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        template += "#map-region"
    else:
        choices = map_selectors.filter_choices(request.user, data.rubric)
        context["choices"] = choices
        context["months"] = [_month_end(m, context["today"]) for m in choices.evidence_months]
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _month_end(month: date, today: date) -> str:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return min(date.fromordinal(following.toordinal() - 1), today).isoformat()
