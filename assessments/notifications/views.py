"""A fund's webhooks and their delivery logs."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import access
from ..models import Fund
from . import webhooks
from .forms import WebhookForm
from .models import Webhook


def _fund_for_webhooks(request: HttpRequest, fund_id: int) -> Fund:
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.MANAGE_WEBHOOKS, fund.pk)
    return fund


def _webhook(fund: Fund, webhook_id: int) -> Webhook:
    webhook = webhooks.webhooks_of(fund.pk).filter(pk=webhook_id).first()
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


@login_required
@require_http_methods(["GET", "POST"])
def fund_webhooks(request: HttpRequest, fund_id: int) -> HttpResponse:
    """A fund's webhooks (partners); a new webhook's secret is shown on this answer only."""
    fund = _fund_for_webhooks(request, fund_id)
    form = WebhookForm(request.POST or None)
    new_secret = new_webhook = None
    if request.method == "POST" and form.is_valid():
        new_webhook, new_secret = webhooks.webhook_create(
            actor=request.user, fund_id=fund.pk, **form.cleaned_data
        )
        form = WebhookForm()
    hooks = list(webhooks.webhooks_of(fund.pk))
    for hook in hooks:
        hook.latest = hook.deliveries.first()
    response = render(
        request,
        "notifications/webhooks.html",
        {
            "fund": fund,
            "form": form,
            "webhooks": hooks,
            "new_secret": new_secret,
            "new_webhook": new_webhook,
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def webhook_deliveries(request: HttpRequest, fund_id: int, webhook_id: int) -> HttpResponse:
    """The delivery log of one webhook: every batch, its status and attempts."""
    fund = _fund_for_webhooks(request, fund_id)
    webhook = _webhook(fund, webhook_id)
    return render(
        request,
        "notifications/webhook_deliveries.html",
        {
            "fund": fund,
            "webhook": webhook,
            "deliveries": webhooks.deliveries_of(webhook),
            "backoff": settings.WEBHOOK_BACKOFF_SECONDS,
            "max_attempts": settings.WEBHOOK_MAX_ATTEMPTS,
        },
    )


@login_required
@require_POST
def webhook_send_test(request: HttpRequest, fund_id: int, webhook_id: int) -> HttpResponse:
    fund = _fund_for_webhooks(request, fund_id)
    delivery = webhooks.webhook_send_test(actor=request.user, webhook=_webhook(fund, webhook_id))
    messages.success(request, f"Test delivery #{delivery.pk} queued: its outcome is below.")
    return redirect("webhook_deliveries", fund_id=fund.pk, webhook_id=webhook_id)


@login_required
@require_POST
def webhook_resend(
    request: HttpRequest, fund_id: int, webhook_id: int, delivery_id: int
) -> HttpResponse:
    fund = _fund_for_webhooks(request, fund_id)
    delivery = _webhook(fund, webhook_id).deliveries.filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404("No such delivery.")
    resent = webhooks.delivery_resend(actor=request.user, delivery=delivery)
    messages.success(request, f"Delivery #{delivery.pk} sent again as #{resent.pk}.")
    return redirect("webhook_deliveries", fund_id=fund.pk, webhook_id=webhook_id)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, fund_id: int, webhook_id: int) -> HttpResponse:
    fund = _fund_for_webhooks(request, fund_id)
    webhooks.webhook_delete(actor=request.user, webhook=_webhook(fund, webhook_id))
    messages.success(request, "Webhook removed: it receives nothing more.")
    return redirect("fund_webhooks", fund_id=fund.pk)
