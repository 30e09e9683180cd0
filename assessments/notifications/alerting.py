"""Alerts that reach people: an event per new alert with the values before and after,
then per fund one batched webhook delivery per webhook, and e-mail to the members who
asked for it (at once, or in a daily digest grouped by fund and company).

The engine's alerts_written signal calls record() in the transaction that writes the
alerts; everything else happens after commit, in jobs (jobs.py), and a sweep picks up what a
lost job left.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .. import enqueue, scoring
from ..alert_causes import Cause, State, Subject
from ..models import Alert, Company, Membership
from .models import AlertEmail, AlertEvent, AlertPreference, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)


# --- Bursts of edits: an alert waits ALERT_SETTLE_SECONDS before it goes out -------------


def states_before_burst(company_ids) -> tuple[dict[Subject, State], dict[tuple, int]]:
    """The state each subject was in before the burst of edits it is in, and the alerts
    raised during the burst, by (company, task, kind, to_state): those whose event is not
    sent yet (dispatch waits until they are ALERT_SETTLE_SECONDS old). A re-score compares
    with these states, not with the last one, and replaces the burst's alerts that it does
    not raise again: a move undone within the burst raises nothing."""
    pending = Alert.objects.filter(
        company_id__in=list(company_ids),
        event__isnull=False,  # an alert without an event was never on its way out
        event__dispatched_at__isnull=True,
    ).values_list("id", "company_id", "task_id", "kind", "to_state", "event__previous")
    states: dict[Subject, State] = {}
    alerts = {}
    for alert_id, company_id, task_id, kind, to_state, previous in pending:
        alerts[(company_id, task_id, kind, to_state)] = alert_id
        states[(company_id, task_id)] = (
            previous["quadrant"],
            previous["margin"],
            previous["runway_years"],
        )
    return states, alerts


def _values(quadrant, margin, runway, score: scoring.Score | None = None) -> dict:
    values = {"quadrant": quadrant, "margin": margin, "runway_years": runway}
    if score is not None:
        values |= {"x": score.x, "y": score.y}
    return values


def on_alerts_written(sender, *, new_alerts, before, after, causes, **_) -> None:
    """The engine's signal (signals.alerts_written): record the events of its new alerts."""
    record(new_alerts, before, after, causes)


def on_burst_query(sender, *, company_ids, **_):
    """The engine's question (signals.burst_states): which alerts are still waiting to go
    out, and the state before their burst."""
    return states_before_burst(company_ids)


def record(
    new_alerts,
    before: dict[Subject, State],
    after: dict[Subject, scoring.Score],
    causes: dict[tuple, Cause],
) -> list[int]:
    """Give each alert just written (not one a repeated re-score raised again) its event,
    with the quadrant, margin and runway before the change (before its burst of edits)
    and after it, and its cause; dispatch after commit."""
    if not new_alerts:
        return []
    keys = {(a.company_id, a.task_id, a.kind, a.as_of, a.to_state) for a in new_alerts}
    written = Alert.objects.filter(
        company_id__in={a.company_id for a in new_alerts},
        as_of__in={a.as_of for a in new_alerts},
        event__isnull=True,
    ).select_related("company")
    events = []
    for alert in written:
        if (alert.company_id, alert.task_id, alert.kind, alert.as_of, alert.to_state) not in keys:
            continue
        subject = (alert.company_id, alert.task_id)
        was, now = before.get(subject), after.get(subject)
        if was is None or now is None:
            continue
        cause = causes.get((*subject, alert.kind, alert.to_state))
        current = _values(now.quadrant, now.margin, now.runway_years, now)
        if cause is not None:
            current["cause"] = cause.payload()
        events.append(
            AlertEvent(
                alert=alert, fund_id=alert.company.fund_id, previous=_values(*was), current=current
            )
        )
    AlertEvent.objects.bulk_create(events, ignore_conflicts=True)
    if events:
        transaction.on_commit(enqueue_dispatch)
    return [e.alert_id for e in events]


def enqueue_dispatch() -> None:
    """Hand the new events to a job; with the broker down the sweep sends them later."""
    from . import jobs

    # Sent once the burst has settled (beat's sweep sends it too); inline, at once.
    settle = settings.ALERT_SETTLE_SECONDS
    job = jobs.dispatch_alert_events
    enqueue.now(job, countdown=settle + 1 if settle and not enqueue.runs_inline(job) else None)


def event_payload(event: AlertEvent) -> dict:
    alert = event.alert
    company = alert.company
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "message": alert.message,
        "cause": event.current.get("cause"),
        "as_of": alert.as_of.isoformat(),
        "created_at": alert.created_at.isoformat(),
        "fund": {"id": company.fund_id, "name": company.fund.name},
        "company": {
            "id": company.pk,
            "name": company.name,
            "url": settings.SITE_URL + reverse("company_detail", args=[company.pk]),
        },
        "task": {"id": alert.task_id, "name": alert.task.name} if alert.task_id else None,
        "previous": event.previous,
        "current": event.current,
    }


