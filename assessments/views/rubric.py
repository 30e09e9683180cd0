"""The rubric studio: versions, drafts a partner edits and compares with the active version,
the preview of the map under a draft, activation with its confirmation and progress; and the
company page's "why it moved" and "what if" section."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from .. import access, moves, scoring, selectors, services
from ..charts import base
from ..charts import screen as screen_charts
from ..charts import sensitivity as sensitivity_charts
from ..forms import MapFilterForm, RubricDraftForm, parse_filters
from ..models import Company, RubricVersion
from ..selectors import map as map_selectors
from ..selectors import rubric as rubric_selectors
from .htmx import htmx_partial

PAGE = "assessments/rubric.html"
DRAFT_PAGE = "assessments/rubric_draft.html"
PREVIEW_PAGE = "assessments/rubric_preview.html"
ACTIVATE_PAGE = "assessments/rubric_activate.html"
INSIGHT = "assessments/rubric_company.html"
# The same section as a page of its own: what the since control's plain GET opens without
# JavaScript (or a link to it opened in a new tab).
INSIGHT_PAGE = "assessments/rubric_company_page.html"
PREVIEW_MAP_HEIGHT = 600


def _version(request: HttpRequest, version_id: int) -> RubricVersion:
    access.require_rubric_reader(request.user)
    return get_object_or_404(RubricVersion.objects.select_related("created_by"), pk=version_id)


def _partial(request: HttpRequest, template: str, name: str) -> str:
    return f"{template}#{name}" if htmx_partial(request) else template


@login_required
@require_http_methods(["GET", "POST"])
def rubric(request: HttpRequest) -> HttpResponse:
    """Every version (read by the members of any fund); a rubric owner's POST starts a draft
    from the active version (any field posted changes the copy) and opens it."""
    access.require_rubric_reader(request.user)
    active = selectors.active_rubric_version()
    form = RubricDraftForm(base=active)
    if request.method == "POST":
        access.require_rubric_manager(request.user)
        # Fields not posted keep the active version's values: "New draft" posts only a name.
        data = {name: form[name].value() for name in form.fields} | request.POST.dict()
        form = RubricDraftForm(data, base=active)
        if form.is_valid():
            try:
                draft = services.rubric_draft_create(
                    user=request.user, base=active, **form.changes()
                )
            except ValidationError as invalid:
                form.add_error(None, invalid)
            else:
                messages.success(request, f"{draft} saved as a draft.")
                return redirect("rubric_draft", version_id=draft.pk)
    return render(
        request,
        PAGE,
        {
            "versions": RubricVersion.objects.select_related("created_by"),
            "active": active,
            "form": form,
            "may_edit": access.can_manage_rubric(request.user),
        },
    )


def _differs(value, active) -> bool:
    """Whether a field's value (as posted or initial) differs from the active version's."""
    if isinstance(active, float | int) and not isinstance(active, bool):
        try:
            return not math.isclose(float(value), float(active))
        except (TypeError, ValueError):
            return True
    if isinstance(active, date):
        return str(value) != active.isoformat()
    return str(value) != str(active)


def _comparison(form: RubricDraftForm, version: RubricVersion, active: RubricVersion) -> dict:
    """Every field beside the active version's value and whether it differs; the changes."""
    rubric = active.to_rubric()

    def row(name: str, active_value) -> dict:
        field = form[name]
        return {
            "field": field,
            "active": rubric_selectors.shown(active_value),
            "changed": _differs(field.value(), active_value),
        }

    return {
        "factor_rows": [
            {
                "factor": f,
                "weight": row(f"weight_{f.code}", rubric.factor_weights[f.code]),
                "half_life": row(f"half_life_{f.code}", rubric.half_lives[f.code]),
            }
            for f in scoring.FACTORS
        ],
        "parameter_rows": [row(n, getattr(active, n)) for n in services.RUBRIC_PARAMETERS],
        "label_rows": [row(n, getattr(active, n)) for n in services.RUBRIC_LABELS],
        "changes": rubric_selectors.compare(version.to_rubric(), rubric),
    }


@login_required
@require_http_methods(["GET", "POST"])
def rubric_draft(request: HttpRequest, version_id: int) -> HttpResponse:
    """A version's every number beside the active version's; a partner edits a draft."""
    version = _version(request, version_id)
    active = selectors.active_rubric_version()
    may_edit = access.can_manage_rubric(request.user) and version.is_draft
    form = RubricDraftForm(base=version)
    if request.method == "POST":
        access.require_rubric_manager(request.user)
        form = RubricDraftForm(request.POST, base=version)
        if not version.is_draft:
            form.add_error(None, f"{version} has been active; start a new draft from it.")
        elif form.is_valid():
            try:
                services.rubric_draft_update(user=request.user, draft=version, **form.changes())
            except (ValidationError, services.RubricError) as invalid:
                form.add_error(None, invalid)
            else:
                messages.success(request, f"{version} saved.")
                return redirect("rubric_draft", version_id=version.pk)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        DRAFT_PAGE,
        {
            "version": version,
            "active": active,
            "form": form,
            "may_edit": may_edit,
            "may_manage": access.can_manage_rubric(request.user),
            **_comparison(form, version, active),
        },
    )


