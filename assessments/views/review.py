"""The partners' review queue: evidence to verify, contradictions, tasks due for
re-underwriting and unread alerts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from .. import access, services
from ..forms import SendBackForm, record_ids
from ..models import Alert, Evidence
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


def _done(request: HttpRequest, message: str) -> HttpResponse:
    """An htmx click removes its row; a plain form post comes back to the queue."""
    if request.htmx:
        return HttpResponse("")
    messages.success(request, message)
    return redirect("review_queue")


@login_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_partner_somewhere(request.user)
    return render(request, PAGE, review_selectors.review_queue(request.user))


@login_required
@require_POST
def evidence_verify(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_to_review(request, pk)
    services.evidence_verify(evidence=evidence, partner=request.user)
    return _done(request, "Evidence verified.")


@login_required
@require_POST
def evidence_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_to_review(request, pk)
    form = SendBackForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    services.evidence_send_back(evidence=evidence, partner=request.user, comment=comment)
    return _done(request, "Evidence sent back to its author.")


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
    if action == "verify":
        for evidence in rows:
            services.evidence_verify(evidence=evidence, partner=request.user)
        messages.success(request, f"{len(rows)} evidence row(s) verified.")
    elif action == "send_back":
        form = SendBackForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        for evidence in rows:
            services.evidence_send_back(evidence=evidence, partner=request.user, comment=comment)
        messages.success(request, f"{len(rows)} evidence row(s) sent back.")
    return redirect("review_queue")


@login_required
@require_POST
def alert_read(request: HttpRequest, pk: int) -> HttpResponse:
    alert = access.get_scoped_or_404(Alert.objects.all(), request.user, pk=pk)
    access.require(request.user, access.VERIFY_EVIDENCE, alert.company.fund_id)
    services.alerts_mark_read(alerts=Alert.objects.filter(pk=alert.pk), user=request.user)
    return _done(request, "Alert marked read.")


@login_required
@require_POST
def alerts_read_all(request: HttpRequest) -> HttpResponse:
    _require_partner_somewhere(request.user)
    fund_ids = access.partner_fund_ids(request.user)
    alerts = access.scoped(Alert.objects.all(), request.user)
    if fund_ids is not None:
        alerts = alerts.filter(company__fund_id__in=fund_ids)
    count = services.alerts_mark_read(alerts=alerts, user=request.user)
    messages.success(request, f"{count} alert(s) marked read.")
    return redirect("review_queue")
