"""The JSON API as a client uses it: tokens, scoping, roles, validation, locking, scores."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse

from assessments import selectors, services
from assessments.identity.models import ApiToken, TokenScope
from assessments.models import Company, Evidence
from assessments.selectors.portfolio import score_lines
from assessments.text import clean_text
from tests.factories import CompanyFactory, EvidenceFactory, TaskFactory, UserFactory
from tests.security.security_world import ANON, ASSOCIATE, OTHER, PARTNER, VIEWER

from .helpers import build_api_world

pytestmark = pytest.mark.django_db

API = "/api/v1"


def post(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def w():
    return build_api_world()


def test_a_token_is_stored_only_as_a_hash(w):
    key = w.keys[VIEWER, TokenScope.READ]
    token = ApiToken.objects.get(name=f"{VIEWER} read")
    assert key not in token.key_hash and key.startswith(token.prefix)
    assert ApiToken.objects.filter(key_hash__contains=key[3:]).count() == 0


def test_without_a_token_or_with_a_revoked_one_the_api_answers_401(w):
    assert w.client(ANON).get(f"{API}/funds").status_code == 401
    client = w.client(VIEWER)
    token = ApiToken.objects.get(name=f"{VIEWER} read_write")
    assert client.get(f"{API}/funds").status_code == 200
    token.revoked_at = token.created_at
    token.save()
    response = client.get(f"{API}/funds")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


def test_lists_show_only_the_callers_funds(w):
    body = w.client(OTHER).get(f"{API}/companies").json()
    assert {item["fund"] for item in body["items"]} == {w.world.other_fund.pk}
    mine = w.client(VIEWER).get(f"{API}/companies").json()
    assert [item["id"] for item in mine["items"]] == [w.world.company.pk]
    funds = w.client(VIEWER).get(f"{API}/funds").json()["items"]
    assert funds == [
        {"id": w.world.fund.pk, "name": w.world.fund.name, "description": "", "role": "viewer"}
    ]


def test_another_funds_objects_answer_404_like_missing_ones(w):
    client = w.client(OTHER)
    for url in (
        f"{API}/companies/{w.world.company.pk}",
        f"{API}/tasks/{w.world.task.pk}",
        f"{API}/evidence/{w.world.evidence.pk}",
        f"{API}/funds/{w.world.fund.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"] == "No such object."
    assert client.get(f"{API}/companies/999999").json()["detail"] == "No such object."


def test_a_read_token_cannot_write_whatever_the_role(w):
    client = w.client(PARTNER, TokenScope.READ)
    before = Company.objects.count()
    response = post(client, f"{API}/companies", {"fund": w.world.fund.pk, "name": "Nope"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert Company.objects.count() == before


def test_a_viewer_cannot_add_evidence_and_an_associate_can(w, django_capture_on_commit_callbacks):
    body = {"task": w.world.task.pk, "factor": "system_access", "observed_on": "2026-01-02"}
    assert post(w.client(VIEWER), f"{API}/evidence", body).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = post(w.client(ASSOCIATE), f"{API}/evidence", body)
    assert response.status_code == 201, response.content
    created = Evidence.objects.get(pk=response.json()["id"])
    assert created.author == w.world.users[ASSOCIATE]
    # The audit trail names the token's owner, as for a page.
    assert created.history.first().history_user == w.world.users[ASSOCIATE]
    # Saved through the service: the task was re-scored (jobs run inline in tests).
    task = w.client(ASSOCIATE).get(f"{API}/tasks/{w.world.task.pk}").json()
    assert task["score"]["evidence_count"] == 2
    assert task["score"]["quadrant"] != "unscored"


def test_the_forms_rules_apply_with_field_messages(w):
    client = w.client(PARTNER)
    future = (selectors.today() + timedelta(days=3)).isoformat()
    response = post(
        client,
        f"{API}/evidence",
        {"task": w.world.task.pk, "factor": "system_access", "observed_on": future},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "observed_on": ["Evidence cannot be observed in the future."]
    }
    # The lead partner must be a partner of this fund (CompanyForm's rule).
    response = post(
        client,
        f"{API}/companies",
        {"fund": w.world.fund.pk, "name": "New", "lead_partner": w.world.users[VIEWER].pk},
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["lead_partner"]
    response = post(
        client, f"{API}/companies", {"fund": w.world.fund.pk, "name": w.world.company.name}
    )
    assert response.json()["errors"] == {"name": ["This fund already has a company of that name."]}
    response = post(
        client, f"{API}/tasks", {"company": w.world.company.pk, "name": "t", "weight": 0}
    )
    assert response.status_code == 400 and "weight" in response.json()["errors"]
    response = post(client, f"{API}/evidence", {"task": w.world.task.pk})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"factor", "observed_on"}


def test_an_edit_from_an_old_version_answers_409_and_changes_nothing(w):
    client = w.client(PARTNER)
    url = f"{API}/companies/{w.world.company.pk}"
    version = client.get(url).json()["version"]
    first = post(client, url, {"version": version, "sector": "Legal tech"}, "patch")
    assert first.status_code == 200 and first.json()["sector"] == "Legal tech"
    assert first.json()["version"] == version + 1
    stale = post(client, url, {"version": version, "sector": "Insurance"}, "patch")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == version + 1
    assert Company.objects.get(pk=w.world.company.pk).sector == "Legal tech"
    ev = f"{API}/evidence/{w.world.evidence.pk}"
    assert post(client, ev, {"version": 99, "strength": 5}, "patch").status_code == 409
    assert post(client, ev, {"version": 1, "strength": 5}, "patch").json()["strength"] == 5


def test_an_associate_edits_only_their_own_evidence(w):
    mine = w.world.evidence  # written by the associate
    theirs = EvidenceFactory(task=w.world.task, author=w.world.users[PARTNER])
    client = w.client(ASSOCIATE)
    assert (
        post(client, f"{API}/evidence/{mine.pk}", {"version": 1, "note": "x"}, "patch").status_code
        == 200
    )
    response = post(client, f"{API}/evidence/{theirs.pk}", {"version": 1, "note": "x"}, "patch")
    assert response.status_code == 403


def test_pagination_and_filters(w):
    for n in range(5):
        CompanyFactory(fund=w.world.fund, name=f"Zeta {n}")
    client = w.client(VIEWER)
    page = client.get(f"{API}/companies?page=2&page_size=2").json()
    assert (page["count"], page["page"], page["page_size"]) == (6, 2, 2)
    assert [c["name"] for c in page["items"]] == ["Zeta 1", "Zeta 2"]
    other_task = TaskFactory(company=Company.objects.get(name="Zeta 0"))
    EvidenceFactory(task=other_task)
    by_company = client.get(f"{API}/evidence?company={w.world.company.pk}").json()
    assert [e["id"] for e in by_company["items"]] == [w.world.evidence.pk]
    assert client.get(f"{API}/evidence?verified=true").json()["count"] == 0
    assert client.get(f"{API}/tasks?company={other_task.company_id}").json()["count"] == 1


def test_scores_as_of_a_date_agree_with_export_scores(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_create(
            task=w.world.task,
            author=w.world.users[PARTNER],
            factor="proprietary_data",
            stance=1,
            strength=5,
            confidence="high",
            observed_on=date(2026, 3, 1),
        )
    as_of = date(2026, 6, 30)
    lines = {(line.company, line.task): line.score for line in score_lines(as_of=as_of)}
    client = w.client(VIEWER)
    company = client.get(f"{API}/companies/{w.world.company.pk}?as_of={as_of}").json()
    expected = lines[w.world.company.name, ""]
    assert company["as_of"] == as_of.isoformat()
    assert company["score"]["x"] == pytest.approx(expected.x)
    assert company["score"]["y"] == pytest.approx(expected.y)
    assert company["score"]["quadrant"] == expected.quadrant
    task = client.get(f"{API}/tasks/{w.world.task.pk}?as_of={as_of}").json()
    assert task["score"]["y"] == pytest.approx(lines[w.world.company.name, w.world.task.name].y)


@pytest.mark.parametrize(
    "query",
    [
        "as_of=0001-01-01",
        "as_of=9999-12-31",
        "as_of=not-a-date",
        "page=0",
        "page=99999999999999999999999",
        "page_size=100000",
        "fund=9223372036854775808",
        "fund=-1",
        "status=%00",
        "sector=%00%01%1f",
    ],
)
def test_odd_query_strings_get_400_not_500(w, query):
    response = w.client(VIEWER).get(f"{API}/companies?{query}")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        '{"task": 1, "factor": "system_access", "observed_on": "2026-01-01", "note": "\\ud800"}',
        '{"task": 99999999999999999999999999, "factor": "x", "observed_on": "2026-01-01"}',
        '{"task": 1, "factor": "system_access", "observed_on": "0001-01-01", "strength": 1e308}',
        '{"task": 1, "factor": "system_access", "observed_on": "9999-12-31"}',
        "[1, 2",
        '"just text"',
        "\x00\x01\x02",
    ],
)
def test_odd_bodies_get_400_not_500(w, body):
    body = body.replace('"task": 1,', f'"task": {w.world.task.pk},')
    before = Evidence.objects.count()
    response = w.client(PARTNER).post(f"{API}/evidence", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert Evidence.objects.count() == before


def test_control_characters_are_cleaned_as_the_pages_clean_them(w):
    name, description = "Tab\tand\x07bell", "line\x0bfeed and a\x00NUL"
    response = post(
        w.client(PARTNER),
        f"{API}/companies",
        {"fund": w.world.fund.pk, "name": name, "description": description},
    )
    assert response.status_code == 201, response.content
    company = Company.objects.get(pk=response.json()["id"])
    assert company.name == clean_text(name, single_line=True)
    assert company.description == clean_text(description)
    assert "\x07" not in company.name
    assert "\x0b" not in company.description and "\x00" not in company.description


def test_huge_weights_and_money_are_refused_with_messages(w):
    client = w.client(PARTNER)
    response = post(
        client, f"{API}/tasks", {"company": w.world.company.pk, "name": "t", "weight": 1e308}
    )
    assert response.status_code == 400 and "weight" in response.json()["errors"]
    response = post(
        client, f"{API}/companies", {"fund": w.world.fund.pk, "name": "Big", "arr": 10**30}
    )
    assert response.status_code == 400 and "arr" in response.json()["errors"]


def test_the_schema_and_the_docs_are_served_from_the_installed_package(client):
    client.force_login(UserFactory())
    schema = client.get(reverse("api:openapi-json")).json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/evidence/{evidence_id}" in schema["paths"]
    assert "bearerAuth" in json.dumps(schema["components"]) or "TokenAuth" in json.dumps(
        schema["components"]
    )
    docs = client.get(reverse("api:openapi-view")).content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_hostile_text_comes_back_as_is_in_json_that_no_browser_renders():
    from tests.security.hostile import PAYLOAD, hostile_world_text

    w = build_api_world(**hostile_world_text())
    client = w.client(PARTNER)
    for url in (f"{API}/companies", f"{API}/tasks", f"{API}/evidence", f"{API}/funds"):
        response = client.get(url)
        assert response["Content-Type"].startswith("application/json"), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert any(PAYLOAD in text for text in strings(response.json())), url


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for item in value for s in strings(item)] if isinstance(value, list) else []
