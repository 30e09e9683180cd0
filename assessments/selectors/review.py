"""Reads for the review queue: the partner's lists, limited to the funds where the user
verifies evidence."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import (
    Count,
    Max,
    Q,
)

from .. import access, scoring
from ..models import (
    Alert,
    Evidence,
    Task,
)
from . import active_rubric_version, today

REVIEW_LIMIT = 200


def review_queue(user, *, as_of: date | None = None) -> dict:
    """The partner's four lists, each limited to the funds where the user verifies evidence:
    evidence waiting for verification, contradictions, tasks due for re-underwriting and
    unread alerts. A fixed number of queries."""
    as_of = as_of or today()
    rubric = active_rubric_version().to_rubric()
    fund_ids = access.partner_fund_ids(user)
    waiting = access.in_funds(
        access.scoped(Evidence.objects.filter(verified_at__isnull=True, review_comment=""), user),
        fund_ids,
    )
    unverified = list(
        waiting.select_related("task__company", "author").order_by("-created_at", "-id")[
            :REVIEW_LIMIT
        ]
    )
    both = (
        access.in_funds(access.scoped(Evidence.objects.all(), user), fund_ids)
        .values("task_id", "factor")
        .annotate(
            supports=Count("id", filter=Q(stance=scoring.SUPPORTS)),
            contradicts=Count("id", filter=Q(stance=scoring.CONTRADICTS)),
        )
        .filter(supports__gt=0, contradicts__gt=0)
        .order_by("task_id", "factor")
    )
    contradiction_rows = list(both[:REVIEW_LIMIT])
    tasks_by_id = Task.objects.select_related("company").in_bulk(
        {row["task_id"] for row in contradiction_rows}
    )
    contradictions = [
        {
            **row,
            "task": tasks_by_id[row["task_id"]],
            "factor_info": scoring.FACTORS_BY_CODE[row["factor"]],
        }
        for row in contradiction_rows
        if row["task_id"] in tasks_by_id
    ]
    cutoff = as_of - timedelta(days=rubric.reunderwrite_after_days)
    stale_tasks = (
        access.in_funds(access.scoped(Task.objects.select_related("company"), user), fund_ids)
        .annotate(latest=Max("evidence__observed_on"))
        .filter(Q(latest__isnull=True) | Q(latest__lt=cutoff))
        .order_by("latest", "company__name", "name")
    )
    due = [
        task
        for task in stale_tasks[:REVIEW_LIMIT]
        if scoring.due_for_reunderwriting(task.latest, as_of, rubric)
    ]
    alerts = list(
        access.in_funds(access.scoped(Alert.objects.filter(read_at__isnull=True), user), fund_ids)
        .select_related("company", "task")
        .order_by("-created_at", "-id")[:REVIEW_LIMIT]
    )
    return {
        "unverified": unverified,
        "unverified_total": waiting.count(),
        "contradictions": contradictions,
        "due": due,
        "alerts": alerts,
        "rubric": rubric,
        "as_of": as_of,
        "limit": REVIEW_LIMIT,
    }
