"""The partners' review queue: tabs with live counts, filters by fund and company, the
impact and age sorts, paging, verify and send back (one at a time and in bulk, the counts
and the navigation badge swapped out of band), contradictions resolved, alerts, and who may
use it."""

import dataclasses
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import recompute, scoring, selectors, services
from assessments.models import Alert, AlertKind, Evidence, Task
from assessments.selectors import review as review_selectors
from tests.factories import CompanyFactory, EvidenceFactory, MembershipFactory, TaskFactory

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


def queue(client, membership, **params) -> str:
    client.force_login(membership.user)
    response = client.get(reverse("review_queue"), params)
    assert response.status_code == 200
    return response.content.decode()


def tab_count(html: str, tab: str) -> int:
    return int(re.search(rf'data-count="{tab}">(\d+)<', html).group(1))


def listed_evidence(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="review-evidence-(\d+)"', html)]


def alert(company, message="Company moved", n=0) -> Alert:
    return Alert.objects.create(
        company=company,
        kind=AlertKind.QUADRANT_CHANGE,
        message=message,
        as_of=date(2026, 1, 1) + timedelta(days=n),
        to_state=str(n),
    )


def test_each_tab_lists_its_items_linking_to_the_company(client, partner, task):
    today = selectors.today()
    waiting = EvidenceFactory(
        task=task, note="Waiting for a partner", source="Board deck", observed_on=today
    )
    for stance in (1, -1):
        EvidenceFactory(
            task=task,
            factor="user_habit",
            stance=stance,
            verified_at=timezone.now(),
            observed_on=today,
        )
    stale = TaskFactory(company=task.company, name="Old underwriting")
    EvidenceFactory(task=stale, observed_on=today - timedelta(days=240), verified_at=timezone.now())
    alert(task.company, "Company moved from Untrainable to Lab territory")
    company_link = reverse("company_detail", args=[task.company_id])

    alerts = queue(client, partner)  # unread alerts: the first tab opens
    assert "moved from Untrainable to Lab territory" in alerts and company_link in alerts
    pending = queue(client, partner, tab="pending")
    assert listed_evidence(pending) == [waiting.pk]
    assert "Waiting for a partner" in pending and "Board deck" in pending
    contradictions = queue(client, partner, tab="contradictions")
    assert "user habit" in contradictions and company_link in contradictions
    due = queue(client, partner, tab="reunderwrite")
    assert "Old underwriting" in due and "last evidence 240 days ago" in due
    assert "Reconciliation</span>" not in due
    for html in (alerts, pending, contradictions, due):
        counts = {tab: tab_count(html, tab) for tab, _ in review_selectors.TABS}
        assert counts == {"alerts": 1, "pending": 1, "contradictions": 1, "reunderwrite": 1}


def test_without_unread_alerts_the_queue_opens_on_pending(client, partner, task):
    EvidenceFactory(task=task, note="First thing to verify")
    html = queue(client, partner)
    assert 'class="tab active" aria-current="page" data-tab="pending"' in html
    assert "First thing to verify" in html


def test_filters_by_fund_and_company_narrow_lists_and_counts(client, partner, task):
    other_company = CompanyFactory(fund=partner.fund, name="Wardround")
    other_fund = MembershipFactory(user=partner.user, role="partner").fund
    mine = EvidenceFactory(task=task)
    ward = EvidenceFactory(task=TaskFactory(company=other_company))
    far = EvidenceFactory(task=TaskFactory(company__fund=other_fund))
    assert set(listed_evidence(queue(client, partner, tab="pending"))) == {
        mine.pk,
        ward.pk,
        far.pk,
    }
    by_fund = queue(client, partner, tab="pending", fund=partner.fund_id)
    assert set(listed_evidence(by_fund)) == {mine.pk, ward.pk}
    assert tab_count(by_fund, "pending") == 2
    by_company = queue(client, partner, tab="pending", company=other_company.pk)
    assert listed_evidence(by_company) == [ward.pk] and tab_count(by_company, "pending") == 1
    # The company list follows the chosen fund.
    assert "Wardround" in by_fund and "Wardround" not in queue(client, partner, fund=other_fund.pk)


def test_pending_sorts_by_impact_and_by_age(client, partner, task):
    small = EvidenceFactory(task=task, strength=1, confidence="low", note="small")
    large = EvidenceFactory(task=task, strength=5, confidence="high", note="large")
    middle = EvidenceFactory(task=task, strength=3, confidence="medium", note="middle")
    Evidence.objects.filter(pk=small.pk).update(created_at=timezone.now() - timedelta(days=9))
    Evidence.objects.filter(pk=large.pk).update(created_at=timezone.now() - timedelta(days=1))
    Evidence.objects.filter(pk=middle.pk).update(created_at=timezone.now() - timedelta(days=5))
    assert listed_evidence(queue(client, partner, tab="pending")) == [
        large.pk,
        middle.pk,
        small.pk,
    ]
    assert listed_evidence(queue(client, partner, tab="pending", sort="oldest")) == [
        small.pk,
        middle.pk,
        large.pk,
    ]
    assert listed_evidence(queue(client, partner, tab="pending", sort="newest"))[0] == large.pk


def test_impact_is_the_points_the_task_moves_once_verified(partner, task):
    rubric = selectors.active_rubric_version().to_rubric()
    as_of = selectors.today()
    kept = EvidenceFactory(task=task, strength=4, verified_at=timezone.now(), observed_on=as_of)
    pending = EvidenceFactory(task=task, strength=5, confidence="high", observed_on=as_of)
    page = review_selectors.pending_page(
        partner.user, review_selectors.QueueFilters(tab="pending"), as_of, rubric
    )
    (row,) = page.object_list
    rows = [e.as_scoring_row() for e in (kept, pending)]
    before = scoring.score_task(rows, as_of, rubric).y
    rows[1] = dataclasses.replace(rows[1], verified=True)
    after = scoring.score_task(rows, as_of, rubric).y
    assert row.evidence == pending and row.axis == "y"
    assert row.impact == pytest.approx(after - before) and row.impact > 0


def test_pending_is_paged(client, partner, task):
    rows = [EvidenceFactory(task=task, note=f"Row {n}") for n in range(30)]
    first = queue(client, partner, tab="pending", sort="oldest")
    second = queue(client, partner, tab="pending", sort="oldest", page=2)
    assert listed_evidence(first) == [r.pk for r in rows[:25]]
    assert listed_evidence(second) == [r.pk for r in rows[25:]]
    assert "Page 2 of 2 · 30 in all" in second and tab_count(second, "pending") == 30


def test_verify_removes_the_row_and_swaps_counts_and_badge_out_of_band(client, partner, task):
    evidence = EvidenceFactory(task=task, note="Verify me")
    EvidenceFactory(task=task, note="Still waiting")
    alert(task.company)
    client.force_login(partner.user)
    response = client.post(
        reverse("evidence_verify", args=[evidence.pk]), {"tab": "pending"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="queue-tabs"' in html and 'hx-swap-oob="true"' in html
    assert tab_count(html, "pending") == 1
    assert re.search(r'id="nav-review-badge"[^>]*hx-swap-oob="true"[^>]*>1<', html)
    assert "review-evidence-" not in html  # the row's own swap empties it
    evidence.refresh_from_db()
    assert evidence.verified_by == partner.user and evidence.verified_version == 1
    assert "Verify me" not in queue(client, partner, tab="pending")


def test_nav_badge_counts_a_partners_unread_alerts(client, partner, task):
    for n in range(3):
        alert(task.company, f"Alert {n}", n)
    html = queue(client, partner)
    assert re.search(r'id="nav-review-badge"[^>]*>3<', html)
    client.post(reverse("alerts_read_all"), **HTMX)
    assert re.search(r'id="nav-review-badge"[^>]*hidden[^>]*>0<', queue(client, partner))


def test_send_back_stops_counting_rescores_and_a_revision_returns_it(
    client, partner, task, rescored
):
    associate = MembershipFactory(fund=partner.fund, role="associate")
    kept = rescored(
        services.evidence_create,
        task=task,
        author=associate.user,
        factor="system_access",
        stance=1,
        strength=3,
        confidence="medium",
        observed_on=selectors.today(),
    )
    vague = rescored(
        services.evidence_create,
        task=task,
        author=associate.user,
        factor="system_access",
        stance=1,
        strength=5,
        confidence="high",
        observed_on=selectors.today(),
        note="Vague",
    )
    task.refresh_from_db()
    y_with_both = task.y
    client.force_login(partner.user)
    rescored(
        client.post,
        reverse("evidence_send_back", args=[vague.pk]),
        {"comment": "Which bank?"},
        **HTMX,
    )
    vague.refresh_from_db()
    task.refresh_from_db()
    assert vague.review_comment == "Which bank?" and vague.sent_back_at and not vague.counts
    assert task.y < y_with_both and task.evidence_count == 1  # re-scored without it
    solo = scoring.score_task([kept.as_scoring_row()], selectors.today(), scoring.Rubric())
    assert task.y == pytest.approx(solo.y)
    assert "Vague" not in queue(client, partner, tab="pending")
    rescored(
        services.evidence_update,
        evidence=vague,
        editor=associate.user,
        expected_version=vague.version,
        note="Bank X",
    )
    vague.refresh_from_db()
    task.refresh_from_db()
    assert vague.counts and vague.review_comment == "" and task.evidence_count == 2
    assert "Bank X" in queue(client, partner, tab="pending")


def test_bulk_verify_and_send_back(client, partner, task):
    rows = [EvidenceFactory(task=task, note=f"Row {n}") for n in range(4)]
    client.force_login(partner.user)
    response = client.post(
        reverse("review_bulk"),
        {"action": "verify", "evidence": [rows[0].pk, rows[1].pk], "tab": "pending"},
        **HTMX,
    )
    assert tab_count(response.content.decode(), "pending") == 2
    assert set(listed_evidence(response.content.decode())) == {rows[2].pk, rows[3].pk}
    plain = client.post(
        reverse("review_bulk"),
        {"action": "send_back", "evidence": [rows[2].pk], "comment": "Source?", "fund": "x"},
    )
    assert plain.status_code == 302 and plain.url.startswith(reverse("review_queue"))
    verified = set(Evidence.objects.filter(verified_at__isnull=False).values_list("pk", flat=True))
    assert verified == {rows[0].pk, rows[1].pk}
    assert Evidence.objects.get(pk=rows[2].pk).review_comment == "Source?"
    assert listed_evidence(queue(client, partner, tab="pending")) == [rows[3].pk]


def contradiction(
    task,
    partner,
    rescored,
    factor="system_access",
    said=("Holds write access", "Access revoked in March"),
):
    associate = MembershipFactory(fund=partner.fund, role="associate")
    made = {}
    for stance, note in zip((1, -1), said, strict=True):
        made[stance] = rescored(
            services.evidence_create,
            task=task,
            author=associate.user,
            factor=factor,
            stance=stance,
            strength=4,
            confidence="high",
            observed_on=selectors.today(),
            note=note,
        )
    return made


def test_contradiction_columns_are_named_by_their_effect_on_the_moat(
    client, partner, task, rescored
):
    said = ("Models match us on the benchmark", "Models still fail it")
    contradiction(task, partner, rescored, "frontier_model_parity", said)
    client.force_login(partner.user)
    html = queue(client, partner, tab="contradictions")
    article = html[html.index('class="contradiction"') :]
    # Supporting parity weakens the moat: that column says so, not "Supports (1)".
    assert "Supports (" not in article and "Contradicts (" not in article
    weakens = article[article.index('data-side="weakens"') :]
    strengthens = article[article.index('data-side="strengthens"') :]
    assert "weakens the moat" in weakens.split("</div>")[0]
    assert "general models already do this task" in weakens.split("</div>")[0]
    assert "Models match us on the benchmark" in weakens.split("</div>")[0]
    assert "Models still fail it" in strengthens.split("</div>")[0]
    # The side that strengthens the moat comes first; each button names the side it drops.
    assert article.index('data-side="strengthens"') < article.index('data-side="weakens"')
    assert 'value="supersede_supports">“Weakens the moat” side superseded' in article
    assert 'value="supersede_contradicts">“Strengthens the moat” side superseded' in article


def test_superseding_one_side_stops_it_counting_and_clears_the_contradiction(
    client, partner, task, rescored
):
    rows = contradiction(task, partner, rescored)
    task.refresh_from_db()
    assert task.y == pytest.approx(50.0)  # the two cancel out
    client.force_login(partner.user)
    refused = client.post(
        reverse("contradiction_resolve"),
        {"task": task.pk, "factor": "system_access", "resolution": "supersede_supports"},
        **HTMX,
    )
    assert refused.status_code == 400 and b"Say why" in refused.content
    assert Evidence.objects.counting().count() == 2
    response = rescored(
        client.post,
        reverse("contradiction_resolve"),
        {
            "task": task.pk,
            "factor": "system_access",
            "resolution": "supersede_supports",
            "comment": "The March revocation is the current state",
            "tab": "contradictions",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert tab_count(response.content.decode(), "contradictions") == 0
    rows[1].refresh_from_db()
    task.refresh_from_db()
    assert rows[1].superseded_at and rows[1].resolution_comment.startswith("The March")
    assert task.y < 50 and task.evidence_count == 1
    assert "Holds write access" not in queue(client, partner, tab="contradictions")


def test_genuinely_mixed_leaves_the_queue_until_new_evidence_joins(client, partner, task, rescored):
    contradiction(task, partner, rescored)
    task.refresh_from_db()
    y = task.y
    client.force_login(partner.user)
    rescored(
        client.post,
        reverse("contradiction_resolve"),
        {"task": task.pk, "factor": "system_access", "resolution": "mixed"},
    )
    task.refresh_from_db()
    assert task.y == pytest.approx(y) and task.evidence_count == 2
    assert tab_count(queue(client, partner, tab="contradictions"), "contradictions") == 0
    EvidenceFactory(task=task, factor="system_access", stance=-1)
    assert tab_count(queue(client, partner, tab="contradictions"), "contradictions") == 1


def test_alerts_mark_read_one_and_all(client, partner, task):
    alerts = [alert(task.company, f"Alert {n}", n) for n in range(3)]
    client.force_login(partner.user)
    response = client.post(reverse("alert_read", args=[alerts[0].pk]), {"tab": "alerts"}, **HTMX)
    assert tab_count(response.content.decode(), "alerts") == 2
    alerts[0].refresh_from_db()
    assert alerts[0].read_by == partner.user
    assert "Alert 0" not in queue(client, partner, tab="alerts")
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
        resolve = {"task": task.pk, "factor": "system_access", "resolution": "mixed"}
        assert client.post(reverse("contradiction_resolve"), resolve).status_code == 403
    evidence.refresh_from_db()
    assert not evidence.is_verified


def test_another_funds_evidence_is_invisible(client, partner):
    foreign = EvidenceFactory(note="Someone else's diligence")
    client.force_login(partner.user)
    assert client.post(reverse("evidence_verify", args=[foreign.pk])).status_code == 404
    assert "Someone else's diligence" not in queue(client, partner, tab="pending")
    client.post(reverse("review_bulk"), {"action": "verify", "evidence": [foreign.pk]})
    resolve = {"task": foreign.task_id, "factor": "system_access", "resolution": "mixed"}
    assert client.post(reverse("contradiction_resolve"), resolve).status_code == 404
    foreign.refresh_from_db()
    assert not foreign.is_verified and foreign.mixed_acknowledged_at is None


def test_queue_leaves_out_funds_where_the_partner_is_only_an_associate(client, partner, task):
    elsewhere = MembershipFactory(user=partner.user, role="associate")
    EvidenceFactory(task=TaskFactory(company__fund=elsewhere.fund), note="Not mine to verify")
    EvidenceFactory(task=task, note="Mine to verify")
    html = queue(client, partner, tab="pending")
    assert "Mine to verify" in html and "Not mine to verify" not in html


def queue_queries(client, tab) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("review_queue"), {"tab": tab}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("tab", ["alerts", "pending", "contradictions", "reunderwrite"])
def test_queue_query_count_does_not_grow_with_data(client, partner, task, tab):
    EvidenceFactory(task=task, stance=1)
    EvidenceFactory(task=task, stance=-1)
    alert(task.company, "First", 99)
    client.force_login(partner.user)
    queue_queries(client, tab)
    small = queue_queries(client, tab)
    for n in range(5):
        other = TaskFactory(company=task.company)
        EvidenceFactory(task=other, stance=1, observed_on=date(2024, 1, 1))
        EvidenceFactory(task=other, stance=-1)
        alert(task.company, f"Task moved {n}", n)
    assert queue_queries(client, tab) == small


def test_unreadable_filters_fall_back_to_the_defaults(client, partner, task):
    EvidenceFactory(task=task, note="Still listed")
    html = queue(client, partner, tab="nope", fund="99999999999999999999999", page="-3", sort="?")
    assert "Still listed" in html


def test_recompute_and_the_pure_model_agree_without_sent_back_and_superseded(partner, task):
    rows = [
        EvidenceFactory(task=task, stance=s, strength=k, observed_on=date(2025, m, 1))
        for s, k, m in ((1, 5, 1), (-1, 2, 3), (1, 3, 5), (1, 4, 7))
    ]
    Evidence.objects.filter(pk=rows[0].pk).update(sent_back_at=timezone.now())
    Evidence.objects.filter(pk=rows[1].pk).update(superseded_at=timezone.now())
    recompute.rescore_companies(company_ids=[task.company_id])
    task = Task.objects.get(pk=task.pk)
    counted = [e.as_scoring_row() for e in Evidence.objects.counting().filter(task=task)]
    expected = scoring.score_task(counted, selectors.today(), scoring.Rubric())
    assert task.evidence_count == 2 and task.y == pytest.approx(expected.y)
