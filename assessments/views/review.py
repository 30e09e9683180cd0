"""The partners' review queue: tabs of alerts, evidence pending verification,
contradictions and tasks due for re-underwriting, filtered by fund and company and paged.
Every action answers htmx with the changed region and the tab counts and navigation badge
swapped out of band, so nothing needs a reload."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from .. import access, services
from ..forms import ContradictionForm, SendBackForm, parse_review_filters, record_ids
from ..models import Alert, Evidence, Task
from ..selectors import review as review_selectors

PAGE = "assessments/review_queue.html"


def _require_partner_somewhere(user) -> None:
    if access.partner_fund_ids(user) == []:
        raise PermissionDenied("The review queue is for partners.")


def _evidence_to_review(request: HttpRequest, pk: int) -> Evidence:
    evidence = access.get_scoped_or_404(
        Evidence.objects.select_related("task__company"), request.user, pk=pk
    )
    access.require(request.user, access.VERIFY_EVIDENCE, evidence.task.company.fund_id)
    return evidence


def _filters(request: HttpRequest):
    """The queue's filters: from the query string, or on a POST from the fields the page
    sends along (the queue-state inputs), so the answer re-counts what the partner sees."""
    return parse_review_filters(request.POST if request.method == "POST" else request.GET)


def _queue_url(filters) -> str:
    return f"{reverse('review_queue')}?{urlencode(filters.query())}"


def _answer(request: HttpRequest, message: str, *, region: bool = False) -> HttpResponse:
    """After an action: htmx gets the counts and badge out of band (and the whole region
    when several rows changed; a single row's swap removes it); a plain post comes back to
    the queue with the same filters."""
    filters = _filters(request)
    if not request.htmx:
        messages.success(request, message)
        return redirect(_queue_url(filters))
    context = review_selectors.review_queue(request.user, filters)
    context.update(oob=True, region=region, message=message)
    return render(request, f"{PAGE}#after-action", context)


@login_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_partner_somewhere(request.user)
    context = review_selectors.review_queue(request.user, _filters(request))
    if request.htmx and request.htmx.target == "queue":
        return render(request, f"{PAGE}#queue", context)
    return render(request, PAGE, context)


@login_required
@require_POST
def evidence_verify(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_to_review(request, pk)
    services.evidence_verify(evidence=evidence, partner=request.user)
    return _answer(request, "Evidence verified.")


@login_required
@require_POST
def evidence_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_to_review(request, pk)
    form = SendBackForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    services.evidence_send_back(evidence=evidence, partner=request.user, comment=comment)
    return _answer(request, "Evidence sent back to its author; it does not count until revised.")


@login_required
@require_POST
def review_bulk(request: HttpRequest) -> HttpResponse:
    """Verify or send back every checked evidence row at once."""
    _require_partner_somewhere(request.user)
    ids = record_ids(request.POST.getlist("evidence"))
    rows = list(
        access.scoped(Evidence.objects.select_related("task__company"), request.user).filter(
            pk__in=ids
        )
    )
    for evidence in rows:
        access.require(request.user, access.VERIFY_EVIDENCE, evidence.task.company.fund_id)
    action = request.POST.get("action")
    if action == "send_back":
        form = SendBackForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        for evidence in rows:
            services.evidence_send_back(evidence=evidence, partner=request.user, comment=comment)
        message = f"{len(rows)} evidence row(s) sent back."
    else:
        for evidence in rows:
            services.evidence_verify(evidence=evidence, partner=request.user)
        message = f"{len(rows)} evidence row(s) verified."
    return _answer(request, message, region=True)


@login_required
@require_POST
def contradiction_resolve(request: HttpRequest) -> HttpResponse:
    """A partner marks one side of a contradiction superseded (with a comment) or
    acknowledges both as genuinely mixed."""
    _require_partner_somewhere(request.user)
    form = ContradictionForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for field in form.errors.values() for e in field)
        if request.htmx:
            return HttpResponse(errors, status=400)
        messages.error(request, errors)
        return redirect(_queue_url(_filters(request)))
    task = access.get_scoped_or_404(
        Task.objects.select_related("company"), request.user, pk=form.cleaned_data["task"]
    )
    changed = services.contradiction_resolve(
        task=task,
        factor=form.cleaned_data["factor"],
        partner=request.user,
        resolution=form.cleaned_data["resolution"],
        comment=form.cleaned_data["comment"],
    )
    if form.cleaned_data["resolution"] == services.MIXED:
        message = f"{task.name}: both sides stand as genuinely mixed ({changed} notes)."
    else:
        message = f"{task.name}: {changed} superseded note(s) no longer count."
    return _answer(request, message, region=True)


@login_required
@require_POST
def alert_read(request: HttpRequest, pk: int) -> HttpResponse:
    alert = access.get_scoped_or_404(Alert.objects.all(), request.user, pk=pk)
    access.require(request.user, access.VERIFY_EVIDENCE, alert.company.fund_id)
    services.alerts_mark_read(alerts=Alert.objects.filter(pk=alert.pk), user=request.user)
    return _answer(request, "Alert marked read.")


@login_required
@require_POST
def alerts_read_all(request: HttpRequest) -> HttpResponse:
    """Mark read every unread alert the partner sees under the queue's filters."""
    _require_partner_somewhere(request.user)
    alerts = review_selectors.unread_alerts(request.user, _filters(request))
    count = services.alerts_mark_read(alerts=alerts, user=request.user)
    return _answer(request, f"{count} alert(s) marked read.", region=True)
