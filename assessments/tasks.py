"""Celery jobs: thin, ids in, a service call out."""

from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from . import recompute

# A transient database error (a deadlock, a dropped connection) is retried with backoff.
RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**RETRY)
def recompute_task(task_id: int) -> int:
    """Re-score one task and its company from scratch."""
    return recompute.rescore_task(task_id=task_id)


@shared_task(**RETRY)
def rescore_everything(as_of: str | None = None) -> int:
    """Re-score every task and company as of a date (default today)."""
    return recompute.rescore_everything(as_of=date.fromisoformat(as_of) if as_of else None)


@shared_task(**RETRY)
def activate_rubric(version_id: int) -> int:
    """Re-score everything under a newly active rubric version and restate the history."""
    return recompute.activate_rubric_version(version_id=version_id)


@shared_task(**RETRY)
def sweep_stale() -> int:
    """Pick up tasks whose recompute job was lost."""
    return recompute.sweep_stale(older_than=timedelta(seconds=settings.STALE_AFTER_SECONDS))


# No automatic retry: the build records every failure on the pack with a message, and a
# build whose worker died is retried by icpack.resolve_stalled (once), never twice at once.
@shared_task
def build_ic_pack(pack_id: int) -> str:
    """Build a fund's IC pack PDF, recording companies done as it goes."""
    from .exports import icpack

    return icpack.build(pack_id)


@shared_task(**RETRY)
def sweep_ic_packs() -> int:
    """Retry or fail IC-pack builds that went silent; delete packs older than a day."""
    from .exports import icpack

    for pack_id in icpack.resolve_stalled():
        build_ic_pack.delay(pack_id)
    return icpack.sweep_expired()


@shared_task(**RETRY)
def run_evidence_import(import_id: int) -> str:
    """Check and write a large evidence CSV, all or nothing, recording progress."""
    from . import imports

    return imports.run_import_job(import_id)


# --- Alerts that reach people: dispatch, webhook deliveries, daily digests -------------------


@shared_task(**RETRY)
def dispatch_alert_events() -> int:
    """Batch new alert events into webhook deliveries and immediate e-mails, and send
    them; also send again the deliveries whose retry is due but was lost (or, with no
    broker, never scheduled). Returns the number of deliveries sent."""
    from . import alerting, webhooks

    delivery_ids = alerting.dispatch()
    delivery_ids += webhooks.due_for_retry(exclude=delivery_ids, inline=_inline())
    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id)
    return len(delivery_ids)


def _inline() -> bool:
    return bool(getattr(deliver_webhook.app.conf, "task_always_eager", False))


@shared_task(bind=True, max_retries=None)
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


@shared_task(**RETRY)
def send_alert_digests() -> int:
    """The daily digest e-mails."""
    from . import alerting

    return alerting.send_digests()