def dispatch(limit: int = 1000) -> list[int]:
    """Turn undispatched events into webhook deliveries (one batch per webhook) and
    immediate e-mails; returns the ids of the deliveries to send."""
    with transaction.atomic():
        pending = list(
            AlertEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alert__company__fund", "alert__task")
            .filter(dispatched_at__isnull=True)
            # A burst of edits settles first: its alerts may still be replaced or undone.
            .filter(
                created_at__lte=timezone.now() - timedelta(seconds=settings.ALERT_SETTLE_SECONDS)
            )
            .order_by("id")[:limit]
        )
        if not pending:
            return []
        by_fund: dict[int, list[AlertEvent]] = defaultdict(list)
        for event in pending:
            by_fund[event.fund_id].append(event)
        deliveries = []
        for webhook in Webhook.objects.filter(fund_id__in=by_fund, is_active=True):
            events = by_fund[webhook.fund_id]
            delivery = WebhookDelivery.objects.create(
                webhook=webhook,
                payload={
                    "type": "alerts",
                    "fund": {"id": webhook.fund_id, "name": events[0].alert.company.fund.name},
                    "alerts": [event_payload(e) for e in events],
                },
            )
            delivery.events.set(events)
            delivery.payload["delivery"] = delivery.pk
            delivery.save(update_fields=["payload"])
            deliveries.append(delivery.pk)
        _mail_at_once(by_fund)
        AlertEvent.objects.filter(pk__in=[e.pk for e in pending]).update(
            dispatched_at=timezone.now()
        )
    return deliveries


def _recipients(fund_ids, mode: str) -> dict:
    """Active users with an e-mail address who chose this mode, and their funds among these."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, alert_preference__email=mode)
        .exclude(email="")
    )
    funds_of: dict = defaultdict(set)
    for user_id, fund_id in Membership.objects.filter(
        user__in=users, fund_id__in=fund_ids
    ).values_list("user_id", "fund_id"):
        funds_of[user_id].add(fund_id)
    return {user: funds_of[user.pk] for user in users if funds_of[user.pk]}


def _grouped(events) -> list[tuple[str, list[tuple[Company, list[AlertEvent]]]]]:
    """Events as [(fund name, [(company, events), …]), …], sorted by name."""
    tree: dict = defaultdict(lambda: defaultdict(list))
    for event in events:
        tree[event.alert.company.fund.name][event.alert.company].append(event)
    return [
        (fund, sorted(companies.items(), key=lambda item: item[0].name))
        for fund, companies in sorted(tree.items())
    ]


def _send(user, subject: str, events) -> None:
    context = {
        "user": user,
        "groups": _grouped(events),
        "site_url": settings.SITE_URL,
        "count": len(events),
    }
    body = render_to_string("notifications/email/alerts.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def _mail_at_once(by_fund: dict[int, list[AlertEvent]]) -> None:
    for user, fund_ids in _recipients(list(by_fund), AlertEmail.IMMEDIATE).items():
        events = [e for fund_id in sorted(fund_ids) for e in by_fund[fund_id]]
        subject = f"Moat map: {len(events)} new alert{'s' if len(events) != 1 else ''}"
        _send(user, subject, events)


def send_digests(now: datetime | None = None) -> int:
    """One e-mail per user who chose the daily digest: the alerts of their funds raised
    since their last digest, grouped by fund and company. Returns the number sent."""
    now = now or timezone.now()
    sent = 0
    prefs = (
        AlertPreference.objects.select_related("user")
        .filter(email=AlertEmail.DAILY, user__is_active=True)
        .exclude(user__email="")
    )
    for pref in prefs:
        fund_ids = list(Membership.objects.filter(user=pref.user).values_list("fund_id", flat=True))
        events = list(
            AlertEvent.objects.select_related("alert__company__fund", "alert__task")
            .filter(fund_id__in=fund_ids, created_at__lte=now)
            .filter(Q(created_at__gt=pref.digest_sent_until) if pref.digest_sent_until else Q())
            .order_by("id")
        )
        if events:
            _send(pref.user, f"Moat map: your daily digest, {len(events)} alerts", events)
            sent += 1
        pref.digest_sent_until = now
        pref.save(update_fields=["digest_sent_until"])
    return sent


def preference_of(user) -> AlertPreference:
    """The user's choice; reading it writes nothing (no e-mail until they choose)."""
    return AlertPreference.objects.filter(user=user).first() or AlertPreference(user=user)


def preference_set(*, user, email: str) -> AlertPreference:
    pref = preference_of(user)
    if pref.pk is None or pref.email != email:
        pref.email = email
        if email == AlertEmail.DAILY:
            # The first digest covers what is raised from now on, not the whole history.
            pref.digest_sent_until = timezone.now()
        pref.save()
    return pref
