"""Alerts that reach people: webhooks POSTed to a receiver on loopback (signed, retried,
batched, scoped to their fund) and e-mail at once or as a daily digest."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from assessments import recompute
from assessments.models import Task
from assessments.notifications import alerting, jobs, webhooks
from assessments.notifications.models import (
    AlertEmail,
    AlertEvent,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)
from tests.factories import (
    CompanyFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
)
from tests.unit.test_pipeline import add as add_evidence

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture(autouse=True)
def sent_without_settling(settings):
    """These tests are about delivery: each re-score's alerts go out at once (bursts of
    edits, which wait to settle, are tested in tests/unit/test_alert_bursts.py)."""
    settings.ALERT_SETTLE_SECONDS = 0


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records each POST and answers the next status."""

    def __init__(self):
        self.statuses: list[int] = []
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/moat-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # The receiver is on loopback, which deliveries refuse unless the operator allows it.
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


def add(task, author, **fields):
    return add_evidence(task, author, **{"strength": 5, **fields})


def move_to_specialist_models(task, author, capture):
    """Score the task Untrainable, then move it: one quadrant change for the task (and its
    company, the only task), raised by one re-score."""
    with capture(execute=True):
        add(task, author, factor="tacit_judgment")
        add(task, author, factor="system_access")
    task.refresh_from_db()
    assert task.quadrant == "untrainable"
    with capture(execute=True):
        for _ in range(3):
            add(task, author, factor="frontier_model_parity")
    task.refresh_from_db()
    assert task.quadrant == "specialist_models"


@pytest.fixture
def world():
    fund = FundFactory(name="Fund One")
    other = FundFactory(name="Fund Two")
    partner = MembershipFactory(fund=fund, role="partner").user
    other_partner = MembershipFactory(fund=other, role="partner").user
    task = TaskFactory(company=CompanyFactory(fund=fund, name="Acme"), name="Contract review")
    CompanyFactory(fund=other, name="Elsewhere")
    return {
        "fund": fund,
        "other": other,
        "partner": partner,
        "other_partner": other_partner,
        "task": task,
    }


def test_a_rescore_sends_one_signed_batch_with_before_and_after(
    world, receiver, django_capture_on_commit_callbacks
):
    hook, secret = webhooks.webhook_create(
        actor=world["partner"], fund_id=world["fund"].pk, url=receiver.url
    )
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 1, "one POST for the whole re-score"
    headers, body = receiver.requests[0]
    assert webhooks.verify(
        secret, headers["X-Moatmap-Timestamp"], body, headers["X-Moatmap-Signature"]
    )
    assert not webhooks.verify(
        "whsec_wrong", headers["X-Moatmap-Timestamp"], body, headers["X-Moatmap-Signature"]
    )
    payload = json.loads(body)
    assert payload["fund"] == {"id": world["fund"].pk, "name": "Fund One"}
    changes = {(a["task"]["name"] if a["task"] else None, a["kind"]) for a in payload["alerts"]}
    assert ("Contract review", "quadrant_change") in changes
    assert (None, "quadrant_change") in changes, "the company's change rides in the same batch"
    task_alert = next(a for a in payload["alerts"] if a["task"] and a["kind"] == "quadrant_change")
    assert task_alert["previous"]["quadrant"] == "untrainable"
    assert task_alert["current"]["quadrant"] == "specialist_models"
    assert {"margin", "runway_years"} <= set(task_alert["previous"]) & set(task_alert["current"])
    assert task_alert["company"]["name"] == "Acme"
    # Every alert names its cause and who caused it, in its text and as data.
    who = world["partner"].get_username()
    assert task_alert["cause"] == {
        "kind": "evidence",
        "by": who,
        "detail": f"a new note by {who}",
    }
    assert task_alert["message"].endswith(f"· cause: a new note by {who}")
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert str(delivery.pk) == headers["X-Moatmap-Delivery"] == str(payload["delivery"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )
    # A repeated re-score raises no alert again, so nothing more is sent.
    with django_capture_on_commit_callbacks(execute=True):
        recompute.rescore_task(task_id=world["task"].pk)
    assert len(receiver.requests) == 1


def test_a_500_is_retried_and_the_log_shows_both_attempts(
    world, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    hook, secret = webhooks.webhook_create(
        actor=world["partner"], fund_id=world["fund"].pk, url=receiver.url
    )
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)
    delivery = hook.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    # Inline (no broker) the retry waits for the sweep, which finds it due.
    assert jobs.dispatch_alert_events.delay().get() == 1
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first[1] == second[1], "the retry sends the same batch"
    assert first[0]["X-Moatmap-Delivery"] == second[0]["X-Moatmap-Delivery"]
    assert webhooks.verify(
        secret, second[0]["X-Moatmap-Timestamp"], second[1], second[0]["X-Moatmap-Signature"]
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        2,
        200,
    )
    assert jobs.dispatch_alert_events.delay().get() == 0, "nothing left to send"


def test_a_retry_waits_for_its_backoff(world, receiver, settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 600
    receiver.statuses = [500]
    hook = Webhook.objects.create(fund=world["fund"], url=receiver.url, secret="s")
    delivery = WebhookDelivery.objects.create(webhook=hook, payload={"alerts": []})
    assert webhooks.attempt(delivery.pk) is False
    assert webhooks.due_for_retry(inline=True) == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_attempt_at=timezone.now() - timedelta(seconds=601)
    )
    assert webhooks.due_for_retry(inline=True) == [delivery.pk]
    assert webhooks.due_for_retry(inline=False) == [], "a broker's own retry is not doubled"
    assert webhooks.backoff_seconds(1) == 600 and webhooks.backoff_seconds(3) == 2400
    assert webhooks.backoff_seconds(10) == 3600


def test_a_receiver_that_keeps_failing_ends_failed_after_the_last_attempt(
    world, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [503, 500, 502, 200]
    hook, _ = webhooks.webhook_create(
        actor=world["partner"], fund_id=world["fund"].pk, url=receiver.url
    )
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)
    for _ in range(4):
        jobs.dispatch_alert_events.delay()
    delivery = hook.deliveries.get()
    assert len(receiver.requests) == 3
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED,
        3,
        502,
    )
    assert "502" in delivery.last_error


