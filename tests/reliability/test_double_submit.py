"""Double submit is harmless: identical creates racing each other store one row, and every
other request gets the form back with "already exists", never an error page.

Eight threads POST the same "new company" (then "new task", then an evidence note) at
once, each through its own database connection. On PostgreSQL (CI) the losers wait on the
unique index and meet the constraint; on SQLite the writes queue on the database lock.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from assessments import selectors
from assessments.models import Company, Evidence, Role, Task
from tests.factories import CompanyFactory, MembershipFactory, TaskFactory
from tests.security.security_world import FAST_HASHERS

PARALLEL = 8
pytestmark = pytest.mark.django_db(transaction=True)


def post_at_once(user, url: str, data: dict) -> list:
    """The same POST from PARALLEL threads released together; their responses."""
    start = threading.Barrier(PARALLEL)
    responses: list = [None] * PARALLEL

    def one(i: int) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        start.wait()
        try:
            responses[i] = client.post(url, data)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.fixture
def associate(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    return MembershipFactory(role=Role.ASSOCIATE)


def test_eight_identical_new_company_posts_create_one(associate):
    url = reverse("company_create", args=[associate.fund_id])
    responses = post_at_once(associate.user, url, {"name": "Lexbench", "status": "portfolio"})
    statuses = sorted(r.status_code for r in responses)
    assert Company.objects.filter(fund=associate.fund, name__iexact="lexbench").count() == 1
    assert statuses.count(302) == 1, statuses
    losers = [r for r in responses if r.status_code != 302]
    assert all(r.status_code == 200 for r in losers), statuses
    for response in losers:
        assert "already has a company of that name" in response.content.decode()


def test_eight_identical_new_task_posts_create_one(associate):
    company = CompanyFactory(fund=associate.fund)
    url = reverse("task_create", args=[company.pk])
    responses = post_at_once(associate.user, url, {"name": "Contract review", "weight": "2"})
    statuses = sorted(r.status_code for r in responses)
    assert Task.objects.filter(company=company).count() == 1
    assert statuses.count(302) == 1, statuses
    for response in (r for r in responses if r.status_code != 302):
        assert response.status_code == 200, statuses
        assert "already has a task of that name" in response.content.decode()


def test_a_name_differing_only_in_case_is_the_same_company(associate):
    client = Client()
    client.force_login(associate.user)
    url = reverse("company_create", args=[associate.fund_id])
    assert client.post(url, {"name": "Lexbench", "status": "portfolio"}).status_code == 302
    again = client.post(url, {"name": "LEXBENCH", "status": "portfolio"})
    assert "already has a company of that name" in again.content.decode()
    assert Company.objects.filter(fund=associate.fund).count() == 1


def test_eight_identical_evidence_posts_store_one_note(associate):
    """A double click, or a retried request, sends the form's one-time token again."""
    task = TaskFactory(company__fund=associate.fund)
    url = reverse("evidence_create", args=[task.pk])
    form = {
        "factor": "system_access",
        "stance": "1",
        "strength": "4",
        "confidence": "high",
        "observed_on": selectors.today().isoformat(),
        "source": "Call notes",
        "note": "Signed a three-year DPA giving read access to the document system.",
        "submission": str(uuid.uuid4()),
    }
    responses = post_at_once(associate.user, url, form)
    statuses = sorted(r.status_code for r in responses)
    assert all(status < 500 for status in statuses), statuses
    assert Evidence.objects.filter(task=task).count() == 1
