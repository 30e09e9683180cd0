"""The security baseline: CSRF, escaping, sign-in, sessions, headers, deploy settings,
exports and uploads, fund administration and the audit trail."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import demo, services
from assessments.exports import csv as score_csv
from assessments.models import Evidence, Membership, Role, RubricVersion
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    TaskFactory,
    UserFactory,
    make_rubric_owner,
)
from tests.security.hostile import PAYLOAD, assert_escaped, hostile_world_text
from tests.security.security_world import (
    ANON,
    ASSOCIATE,
    FAST_HASHERS,
    PARTNER,
    VIEWER,
    build_world,
    row_counts,
)
from tests.security.test_access_matrix import MATRIX, reverse_row

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def csrf_token_of(html: str) -> str:
    """The token base.html gives htmx through <body hx-headers=...>."""
    match = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    assert match, "base.html must carry the CSRF token in <body hx-headers>"
    return match.group(1)


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("role", [ANON, PARTNER])
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_unsafe_request_without_csrf_token_is_refused(fast_passwords, name, role, htmx):
    world = build_world()
    client = world.client(role, enforce_csrf_checks=True)
    headers = {"HX-Request": "true"} if htmx else {}
    url = reverse_row(name, world)
    before = row_counts()
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 403, f"{method.upper()} {name} as {role}"
        assert b"CSRF" in response.content
    assert row_counts() == before


@pytest.mark.django_db
def test_htmx_post_with_the_pages_csrf_token_succeeds(fast_passwords):
    world = build_world()
    client = world.client(PARTNER, enforce_csrf_checks=True)
    page = client.get(reverse("fund_members", args=[world.fund.pk])).content.decode()
    viewer = world.memberships[VIEWER]
    response = client.post(
        reverse("fund_member_role", args=[world.fund.pk, viewer.pk]),
        {"role": Role.ASSOCIATE},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token_of(page)},
    )
    assert response.status_code == 200
    assert "membershipChanged" in json.loads(response["HX-Trigger"])
    assert b'<tr id="member-' in response.content and b"<html" not in response.content
    viewer.refresh_from_db()
    assert viewer.role == Role.ASSOCIATE


# --- Hostile text ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_hostile_text_comes_back_escaped_on_every_page_and_fragment(fast_passwords):
    world = build_world(**hostile_world_text())
    for user in world.users.values():
        user.email = f"{user.username}{PAYLOAD}"[:254]
        user.save()
    # Changes for the audit trail to show.
    services.membership_change(
        actor=world.users[PARTNER], membership=world.memberships[VIEWER], role=Role.ASSOCIATE
    )
    world.company.description = "changed " + PAYLOAD
    world.company.save()
    partner = world.client(PARTNER)
    fund_id = world.fund.pk
    pages = {
        "portfolio": partner.get(reverse("portfolio")),
        "home": partner.get(reverse("home")),
        "fund_members": partner.get(reverse("fund_members", args=[fund_id])),
        "fund_audit": partner.get(reverse("fund_audit", args=[fund_id])),
        "rubric": partner.get(reverse("rubric")),
        "member row fragment": partner.post(
            reverse("fund_member_role", args=[fund_id, world.memberships[VIEWER].pk]),
            {"role": Role.VIEWER},
            headers={"HX-Request": "true"},
        ),
        "invite form error": partner.post(
            reverse("fund_members", args=[fund_id]), {"username": PAYLOAD, "role": "viewer"}
        ),
        "evidence import errors": partner.post(
            reverse("evidence_import", args=[fund_id]),
            {"file": SimpleUploadedFile("e.csv", evidence_csv(fund=PAYLOAD[:150]).encode())},
        ),
    }
    for where, response in pages.items():
        assert response.status_code in (200, 400), where
        assert_escaped(response.content, where)


# --- Sign-in, sessions ----------------------------------------------------------------------


def login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_unknown_user_and_wrong_password_get_the_same_answer():
    UserFactory(username="alice", password="correct-horse-battery")
    unknown = login(Client(), "nobody", "whatever-password")
    wrong = login(Client(), "alice", "whatever-password")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].errors == wrong.context["form"].errors
    assert unknown.content.replace(b"nobody", b"alice") == wrong.content.replace(
        csrf_bytes(wrong), csrf_bytes(unknown)
    ).replace(b"nobody", b"alice")


def csrf_bytes(response) -> bytes:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content).group(1)


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_with_the_right_password(settings):
    UserFactory(username="alice", password="correct-horse-battery")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "alice", "wrong-password").status_code == 200
    # The failure that reaches the limit is answered with the lockout page already.
    assert login(client, "alice", "wrong-password").status_code in (403, 429)
    locked = login(client, "alice", "correct-horse-battery")
    assert locked.status_code in (403, 429)
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_in_starts_a_new_session():
    UserFactory(username="alice", password="correct-horse-battery")
    before = SessionStore()
    before["visited"] = True
    before.create()
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = before.session_key
    assert login(client, "alice", "correct-horse-battery").status_code == 302
    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before.session_key
    assert not SessionStore().exists(before.session_key)


@pytest.mark.django_db
def test_sign_out_ends_the_session_on_the_server():
    UserFactory(username="alice", password="correct-horse-battery")
    client = Client()
    login(client, "alice", "correct-horse-battery")
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert SessionStore().exists(key)
    assert client.post(reverse("logout")).status_code == 302
    assert not SessionStore().exists(key)
    # Replaying the old cookie gets the sign-in page, not the app.
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert replay.get(reverse("portfolio")).status_code == 302


@pytest.mark.django_db
def test_password_reset_mail_goes_out_with_a_working_link(mailoutbox, fast_passwords):
    UserFactory(username="alice", email="alice@example.com", password="correct-horse-battery")
    client = Client()
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/]+(/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done.status_code == 302
    assert login(Client(), "alice", "a-brand-new-passphrase").status_code == 302


@pytest.mark.django_db
def test_password_change_keeps_the_user_signed_in(fast_passwords):
    user = UserFactory(username="alice", password="correct-horse-battery")
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("password_change_done")).status_code == 200
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_argon2_is_the_first_password_hasher():
    assert django_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


# --- Headers and deploy settings ----------------------------------------------------------


@pytest.mark.django_db
def test_responses_carry_the_security_headers(client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    scripts = policy["script-src"].split()
    assert scripts == ["'self'"], "no inline script on this page: only our own files"
    remote = [s for s in scripts if "://" in s or s in ("*", "https:", "http:", "data:")]
    assert not remote, f"script-src allows remote or data scripts: {remote}"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert policy["frame-ancestors"] == "'none'"
    assert "'self'" in policy["default-src"]


def test_csp_nonce_reaches_the_header_when_a_page_uses_it(rf):
    from csp.middleware import CSPMiddleware

    seen = {}

    def page(request):
        seen["nonce"] = str(request.csp_nonce)
        return HttpResponse(f'<script nonce="{seen["nonce"]}">1</script>')

    response = CSPMiddleware(page)(rf.get("/"))
    assert f"'nonce-{seen['nonce']}'" in response["Content-Security-Policy"]


def test_deploy_check_passes_with_production_settings():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_", "SESSION_", "CSRF_", "PYTEST"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="moatmap.example.com",
        DJANGO_SETTINGS_MODULE="moatapp.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Exports and uploads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Lexbench", "Lexbench"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell, safe):
    assert score_csv.csv_safe(cell) == safe


def evidence_csv(*, fund: str, company: str = "Acme", rows: int = 1) -> str:
    header = "fund,company,task,factor,stance,strength,confidence,observed_on,note\n"
    line = f'"{fund}",{company},Review contracts,system_access,supports,3,medium,2025-01-01,ok\n'
    return header + line * rows


def upload(client, fund_id: int, text: str):
    return client.post(
        reverse("evidence_import", args=[fund_id]),
        {"file": SimpleUploadedFile("evidence.csv", text.encode(), content_type="text/csv")},
    )


@pytest.mark.django_db
def test_evidence_upload_writes_rows_with_their_history(fast_passwords):
    world = build_world()
    response = upload(world.client(ASSOCIATE), world.fund.pk, evidence_csv(fund=world.fund.name))
    assert response.status_code == 302
    imported = Evidence.objects.filter(task__company__name="Acme")
    assert imported.count() == 1
    assert Evidence.history.filter(id=imported.get().id, history_type="+").count() == 1


@pytest.mark.django_db
def test_oversized_upload_is_refused_with_a_clear_message(settings, fast_passwords):
    world = build_world()
    settings.MAX_UPLOAD_BYTES = 300
    text = evidence_csv(fund=world.fund.name, rows=10)
    assert len(text.encode()) > 300
    client = world.client(PARTNER)
    before = row_counts()
    response = upload(client, world.fund.pk, text)
    assert response.status_code == 400
    assert b"the largest accepted is 300" in response.content
    assert row_counts() == before


@pytest.mark.django_db
def test_upload_rows_for_another_fund_are_refused_even_for_its_member(fast_passwords):
    world = build_world()
    Membership.objects.create(user=world.users[PARTNER], fund=world.other_fund, role=Role.PARTNER)
    client = world.client(PARTNER)
    before = row_counts()
    response = upload(client, world.fund.pk, evidence_csv(fund=world.other_fund.name))
    assert response.status_code == 400
    assert b"upload it from that fund" in response.content
    assert row_counts() == before


# --- Members ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_invites_an_existing_user(fast_passwords):
    world = build_world()
    UserFactory(username="newcomer")
    client = world.client(PARTNER)
    url = reverse("fund_members", args=[world.fund.pk])
    assert client.post(url, {"username": "newcomer", "role": "associate"}).status_code == 302
    membership = Membership.objects.get(fund=world.fund, user__username="newcomer")
    assert membership.role == Role.ASSOCIATE
    assert membership.history.get().history_user == world.users[PARTNER]
    again = client.post(url, {"username": "newcomer", "role": "viewer"})
    assert b"already a member" in again.content
    unknown = client.post(url, {"username": "ghost", "role": "viewer"})
    assert b"no active user named" in unknown.content


@pytest.mark.django_db
def test_last_partner_cannot_leave_or_demote_themselves(fast_passwords):
    world = build_world()
    mine = world.memberships[PARTNER]
    client = world.client(PARTNER)
    role_url = reverse("fund_member_role", args=[world.fund.pk, mine.pk])
    response = client.post(role_url, {"role": "viewer"}, headers={"HX-Request": "true"})
    assert b"at least one partner" in response.content
    remove_url = reverse("fund_member_remove", args=[world.fund.pk, mine.pk])
    client.post(remove_url)
    mine.refresh_from_db()
    assert mine.role == Role.PARTNER
    # With a second partner, the first may step down.
    services.membership_change(
        actor=world.users[PARTNER], membership=world.memberships[ASSOCIATE], role=Role.PARTNER
    )
    assert client.post(role_url, {"role": "viewer"}).status_code == 302
    mine.refresh_from_db()
    assert mine.role == Role.VIEWER


@pytest.mark.django_db
def test_membership_services_refuse_a_non_partner(fast_passwords):
    world = build_world()
    with pytest.raises(PermissionDenied):
        services.membership_change(
            actor=world.users[ASSOCIATE], membership=world.memberships[VIEWER], role="partner"
        )
    assert Membership.objects.get(pk=world.memberships[VIEWER].pk).role == Role.VIEWER


# --- Audit trail ------------------------------------------------------------------------------


def audit_queries(client, fund_id: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("fund_audit", args=[fund_id])).status_code == 200
    return len(queries)


def audit_changes(world, numbers: range) -> None:
    """Changes of each audited kind in the fund, creations and updates, numbered."""
    for i in numbers:
        company = CompanyFactory(fund=world.fund, name=f"Extra company {world.fund.pk}-{i}")
        company.sector = "Changed"
        company.save()
        task = TaskFactory(company=company, name=f"Extra task {i}")
        task.weight = 2.0
        task.save()
        EvidenceFactory(task=task)
        role = Role.ASSOCIATE if world.memberships[VIEWER].role == Role.VIEWER else Role.VIEWER
        services.membership_change(
            actor=world.users[PARTNER], membership=world.memberships[VIEWER], role=role
        )


@pytest.mark.django_db
def test_audit_trail_shows_the_funds_changes_newest_first_in_constant_queries(fast_passwords):
    world = build_world()
    client = world.client(PARTNER)
    audit_changes(world, range(1))
    few = audit_queries(client, world.fund.pk)
    audit_changes(world, range(1, 21))
    # Every kind on both pages: the first shows the rubric's first version, this its next.
    owner = make_rubric_owner(world.users[PARTNER])
    services.rubric_activate(version=world.draft_rubric, user=owner)
    CompanyFactory(fund=world.other_fund, name="Elsewhere Inc")
    assert audit_queries(client, world.fund.pk) == few
    page = client.get(reverse("fund_audit", args=[world.fund.pk])).content.decode()
    assert "Elsewhere Inc" not in page
    assert page.index("the_viewer (") < page.index("Extra task 20") < page.index("Extra task 19")
    assert "sector" in page and "weight" in page  # the fields an update changed
    assert "Page 1 of" in page


# --- Rubric -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rubric_owner_drafts_and_activates_a_rubric_version(fast_passwords):
    world = build_world()
    make_rubric_owner(world.users[PARTNER])
    client = world.client(PARTNER)
    page = client.get(reverse("rubric"))
    form = page.context["form"]
    data = dict(form.initial)
    data.update(name="Heavier system access", weight_system_access=2.5)
    assert client.post(reverse("rubric"), data).status_code == 302
    draft = RubricVersion.objects.get(name="Heavier system access")
    assert not draft.is_active and draft.factor_weights["system_access"] == 2.5
    # Activation asks first: without the confirmation nothing changes.
    assert client.post(reverse("rubric_activate", args=[draft.pk])).status_code == 200
    draft.refresh_from_db()
    assert not draft.is_active
    confirmed = client.post(reverse("rubric_activate", args=[draft.pk]), {"confirm": "yes"})
    assert confirmed.status_code == 302
    draft.refresh_from_db()
    assert draft.is_active
    old = RubricVersion.objects.get(number=1)
    assert not old.is_active
    # The deactivation went through history too (no bulk update slipped past).
    assert old.history.first().is_active is False


@pytest.mark.django_db
def test_viewer_sees_the_rubric_but_cannot_change_it(fast_passwords):
    world = build_world()
    page = world.client(VIEWER).get(reverse("rubric"))
    assert page.status_code == 200 and b"Save draft" not in page.content


# --- Bulk writes keep history -----------------------------------------------------------------


@pytest.mark.django_db
def test_demo_evidence_is_written_with_its_history():
    task = TaskFactory()
    users = {"associate": UserFactory(), "partner": UserFactory()}
    written = demo._demo_evidence(
        task, demo.ARCHETYPES[0].tasks[0][2], users, demo.selectors.today()
    )
    assert written > 0
    assert Evidence.history.filter(task_id=task.pk).count() == written