@require_POST
@login_required
def rubric_draft_discard(request: HttpRequest, version_id: int) -> HttpResponse:
    """Delete a draft (never one that has been active)."""
    access.require_rubric_manager(request.user)
    version = _version(request, version_id)
    try:
        services.rubric_draft_discard(user=request.user, draft=version)
    except services.RubricError as refused:
        messages.error(request, str(refused))
        return redirect("rubric_draft", version_id=version.pk)
    messages.success(request, f"{version} discarded.")
    if request.htmx:  # the confirmed htmx POST: the whole page goes to the list
        return HttpResponseClientRedirect(reverse("rubric"))
    return redirect("rubric")


def _preview_context(request: HttpRequest, version: RubricVersion) -> dict:
    filters = parse_filters(request.GET)
    result = rubric_selectors.preview(request.user, filters, version)
    active = result.active

    def figure(points, rubric, trails: bool) -> dict:
        chart_points = [
            base.plot_point(
                p,
                rubric,
                per_task=filters.per == map_selectors.TASK,
                by_quadrant=filters.colour_by == map_selectors.BY_QUADRANT,
            )
            for p in points
        ]
        if not trails:
            chart_points = [replace(p, before=None) for p in chart_points]
        fig = screen_charts.interactive_map(
            chart_points, as_of=active.as_of, rubric=rubric, size_by=filters.size_by
        )
        # Two maps side by side: shorter than the map page's one.
        fig["layout"]["height"] = PREVIEW_MAP_HEIGHT
        for trace in fig["data"]:
            if trace.get("name") == "Earlier position":
                trace["name"] = f"Under the active v{active.rubric_number}"
        return fig

    return {
        "version": version,
        "preview": result,
        "filters": filters,
        "active_figure": figure(active.scored, active.rubric, trails=False),
        "draft_figure": figure(result.draft_scored, result.draft, trails=True),
        "movers": result.movers[: rubric_selectors.MOVERS_SHOWN],
        "today": selectors.today(),
    }


@login_required
@require_safe
def rubric_preview(request: HttpRequest, version_id: int) -> HttpResponse:
    """The map under the active rubric beside the map under this version, same filters and
    date, and the companies that would move, largest move first. Nothing is written."""
    version = _version(request, version_id)
    template = _partial(request, PREVIEW_PAGE, "preview-region")
    context = _preview_context(request, version)
    if template == PREVIEW_PAGE:  # the filters' options: the full page only
        context["choices"] = map_selectors.filter_choices(request.user, context["preview"].draft)
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET", "POST"])
def rubric_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    """What activating the version will do, and a confirmation; confirmed, the version
    becomes active and the re-score and restatement run as one job with its progress."""
    access.require_rubric_manager(request.user)
    version = _version(request, version_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        if not version.is_active:
            services.rubric_activate(version=version, user=request.user)
            messages.success(request, f"{version} is active.")
        return redirect("rubric_activation", version_id=version.pk)
    summary = rubric_selectors.preview(request.user, map_selectors.MapFilters(), version)
    return render(
        request,
        ACTIVATE_PAGE,
        {
            "version": version,
            "active": selectors.active_rubric_version(),
            "summary": summary,
            "funds_moved": rubric_selectors.funds_moved(request.user, version),
            "history_dates": len(rubric_selectors.restatement_dates(version)),
            "unconfirmed": request.method == "POST",
        },
    )


@login_required
@require_safe
def rubric_activation(request: HttpRequest, version_id: int) -> HttpResponse:
    """The activation's progress; its fragment polls itself only while the job runs."""
    version = _version(request, version_id)
    return render(
        request,
        _partial(request, ACTIVATE_PAGE, "progress"),
        {"version": version, "active": selectors.active_rubric_version(), "progress": True},
    )


@login_required
@require_safe
def company_insight(request: HttpRequest, pk: int) -> HttpResponse:
    """The company page's section: why it moved since a date, the notes that would buy it
    the most runway, and the tornado of the rubric numbers it rests on."""
    company = access.get_scoped_or_404(Company.objects.select_related("fund"), request.user, pk=pk)
    since = MapFilterForm(request.GET)
    since.is_valid()
    insight = rubric_selectors.company_insight(company, since=since.cleaned_data.get("since"))
    moving = [s for s in insight.sensitivity if s.swing("margin") > 0]
    shown = moving[: rubric_selectors.TORNADO_ROWS]
    tornado = sensitivity_charts.tornado(
        [
            sensitivity_charts.TornadoRow(
                label=rubric_selectors.sensitivity_label(s),
                low={**s.low, "runway": s.low["runway_years"]},
                high={**s.high, "runway": s.high["runway_years"]},
            )
            for s in shown
        ],
        absorbed=not insight.movement.end.runway_years,
    )
    return render(
        request,
        INSIGHT if htmx_partial(request) else INSIGHT_PAGE,
        {
            "company": company,
            "insight": insight,
            "line": moves.move_line(insight.movement),
            "rows": moves.move_rows(insight.movement) if insight.movement.is_decomposed else [],
            "part_names": [moves.PART_NAMES[p] for p in scoring.MOVE_PARTS],
            "levers": [(lv, rubric_selectors.lever_text(lv)) for lv in insight.levers],
            "tornado": tornado if shown else None,
            "tornado_smaller": len(moving) - len(shown),
            "tornado_zero": len(insight.sensitivity) - len(moving),
            "rubric": insight.rubric_now.to_rubric(),
        },
    )
