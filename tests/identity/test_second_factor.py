"""TOTP as a second factor after the password: setup with recovery codes, the code step at
sign-in, the same lockout as passwords, and the partners-must option."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from assessments.identity import tokens
from assessments.identity.models import SecurityEvent
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


def test_wrong_codes_lock_the_second_factor(settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(username="dan")
    secret, _ = turn_on(sign_in("dan"))
    client = sign_in("dan")
    for _ in range(2):
        assert client.post(reverse("mfa_verify"), {"code": "999999"}).status_code == 200
    locked = client.post(reverse("mfa_verify"), {"code": "999998"})
    assert locked.status_code == 429 and "Too many wrong codes" in locked.content.decode()
    assert locked["Retry-After"] == str(settings.MFA_COOLOFF_MINUTES * 60)
    assert "_auth_user_id" not in client.session
    # Locked for the right code too, after a right password.
    again = sign_in("dan")
    assert again.post(reverse("mfa_verify"), {"code": code_for(secret)}).status_code == 429
    assert again.get(reverse("portfolio")).status_code == 302
    assert SecurityEvent.objects.filter(user=user, kind="mfa_locked").count() == 1


def test_finding1_the_password_step_does_not_reset_the_count_of_wrong_codes(settings):
    """Finding 1: {password, 4 wrong codes} repeated never reached the limit of 5."""
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="dee")
    turn_on(sign_in("dee"))
    answers = []
    for _ in range(3):
        client = sign_in("dee")
        answers += [
            client.post(reverse("mfa_verify"), {"code": "999999"}).status_code for _ in range(4)
        ]
        if answers[-1] == 429:
            break
    assert answers[:4] == [200] * 4 and answers[4] == 429


def test_wrong_codes_from_one_address_lock_every_account_there(settings):
    settings.MFA_FAILURE_LIMIT = 10
    settings.MFA_ADDRESS_FAILURE_LIMIT = 4
    for name in ("eli", "fay"):
        UserFactory(username=name)
        turn_on(sign_in(name))
    eli = sign_in("eli")
    for _ in range(3):
        assert eli.post(reverse("mfa_verify"), {"code": "999999"}).status_code == 200
    fay = sign_in("fay")
    assert fay.post(reverse("mfa_verify"), {"code": "999999"}).status_code == 429
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    elsewhere.post(reverse("login"), {"username": "fay", "password": PASSWORD})
    assert elsewhere.post(reverse("mfa_verify"), {"code": "999999"}).status_code == 200


def test_a_right_code_starts_the_count_again(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="gus")
    secret, _ = turn_on(sign_in("gus"))
    client = sign_in("gus")
    for _ in range(2):
        client.post(reverse("mfa_verify"), {"code": "999999"})
    assert client.post(reverse("mfa_verify"), {"code": code_for(secret)}).status_code == 302
    client = sign_in("gus")
    assert client.post(reverse("mfa_verify"), {"code": "999999"}).status_code == 200


def test_the_session_key_changes_when_the_code_is_given():
    UserFactory(username="hip")
    secret, _ = turn_on(sign_in("hip"))
    client = sign_in("hip")
    before = client.session.session_key
    client.post(reverse("mfa_verify"), {"code": code_for(secret)})
    assert client.session.session_key != before
    # The key seen before the code was given does not open a page.
    stolen = Client()
    stolen.cookies[django_settings.SESSION_COOKIE_NAME] = before
    assert stolen.get(reverse("portfolio")).status_code == 302


def test_finding7_no_new_authenticator_while_a_code_is_owed():
    """Finding 7: with recovery codes and no confirmed TOTP, setting up a new authenticator
    verified the session and replaced the recovery codes."""
    user = UserFactory(username="ivy")
    _, codes = turn_on(sign_in("ivy"))
    TOTPDevice.objects.filter(user=user).delete()
    client = sign_in("ivy")
    page = client.get(reverse("mfa_setup"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("mfa_verify"))
    key = default_key()
    client.post(reverse("mfa_setup"), {"code": f"{TOTP(bytes.fromhex(key)).token():06d}"})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.get(reverse("portfolio")).status_code == 302
    assert StaticToken.objects.filter(device__user=user, token=codes[1]).exists()


def test_a_device_set_up_elsewhere_is_asked_for_in_an_older_session():
    UserFactory(username="jon")
    older = sign_in("jon")
    assert older.get(reverse("portfolio")).status_code == 200
    turn_on(sign_in("jon"))
    answer = older.get(reverse("portfolio"))
    assert answer.status_code == 302


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
