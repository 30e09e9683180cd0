"""Sign-in with the firm's identity provider (OpenID Connect, through mozilla-django-oidc).

Configured from the environment (settings.py): any standard provider — Google Workspace,
Microsoft Entra ID, Okta, Keycloak — by its endpoints. A first sign-in creates the user
without any fund; at every sign-in the provider's groups claim is mapped to fund
memberships and roles (OIDC_GROUP_ROLES), and each change is written to the audit trail.
The ID token must be signed by the provider's key, name this app as its audience, come
from the configured issuer and not be expired; otherwise the sign-in is refused.
"""

from __future__ import annotations

import base64
import logging
import re
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .. import outbound
from ..models import Fund, Membership, Role
from . import mfa
from .models import ExternalIdentity, SecurityEvent, SecurityEventKind

logger = logging.getLogger(__name__)

# Higher wins when two groups give the same fund.
ROLE_RANK = {Role.VIEWER: 0, Role.ASSOCIATE: 1, Role.PARTNER: 2}


def enabled() -> bool:
    return bool(settings.OIDC_ENABLED)


# --- The group mapping ----------------------------------------------------------------------


def roles_for_groups(groups: list[str]) -> dict[int, str]:
    """{fund id: role} that the groups grant under OIDC_GROUP_ROLES."""
    mapping: dict = settings.OIDC_GROUP_ROLES
    names = {name for grants in mapping.values() for name, _ in grants}
    fund_ids = dict(Fund.objects.filter(name__in=names).values_list("name", "id"))
    granted: dict[int, str] = {}
    for group in groups:
        for fund_name, role in mapping.get(group, ()):
            fund_id = fund_ids.get(fund_name)
            if fund_id is None or role not in ROLE_RANK:
                logger.warning("OIDC_GROUP_ROLES: no fund %r or no role %r", fund_name, role)
                continue
            if ROLE_RANK[role] > ROLE_RANK.get(granted.get(fund_id), -1):
                granted[fund_id] = role
    return granted


def managed_fund_ids() -> set[int]:
    """The funds whose memberships the identity provider decides: those the mapping names.
    Memberships in other funds (given by a partner on the members page) are left alone."""
    names = {name for grants in settings.OIDC_GROUP_ROLES.values() for name, _ in grants}
    return set(Fund.objects.filter(name__in=names).values_list("id", flat=True))


@transaction.atomic
def apply_groups(user, groups: list[str]) -> list[str]:
    """Make the user's memberships in the managed funds what the groups grant; each
    change is saved with its history (the user, and the groups as the reason)."""
    wanted = roles_for_groups(groups)
    reason = ("Identity provider groups at sign-in: " + ", ".join(sorted(groups)))[:100]
    changes = []
    current = {
        m.fund_id: m
        for m in Membership.objects.select_for_update().filter(
            user=user, fund_id__in=managed_fund_ids()
        )
    }
    for fund_id, membership in current.items():
        if fund_id not in wanted:
            membership._history_user = user
            membership._change_reason = reason
            membership.delete()
            changes.append(f"removed from fund {fund_id}")
        elif membership.role != wanted[fund_id]:
            membership.role = wanted[fund_id]
            membership._history_user = user
            membership._change_reason = reason
            membership.save(update_fields=["role"])
            changes.append(f"{wanted[fund_id]} in fund {fund_id}")
    for fund_id, role in wanted.items():
        if fund_id not in current:
            membership = Membership(user=user, fund_id=fund_id, role=role)
            membership._history_user = user
            membership._change_reason = reason
            membership.save()
            changes.append(f"{role} in fund {fund_id}")
    return changes


# --- The backend ----------------------------------------------------------------------------


