"""Every URL × method × role: the expected status, and refusals change nothing.

The URL names come from the resolver: a URL without a row in MATRIX fails
test_every_url_has_a_row. To add a URL, add one line to MATRIX:

    "url_name": Row(kwargs_factory, expectations[, writes=roles whose POST changes data]),

where expectations maps each role to (GET status, POST status); the by_role
helper and the constants below cover the usual shapes. The admin/ tree is one
row ("admin"), tested at admin:index.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse

from assessments.identity import tokens
from assessments.identity.models import TokenScope
from assessments.models import Alert, EvidenceImport, ICPack
from assessments.notifications.models import Webhook, WebhookDelivery
from tests.conftest import CHROMIUM, need
from tests.security.security_world import (
    ANON,
    ASSOCIATE,
    FAST_HASHERS,
    OTHER,
    PARTNER,
    ROLES,
    VIEWER,
    World,
    build_world,
    row_counts,
    url_names,
)

# --- kwargs factories: which object each URL is asked about ---------------------------------


def no_kwargs(w: World) -> dict:
    return {}


def fund(w: World) -> dict:
    return {"fund_id": w.fund.pk}


def viewer_membership(w: World) -> dict:
    return {"fund_id": w.fund.pk, "membership_id": w.memberships[VIEWER].pk}


def draft_rubric(w: World) -> dict:
    return {"version_id": w.draft_rubric.pk}


def stale_reset_link(w: World) -> dict:
    # A link that does not verify: the page explains, and nothing changes.
    return {"uidb64": "MQ", "token": default_token_generator.make_token(w.users[VIEWER])[:-2]}


def company(w: World) -> dict:
    return {"pk": w.company.pk}


def task(w: World) -> dict:
    return {"pk": w.task.pk}


def evidence(w: World) -> dict:
    return {"pk": w.evidence.pk}


def unread_alert(w: World) -> dict:
    alert = Alert.objects.create(
        company=w.company, kind="quadrant_change", message="moved", as_of=date(2026, 1, 1)
    )
    return {"pk": alert.pk}


def evidence_import_job(w: World) -> dict:
    job = EvidenceImport.objects.create(fund=w.fund, requested_by=w.users[ASSOCIATE])
    return {"fund_id": w.fund.pk, "import_id": job.pk}


def map_csv(w: World) -> dict:
    return {"fmt": "csv"}


def task_chart(w: World) -> dict:
    need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} to render the chart")
    return {"task_id": w.task.pk, "fmt": "svg"}


def company_chart(w: World) -> dict:
    need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} to render the chart")
    return {"company_id": w.company.pk, "fmt": "svg"}


def ic_pack(w: World) -> dict:
    pack = ICPack.objects.create(fund=w.fund, as_of=date(2026, 1, 1))
    return {"pack_id": pack.pk}


def viewer_token(w: World) -> dict:
    token, _ = tokens.token_create(user=w.users[VIEWER], name="matrix", scope=TokenScope.READ)
    return {"token_id": token.pk}


def fund_webhook(w: World) -> dict:
    # .invalid never resolves: a delivery sent by a test reaches nothing.
    hook = Webhook.objects.create(fund=w.fund, url="https://hooks.invalid/hook", secret="s")
    return {"fund_id": w.fund.pk, "webhook_id": hook.pk}


def failed_delivery(w: World) -> dict:
    kwargs = fund_webhook(w)
    delivery = WebhookDelivery.objects.create(
        webhook_id=kwargs["webhook_id"], payload={"alerts": []}, status="failed", attempts=6
    )
    return {**kwargs, "delivery_id": delivery.pk}


# --- expectations ---------------------------------------------------------------------------

LOGIN = (302, 302)  # anonymous: sent to the sign-in page
NOT_FOUND = (404, 404)  # a member of another fund: the object does not exist for them
FORBIDDEN = (403, 403)  # a member whose role does not allow it
POST_ONLY_REFUSED = (405, 302)  # anonymous on a POST-only action: GET refused, POST to sign-in


def by_role(anon, other, viewer, associate, partner) -> dict[str, tuple[int, int]]:
    return {ANON: anon, OTHER: other, VIEWER: viewer, ASSOCIATE: associate, PARTNER: partner}


def everyone(statuses: tuple[int, int]) -> dict[str, tuple[int, int]]:
    return dict.fromkeys(ROLES, statuses)


def signed_in(anon, statuses) -> dict[str, tuple[int, int]]:
    return by_role(anon, statuses, statuses, statuses, statuses)


SIGNED_IN_READ = signed_in(LOGIN, (200, 200))
# A read-only page refuses POST (405) before anything else.
PARTNERS_ONLY_READ = by_role((302, 405), (404, 405), (403, 405), (403, 405), (200, 405))
PARTNERS_ONLY_FORM = by_role(LOGIN, NOT_FOUND, FORBIDDEN, FORBIDDEN, (200, 200))
# A partner's read-only page behind sign-in: POST refused (405) once signed in.
PARTNERS_ONLY_PAGE = by_role(LOGIN, (404, 405), (403, 405), (403, 405), (200, 405))
PARTNERS_ONLY_ACTION = by_role(POST_ONLY_REFUSED, (405, 404), (405, 403), (405, 403), (405, 302))
MEMBERS_WHO_ADD = by_role(LOGIN, NOT_FOUND, FORBIDDEN, (200, 400), (200, 400))
EDITORS = frozenset({ASSOCIATE, PARTNER})
# A form: an empty POST comes back with its errors (200) and writes nothing.
EDITORS_FORM = by_role(LOGIN, NOT_FOUND, FORBIDDEN, (200, 200), (200, 200))
# A confirmation page; the POST deletes and redirects.
EDITORS_CONFIRM = by_role(LOGIN, NOT_FOUND, FORBIDDEN, (200, 302), (200, 302))
# POST-only actions that ask for sign-in before looking at the method.
EDITORS_ACTION = by_role(LOGIN, (405, 404), (405, 403), (405, 302), (405, 302))
PARTNERS_ACTION = {**PARTNERS_ONLY_ACTION, ANON: LOGIN}
MEMBERS_READ = by_role(LOGIN, (404, 405), (200, 405), (200, 405), (200, 405))
MEMBERS = frozenset({VIEWER, ASSOCIATE, PARTNER})
# Staff only: everyone here is a non-staff user, sent to the admin's own sign-in page.
STAFF_ONLY = everyone((302, 302))


@dataclass(frozen=True)
class Row:
    kwargs: Callable[[World], dict]
    expect: dict[str, tuple[int, int]]
    writes: frozenset[str] = frozenset()  # roles whose accepted POST changes the database


MATRIX: dict[str, Row] = {
    # The map and the company list: any signed-in user, each sees their own funds.
    "home": Row(no_kwargs, signed_in(LOGIN, (200, 405))),
    "portfolio": Row(no_kwargs, signed_in(LOGIN, (200, 405))),
    # Health for load balancers: no sign-in, reveals no fund data.
    "healthz": Row(no_kwargs, everyone((200, 405))),
    # Authentication (Django's views).
    "login": Row(no_kwargs, signed_in((200, 200), (302, 302))),
    "logout": Row(no_kwargs, everyone((405, 302)), writes=frozenset(ROLES) - {ANON}),
    "password_change": Row(no_kwargs, signed_in(LOGIN, (200, 200))),
    "password_change_done": Row(no_kwargs, signed_in(LOGIN, (200, 405))),
    "password_reset": Row(no_kwargs, everyone((200, 200))),
    "password_reset_done": Row(no_kwargs, everyone((200, 405))),
    "password_reset_confirm": Row(stale_reset_link, everyone((200, 200))),
    "password_reset_complete": Row(no_kwargs, everyone((200, 405))),
    # Fund administration (partners).
    "fund_members": Row(fund, PARTNERS_ONLY_FORM),
    "fund_member_role": Row(viewer_membership, PARTNERS_ONLY_ACTION),
    "fund_member_remove": Row(viewer_membership, PARTNERS_ONLY_ACTION, writes={PARTNER}),
    "fund_audit": Row(fund, PARTNERS_ONLY_READ),
    "evidence_import": Row(fund, MEMBERS_WHO_ADD),
    # A background import's progress: those who may import into the fund.
    "evidence_import_progress": Row(
        evidence_import_job, by_role(LOGIN, (404, 405), (403, 405), (200, 405), (200, 405))
    ),
    # The firm-wide rubric: read by all members, changed only by a rubric owner (a firm-level
    # permission a superuser grants), not by a partner of one fund. A POST to the list
    # starts a draft; the draft's own page answers an empty POST with its errors.
    "rubric": Row(no_kwargs, signed_in(LOGIN, (200, 403))),
    "rubric_draft": Row(draft_rubric, signed_in(LOGIN, (200, 403))),
    "rubric_draft_discard": Row(draft_rubric, signed_in(POST_ONLY_REFUSED, (405, 403))),
    "rubric_preview": Row(draft_rubric, signed_in(LOGIN, (200, 405))),
    # Activation asks for a confirmation: a POST without it only asks again.
    "rubric_activate": Row(draft_rubric, signed_in(LOGIN, FORBIDDEN)),
    "rubric_activation": Row(draft_rubric, signed_in(LOGIN, (200, 405))),
    # Company pages: members read; associates and partners change companies and tasks.
    "company_detail": Row(company, MEMBERS_READ),
    "company_header": Row(company, MEMBERS_READ),
    "company_insight": Row(company, {**MEMBERS_READ, ANON: LOGIN}),
    "company_create": Row(fund, EDITORS_FORM),
    "company_edit": Row(company, EDITORS_FORM),
    "company_delete": Row(company, EDITORS_CONFIRM, writes=EDITORS),
    "task_create": Row(company, EDITORS_FORM),
    "task_edit": Row(task, EDITORS_FORM),
    "task_delete": Row(task, EDITORS_CONFIRM, writes=EDITORS),
    "task_scores": Row(task, MEMBERS_READ),
    # Evidence: associates add and change their own (the world's evidence is the
    # associate's), partners any; the history is the partners'.
    "evidence_create": Row(task, by_role(LOGIN, (405, 404), (405, 403), (405, 200), (405, 200))),
    "evidence_row": Row(evidence, MEMBERS_READ),
    "evidence_edit": Row(evidence, EDITORS_FORM),
    "evidence_delete": Row(evidence, EDITORS_ACTION, writes=EDITORS),
    "evidence_history": Row(evidence, PARTNERS_ONLY_PAGE),
    "task_evidence_history": Row(task, PARTNERS_ONLY_PAGE),
    # The review queue: a partner's own funds only (another fund's partner sees theirs).
    "review_queue": Row(no_kwargs, by_role(LOGIN, (200, 405), (403, 405), (403, 405), (200, 405))),
    "review_bulk": Row(no_kwargs, by_role(LOGIN, (405, 302), (405, 403), (405, 403), (405, 302))),
    "evidence_verify": Row(evidence, PARTNERS_ACTION, writes={PARTNER}),
    "evidence_send_back": Row(evidence, PARTNERS_ACTION, writes={PARTNER}),
    "alert_read": Row(unread_alert, PARTNERS_ACTION),
    # An empty answer to a contradiction comes back to the queue with its reason.
    "contradiction_resolve": Row(
        no_kwargs, by_role(LOGIN, (405, 302), (405, 403), (405, 403), (405, 302))
    ),
    "alerts_read_all": Row(
        no_kwargs, by_role(LOGIN, (405, 302), (405, 403), (405, 403), (405, 302))
    ),
    # Exports: any member reads; the map export covers only the user's own funds.
    "export_map": Row(map_csv, signed_in(LOGIN, (200, 405))),
    "export_task_waterfall": Row(task_chart, MEMBERS_READ),
    "export_company_history": Row(company_chart, MEMBERS_READ),
    # IC packs: any member reads and downloads; associates and partners start a build.
    "ic_pack": Row(fund, {**EDITORS_FORM, VIEWER: (200, 403)}, writes=EDITORS),
    "ic_pack_progress": Row(ic_pack, MEMBERS_READ),
    # A pack that is not built yet has nothing to download.
    "ic_pack_download": Row(ic_pack, by_role(LOGIN, (404, 405), *[(404, 405)] * 3)),
    "admin": Row(no_kwargs, STAFF_ONLY),
    # Settings: each user's own alert e-mail and API tokens (a token is its owner's alone).
    "account_settings": Row(no_kwargs, signed_in(LOGIN, (200, 200))),
    "api_tokens": Row(no_kwargs, signed_in(LOGIN, (200, 200))),
    "api_token_revoke": Row(
        viewer_token, by_role(LOGIN, (405, 404), (405, 302), (405, 404), (405, 404))
    ),
    # Sign-in with the identity provider: absent (404) until OIDC_CLIENT_ID is set; with it,
    # tests/identity/test_sso.py drives both against a provider on loopback.
    "oidc_authentication_init": Row(no_kwargs, everyone((404, 404))),
    "oidc_authentication_callback": Row(no_kwargs, everyone((404, 404))),
    # The second factor is each user's own; with no authenticator there is no code to give.
    "mfa_setup": Row(no_kwargs, signed_in(LOGIN, (200, 200))),
    "mfa_verify": Row(no_kwargs, signed_in(LOGIN, (302, 302))),
    "mfa_disable": Row(no_kwargs, signed_in(LOGIN, (405, 302))),
    # A fund's webhooks: its partners only.
    "fund_webhooks": Row(fund, PARTNERS_ONLY_FORM),
    "webhook_deliveries": Row(
        fund_webhook, by_role(LOGIN, (404, 405), (403, 405), (403, 405), (200, 405))
    ),
    "webhook_delete": Row(fund_webhook, PARTNERS_ACTION, writes={PARTNER}),
    "webhook_send_test": Row(fund_webhook, PARTNERS_ACTION, writes={PARTNER}),
    "webhook_resend": Row(failed_delivery, PARTNERS_ACTION, writes={PARTNER}),
}


def matrix_key(url_name: str) -> str:
    return "admin" if url_name.startswith("admin:") else url_name


def reverse_row(name: str, world: World) -> str:
    return reverse("admin:index" if name == "admin" else name, kwargs=MATRIX[name].kwargs(world))


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def test_every_url_has_a_row():
    keys = {matrix_key(name) for name in url_names()}
    missing = sorted(keys - MATRIX.keys() - API_MATRIX.keys())
    assert not missing, f"URL names without a row in MATRIX (add one line each): {missing}"
    stale = sorted((MATRIX.keys() | API_MATRIX.keys()) - keys)
    assert not stale, f"MATRIX rows for URLs that no longer exist: {stale}"


def test_every_row_names_every_role():
    for name, row in MATRIX.items():
        assert set(row.expect) == set(ROLES), name


CASES = [
    pytest.param(name, role, method, id=f"{name}-{role}-{method}")
    for name in MATRIX
    for role in ROLES
    for method in ("get", "post")
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role", "method"), CASES)
def test_status_and_no_change_on_refusal(name, role, method):
    world = build_world()
    row = MATRIX[name]
    url = reverse_row(name, world)
    client = world.client(role)
    before = row_counts()
    response = getattr(client, method)(url)
    expected = row.expect[role][0 if method == "get" else 1]
    assert response.status_code == expected, f"{method.upper()} {url} as {role}"
    if response.status_code == 302 and (role == ANON or name == "admin"):
        # A refusal by redirect goes to a sign-in page, never into the app.
        assert "login" in response["Location"], response["Location"]
    if method == "get" or role not in row.writes:
        assert row_counts() == before, f"{method.upper()} {url} as {role} changed the database"
    else:
        assert row_counts() != before, f"{method.upper()} {url} as {role} should have written"


@pytest.mark.django_db
def test_staff_reach_the_admin(admin_client):
    assert admin_client.get(reverse("admin:index")).status_code == 200


# A superuser belongs to no fund and may do everything: the partner's answer on every URL
# (the admin included, which partners cannot enter).
SUPERUSER_DIFFERS = {
    "admin": (200, 200),
    # Superusers own the firm's rubric; a fund's partner does not.
    "rubric": (200, 302),
    "rubric_draft": (200, 200),
    "rubric_draft_discard": (405, 302),
    "rubric_activate": (200, 200),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_superuser_gets_the_partners_answer_everywhere(name, django_user_model):
    world = build_world()
    row = MATRIX[name]
    url = reverse_row(name, world)
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = world.client(ANON)
    client.force_login(boss)
    expected = SUPERUSER_DIFFERS.get(name, row.expect[PARTNER])
    for method, status in zip(("get", "post"), expected, strict=True):
        response = getattr(client, method)(url)
        assert response.status_code == status, f"{method.upper()} {url} as superuser"


# --- The JSON API (/api/v1/): personal API tokens, not sessions -----------------------------
#
# Each role calls with its own read-write token (anonymous: none). A row names, per method,
# the status for each role; write methods carry a valid body, so that only the scoping and
# the role decide. A read token is refused every write (test_a_read_token_never_writes).
# The API takes no session cookie, so it needs no CSRF token.

UNAUTHORIZED = 401


@dataclass(frozen=True)
class ApiRow:
    kwargs: Callable[[World], dict]
    expect: dict[str, dict[str, int]]  # method -> role -> status
    body: Callable[[World], dict] | None = None  # for the write method
    writes: frozenset[str] = frozenset()


def api_roles(anon, other, viewer, associate, partner) -> dict[str, int]:
    return {ANON: anon, OTHER: other, VIEWER: viewer, ASSOCIATE: associate, PARTNER: partner}


API_SIGNED = api_roles(UNAUTHORIZED, 200, 200, 200, 200)
API_MEMBERS = api_roles(UNAUTHORIZED, 404, 200, 200, 200)
API_EDITORS_CREATE = api_roles(UNAUTHORIZED, 404, 403, 201, 201)
API_EDITORS_EDIT = api_roles(UNAUTHORIZED, 404, 403, 200, 200)
API_NOT_ALLOWED = dict.fromkeys(ROLES, 405)


def fund_id(w: World) -> dict:
    return {"fund_id": w.fund.pk}


def company_id(w: World) -> dict:
    return {"company_id": w.company.pk}


def task_id(w: World) -> dict:
    return {"task_id": w.task.pk}


def evidence_id(w: World) -> dict:
    return {"evidence_id": w.evidence.pk}


# Django's own answers, not the API's JSON.
API_PAGES = {"api:openapi-json", "api:openapi-view", "api:api-root"}

API_MATRIX: dict[str, ApiRow] = {
    # The schema and its docs: read-only, behind a sign-in to the site (a token is not
    # one: it is sent to the sign-in page), unless API_DOCS_PUBLIC opens them.
    "api:openapi-json": ApiRow(
        no_kwargs, {"get": dict.fromkeys(ROLES, 302), "post": API_NOT_ALLOWED}
    ),
    "api:openapi-view": ApiRow(
        no_kwargs, {"get": dict.fromkeys(ROLES, 302), "post": API_NOT_ALLOWED}
    ),
    # The API's root only anchors its paths.
    "api:api-root": ApiRow(no_kwargs, {"get": dict.fromkeys(ROLES, 404)}),
    "api:funds": ApiRow(no_kwargs, {"get": API_SIGNED}),
    "api:fund": ApiRow(fund_id, {"get": API_MEMBERS}),
    "api:alerts": ApiRow(no_kwargs, {"get": API_SIGNED}),
    "api:companies": ApiRow(
        no_kwargs,
        {"get": API_SIGNED, "post": API_EDITORS_CREATE},
        body=lambda w: {"fund": w.fund.pk, "name": "Matrix company"},
        writes=EDITORS,
    ),
    "api:company": ApiRow(
        company_id,
        {"get": API_MEMBERS, "patch": API_EDITORS_EDIT},
        body=lambda w: {"version": w.company.version, "sector": "Changed"},
        writes=EDITORS,
    ),
    "api:tasks": ApiRow(
        no_kwargs,
        {"get": API_SIGNED, "post": API_EDITORS_CREATE},
        body=lambda w: {"company": w.company.pk, "name": "Matrix task"},
        writes=EDITORS,
    ),
    "api:task": ApiRow(
        task_id,
        {"get": API_MEMBERS, "patch": API_EDITORS_EDIT},
        body=lambda w: {"weight": 2.5},
        writes=EDITORS,
    ),
    "api:evidence_list": ApiRow(
        no_kwargs,
        {"get": API_SIGNED, "post": API_EDITORS_CREATE},
        body=lambda w: {"task": w.task.pk, "factor": "system_access", "observed_on": "2026-01-02"},
        writes=EDITORS,
    ),
    # The world's evidence is the associate's own, so the associate may edit it.
    "api:evidence": ApiRow(
        evidence_id,
        {"get": API_MEMBERS, "patch": API_EDITORS_EDIT},
        body=lambda w: {"version": w.evidence.version, "note": "Changed"},
        writes=EDITORS,
    ),
}


def api_client(world: World, role: str, scope: str = TokenScope.READ_WRITE) -> Client:
    if role == ANON:
        return Client()
    _, key = tokens.token_create(user=world.users[role], name="matrix", scope=scope)
    return Client(headers={"Authorization": f"Bearer {key}"})


def api_call(client: Client, method: str, url: str, body: dict | None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


API_CASES = [
    pytest.param(name, role, method, id=f"{name}-{role}-{method}")
    for name, row in API_MATRIX.items()
    for method in row.expect
    for role in ROLES
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role", "method"), API_CASES)
def test_api_status_and_no_change_on_refusal(name, role, method):
    world = build_world()
    row = API_MATRIX[name]
    client = api_client(world, role)
    url = reverse(name, kwargs=row.kwargs(world))
    body = row.body(world) if method != "get" and row.body else None
    before = row_counts()
    response = api_call(client, method, url, body)
    assert response.status_code == row.expect[method][role], (
        f"{method.upper()} {url} as {role}: {response.content[:300]!r}"
    )
    if response.status_code >= 400 and name not in API_PAGES:
        assert response["Content-Type"].startswith("application/json"), "API errors are JSON"
    if method == "get" or role not in row.writes:
        assert row_counts() == before, f"{method.upper()} {url} as {role} changed the database"
    else:
        assert row_counts() != before, f"{method.upper()} {url} as {role} should have written"


WRITE_CASES = [
    pytest.param(name, method, id=f"{name}-{method}")
    for name, row in API_MATRIX.items()
    for method in row.expect
    if method != "get" and row.body
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), WRITE_CASES)
def test_a_read_token_never_writes(name, method):
    world = build_world()
    row = API_MATRIX[name]
    client = api_client(world, PARTNER, TokenScope.READ)
    before = row_counts()
    response = api_call(client, method, reverse(name, kwargs=row.kwargs(world)), row.body(world))
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n, r in API_MATRIX.items() if r.writes))
def test_superuser_token_gets_the_partners_answer_on_the_api(name, django_user_model):
    world = build_world()
    row = API_MATRIX[name]
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    _, key = tokens.token_create(user=boss, name="boss", scope=TokenScope.READ_WRITE)
    client = Client(headers={"Authorization": f"Bearer {key}"})
    for method, statuses in row.expect.items():
        body = row.body(world) if method != "get" else None
        response = api_call(client, method, reverse(name, kwargs=row.kwargs(world)), body)
        assert response.status_code == statuses[PARTNER], f"{method.upper()} {name} as superuser"
