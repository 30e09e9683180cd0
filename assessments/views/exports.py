"""Exports: charts as PNG, SVG, PDF and a slide, the map's table as CSV, IC packs.

Thin: the filters are parsed by forms.parse_filters (as for the map itself), the figures
built by memo, the files rendered by rendering. Every read is scoped through access.py.
"""

import io
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from .. import access, enqueue, jobs, selectors
from ..charts import memo
from ..exports import csv as score_csv
from ..exports import data as export_data
from ..exports import icpack
from ..exports import render as rendering
from ..forms import ICPackForm, parse_filters
from ..models import Fund, ICPack, ICPackStatus

CHART_FORMATS = ("png", "svg", "pdf")
MAP_FORMATS = (*CHART_FORMATS, "pptx", "csv")


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise Http404(f"Exports come as {', '.join(allowed)}.")


def _preset(request: HttpRequest) -> str:
    # "preset", not "size": the map's query string already uses size for bubble size.
    preset = request.GET.get("preset", "memo")
    return preset if preset in memo.PRESETS else "memo"


def _as_of(params) -> date:
    return parse_filters(params).as_of or selectors.today()


def _file(content: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=rendering.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _unavailable(error: rendering.ExportUnavailable) -> HttpResponse:
    # 503 with the message as text: the export menu shows it instead of a broken download.
    return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")


def _chart(figure, fmt: str, name: str, preset: str) -> HttpResponse:
    try:
        return _file(rendering.render(figure, fmt), fmt, f"{name}-{preset}.{fmt}")
    except rendering.ExportUnavailable as error:
        return _unavailable(error)


@login_required
@require_GET
def export_map(request: HttpRequest, fmt: str) -> HttpResponse:
    """The map exactly as filtered (query string = the map's filters) in one format."""
    _check_format(fmt, MAP_FORMATS)
    filters = parse_filters(request.GET)
    if filters.fund is not None and access.role_in(request.user, filters.fund) is None:
        raise Http404("No such fund.")
    data = export_data.map_data(request.user, filters)
    if fmt == "csv":
        out = io.StringIO()
        score_csv.write_map_csv(
            out,
            data.points,
            data.rubric,
            per_task=export_data.per_task(data),
            trail=export_data.trail_start(data.filters, data.as_of) is not None,
        )
        return _file(out.getvalue().encode(), "csv", export_data.filename(data, fmt))
    if fmt == "pptx":
        figure = export_data.map_chart(data, memo.SLIDE_BODY, with_text=False)
        try:
            picture = rendering.render(figure, "png")
        except rendering.ExportUnavailable as error:
            return _unavailable(error)
        slide = rendering.slide_pptx(picture, export_data.map_text(data, figure))
        return _file(slide, "pptx", export_data.filename(data, fmt, "slide"))
    preset = _preset(request)
    name = export_data.filename(data, fmt, preset)
    try:
        return _file(rendering.render(export_data.map_chart(data, preset), fmt), fmt, name)
    except rendering.ExportUnavailable as error:
        return _unavailable(error)


@login_required
@require_GET
def export_task_waterfall(request: HttpRequest, task_id: int, fmt: str) -> HttpResponse:
    _check_format(fmt, CHART_FORMATS)
    preset = _preset(request)
    figure, name = export_data.waterfall_figure(request.user, task_id, _as_of(request.GET), preset)
    return _chart(figure, fmt, name, preset)


@login_required
@require_GET
def export_company_history(request: HttpRequest, company_id: int, fmt: str) -> HttpResponse:
    _check_format(fmt, CHART_FORMATS)
    preset = _preset(request)
    figure, name = export_data.history_figure(request.user, company_id, preset)
    return _chart(figure, fmt, name, preset)


def _pack_or_404(request: HttpRequest, pack_id: int) -> ICPack:
    return access.get_scoped_or_404(
        ICPack.objects.select_related("fund", "requested_by"), request.user, id=pack_id
    )


def _enqueue(pack_ids: list[int]) -> None:
    for pack_id in pack_ids:
        if not enqueue.now(jobs.build_ic_pack, pack_id):
            icpack.fail(pack_id, "The job queue could not be reached; try again.")


def _heal(fund_id: int) -> None:
    """A build whose worker died is retried once, then failed: never left "building"."""
    # Inline (no broker) a retry would run inside this request; say it stopped instead.
    inline = enqueue.runs_inline(jobs.build_ic_pack)
    _enqueue(icpack.resolve_stalled(fund_id=fund_id, retry=not inline))


def _progress(request: HttpRequest, pack: ICPack, **extra) -> HttpResponse:
    context = {"pack": pack, **extra}
    if pack.is_running or not request.htmx:
        return render(request, "assessments/exports/ic_pack.html#progress", context)
    # Done or failed: htmx stops polling on 286 and still swaps in the final state.
    content = render_to_string("assessments/exports/ic_pack.html#progress", context, request)
    return HttpResponseStopPolling(content)


@login_required
@require_http_methods(["GET", "POST"])
def ic_pack(request: HttpRequest, fund_id: int) -> HttpResponse:
    """GET: the fund's recent packs; POST: build one (associates and partners), or follow
    the build already running for the fund."""
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, id=fund_id)
    _heal(fund.id)
    form = ICPackForm(initial={"as_of": selectors.today()})
    followed = None
    if request.method == "POST":
        access.require(request.user, access.BUILD_IC_PACK, fund.id)
        form = ICPackForm(request.POST)
        if form.is_valid():
            pack, started = icpack.request_build(
                fund=fund,
                user=request.user,
                as_of=form.cleaned_data["as_of"],
                since=form.cleaned_data["since"],
                order=form.cleaned_data["order"],
                include_passed=form.cleaned_data["include_passed"],
            )
            if started:
                _enqueue([pack.id])
                pack.refresh_from_db()
            followed = None if started else pack
            if request.htmx:
                return _progress(request, pack, followed=followed)
        elif request.htmx:
            # The form with its messages replaces itself; what was typed stays.
            response = render(
                request, "assessments/exports/ic_pack.html#build-form", {"fund": fund, "form": form}
            )
            return reswap(retarget(response, "#ic-pack-form"), "outerHTML")
    packs = list(ICPack.objects.filter(fund=fund).select_related("requested_by")[:10])
    current = followed or next(iter(packs), None)
    return render(
        request,
        "assessments/exports/ic_pack.html",
        {
            "fund": fund,
            "form": form,
            "packs": packs,
            "pack": current,
            "followed": followed,
            "may_build": access.can(request.user, access.BUILD_IC_PACK, fund.id),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_GET
def ic_pack_progress(request: HttpRequest, pack_id: int) -> HttpResponse:
    """The progress fragment; it polls itself only while the pack is being built."""
    pack = _pack_or_404(request, pack_id)
    _heal(pack.fund_id)
    pack.refresh_from_db()
    return _progress(request, pack)


@login_required
@require_GET
def ic_pack_download(request: HttpRequest, pack_id: int) -> FileResponse:
    """Any member of the fund may download a finished pack."""
    pack = _pack_or_404(request, pack_id)
    if (
        pack.status != ICPackStatus.DONE
        or not pack.file
        or not pack.file.storage.exists(pack.file.name)
    ):
        raise Http404("This pack is not ready or has expired.")
    name = f"ic-pack-{slugify(pack.fund.name) or 'fund'}-{pack.as_of.isoformat()}.pdf"
    return FileResponse(pack.file.open("rb"), as_attachment=True, filename=name)
