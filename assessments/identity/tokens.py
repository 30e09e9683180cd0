"""Personal API tokens: created and revoked by their owner, stored as a SHA-256 hash.

The key is 32 random bytes, so a plain SHA-256 is enough (no password hashing: there is
nothing to guess) and a lookup is one indexed query per request.

A token lives API_TOKEN_LIFETIME_DAYS, and is revoked when its owner's password changes,
when the owner is deactivated, and when they leave their last fund. Each call reads the
owner's memberships afresh (access.py), so a role lost is lost for the token at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ..models import Membership
from .models import ApiToken, SecurityEvent, SecurityEventKind, TokenScope

KEY_PREFIX = "mm_"
# last_used_at is written at most this often, so that reads do not all write.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def token_create(*, user, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for the user; returns it with its key, which is never shown again."""
    if scope not in TokenScope.values:
        raise ValueError(f"Unknown scope {scope!r}.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API token",
        scope=scope,
        prefix=key[:10],
        key_hash=_digest(key),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
    )
    return token, key


def token_revoke(*, user, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False if it is not theirs or already revoked."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def token_authenticate(key: str) -> ApiToken | None:
    """The live token with this key (its user active), or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=_digest(key),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def tokens_of(user):
    return ApiToken.objects.filter(user=user)


def tokens_revoke_all(*, user, reason: str) -> int:
    """Revoke every live token of the user, in the account audit trail; how many."""
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        SecurityEvent.objects.create(
            kind=SecurityEventKind.TOKENS_REVOKED,
            user=user,
            username=user.get_username(),
            detail=f"{count} token{'s' if count != 1 else ''}: {reason}",
        )
    return count


def _on_user_saved(sender, instance, created, **kwargs) -> None:
    # set_password() leaves the new password in _password until the save is done; a hash
    # upgraded at sign-in does not (check_password clears it), so only a real change counts.
    if created:
        return
    if getattr(instance, "_password", None) is not None:
        tokens_revoke_all(user=instance, reason="the password changed")
    if not instance.is_active:
        tokens_revoke_all(user=instance, reason="the account was deactivated")


def _on_membership_deleted(sender, instance, origin=None, **kwargs) -> None:
    User = get_user_model()
    # The user's own deletion takes their tokens with it (and must not gain an audit row).
    if isinstance(origin, User) or getattr(origin, "model", None) is User:
        return
    user = User.objects.filter(pk=instance.user_id).first()
    if user is None or user.is_superuser:
        return
    if not Membership.objects.filter(user=user).exists():
        tokens_revoke_all(user=user, reason="no fund left")


post_save.connect(_on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="moat-token-user")
post_delete.connect(_on_membership_deleted, sender=Membership, dispatch_uid="moat-token-member")
