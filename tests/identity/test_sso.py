"""Sign-in with the firm's identity provider, against a small OpenID provider on loopback:
signed ID tokens; a wrong audience, an expired token or a foreign key refused; users
created without funds; groups mapped to memberships at each sign-in, in the audit trail."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from assessments.identity.models import ExternalIdentity, SecurityEvent
from assessments.models import Membership
from tests.factories import FundFactory, MembershipFactory, UserFactory

from .oidc_provider import Provider

pytestmark = pytest.mark.django_db

GROUP_ROLES = {
    "moat-fund-one-partners": [["Fund One", "partner"]],
    "moat-readers": [["Fund One", "viewer"], ["Fund Two", "viewer"]],
}


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.close()


@pytest.fixture
def sso(settings, provider):
    for name, value in provider.settings().items():
        setattr(settings, name, value)
    settings.OIDC_GROUP_ROLES = GROUP_ROLES
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "assessments.identity.sso.SsoBackend",
    ]
    FundFactory(name="Fund One")
    FundFactory(name="Fund Two")
    FundFactory(name="Fund Three")
    return provider


def sign_in_through(client: Client, provider: Provider):
    """The browser's round trip: Moat map → the provider → back to Moat map's callback."""
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302 and start["Location"].startswith(provider.issuer)
    back = requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"]
    url = urlparse(back)
    assert url.path == reverse("oidc_authentication_callback")
    return client.get(f"{url.path}?{url.query}")


def roles_of(user) -> dict[str, str]:
    return dict(Membership.objects.filter(user=user).values_list("fund__name", "role"))


def test_a_first_sign_in_creates_a_user_without_any_fund(sso, client):
    sso.claims = {"sub": "u-100", "email": "ada@firm.example", "preferred_username": "ada"}
    response = sign_in_through(client, sso)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = get_user_model().objects.get(username="ada")
    assert user.email == "ada@firm.example" and not user.has_usable_password()
    assert roles_of(user) == {}
    assert client.get(reverse("home")).context["user"] == user
    assert ExternalIdentity.objects.get(user=user).subject == "u-100"


def test_the_server_calls_the_provider_through_the_outgoing_check(sso, client, settings):
    sso.claims = {"sub": "u-110", "email": "cy@firm.example", "preferred_username": "cy"}
    assert sign_in_through(client, sso).status_code == 302
    assert sso.served == ["/token", "/jwks", "/userinfo"], "token, keys, userinfo: each once"
    # A provider on an address the operator has not allowed is not called at all.
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    sso.served.clear()
    other = Client()
    response = sign_in_through(other, sso)
    assert response["Location"] == "/accounts/login/?sso=failed"
    assert sso.served == [] and "_auth_user_id" not in other.session


def test_groups_become_memberships_and_follow_the_provider_at_each_sign_in(sso):
    client = Client()
    sso.claims = {
        "sub": "u-200",
        "email": "bo@firm.example",
        "groups": ["moat-fund-one-partners", "moat-readers"],
    }
    sign_in_through(client, sso)
    user = get_user_model().objects.get(email="bo@firm.example")
    # The higher role wins where two groups name the same fund.
    assert roles_of(user) == {"Fund One": "partner", "Fund Two": "viewer"}
    created = Membership.history.filter(user=user, fund__name="Fund One").first()
    assert created.history_user == user
    assert "moat-fund-one-partners" in created.history_change_reason

    # A membership a partner gave in a fund the mapping does not name is left alone.
    MembershipFactory(user=user, fund=FundFactory(name="Side fund"), role="associate")
    sso.claims = {**sso.claims, "groups": ["moat-readers"]}
    sign_in_through(Client(), sso)
    assert roles_of(user) == {"Fund One": "viewer", "Fund Two": "viewer", "Side fund": "associate"}
    changed = Membership.history.filter(user=user, fund__name="Fund One").first()
    assert (changed.history_type, changed.role) == ("~", "viewer")

    sso.claims = {**sso.claims, "groups": []}
    sign_in_through(Client(), sso)
    assert roles_of(user) == {"Side fund": "associate"}
    removed = Membership.history.filter(user=user, history_type="-").values_list(
        "fund__name", flat=True
    )
    assert set(removed) == {"Fund One", "Fund Two"}


def test_the_returning_user_is_known_by_subject_not_by_email(sso):
    sso.claims = {"sub": "u-300", "email": "cy@firm.example", "preferred_username": "cy"}
    sign_in_through(Client(), sso)
    sso.claims = {"sub": "u-300", "email": "cy.new@firm.example", "preferred_username": "cy"}
    sign_in_through(Client(), sso)
    assert get_user_model().objects.filter(username__startswith="cy").count() == 1


def test_an_unverified_email_does_not_take_over_an_existing_account(sso):
    owner = UserFactory(username="dee", email="dee@firm.example")
    sso.claims = {"sub": "attacker", "email": "dee@firm.example", "email_verified": False}
    client = Client()
    sign_in_through(client, sso)
    assert client.session["_auth_user_id"] != str(owner.pk)
    assert ExternalIdentity.objects.get(subject="attacker").user != owner


def test_a_verified_email_links_the_existing_account_only_when_the_setting_allows(sso, settings):
    owner = UserFactory(username="gus", email="gus@firm.example")
    sso.claims = {"sub": "gus-at-idp", "email": "gus@firm.example", "email_verified": True}
    client = Client()
    sign_in_through(client, sso)
    assert client.session["_auth_user_id"] != str(owner.pk)
    get_user_model().objects.exclude(pk=owner.pk).delete()  # the account that sign-in made
    settings.OIDC_LINK_BY_EMAIL = True
    sso.claims["sub"] = "gus-at-idp-2"
    client = Client()
    sign_in_through(client, sso)
    assert client.session["_auth_user_id"] == str(owner.pk)
    assert ExternalIdentity.objects.get(subject="gus-at-idp-2").user == owner
    event = SecurityEvent.objects.get(kind="sso_email_link")
    assert event.user == owner and "gus-at-idp-2" in event.detail


@pytest.mark.parametrize("link_by_email", [False, True])
def test_finding5_a_new_subject_with_a_superusers_email_gets_an_account_of_its_own(
    sso, settings, link_by_email
):
    """Finding 5: a new subject with email=ROOT@example.com (verified) signed in as the
    superuser and reached /admin/ with no code."""
    settings.OIDC_LINK_BY_EMAIL = link_by_email
    root = UserFactory(username="root", email="root@example.com", is_superuser=True, is_staff=True)
    sso.claims = {"sub": "intruder", "email": "ROOT@example.com", "email_verified": True}
    client = Client()
    sign_in_through(client, sso)
    assert client.session["_auth_user_id"] != str(root.pk)
    assert client.get("/admin/").status_code == 302
    assert ExternalIdentity.objects.get(subject="intruder").user != root


def test_email_never_links_an_account_with_an_identity_or_a_second_factor(sso, settings):
    settings.OIDC_LINK_BY_EMAIL = True
    linked = UserFactory(username="hal", email="hal@firm.example")
    ExternalIdentity.objects.create(user=linked, issuer=sso.issuer, subject="hal-1")
    guarded = UserFactory(username="ida", email="ida@firm.example")
    TOTPDevice.objects.create(user=guarded, name="phone", confirmed=True)
    for sub, email, owner in (
        ("hal-2", "hal@firm.example", linked),
        ("ida-1", "ida@firm.example", guarded),
    ):
        sso.claims = {"sub": sub, "email": email, "email_verified": True}
        client = Client()
        sign_in_through(client, sso)
        assert client.session["_auth_user_id"] != str(owner.pk)
    assert not SecurityEvent.objects.filter(kind="sso_email_link").exists()


def test_an_sso_sign_in_still_owes_the_users_second_factor(sso, settings):
    user = UserFactory(username="jay", email="jay@firm.example")
    ExternalIdentity.objects.create(user=user, issuer=sso.issuer, subject="jay-1")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    sso.claims = {"sub": "jay-1", "amr": ["pwd", "mfa"]}
    client = Client()
    sign_in_through(client, sso)
    assert client.session["_auth_user_id"] == str(user.pk)
    owed = client.get(reverse("portfolio"))
    assert owed.status_code == 302 and owed["Location"].startswith(reverse("mfa_verify"))
    # Trusted, the provider's own multi-factor stands in for ours; without "mfa" it does not.
    settings.OIDC_TRUST_IDP_MFA = True
    trusted = Client()
    sign_in_through(trusted, sso)
    assert trusted.get(reverse("portfolio")).status_code == 200
    sso.claims = {"sub": "jay-1", "amr": ["pwd"]}
    single = Client()
    sign_in_through(single, sso)
    assert single.get(reverse("portfolio")).status_code == 302


def test_a_partner_required_to_have_a_second_factor_sets_one_up_after_sso(sso, settings):
    settings.MFA_REQUIRED_FOR_PARTNERS = True
    sso.claims = {"sub": "kim-1", "preferred_username": "kim", "groups": ["moat-fund-one-partners"]}
    client = Client()
    sign_in_through(client, sso)
    owed = client.get(reverse("portfolio"))
    assert owed.status_code == 302 and owed["Location"].startswith(reverse("mfa_setup"))


def test_userinfo_with_another_subject_is_ignored(sso):
    sso.claims = {"sub": "lee-1", "preferred_username": "lee"}
    sso.userinfo = {"sub": "someone-else", "groups": ["moat-fund-one-partners"]}
    client = Client()
    sign_in_through(client, sso)
    user = get_user_model().objects.get(username="lee")
    assert ExternalIdentity.objects.get(user=user).subject == "lee-1"
    assert roles_of(user) == {}
    sso.userinfo = {"sub": "lee-1", "groups": ["moat-fund-one-partners"]}
    sign_in_through(Client(), sso)
    assert roles_of(user) == {"Fund One": "partner"}


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda p: setattr(p, "audience", "some-other-app"), id="wrong-audience"),
        pytest.param(lambda p: setattr(p, "lifetime", -600), id="expired"),
        pytest.param(
            lambda p: setattr(
                p, "signing_key", rsa.generate_private_key(public_exponent=65537, key_size=2048)
            ),
            id="signed-by-another-key",
        ),
        pytest.param(lambda p: setattr(p, "issuer", p.issuer + "/elsewhere"), id="wrong-issuer"),
    ],
)
def test_a_bad_id_token_is_refused(sso, spoil):
    sso.claims = {"sub": "u-400", "email": "eve@firm.example", "groups": ["moat-fund-one-partners"]}
    # The issuer in the token changes, not the endpoints Moat map calls.
    issuer = sso.issuer
    spoil(sso)
    endpoints_issuer = issuer
    client = Client()
    response = sign_in_through_with_endpoints(client, sso, endpoints_issuer)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?sso=failed"
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(email="eve@firm.example").exists()
    assert not Membership.objects.filter(user__email="eve@firm.example").exists()
    page = client.get(response["Location"]).content.decode()
    assert "did not succeed" in page


def sign_in_through_with_endpoints(client, provider, endpoints_issuer):
    start = client.get(reverse("oidc_authentication_init"))
    assert start["Location"].startswith(endpoints_issuer)
    back = requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"]
    url = urlparse(back)
    return client.get(f"{url.path}?{url.query}")


def test_sso_answers_404_while_it_is_not_configured(client):
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404
    assert b"sso-sign-in" not in client.get(reverse("login")).content


def test_sso_only_turns_passwords_off_but_for_superusers(sso, settings):
    settings.SSO_ONLY = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    UserFactory(username="fay", password="pw-of-fay-123")
    get_user_model().objects.create_superuser("root", "root@firm.example", "pw-of-root-123")
    page = Client().get(reverse("login")).content.decode()
    assert 'id="sso-sign-in"' in page and 'name="password"' not in page
    refused = Client().post(reverse("login"), {"username": "fay", "password": "pw-of-fay-123"})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.wsgi_request.session
    admitted = Client().post(reverse("login"), {"username": "root", "password": "pw-of-root-123"})
    assert admitted.status_code == 302
