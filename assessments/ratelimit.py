"""Rate limits on the doors an attacker knocks at: the API (per token and per client
address), the sign-in, the second-factor and the API-token pages (per address).

Counted in Django's cache in fixed windows of a minute; over the limit, the answer is 429
with Retry-After (the seconds left in the window), before any view runs or any body is
read. With several server processes, point CACHE_URL at Redis so that they share the
counts; the default in-process cache counts per process.
"""

from __future__ import annotations

import hashlib
import json
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

WINDOW_SECONDS = 60


def hit(bucket: str, who: str, limit: int) -> int | None:
    """Count one request of `who` in `bucket`; the seconds to wait when over `limit`
    (None: go ahead). A limit of 0 turns the bucket off."""
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"ratelimit:{bucket}:{window}:{hashlib.sha256(who.encode()).hexdigest()[:32]}"
    if cache.add(key, 1, WINDOW_SECONDS + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: a new window
            cache.set(key, 1, WINDOW_SECONDS + 1)
            count = 1
    if count <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)


def _too_many(request, retry_after: int, what: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = json.dumps(
            {"detail": f"Too many {what}: try again in {retry_after} s.", "errors": {}}
        )
        response = HttpResponse(body, status=429, content_type="application/json")
    else:
        response = HttpResponse(
            f"Too many {what} from your address: try again in {retry_after} seconds.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    return response


# (path prefix, bucket, setting of its limit, methods counted, what it is in words)
PAGES = (
    ("/accounts/login/", "sign-in", "RATE_LIMIT_SIGN_IN", ("POST",), "sign-in attempts"),
    ("/accounts/2fa/", "second-factor", "RATE_LIMIT_SECOND_FACTOR", ("POST",), "codes"),
    ("/settings/tokens/", "tokens", "RATE_LIMIT_TOKENS", ("POST",), "token requests"),
)


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.RATE_LIMITS:
            refused = self._check(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _check(self, request) -> HttpResponse | None:
        address = request.META.get("REMOTE_ADDR", "")
        path = request.path
        if path.startswith("/api/"):
            wait = hit("api-address", address, settings.RATE_LIMIT_API_PER_ADDRESS)
            token = request.META.get("HTTP_AUTHORIZATION", "")
            if wait is None and token:
                wait = hit("api-token", token, settings.RATE_LIMIT_API_PER_TOKEN)
            return None if wait is None else _too_many(request, wait, "API requests")
        for prefix, bucket, limit, methods, what in PAGES:
            if path.startswith(prefix) and request.method in methods:
                wait = hit(bucket, address, getattr(settings, limit))
                return None if wait is None else _too_many(request, wait, what)
        return None
