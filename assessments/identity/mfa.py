"""A second factor for password sign-ins: TOTP (django-otp) with single-use recovery codes.

After the password, a user with a confirmed authenticator must give a code before any
page opens (RequireSecondFactor); with MFA_REQUIRED_FOR_PARTNERS, a partner without one is
sent to set it up first. A wrong code counts as a failed sign-in for django-axes, so the
same lockout applies as to passwords. SSO sign-ins are left to the identity provider's
own second factor; API tokens are not affected.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from .. import access
from ..models import Role

RECOVERY_CODES = 10
SETUP_KEY = "mfa_setup_key"
SSO_BACKEND = "assessments.identity.sso.SsoBackend"


def has_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required_for(user) -> bool:
    """MFA_REQUIRED_FOR_PARTNERS: a partner of any fund must have a second factor."""
    return settings.MFA_REQUIRED_FOR_PARTNERS and (
        user.is_superuser or Role.PARTNER in access.fund_roles(user).values()
    )


DUE_KEY = "mfa_due"


def _on_sign_in(sender, request, user, **kwargs) -> None:
    """Decide once, at sign-in, what the session owes: a code, a setup or nothing (so
    that pages pay no query for it). SSO sign-ins owe nothing here."""
    if request is None or not hasattr(request, "session"):
        return
    due = ""
    if request.session.get(BACKEND_SESSION_KEY) != SSO_BACKEND:
        if user_has_device(user):
            due = "verify"
        elif required_for(user):
            due = "setup"
    request.session[DUE_KEY] = due


user_logged_in.connect(_on_sign_in, dispatch_uid="moatmap-mfa-due")


def pending(request) -> str | None:
    """ "verify" (a code is due), "setup" (one must be set up first) or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    due = request.session.get(DUE_KEY)
    if not due or user.is_verified():
        return None
    return due


class RequireSecondFactor:
    """Sends a signed-in user who owes a code (or a setup) to that page first."""

    OPEN = ("/static/", "/api/", "/healthz", "/accounts/logout/", "/accounts/2fa/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.OPEN):
            step = pending(request)
            if step is not None:
                target = reverse("mfa_verify" if step == "verify" else "mfa_setup")
                return redirect(f"{target}?next={quote(request.get_full_path())}")
        return self.get_response(request)


# --- Setting up, verifying, turning off -------------------------------------------------


def setup_key(request) -> str:
    """The secret being set up, kept in the session until a code confirms it."""
    key = request.session.get(SETUP_KEY)
    if not key:
        key = request.session[SETUP_KEY] = default_key()
    return key


def setup_uri(request) -> str:
    """The otpauth:// URI an authenticator app reads (from the QR code or typed in)."""
    return TOTPDevice(user=request.user, key=setup_key(request)).config_url


def setup_secret(request) -> str:
    """The same secret in base32, for typing in by hand."""
    return b32encode(TOTPDevice(key=setup_key(request)).bin_key).decode()


@transaction.atomic
def confirm_setup(request, code: str) -> list[str] | None:
    """Store the authenticator if the code matches its secret; returns the recovery codes
    (shown once), or None if the code is wrong."""
    key = setup_key(request)
    device = TOTPDevice(user=request.user, key=key, name="Authenticator", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == device.digits and totp.verify(int(code), tolerance=1)):
        return None
    TOTPDevice.objects.filter(user=request.user).delete()
    device.save()
    codes = new_recovery_codes(request.user)
    del request.session[SETUP_KEY]
    otp_login(request, device)
    return codes


def new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify(request, code: str) -> bool:
    """A TOTP code or an unused recovery code (then spent); a wrong one counts as a
    failed sign-in for django-axes."""
    device = match_token(request.user, code.strip().replace(" ", ""))
    if device is None:
        user_login_failed.send(
            sender=__name__, credentials={"username": request.user.get_username()}, request=request
        )
        return False
    otp_login(request, device)
    return True


@transaction.atomic
def disable(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
