"""A second factor for password sign-ins: TOTP (django-otp) with single-use recovery codes.

After the password, a user with a confirmed authenticator must give a code before any
page opens (RequireSecondFactor); with MFA_REQUIRED_FOR_PARTNERS, a partner without one is
sent to set it up first. What a session owes is decided on every request from the user's
devices and current roles, so a device set up in another session, or a promotion to
partner, is asked for at once. An SSO sign-in owes the same, unless the provider says it
did multi-factor (the ID token's amr) and OIDC_TRUST_IDP_MFA is on.

Wrong codes are counted on their own (SecurityEvent rows), per user and per client
address, apart from django-axes' password counter: a successful password step must not
reset them. API tokens are not affected.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from base64 import b32encode
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from .. import access
from ..models import Role
from .models import SecurityEvent, SecurityEventKind

logger = logging.getLogger(__name__)

RECOVERY_CODES = 10
SETUP_KEY = "mfa_setup_key"
# Set at an SSO sign-in whose ID token says the provider did multi-factor, when trusted.
IDP_MFA_KEY = "mfa_idp_verified"
SIGNED_IN_AT_KEY = "signed_in_at"


def has_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_device(user) -> bool:
    """A confirmed authenticator or recovery codes, in one query."""
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(Q(totpdevice__confirmed=True) | Q(staticdevice__confirmed=True))
        .exists()
    )


def required_for(user) -> bool:
    """MFA_REQUIRED_FOR_PARTNERS: a partner of any fund must have a second factor."""
    return settings.MFA_REQUIRED_FOR_PARTNERS and (
        user.is_superuser or Role.PARTNER in access.fund_roles(user).values()
    )


def _on_sign_in(sender, request, user, **kwargs) -> None:
    """Remember when the user signed in (minting a token asks for a recent sign-in) and
    whether the identity provider vouched for a second factor (SsoBackend marks the user
    it signs in)."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[IDP_MFA_KEY] = bool(getattr(user, "_moat_idp_mfa", False))
    request.session[SIGNED_IN_AT_KEY] = time.time()


user_logged_in.connect(_on_sign_in, dispatch_uid="moatmap-mfa-due")


def pending(request) -> str | None:
    """ "verify" (a code is due), "setup" (one must be set up first) or None."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return None
    # Only an SSO sign-in sets it, and only when the operator trusts the provider's amr.
    if request.session.get(IDP_MFA_KEY):
        return None
    if has_device(user):
        return "verify"
    if required_for(user):
        return "setup"
    return None


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


# --- Counting wrong codes -----------------------------------------------------------------


def client_address(request) -> str | None:
    """The client's address (TrustedProxyMiddleware has put the real one in REMOTE_ADDR)."""
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def failure_limit() -> int:
    return settings.MFA_FAILURE_LIMIT or settings.AXES_FAILURE_LIMIT


def address_failure_limit() -> int:
    # Several people of one office share an address: a looser limit than one account's.
    return settings.MFA_ADDRESS_FAILURE_LIMIT or 4 * failure_limit()


def _window_start():
    return timezone.now() - timedelta(minutes=settings.MFA_COOLOFF_MINUTES)


def _user_failures(user) -> int:
    """Wrong codes for this user within the cool-off, since their last right one."""
    since = _window_start()
    last_pass = (
        SecurityEvent.objects.filter(
            kind=SecurityEventKind.SECOND_FACTOR_PASSED, user=user, at__gte=since
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return SecurityEvent.objects.filter(
        kind=SecurityEventKind.SECOND_FACTOR_FAILED, user=user, at__gt=last_pass or since
    ).count()


def _address_failures(address: str | None) -> int:
    if address is None:
        return 0
    return SecurityEvent.objects.filter(
        kind=SecurityEventKind.SECOND_FACTOR_FAILED, ip_address=address, at__gt=_window_start()
    ).count()


def locked(request) -> bool:
    """Too many wrong codes lately, for this user or from this address."""
    return (
        _user_failures(request.user) >= failure_limit()
        or _address_failures(client_address(request)) >= address_failure_limit()
    )


def record(request, kind: str, detail: str = "", user=None) -> SecurityEvent:
    """One row of the account audit trail, for the signed-in user unless told."""
    user = user or request.user
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=user.get_username(),
        ip_address=client_address(request),
        detail=detail[:500],
    )


def _failed(request) -> None:
    record(request, SecurityEventKind.SECOND_FACTOR_FAILED)
    address = client_address(request)
    user_count, address_count = _user_failures(request.user), _address_failures(address)
    if user_count == failure_limit() or address_count == address_failure_limit():
        record(
            request,
            SecurityEventKind.SECOND_FACTOR_LOCKED,
            f"{user_count} wrong codes for this account, {address_count} from {address}",
        )
        logger.warning("Second factor locked for %s from %s", request.user.get_username(), address)


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
    end_other_sessions(request, reason="a second factor was set up")
    return codes


def end_other_sessions(request, *, reason: str) -> int:
    """Sign the user out everywhere but in this session (database sessions); how many.

    Sessions are not indexed by user, so each live one is read: a firm has hundreds, not
    millions, and this runs only when a second factor is set up."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    user_id = str(request.user.pk)
    ended = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        .exclude(session_key=request.session.session_key)
        .iterator()
        if session.get_decoded().get(SESSION_KEY) == user_id
    ]
    Session.objects.filter(session_key__in=ended).delete()
    if ended:
        record(request, SecurityEventKind.SESSIONS_ENDED, f"{len(ended)} ({reason})")
    return len(ended)


def new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify(request, code: str) -> bool:
    """A TOTP code or an unused recovery code (then spent); a wrong one is counted
    towards the second factor's lockout. A right one gives the session a new key, so that
    a key seen before the code was given does not carry the verified session."""
    device = match_token(request.user, code.strip().replace(" ", ""))
    if device is None:
        _failed(request)
        return False
    otp_login(request, device)
    request.session.cycle_key()
    record(request, SecurityEventKind.SECOND_FACTOR_PASSED)
    return True


@transaction.atomic
def disable(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
