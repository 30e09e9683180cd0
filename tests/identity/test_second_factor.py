"""TOTP as a second factor after the password: setup with recovery codes, the code step at
sign-in, the same lockout as passwords, and the partners-must option."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from assessments.identity import tokens
from tests.factories import MembershipFactory, UserFactory
from tests.security.security_world import FAST_HASHERS

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fast(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def code_for(secret: str, shift: int = 0) -> str:
    totp = TOTP(b32decode(secret))
    totp.time += shift * 30
    return f"{totp.token():06d}"


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def turn_on(client: Client) -> tuple[str, list[str]]:
    page = client.get(reverse("mfa_setup"))
    secret = page.context["secret"]
    assert page.context["qr"].startswith("data:image/svg+xml")
    done = client.post(reverse("mfa_setup"), {"code": code_for(secret)})
    return secret, done.context["codes"]


def test_setup_needs_a_matching_code_and_shows_the_recovery_codes_once():
    user = UserFactory(username="ana")
    client = sign_in("ana")
    page = client.get(reverse("mfa_setup"))
    secret = page.context["secret"]
    wrong = client.post(
        reverse("mfa_setup"), {"code": "000000" if code_for(secret) != "000000" else "111111"}
    )
    assert "does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    done = client.post(reverse("mfa_setup"), {"code": code_for(secret)})
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert done["Cache-Control"] == "private, no-store"
    assert TOTPDevice.objects.get(user=user).confirmed
    again = client.get(reverse("mfa_setup")).content.decode()
    assert "10 recovery codes left" in again and codes[0] not in again


def test_a_password_is_not_enough_once_totp_is_on():
    UserFactory(username="ben")
    secret, _ = turn_on(sign_in("ben"))
    client = sign_in("ben")
    blocked = client.get(reverse("portfolio"))
    assert blocked.status_code == 302
    assert blocked["Location"] == reverse("mfa_verify") + "?next=/portfolio/"
    assert client.get(reverse("account_settings")).status_code == 302
    wrong = client.post(
        reverse("mfa_verify") + "?next=/portfolio/", {"code": "12345x", "next": "/portfolio/"}
    )
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    right = client.post(reverse("mfa_verify"), {"code": code_for(secret), "next": "/portfolio/"})
    assert right.status_code == 302 and right["Location"] == "/portfolio/"
    assert client.get(reverse("portfolio")).status_code == 200


def test_a_recovery_code_opens_once():
    UserFactory(username="cat")
    _, codes = turn_on(sign_in("cat"))
    first = sign_in("cat")
    assert first.post(reverse("mfa_verify"), {"code": codes[0]}).status_code == 302
    assert first.get(reverse("portfolio")).status_code == 200
    second = sign_in("cat")
    response = second.post(reverse("mfa_verify"), {"code": codes[0]})
    assert response.status_code == 200 and "already used" in response.content.decode()


def test_wrong_codes_lock_the_account_like_wrong_passwords(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="dan")
    secret, _ = turn_on(sign_in("dan"))
    client = sign_in("dan")
    for _ in range(2):
        assert client.post(reverse("mfa_verify"), {"code": "999999"}).status_code == 200
    locked = client.post(reverse("mfa_verify"), {"code": "999998"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Locked for the password too, even the right one, and for the right code.
    again = Client().post(reverse("login"), {"username": "dan", "password": PASSWORD})
    assert again.status_code == 429


def test_partners_can_be_required_to_set_up_a_second_factor(settings):
    settings.MFA_REQUIRED_FOR_PARTNERS = True
    MembershipFactory(user=UserFactory(username="eva"), role="partner")
    MembershipFactory(user=UserFactory(username="fin"), role="viewer")
    partner = sign_in("eva")
    response = partner.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_setup"))
    assert "Partners must set up" in partner.get(response["Location"]).content.decode()
    assert sign_in("fin").get(reverse("portfolio")).status_code == 200
    turn_on(partner)
    assert partner.get(reverse("portfolio")).status_code == 200
    # Required: it cannot be turned off.
    partner.post(reverse("mfa_disable"), {"code": "000000"})
    assert TOTPDevice.objects.filter(user__username="eva").exists()


def test_it_is_turned_off_with_a_current_code():
    UserFactory(username="gil")
    client = sign_in("gil")
    secret, _ = turn_on(client)
    client.post(reverse("mfa_disable"), {"code": "000001"})
    assert TOTPDevice.objects.filter(user__username="gil").exists()
    client.post(reverse("mfa_disable"), {"code": code_for(secret, shift=1)})
    assert not TOTPDevice.objects.filter(user__username="gil").exists()
    assert sign_in("gil").get(reverse("portfolio")).status_code == 200


def test_api_tokens_are_not_asked_for_a_code():
    user = UserFactory(username="hal")
    turn_on(sign_in("hal"))
    _, key = tokens.token_create(user=user, name="t", scope="read")
    response = Client().get("/api/v1/funds", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
