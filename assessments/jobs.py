"""The domain's Celery jobs: thin, ids in, a service call out. Queue them with
enqueue.after_commit or enqueue.now, never with .delay() directly.

Each keeps the name it had when this module was tasks.py: messages already queued, and
beat's schedule, name jobs by it."""

from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from . import enqueue, recompute

# A transient database error (a deadlock, a dropped connection) is retried with backoff.
RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="assessments.tasks.recompute_task", **RETRY)
def recompute_task(task_id: int) -> int:
    """Re-score one task and its company from scratch."""
    return recompute.rescore_task(task_id=task_id)


@shared_task(name="assessments.tasks.rescore_everything", **RETRY)
def rescore_everything(as_of: str | None = None) -> int:
    """Re-score every task and company as of a date (default today)."""
    return recompute.rescore_everything(as_of=date.fromisoformat(as_of) if as_of else None)


@shared_task(name="assessments.tasks.activate_rubric", **RETRY)
def activate_rubric(version_id: int) -> int:
    """Re-score everything under a newly active rubric version and restate the history."""
    return recompute.activate_rubric_version(version_id=version_id)


@shared_task(name="assessments.tasks.sweep_stale", **RETRY)
def sweep_stale() -> int:
    """Pick up tasks whose recompute job was lost."""
    return recompute.sweep_stale(older_than=timedelta(seconds=settings.STALE_AFTER_SECONDS))


# No automatic retry: the build records every failure on the pack with a message, and a
# build whose worker died is retried by icpack.resolve_stalled (once), never twice at once.
@shared_task(name="assessments.tasks.build_ic_pack")
def build_ic_pack(pack_id: int) -> str:
    """Build a fund's IC pack PDF, recording companies done as it goes."""
    from .exports import icpack

    return icpack.build(pack_id)


@shared_task(name="assessments.tasks.sweep_ic_packs", **RETRY)
def sweep_ic_packs() -> int:
    """Retry or fail IC-pack builds that went silent; delete packs older than a day."""
    from .exports import icpack

    for pack_id in icpack.resolve_stalled():
        enqueue.now(build_ic_pack, pack_id)
    return icpack.sweep_expired()


@shared_task(name="assessments.tasks.run_evidence_import", **RETRY)
def run_evidence_import(import_id: int) -> str:
    """Check and write a large evidence CSV, all or nothing, recording progress."""
    from . import imports

    return imports.run_import_job(import_id)
