"""The cheaper hardening of finding 9: a read token refused before its body is read, rate
limits (429 with Retry-After) on the API, the sign-in, the second factor and the token
page, one company's past score computed from that company alone, the API's schema and
docs behind a sign-in, the rubric read only by members."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from assessments import scoring_sql
from assessments.api import StrictJsonParser
from assessments.selectors import portfolio as portfolio_selectors
from tests.api.helpers import build_api_world
from tests.factories import CompanyFactory, EvidenceFactory, TaskFactory, UserFactory
from tests.security.security_world import FAST_HASHERS, PARTNER, VIEWER

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def fast(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def test_finding9_a_read_token_is_refused_before_the_body_is_read(monkeypatch):
    w = build_api_world()
    parsed = []
    original = StrictJsonParser.parse_body
    monkeypatch.setattr(
        StrictJsonParser,
        "parse_body",
        lambda self, request: parsed.append(1) or original(self, request),
    )
    body = json.dumps({"fund": w.world.fund.pk, "name": "x" * 1000, "filler": ["y"] * 10_000})
    answer = w.client(PARTNER, "read").post(
        f"{API}/companies", data=body, content_type="application/json"
    )
    assert answer.status_code == 403 and "read-only" in answer.json()["detail"]
    assert parsed == []
    written = w.client(PARTNER).post(
        f"{API}/companies",
        data=json.dumps({"fund": w.world.fund.pk, "name": "Allowed"}),
        content_type="application/json",
    )
    assert written.status_code == 201 and parsed == [1]


def test_finding9_the_api_is_rate_limited_per_token_and_per_address(settings):
    settings.RATE_LIMIT_API_PER_TOKEN = 3
    settings.RATE_LIMIT_API_PER_ADDRESS = 5
    w = build_api_world()
    viewer, partner = w.client(VIEWER), w.client(PARTNER)
    assert [viewer.get(f"{API}/funds").status_code for _ in range(3)] == [200] * 3
    refused = viewer.get(f"{API}/funds")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 61
    assert "Too many API requests" in refused.json()["detail"]
    # Another token from the same address goes on, until the address's own limit.
    assert partner.get(f"{API}/funds").status_code == 200
    assert partner.get(f"{API}/funds").status_code == 429
    elsewhere = Client(
        REMOTE_ADDR="198.51.100.9",
        headers={"Authorization": f"Bearer {w.keys[PARTNER, 'read_write']}"},
    )
    assert elsewhere.get(f"{API}/funds").status_code == 200


@pytest.mark.parametrize(
    ("limit", "url", "data"),
    [
        ("RATE_LIMIT_SIGN_IN", "login", {"username": "nobody", "password": "wrong"}),
        ("RATE_LIMIT_SECOND_FACTOR", "mfa_verify", {"code": "123456"}),
        ("RATE_LIMIT_TOKENS", "api_tokens", {"name": "t", "scope": "read", "password": "x"}),
    ],
)
def test_finding9_sign_in_second_factor_and_token_pages_are_rate_limited(
    settings, limit, url, data
):
    setattr(settings, limit, 2)
    client = Client()
    client.force_login(UserFactory())
    answers = [client.post(reverse(url), data) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] != [429, 429]
    assert answers[2].status_code == 429 and int(answers[2]["Retry-After"]) >= 1
    # Reading the page is not counted.
    assert client.get(reverse(url)).status_code != 429


def test_finding9_one_companys_past_score_is_computed_from_that_company_alone(monkeypatch):
    w = build_api_world()
    for n in range(3):
        task = TaskFactory(company=CompanyFactory(fund=w.world.fund, name=f"Other {n}"))
        EvidenceFactory(task=task, observed_on=date(2025, 6, 1))
    EvidenceFactory(task=w.world.task, observed_on=date(2025, 6, 1))
    asked: list[set[int]] = []

    def spy(original):
        def scores(weights, *args, **kwargs):
            asked.append({company for _, company, _ in weights})
            return original(weights, *args, **kwargs)

        return scores

    monkeypatch.setattr(scoring_sql, "company_scores", spy(scoring_sql.company_scores))
    monkeypatch.setattr(
        portfolio_selectors, "company_scores", spy(portfolio_selectors.company_scores)
    )
    client = w.client(VIEWER)
    one = client.get(f"{API}/companies/{w.world.company.pk}", {"as_of": "2026-01-01"}).json()
    assert asked == [{w.world.company.pk}]
    listed = client.get(f"{API}/companies", {"as_of": "2026-01-01", "page_size": 50}).json()
    same = next(c for c in listed["items"] if c["id"] == w.world.company.pk)
    assert one["score"] == same["score"] and one["score"]["evidence_count"] == 2


def test_finding9_the_schema_and_docs_are_behind_a_sign_in(client, settings):
    for name in ("api:openapi-json", "api:openapi-view"):
        answer = client.get(reverse(name))
        assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))
    settings.API_DOCS_PUBLIC = True
    assert client.get(reverse("api:openapi-json")).status_code == 200


def test_finding9_an_account_without_a_fund_reads_no_rubric_version(client):
    w = build_api_world()
    client.force_login(UserFactory(username="drifter"))
    assert client.get(reverse("rubric")).status_code == 403
    assert client.get(reverse("rubric_draft", args=[w.world.draft_rubric.pk])).status_code == 403
    client.force_login(w.world.users[VIEWER])
    assert client.get(reverse("rubric")).status_code == 200
