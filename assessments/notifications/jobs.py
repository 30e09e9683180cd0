"""Jobs of the notifications: dispatch alert events, deliver webhooks, send digests.

Each keeps the name it had in the domain's former tasks.py: messages already queued, and
beat's schedule, name jobs by it."""

from celery import shared_task

from .. import enqueue
from ..jobs import RETRY


@shared_task(name="assessments.tasks.dispatch_alert_events", **RETRY)
def dispatch_alert_events() -> int:
    """Batch new alert events into webhook deliveries and immediate e-mails, and send
    them; also send again the deliveries whose retry is due but was lost (or, with no
    broker, never scheduled). Returns the number of deliveries sent."""
    from . import alerting, webhooks

    delivery_ids = alerting.dispatch()
    delivery_ids += webhooks.due_for_retry(exclude=delivery_ids, inline=_inline())
    for delivery_id in delivery_ids:
        enqueue.now(deliver_webhook, delivery_id)
    return len(delivery_ids)


def _inline() -> bool:
    return enqueue.runs_inline(deliver_webhook)


@shared_task(name="assessments.tasks.deliver_webhook", bind=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> bool:
    """POST one delivery; a failure is retried with exponential backoff until the
    delivery's attempts reach WEBHOOK_MAX_ATTEMPTS (each attempt is in the delivery log).

    Inline (no broker), a failure is not retried in the request that raised the alert:
    the next dispatch sweep sends it again once its backoff has passed.
    """
    from . import webhooks
    from .models import DeliveryStatus, WebhookDelivery

    if webhooks.attempt(delivery_id):
        return True
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.FAILED or self.request.is_eager:
        return False
    raise self.retry(countdown=webhooks.backoff_seconds(delivery.attempts))


@shared_task(name="assessments.tasks.send_alert_digests", **RETRY)
def send_alert_digests() -> int:
    """The daily digest e-mails."""
    from . import alerting

    return alerting.send_digests()
