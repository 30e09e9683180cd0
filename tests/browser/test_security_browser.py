"""A real page's htmx POST carries the CSRF token from <body hx-headers> and succeeds."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from assessments.models import Membership, Role
from tests.security.security_world import FAST_HASHERS, PARTNER, VIEWER, build_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_role_change_by_htmx_post_passes_csrf(live_server, page, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    world = build_world()
    # Sign in through a session cookie: the login form is covered elsewhere.
    session = SessionStore()
    partner = world.users[PARTNER]
    session["_auth_user_id"] = str(partner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = partner.get_session_auth_hash()
    session.create()
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}
    page.context.add_cookies([{**cookie, "url": live_server.url}])
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(live_server.url + reverse("fund_members", args=[world.fund.pk]))
    viewer = world.memberships[VIEWER]
    row = page.locator(f"#member-{viewer.pk}")
    row.locator("select").select_option(Role.ASSOCIATE)
    with page.expect_response(lambda r: "/role/" in r.url) as answer:
        row.get_by_role("button", name="Change role").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"
    page.locator(f"#member-{viewer.pk} select").wait_for()
    assert Membership.objects.get(pk=viewer.pk).role == Role.ASSOCIATE
    # The row was swapped in place: still one page, no full reload.
    assert page.locator("h1").inner_text().startswith("Members of")
    assert not [e for e in errors if "Content Security Policy" in e], errors
