"""A fund's webhooks: registered by a partner, signed with an HMAC secret shown once, and
delivered by a job that records every attempt.

Each POST carries a JSON batch of alerts and these headers:
  X-Moatmap-Delivery   the delivery id (the same on every retry: deduplicate on it)
  X-Moatmap-Timestamp  Unix seconds when this attempt was signed
  X-Moatmap-Signature  sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import access, enqueue, outbound
from .models import DeliveryStatus, Webhook, WebhookDelivery

SIGNATURE_HEADER = "X-Moatmap-Signature"
TIMESTAMP_HEADER = "X-Moatmap-Timestamp"
DELIVERY_HEADER = "X-Moatmap-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests do): recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


@transaction.atomic
def webhook_create(*, actor, fund_id: int, url: str, description: str = "") -> tuple[Webhook, str]:
    """Register a URL for the fund's alerts; returns the secret, which is not shown again."""
    access.require(actor, access.MANAGE_WEBHOOKS, fund_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(fund_id=fund_id, url=url, description=description, secret=secret)
    webhook.created_by = actor
    webhook._history_user = actor
    webhook.full_clean()
    webhook.save()
    return webhook, secret


@transaction.atomic
def webhook_delete(*, actor, webhook: Webhook) -> None:
    access.require(actor, access.MANAGE_WEBHOOKS, webhook.fund_id)
    webhook._history_user = actor
    webhook.delete()


def _send_after_commit(delivery_id: int) -> None:
    from . import jobs

    enqueue.after_commit(jobs.deliver_webhook, delivery_id)


def _new_delivery(webhook: Webhook, payload: dict, events=()) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(webhook=webhook, payload=payload)
    if events:
        delivery.events.set(events)
    delivery.payload["delivery"] = delivery.pk
    delivery.save(update_fields=["payload"])
    _send_after_commit(delivery.pk)
    return delivery


@transaction.atomic
def delivery_resend(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same batch again, as a new delivery (a new id: the receiver took the old one as
    handled, or never got it), sent after commit."""
    access.require(actor, access.MANAGE_WEBHOOKS, delivery.webhook.fund_id)
    payload = {**delivery.payload, "resent_from": delivery.pk}
    return _new_delivery(delivery.webhook, payload, list(delivery.events.all()))


@transaction.atomic
def webhook_send_test(*, actor, webhook: Webhook) -> WebhookDelivery:
    """A signed delivery with no alerts, to check the receiver; sent after commit."""
    access.require(actor, access.MANAGE_WEBHOOKS, webhook.fund_id)
    payload = {
        "type": "test",
        "fund": {"id": webhook.fund_id, "name": webhook.fund.name},
        "alerts": [],
    }
    return _new_delivery(webhook, payload)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def backoff_seconds(attempts: int) -> int:
    """After the n-th failed attempt: BACKOFF × 2^(n-1), at most an hour."""
    return min(settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), 3600)


def attempt(delivery_id: int) -> bool:
    """POST the delivery once and record the outcome; True when it is delivered (or was).

    A 2xx answer delivers it; anything else (an error status, a refused connection, a
    timeout) counts as a failed attempt, and the last allowed failure marks it failed.
    """
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.DELIVERED:
        return True
    if delivery.status == DeliveryStatus.FAILED:
        return False
    body = body_of(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Moat-map-webhooks/1",
        DELIVERY_HEADER: str(delivery.pk),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(delivery.webhook.secret, timestamp, body),
    }
    status_code, error = None, ""
    try:
        answer = outbound.post(
            delivery.webhook.url, body, headers, deadline=settings.WEBHOOK_TIMEOUT_SECONDS
        )
        status_code = answer.status
        if not 200 <= status_code < 300:
            # A redirect is an answer like any other: the server does not follow it.
            error = f"HTTP {answer.status} {answer.reason}"
    except outbound.OutboundRefused as refused:
        error = f"Refused: {refused}"
    except OSError as failed:
        error = str(failed) or type(failed).__name__
    delivered = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:500]
    delivery.last_attempt_at = now
    if delivered:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "last_attempt_at",
            "status",
            "delivered_at",
        ]
    )
    return delivered


# A retry the broker holds is left to it; only one this late is taken as lost.
LOST_AFTER = timedelta(minutes=5)


def due_for_retry(*, exclude=(), inline: bool = False, limit: int = 500) -> list[int]:
    """Pending deliveries that failed and whose backoff has passed (plus LOST_AFTER when
    a broker schedules the retries itself)."""
    now = timezone.now()
    grace = timedelta(0) if inline else LOST_AFTER
    pending = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, attempts__gt=0)
        .exclude(pk__in=list(exclude))
        .order_by("last_attempt_at")
        .values_list("pk", "attempts", "last_attempt_at")[:limit]
    )
    return [
        pk
        for pk, attempts, last in pending
        if last + timedelta(seconds=backoff_seconds(attempts)) + grace <= now
    ]


def webhooks_of(fund_id: int):
    return Webhook.objects.filter(fund_id=fund_id).order_by("id")


def next_attempt_at(delivery: WebhookDelivery):
    """When a pending delivery that failed is tried again (None: not pending, or untried)."""
    if delivery.status != DeliveryStatus.PENDING or delivery.last_attempt_at is None:
        return None
    return delivery.last_attempt_at + timedelta(seconds=backoff_seconds(delivery.attempts))


def deliveries_of(webhook: Webhook, limit: int = 100) -> list[WebhookDelivery]:
    """The latest deliveries, newest first, each with its next_attempt (for the log)."""
    deliveries = list(webhook.deliveries.all()[:limit])
    for delivery in deliveries:
        delivery.next_attempt = next_attempt_at(delivery)
    return deliveries
