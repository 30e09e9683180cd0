"""One way to queue a job: now, or once the surrounding transaction commits.

With no broker configured the jobs run inline (Celery's eager mode), in the request, and
their errors propagate. With a broker, an outage must not fail the write that asked for the
job: the failure is logged and False returned, and a sweep picks the work up later.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def runs_inline(job) -> bool:
    """True when jobs run in the caller's process (no broker)."""
    return bool(job.app.conf.task_always_eager)


def now(job, *args, countdown: float | None = None) -> bool:
    """Send the job (to run countdown seconds from now, if given); False if the broker
    could not be reached (already logged)."""
    try:
        job.apply_async(args, countdown=countdown)
    except Exception:  # the broker's errors vary by transport
        if runs_inline(job):
            raise
        logger.warning("Could not enqueue %s%s; a sweep will pick it up.", job.name, args)
        return False
    return True


def after_commit(job, *args) -> None:
    """Send the job once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(lambda: now(job, *args))
