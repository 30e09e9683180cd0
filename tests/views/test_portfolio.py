"""Sign-in and the portfolio page."""

import os
import re

import pytest
from django.db import connection
from django.urls import reverse

from tests.conftest import IN_CI
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_portfolio_needs_a_signed_in_user(client):
    response = client.get(reverse("portfolio"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_portfolio_lists_only_the_users_funds(client):
    membership = MembershipFactory(role="viewer")
    mine = CompanyFactory(fund=membership.fund, name="Mine Inc")
    CompanyFactory(name="Theirs Inc")
    client.force_login(membership.user)
    page = client.get(reverse("portfolio")).content.decode()
    assert "Mine Inc" in page and "Theirs Inc" not in page
    assert reverse("company_detail", args=[mine.pk]) in page
    assert "Unscored" in page


def test_demo_user_can_sign_in(client):
    UserFactory(username="partner", password="moatmap-demo")
    response = client.post(reverse("login"), {"username": "partner", "password": "moatmap-demo"})
    assert response.status_code == 302
    assert client.get(reverse("portfolio")).status_code == 200


def test_suite_runs_on_postgresql_when_asked():
    url = os.environ.get("DATABASE_URL", "")
    if IN_CI or url.startswith("postgres"):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"


def test_another_funds_company_answers_the_same_404_page_as_a_missing_one(client):
    membership = MembershipFactory(role="viewer")
    theirs = CompanyFactory(name="Theirs Inc")
    client.force_login(membership.user)
    hidden = client.get(reverse("company_detail", args=[theirs.pk]))
    missing = client.get(reverse("company_detail", args=[theirs.pk + 1000]))
    assert hidden.status_code == missing.status_code == 404
    # Identical but for the per-response CSRF mask.
    token = re.compile(rb'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+"')
    assert token.sub(b"", hidden.content) == token.sub(b"", missing.content)
    assert b"Theirs Inc" not in hidden.content and b"Back to the map" in hidden.content


def test_a_refused_action_explains_itself(client):
    membership = MembershipFactory(role="viewer")
    client.force_login(membership.user)
    response = client.get(reverse("review_queue"))
    assert response.status_code == 403
    assert b"Your role does not allow that" in response.content
