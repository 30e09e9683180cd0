"""The partners' review queue: its four lists, verify and send back (one at a time and in
bulk), alerts, and who may use it."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import selectors, services
from assessments.models import Alert, AlertKind, Evidence
from tests.factories import EvidenceFactory, MembershipFactory, TaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def partner():
    return MembershipFactory(role="partner")


@pytest.fixture
def task(partner):
    return TaskFactory(
        company__fund=partner.fund, company__name="Ledgerline", name="Reconciliation"
    )


def queue(client, membership) -> str:
    client.force_login(membership.user)
    response = client.get(reverse("review_queue"))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, name: str) -> str:
    return html.split(f'id="queue-{name}"', 1)[1].split("</section>", 1)[0]


def test_queue_shows_its_four_lists_each_linking_to_the_company(client, partner, task):
    today = selectors.today()
    waiting = EvidenceFactory(task=task, note="Waiting for a partner", observed_on=today)
    EvidenceFactory(
        task=task, factor="user_habit", stance=1, observed_on=today, verified_at=timezone.now()
    )
    EvidenceFactory(
        task=task, factor="user_habit", stance=-1, observed_on=today, verified_at=timezone.now()
    )
    stale = TaskFactory(company=task.company, name="Old underwriting")
    EvidenceFactory(task=stale, observed_on=today - timedelta(days=400), verified_at=timezone.now())
    Alert.objects.create(
        company=task.company,
        kind=AlertKind.QUADRANT_CHANGE,
        message="Company moved from Untrainable to Lab territory",
        as_of=today,
    )
    html = queue(client, partner)
    company_link = reverse("company_detail", args=[task.company_id])
    unverified = section(html, "unverified")
    assert "Waiting for a partner" in unverified and f"review-evidence-{waiting.pk}" in unverified
    assert "user habit" in section(html, "contradictions")
    assert "user habit" not in section(html, "unverified")
    due = section(html, "due")
    assert "Old underwriting" in due and "Reconciliation" not in due
    assert "moved from Untrainable to Lab territory" in section(html, "alerts")
    for name in ("unverified", "contradictions", "due", "alerts"):
        assert company_link in section(html, name)


def test_task_without_evidence_is_due_and_fresh_one_is_not(client, partner, task):
    EvidenceFactory(task=task, observed_on=selectors.today(), verified_at=timezone.now())
    TaskFactory(company=task.company, name="Never underwritten")
    due = section(queue(client, partner), "due")
    assert "Never underwritten" in due and "Reconciliation" not in due


def test_verify_in_one_click_removes_it_from_the_queue(client, partner, task):
    evidence = EvidenceFactory(task=task, note="Verify me")
    client.force_login(partner.user)
    response = client.post(reverse("evidence_verify", args=[evidence.pk]), **HTMX)
    assert response.status_code == 200 and response.content == b""
    evidence.refresh_from_db()
    assert evidence.verified_by == partner.user and evidence.is_verified
    assert "Verify me" not in queue(client, partner)


def test_send_back_keeps_the_comment_and_an_edit_returns_it(client, partner, task):
    evidence = EvidenceFactory(task=task, note="Vague", author=partner.user)
    client.force_login(partner.user)
    client.post(
        reverse("evidence_send_back", args=[evidence.pk]), {"comment": "Which bank?"}, **HTMX
    )
    evidence.refresh_from_db()
    assert evidence.review_comment == "Which bank?" and not evidence.is_verified
    assert "Vague" not in section(queue(client, partner), "unverified")
    services.evidence_update(
        evidence=evidence, editor=partner.user, expected_version=evidence.version, note="Bank X"
    )
    assert "Bank X" in section(queue(client, partner), "unverified")


def test_bulk_verify_and_send_back(client, partner, task):
    rows = [EvidenceFactory(task=task, note=f"Row {n}") for n in range(4)]
    client.force_login(partner.user)
    client.post(
        reverse("review_bulk"),
        {"action": "verify", "evidence": [rows[0].pk, rows[1].pk]},
    )
    client.post(
        reverse("review_bulk"),
        {"action": "send_back", "evidence": [rows[2].pk], "comment": "Source?"},
    )
    verified = set(Evidence.objects.filter(verified_at__isnull=False).values_list("pk", flat=True))
    assert verified == {rows[0].pk, rows[1].pk}
    assert Evidence.objects.get(pk=rows[2].pk).review_comment == "Source?"
    unverified = section(queue(client, partner), "unverified")
    assert "Row 3" in unverified and "Row 0" not in unverified and "Row 2" not in unverified


def test_alerts_mark_read_one_and_all(client, partner, task):
    alerts = [
        Alert.objects.create(
            company=task.company,
            kind=AlertKind.SHORT_RUNWAY,
            message=f"Alert {n}",
            as_of=date(2026, 1, n + 1),
            to_state=str(n),
        )
        for n in range(3)
    ]
    client.force_login(partner.user)
    client.post(reverse("alert_read", args=[alerts[0].pk]), **HTMX)
    alerts[0].refresh_from_db()
    assert alerts[0].read_by == partner.user
    assert "Alert 0" not in section(queue(client, partner), "alerts")
    client.post(reverse("alerts_read_all"))
    assert not Alert.objects.filter(read_at__isnull=True).exists()


def test_associates_and_viewers_cannot_review(client, task):
    evidence = EvidenceFactory(task=task)
    for role in ("associate", "viewer"):
        member = MembershipFactory(role=role, fund=task.company.fund)
        client.force_login(member.user)
        assert client.get(reverse("review_queue")).status_code == 403
        assert client.post(reverse("evidence_verify", args=[evidence.pk])).status_code == 403
        assert (
            client.post(
                reverse("review_bulk"), {"action": "verify", "evidence": [evidence.pk]}
            ).status_code
            == 403
        )
    evidence.refresh_from_db()
    assert not evidence.is_verified


def test_another_funds_evidence_is_invisible(client, partner):
    foreign = EvidenceFactory(note="Someone else's diligence")
    client.force_login(partner.user)
    assert client.post(reverse("evidence_verify", args=[foreign.pk])).status_code == 404
    assert "Someone else's diligence" not in queue(client, partner)
    client.post(reverse("review_bulk"), {"action": "verify", "evidence": [foreign.pk]})
    foreign.refresh_from_db()
    assert not foreign.is_verified


def test_queue_leaves_out_funds_where_the_partner_is_only_an_associate(client, partner, task):
    elsewhere = MembershipFactory(user=partner.user, role="associate")
    EvidenceFactory(task=TaskFactory(company__fund=elsewhere.fund), note="Not mine to verify")
    EvidenceFactory(task=task, note="Mine to verify")
    html = queue(client, partner)
    assert "Mine to verify" in html and "Not mine to verify" not in html


def queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("review_queue")).status_code == 200
    return len(queries)


def test_queue_query_count_does_not_grow_with_data(client, partner, task):
    EvidenceFactory(task=task, stance=1)
    EvidenceFactory(task=task, stance=-1)
    client.force_login(partner.user)
    queue_queries(client)
    small = queue_queries(client)
    for n in range(5):
        other = TaskFactory(company=task.company)
        EvidenceFactory(task=other, stance=1, observed_on=date(2024, 1, 1))
        EvidenceFactory(task=other, stance=-1)
        Alert.objects.create(
            company=task.company,
            task=other,
            kind=AlertKind.QUADRANT_CHANGE,
            message=f"Task moved {n}",
            as_of=date(2026, 1, 1),
        )
    html = client.get(reverse("review_queue")).content.decode()
    assert section(html, "contradictions").count("<tr>") > 5
    assert queue_queries(client) == small