def test_a_refused_connection_is_logged_as_an_attempt(world, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    hook = Webhook.objects.create(fund=world["fund"], url="http://127.0.0.1:9/closed", secret="s")
    delivery = WebhookDelivery.objects.create(webhook=hook, payload={"alerts": []})
    assert webhooks.attempt(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code is None and delivery.last_error


def test_nothing_goes_to_another_funds_webhook(world, receiver, django_capture_on_commit_callbacks):
    webhooks.webhook_create(
        actor=world["other_partner"], fund_id=world["other"].pk, url=receiver.url
    )
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)
    assert AlertEvent.objects.filter(fund=world["fund"]).exists()
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_only_a_partner_registers_a_webhook(world):
    associate = MembershipFactory(fund=world["fund"], role="associate").user
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(PermissionDenied):
        webhooks.webhook_create(actor=associate, fund_id=world["fund"].pk, url="https://x.test/")
    with pytest.raises(Http404):
        webhooks.webhook_create(
            actor=world["other_partner"], fund_id=world["fund"].pk, url="https://x.test/"
        )


def test_alerts_mail_at_once_only_members_who_asked(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    at_once = MembershipFactory(fund=world["fund"], role="viewer").user
    quiet = MembershipFactory(fund=world["fund"], role="viewer").user
    outsider = world["other_partner"]
    for user, mode in (
        (at_once, AlertEmail.IMMEDIATE),
        (quiet, AlertEmail.OFF),
        (outsider, AlertEmail.IMMEDIATE),
    ):
        alerting.preference_set(user=user, email=mode)
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)
    assert [m.to for m in mailoutbox] == [[at_once.email]]
    mail = mailoutbox[0].body
    assert "Fund One" in mail and "Acme" in mail and "Untrainable to Specialist models" in mail
    assert "was untrainable, now specialist_models" in mail
    assert f"cause: a new note by {world['partner'].get_username()}" in mail


def test_the_daily_digest_is_one_mail_grouped_by_fund_and_company(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    reader = UserFactory(email="reader@example.com")
    MembershipFactory(fund=world["fund"], user=reader, role="viewer")
    MembershipFactory(fund=world["other"], user=reader, role="viewer")
    alerting.preference_set(user=reader, email=AlertEmail.DAILY)
    other_task = TaskFactory(company=world["other"].companies.get(), name="Claims triage")
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)
    move_to_specialist_models(
        other_task, world["other_partner"], django_capture_on_commit_callbacks
    )
    assert mailoutbox == [], "digest readers get nothing at once"

    assert alerting.send_digests(timezone.now() + timedelta(seconds=1)) == 1
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert (
        body.index("Fund One")
        < body.index("Acme")
        < body.index("Fund Two")
        < body.index("Elsewhere")
    )
    assert body.count("Contract review") + body.count("Task moved") >= 1
    # Each alert says what moved it and who.
    assert f"cause: a new note by {world['other_partner'].get_username()}" in body
    assert "daily digest" in mailoutbox[0].subject
    # The next digest has nothing new: no mail.
    assert alerting.send_digests(timezone.now() + timedelta(seconds=2)) == 0
    assert len(mailoutbox) == 1


def test_a_lost_dispatch_is_picked_up_by_the_sweep(
    world, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    webhooks.webhook_create(actor=world["partner"], fund_id=world["fund"].pk, url=receiver.url)
    monkeypatch.setattr(alerting, "enqueue_dispatch", lambda: None)  # the broker lost it
    move_to_specialist_models(world["task"], world["partner"], django_capture_on_commit_callbacks)
    assert (
        receiver.requests == [] and AlertEvent.objects.filter(dispatched_at__isnull=True).exists()
    )
    assert jobs.dispatch_alert_events.delay().get() == 1
    assert len(receiver.requests) == 1
    assert not AlertEvent.objects.filter(dispatched_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_after_a_500_with_celery(celery_worker, receiver):
    """On the broker: the re-score, the dispatch and the delivery are jobs; the 500 is
    retried by Celery itself (backoff 0 s here)."""
    world_fund = FundFactory(name="Fund One")
    partner = MembershipFactory(fund=world_fund, role="partner").user
    task = TaskFactory(company=CompanyFactory(fund=world_fund, name="Acme"))
    receiver.statuses = [500]
    hook, _ = webhooks.webhook_create(actor=partner, fund_id=world_fund.pk, url=receiver.url)
    add(task, partner, factor="tacit_judgment")
    add(task, partner, factor="system_access")
    wait_for(lambda: Task.objects.get(pk=task.pk).quadrant == "untrainable")
    for _ in range(3):
        add(task, partner, factor="frontier_model_parity")
    # Each save is its own re-score job, so the moves may arrive in more than one batch.
    wait_for(
        lambda: (
            hook.deliveries.exists()
            and not hook.deliveries.exclude(status=DeliveryStatus.DELIVERED).exists()
        ),
        seconds=30,
    )
    deliveries = list(hook.deliveries.order_by("id"))
    assert deliveries[0].attempts == 2, "the first POST got the 500 and was retried"
    assert all(d.last_status_code == 200 for d in deliveries)
    assert len(receiver.requests) == sum(d.attempts for d in deliveries)


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the worker did not get there in time")