def _username_from(claims: dict) -> str:
    base = claims.get("preferred_username") or (claims.get("email") or "").split("@")[0]
    base = re.sub(r"[^\w.@+-]", "", base)[:140] or "sso-user"
    User = get_user_model()
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with the checks and the mapping Moat map needs.

    Its three calls to the provider (token, keys, userinfo) go through the server's one
    outgoing client (outbound.py), not requests: resolved once, no internal address unless
    OUTBOUND_ALLOWED_NETWORKS lists it, no redirect, one deadline (OIDC_TIMEOUT_SECONDS)."""

    def _call(self, method: str, url: str, *, body=None, headers=None) -> outbound.Answer:
        try:
            answer = outbound.request(
                method,
                url,
                body=body,
                headers={"Accept": "application/json", **(headers or {})},
                deadline=settings.OIDC_TIMEOUT,
                read_body=True,
            )
        except (outbound.OutboundRefused, OSError) as failed:
            logger.warning("OIDC call to %s not made or failed: %s", url, failed)
            raise PermissionDenied(f"The identity provider was not reached: {failed}") from failed
        if answer.status != 200:
            logger.warning("OIDC call to %s answered %s", url, answer.status)
            raise PermissionDenied(f"The identity provider answered {answer.status}.")
        return answer

    def get_token(self, payload):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.get_settings("OIDC_TOKEN_USE_BASIC_AUTH", False):
            pair = f"{payload['client_id']}:{payload.pop('client_secret')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        body = urlencode(payload).encode()
        return self._call("POST", self.OIDC_OP_TOKEN_ENDPOINT, body=body, headers=headers).json()

    def retrieve_matching_jwk(self, token):
        """The provider's key that signed the token: same kid and, when the key names one,
        the same algorithm (as mozilla-django-oidc checks it)."""
        keys = self._call("GET", self.OIDC_OP_JWKS_ENDPOINT).json().get("keys", [])
        header = jwt.get_unverified_header(token)
        for key in keys:
            if key.get("kid") != header.get("kid"):
                continue
            if "alg" in key and key["alg"] != header.get("alg"):
                continue
            return jwt.PyJWK(key)
        raise PermissionDenied("No key of the identity provider matches the ID token.")

    def _verify_jws(self, payload, key):
        """The signature, and the claims mozilla-django-oidc leaves unchecked: audience,
        issuer, expiry. A refusal ends the sign-in (the page says it failed)."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise PermissionDenied("The ID token is not signed with the expected algorithm.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_OP_ISSUER or None,
                options={"require": ["exp", "iat", "sub", "aud"]},
                leeway=60,
            )
        except jwt.InvalidTokenError as refused:
            logger.warning("OIDC sign-in refused: %s", refused)
            raise PermissionDenied(f"The ID token was refused: {refused}") from refused

    def verify_token(self, token, **kwargs):
        try:
            payload = super().verify_token(token, **kwargs)
        except SuspiciousOperation as refused:
            raise PermissionDenied(str(refused)) from refused
        self._id_claims = payload
        return payload

    def get_userinfo(self, access_token, _id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint when there is one.

        Userinfo is used only when its `sub` is the ID token's (OpenID Connect Core 5.3.2),
        and it never overrides a claim the signed ID token carries."""
        claims = dict(payload)
        if settings.OIDC_OP_USER_ENDPOINT:
            answer = self._call(
                "GET",
                self.OIDC_OP_USER_ENDPOINT,
                headers={"Authorization": f"Bearer {access_token}"},
            )
            if answer.content_type.lower().startswith("application/jwt"):
                info = self.verify_token(answer.body.decode())
            else:
                info = answer.json()
            if info.get("sub") == payload.get("sub"):
                claims = {**info, **claims}
            else:
                logger.warning("OIDC userinfo ignored: its sub is not the ID token's")
        return claims

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        """The user this subject (at this issuer) signed in as before. Matching an existing
        account by e-mail happens only with OIDC_LINK_BY_EMAIL, for a verified address, and
        never for a superuser or an account that already has an identity or a second factor
        (those are taken over by whoever controls a matching address at the provider)."""
        User = get_user_model()
        issuer = claims.get("iss", "")
        known = User.objects.filter(
            external_identities__issuer=issuer, external_identities__subject=claims["sub"]
        )
        if known.exists() or not settings.OIDC_LINK_BY_EMAIL:
            return known
        email = claims.get("email")
        if not (email and claims.get("email_verified") is True):
            return User.objects.none()
        candidates = User.objects.filter(
            email__iexact=email,
            is_active=True,
            is_superuser=False,
            external_identities__isnull=True,
            totpdevice__isnull=True,
            staticdevice__isnull=True,
        )
        if candidates.count() != 1:
            return User.objects.none()
        self._linked_by_email = True
        return candidates

    def create_user(self, claims):
        """A new user with no fund and no usable password; the groups give the funds."""
        user = get_user_model().objects.create_user(
            _username_from(claims), email=claims.get("email", "")
        )
        return self._signed_in(user, claims)

    def update_user(self, user, claims):
        if not user.is_active:
            raise PermissionDenied("This account is disabled.")
        return self._signed_in(user, claims)

    def _signed_in(self, user, claims):
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        groups = [str(g) for g in groups]
        identity, created = ExternalIdentity.objects.get_or_create(
            issuer=claims.get("iss", ""), subject=claims["sub"], defaults={"user": user}
        )
        if created and getattr(self, "_linked_by_email", False):
            request = getattr(self, "request", None)
            SecurityEvent.objects.create(
                kind=SecurityEventKind.SSO_LINKED_BY_EMAIL,
                user=user,
                username=user.get_username(),
                ip_address=mfa.client_address(request) if request is not None else None,
                detail=f"subject {claims['sub']} at {claims.get('iss', '')}, "
                f"e-mail {claims.get('email', '')}"[:500],
            )
        identity.last_login_at = timezone.now()
        identity.groups = groups
        identity.save(update_fields=["last_login_at", "groups"])
        apply_groups(user, groups)
        # Read by the second-factor check: the provider's own multi-factor (from the signed
        # ID token only, never userinfo) stands in for ours when the operator trusts it.
        amr = getattr(self, "_id_claims", {}).get("amr") or []
        user._moat_idp_mfa = settings.OIDC_TRUST_IDP_MFA and "mfa" in amr
        return user


class SsoOnlyGate:
    """With SSO_ONLY, refuses every password sign-in but a superuser's (the break-glass
    accounts). It signs nobody in itself; it stands before ModelBackend, and a refusal
    (PermissionDenied) ends the attempt there. No get_user: no session is ever its."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.SSO_ONLY or password is None:
            return None
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None or not user.is_superuser:
            raise PermissionDenied("Passwords are off: sign in with the identity provider.")
        return None


# --- The two views: answer 404 while SSO is not configured --------------------------------


class _OnlyWhenEnabled:
    def dispatch(self, request, *args, **kwargs):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)


class SsoStart(_OnlyWhenEnabled, OIDCAuthenticationRequestView):
    """Send the browser to the provider (with state, nonce and PKCE)."""


class SsoCallback(_OnlyWhenEnabled, OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code."""

    @property
    def failure_url(self):
        return settings.LOGIN_URL_SSO_FAILED
