"""Personal API tokens: created and revoked by their owner, stored as a SHA-256 hash.

The key is 32 random bytes, so a plain SHA-256 is enough (no password hashing: there is
nothing to guess) and a lookup is one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, TokenScope

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
        .filter(key_hash=_digest(key), revoked_at__isnull=True, user__is_active=True)
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
