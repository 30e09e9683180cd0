"""The company page: header and tasks, evidence entry with live re-scoring, optimistic
locking, history, company and task editing, permissions and query counts."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import recompute, selectors, services
from assessments.models import Company, Evidence, Task, TaskSnapshot
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def evidence_post(**overrides) -> dict:
    data = {
        "factor": "system_access",
        "stance": "1",
        "strength": "5",
        "confidence": "high",
        "observed_on": selectors.today().isoformat(),
        "source": "Security review, 2026",
        "note": "Passed the **bank's** security review",
    }
    return {**data, **overrides}


@pytest.fixture
def associate():
    return MembershipFactory(role="associate")


@pytest.fixture
def task(associate):
    return TaskFactory(company__fund=associate.fund, name="Contract review")


def signed_in(client, membership):
    client.force_login(membership.user)
    return client


def test_company_page_shows_header_tasks_and_evidence_counts(client, associate, task):
    EvidenceFactory(task=task, author=associate.user)
    recompute.rescore_companies(company_ids=[task.company_id])
    page = signed_in(client, associate).get(reverse("company_detail", args=[task.company_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert task.company.name in html and associate.fund.name in html and "Contract review" in html
    assert 'id="company-header"' in html and "Runway" in html and "Confidence" in html
    assert f'id="task-{task.pk}-waterfall"' in html and "company-history" in html
    assert 'optgroup label="Frontier (x)"' in html and "the lock" in html


def test_another_funds_company_answers_404(client, associate):
    other = CompanyFactory()
    assert (
        signed_in(client, associate).get(reverse("company_detail", args=[other.pk])).status_code
        == 404
    )
    assert client.post(reverse("company_edit", args=[other.pk]), {}).status_code == 404


def test_viewer_reads_but_cannot_add_evidence(client, task):
    viewer = MembershipFactory(role="viewer", fund=task.company.fund)
    signed_in(client, viewer)
    page = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    assert "Add evidence" not in page
    response = client.post(reverse("evidence_create", args=[task.pk]), evidence_post(), **HTMX)
    assert response.status_code == 403
    assert not Evidence.objects.exists()


def test_future_date_is_refused_inline_keeping_what_was_typed(client, associate, task):
    tomorrow = (selectors.today() + timedelta(days=1)).isoformat()
    response = signed_in(client, associate).post(
        reverse("evidence_create", args=[task.pk]),
        evidence_post(observed_on=tomorrow, note="My careful note"),
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be observed in the future" in html
    assert "My careful note" in html and "Security review, 2026" in html and tomorrow in html
    assert 'data-autofocus="true"' in html and html.strip().startswith("<form")
    assert not Evidence.objects.exists()


# Inline mode runs the job when the save commits, inside the request: these tests commit
# for real (transaction=True), as the app does outside tests.
@pytest.mark.django_db(transaction=True)
def test_saving_evidence_rescores_inline_and_says_what_moved(client, associate, task):
    signed_in(client, associate)
    response = client.post(reverse("evidence_create", args=[task.pk]), evidence_post(), **HTMX)
    html = response.content.decode()
    task.refresh_from_db()
    assert task.is_scored and task.evidence_count == 1
    assert "Task: now scored" in html and "Company: now scored" in html
    # The task's scores, its evidence and the company header arrive out of band.
    assert f'id="task-{task.pk}-scores" class="task-scores" hx-swap-oob="true"' in html
    assert f'id="task-{task.pk}-evidence" class="evidence-list" hx-swap-oob="true"' in html
    assert 'id="company-header"' in html and "re-scoring" not in html
    # A fresh form with the cursor back on the factor, for the next note.
    assert f'id="id_factor_{task.pk}"' in html and "Passed the" not in html.split("</form>")[0]

    before_y = round(task.y)
    html = client.post(
        reverse("evidence_create", args=[task.pk]),
        evidence_post(factor="accountability", note="Carries liability"),
        **HTMX,
    ).content.decode()
    task.refresh_from_db()
    assert f"y {before_y} → {round(task.y)}" in html


def test_with_a_worker_the_page_polls_until_the_rescore_lands(client, associate, task):
    signed_in(client, associate)
    # No on-commit callbacks run here: the job is "queued", as with a worker.
    html = client.post(
        reverse("evidence_create", args=[task.pk]), evidence_post(), **HTMX
    ).content.decode()
    assert "re-scoring…" in html and 'hx-trigger="every 400ms"' in html
    poll_url = html.split('hx-get="', 2)[2].split('"', 1)[0].replace("&amp;", "&")
    assert poll_url.startswith(reverse("task_scores", args=[task.pk]))

    still_pending = client.get(poll_url, **HTMX)
    assert still_pending.status_code == 200 and "re-scoring…" in still_pending.content.decode()

    recompute.rescore_task(task_id=task.pk)
    done = client.get(poll_url, **HTMX)
    assert done.status_code == 286
    assert "scoresChanged" in json.loads(done["HX-Trigger"])
    assert "Task: now scored" in done.content.decode()
    header = client.get(reverse("company_header", args=[task.company_id]), **HTMX)
    assert "Untrainable" in header.content.decode() or "Lab territory" in header.content.decode()


def test_stale_evidence_edit_is_refused_showing_both_versions(client, associate, task):
    evidence = services.evidence_create(
        task=task, author=associate.user, **{**evidence_post(), "observed_on": date(2026, 1, 5)}
    )
    services.evidence_update(
        evidence=evidence, editor=associate.user, expected_version=1, note="Their later note"
    )
    response = signed_in(client, associate).post(
        reverse("evidence_edit", args=[evidence.pk]),
        evidence_post(note="My stale note", observed_on="2026-01-05", version="1"),
        **HTMX,
    )
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert "My stale note" in html and "Their later note" in html
    assert response["HX-Retarget"] == f"#evidence-{evidence.pk}"
    evidence.refresh_from_db()
    assert evidence.note == "Their later note" and evidence.version == 2
    # Saving again after comparing is deliberate and goes through from the current version.
    assert 'name="version" value="2"' in html


def test_associate_edits_own_evidence_but_not_a_colleagues(client, associate, task):
    mine = EvidenceFactory(task=task, author=associate.user)
    theirs = EvidenceFactory(task=task, author=UserFactory())
    signed_in(client, associate)
    response = client.post(
        reverse("evidence_edit", args=[mine.pk]),
        evidence_post(observed_on="2026-01-01", version="1", note="Edited"),
        **HTMX,
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.note == "Edited"
    assert (
        client.post(reverse("evidence_edit", args=[theirs.pk]), evidence_post(), **HTMX).status_code
        == 403
    )
    assert client.post(reverse("evidence_delete", args=[theirs.pk]), **HTMX).status_code == 403
    assert Evidence.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_delete_evidence_rescores(client, associate, task):
    evidence = services.evidence_create(
        task=task, author=associate.user, **{**evidence_post(), "observed_on": date(2026, 1, 5)}
    )
    recompute.rescore_task(task_id=task.pk)
    signed_in(client, associate)
    html = client.post(reverse("evidence_delete", args=[evidence.pk]), **HTMX).content.decode()
    task.refresh_from_db()
    assert not task.is_scored and "now Unscored" in html


def test_partner_reads_the_history_with_before_and_after(client, associate, task):
    evidence = services.evidence_create(
        task=task, author=associate.user, **{**evidence_post(), "observed_on": date(2026, 1, 5)}
    )
    services.evidence_update(
        evidence=evidence, editor=associate.user, expected_version=1, strength=2, note="Revised"
    )
    partner = MembershipFactory(role="partner", fund=associate.fund)
    url = reverse("evidence_history", args=[evidence.pk])
    assert signed_in(client, associate).get(url).status_code == 403
    html = signed_in(client, partner).get(url).content.decode()
    assert "Changed by" in html and "Created by" in html
    assert "<td>strength</td><td>5</td><td>2</td>" in html
    assert "Revised" in html and associate.user.username in html


def test_company_edit_from_an_old_version_is_refused(client, associate):
    company = CompanyFactory(fund=associate.fund, name="Acme", sector="Legal")
    services.company_update(
        company=company, editor=associate.user, expected_version=1, sector="Insurance"
    )
    response = signed_in(client, associate).post(
        reverse("company_edit", args=[company.pk]),
        {
            "name": "Acme",
            "sector": "Health",
            "stage": "Seed",
            "status": "portfolio",
            "version": "1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this record" in html and "Health" in html and "Insurance" in html
    company.refresh_from_db()
    assert company.sector == "Insurance"


def test_company_create_edit_and_delete(client, associate):
    signed_in(client, associate)
    response = client.post(
        reverse("company_create", args=[associate.fund_id]),
        {"name": "Newco", "sector": "Legal", "stage": "Seed", "status": "pipeline"},
    )
    company = Company.objects.get(name="Newco")
    assert response.status_code == 302 and company.fund_id == associate.fund_id
    client.post(
        reverse("company_edit", args=[company.pk]),
        {"name": "Newco", "sector": "Tax", "stage": "Seed", "status": "pipeline", "version": "1"},
    )
    company.refresh_from_db()
    assert company.sector == "Tax" and company.version == 2
    client.post(reverse("company_delete", args=[company.pk]))
    assert not Company.objects.filter(pk=company.pk).exists()


def test_viewer_cannot_create_companies_or_tasks(client, task):
    viewer = MembershipFactory(role="viewer", fund=task.company.fund)
    signed_in(client, viewer)
    assert (
        client.post(reverse("company_create", args=[viewer.fund_id]), {"name": "X"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("task_create", args=[task.company_id]), {"name": "X", "weight": "1"}
        ).status_code
        == 403
    )
    assert client.post(reverse("task_delete", args=[task.pk])).status_code == 403
    assert (
        Task.objects.filter(pk=task.pk).exists() and not Company.objects.filter(name="X").exists()
    )


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_task_weight_must_be_positive(client, associate, task, weight):
    response = signed_in(client, associate).post(
        reverse("task_create", args=[task.company_id]), {"name": "Drafting", "weight": weight}
    )
    assert "must be greater than 0" in response.content.decode()
    assert not Task.objects.filter(name="Drafting").exists()


def test_task_edit_and_delete_rescore_the_company(
    client, associate, task, django_capture_on_commit_callbacks
):
    other = TaskFactory(company=task.company, name="Drafting")
    EvidenceFactory(task=task, factor="system_access", stance=1)
    EvidenceFactory(task=other, factor="system_access", stance=-1)
    recompute.rescore_companies(company_ids=[task.company_id])
    signed_in(client, associate)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("task_edit", args=[task.pk]), {"name": task.name, "weight": "3"})
    company = Company.objects.get(pk=task.company_id)
    assert company.y > 50
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("task_delete", args=[task.pk]))
    company.refresh_from_db()
    assert company.y < 50 and not Task.objects.filter(pk=task.pk).exists()


def page_queries(client, company_id) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("company_detail", args=[company_id])).status_code == 200
    return len(queries)


def test_company_page_query_count_does_not_grow_with_data(client, associate, task):
    EvidenceFactory(task=task, author=associate.user)
    recompute.rescore_companies(company_ids=[task.company_id])
    signed_in(client, associate)
    page_queries(client, task.company_id)  # warm the session and rubric
    small = page_queries(client, task.company_id)
    for _ in range(4):
        extra = TaskFactory(company=task.company)
        for factor in ("system_access", "public_benchmark", "user_habit"):
            EvidenceFactory(
                task=extra,
                factor=factor,
                author=UserFactory(),
                verified_by=associate.user,
                verified_at=timezone.now(),
            )
    for day in (date(2026, 3, 31), date(2026, 6, 30)):
        recompute.rescore_companies(company_ids=[task.company_id], as_of=day)
    assert TaskSnapshot.objects.count() > 5
    assert page_queries(client, task.company_id) == small


def test_task_history_keeps_deleted_evidence_for_partners(client, associate, task):
    evidence = services.evidence_create(
        task=task, author=associate.user, **{**evidence_post(), "observed_on": date(2026, 1, 5)}
    )
    evidence_id = evidence.pk
    services.evidence_delete(evidence=evidence, user=associate.user)
    partner = MembershipFactory(role="partner", fund=associate.fund)
    url = reverse("task_evidence_history", args=[task.pk])
    assert signed_in(client, associate).get(url).status_code == 403
    html = signed_in(client, partner).get(url).content.decode()
    assert f"Evidence #{evidence_id}" in html
    assert f"Deleted by {associate.user.username}" in html and "Created by" in html
    outsider = MembershipFactory(role="partner")
    assert signed_in(client, outsider).get(url).status_code == 404
