"""Credentials end when they should (finding 6): tokens expire, and are revoked by a password
change, a deactivation or the last fund left; each call reads the owner's roles afresh;
minting asks for the password again (or a recent SSO sign-in); a password change or a new
second factor signs every other session out; a promotion to partner is asked for a second
factor at once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.identity import mfa, tokens
from assessments.identity.models import ApiToken, SecurityEvent
from assessments.models import Membership
from tests.factories import FundFactory, MembershipFactory, UserFactory
from tests.identity.test_second_factor import PASSWORD, sign_in, turn_on
from tests.security.security_world import FAST_HASHERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def api_get(key: str, path: str = "/api/v1/funds"):
    return Client().get(path, headers={"Authorization": f"Bearer {key}"})


def test_finding6_a_token_expires_after_its_lifetime(client, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 30
    member = MembershipFactory(role="viewer")
    token, key = tokens.token_create(user=member.user, name="CRM", scope="read")
    assert token.expires_at - timezone.now() > timedelta(days=29, hours=23)
    assert api_get(key).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_get(key).status_code == 401
    client.force_login(member.user)
    page = client.get(reverse("api_tokens")).content.decode()
    assert "Expires" in page and "expired" in page and "30 days" in page


def test_finding6_a_password_change_revokes_tokens_and_signs_other_sessions_out():
    member = MembershipFactory(role="viewer", user=UserFactory(username="pat"))
    _, key = tokens.token_create(user=member.user, name="CRM", scope="read")
    elsewhere = sign_in("pat")
    here = sign_in("pat")
    changed = here.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-pass-9",
            "new_password2": "a-new-long-pass-9",
        },
    )
    assert changed.status_code == 302
    assert api_get(key).status_code == 401
    assert here.get(reverse("portfolio")).status_code == 200
    assert elsewhere.get(reverse("portfolio")).status_code == 302
    assert SecurityEvent.objects.filter(kind="tokens_revoked", user=member.user).exists()


def test_finding6_deactivation_revokes_tokens():
    member = MembershipFactory(role="viewer")
    token, key = tokens.token_create(user=member.user, name="CRM", scope="read")
    member.user.is_active = False
    member.user.save()
    member.user.is_active = True
    member.user.save()
    assert api_get(key).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_finding6_roles_are_read_on_every_call_and_the_last_fund_left_revokes():
    first = MembershipFactory(role="viewer")
    second = MembershipFactory(role="viewer", user=first.user, fund=FundFactory(name="Two"))
    _, key = tokens.token_create(user=first.user, name="CRM", scope="read")
    assert {f["id"] for f in api_get(key).json()["items"]} == {first.fund_id, second.fund_id}
    second.delete()
    assert {f["id"] for f in api_get(key).json()["items"]} == {first.fund_id}
    assert api_get(key, f"/api/v1/funds/{second.fund_id}").status_code == 404
    Membership.objects.filter(pk=first.pk).delete()
    assert api_get(key).status_code == 401


def test_deleting_a_user_with_tokens_and_funds_deletes_cleanly():
    member = MembershipFactory(role="viewer")
    tokens.token_create(user=member.user, name="CRM", scope="read")
    member.user.delete()
    assert not ApiToken.objects.exists() and not SecurityEvent.objects.exists()


def test_finding6_minting_a_token_asks_for_the_password_again():
    MembershipFactory(role="viewer", user=UserFactory(username="quin"))
    client = sign_in("quin")
    url = reverse("api_tokens")
    missing = client.post(url, {"name": "CRM", "scope": "read"})
    assert "That is not your password." in missing.content.decode()
    wrong = client.post(url, {"name": "CRM", "scope": "read", "password": "guess"})
    assert "That is not your password." in wrong.content.decode()
    assert not ApiToken.objects.exists()
    right = client.post(url, {"name": "CRM", "scope": "read", "password": PASSWORD})
    assert right.context["new_key"] and ApiToken.objects.count() == 1


def test_an_sso_user_mints_a_token_only_soon_after_signing_in(client, settings):
    settings.API_TOKEN_FRESH_SIGN_IN_MINUTES = 10
    user = UserFactory(username="rae", password=None)
    user.set_unusable_password()
    user.save()
    client.force_login(user)
    url = reverse("api_tokens")
    assert client.post(url, {"name": "CRM", "scope": "read"}).context["new_key"]
    session = client.session
    session[mfa.SIGNED_IN_AT_KEY] = time.time() - 11 * 60
    session.save()
    stale = client.post(url, {"name": "CRM 2", "scope": "read"})
    assert "Sign in again" in stale.content.decode() and ApiToken.objects.count() == 1


def test_finding6_setting_up_a_second_factor_signs_other_sessions_out():
    UserFactory(username="sol")
    elsewhere = sign_in("sol")
    here = sign_in("sol")
    turn_on(here)
    assert here.get(reverse("portfolio")).status_code == 200
    assert elsewhere.get(reverse("portfolio"))["Location"].startswith(reverse("login"))


def test_finding6_a_viewer_promoted_to_partner_is_asked_for_a_second_factor_at_once(settings):
    settings.MFA_REQUIRED_FOR_PARTNERS = True
    member = MembershipFactory(role="viewer", user=UserFactory(username="tam"))
    client = sign_in("tam")
    assert client.get(reverse("portfolio")).status_code == 200
    Membership.objects.filter(pk=member.pk).update(role="partner")
    owed = client.get(reverse("portfolio"))
    assert owed.status_code == 302 and owed["Location"].startswith(reverse("mfa_setup"))
