"""The edges of every request: the client's real address behind reverse proxies,
responses that browsers must not keep on disk, and a clear answer when the database is
away."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.views import defaults

logger = logging.getLogger(__name__)


class TrustedProxyMiddleware:
    """Behind TRUSTED_PROXY_COUNT reverse proxies, REMOTE_ADDR is the nearest proxy and the
    client is the address that the outermost trusted proxy appended to X-Forwarded-For:
    counted from the right, so a client cannot choose it by sending the header itself.
    REMOTE_ADDR is replaced with it, so that django-axes throttles clients, not the proxy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = settings.TRUSTED_PROXY_COUNT
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if count > 0 and forwarded:
            hops = [hop.strip() for hop in forwarded.split(",")]
            # Fewer hops than proxies: the header did not come through them all; keep the peer.
            if len(hops) >= count:
                with contextlib.suppress(ValueError):  # not an address: keep the peer
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(hops[-count]))
        return self.get_response(request)


class NoStoreMiddleware:
    """Every page, fragment and export of the app holds fund data: `private, no-store`, so
    that neither a shared cache nor the browser's disk keeps a copy. Static files are served
    before this middleware (WhiteNoise) and keep their long cache; a view that sets its own
    Cache-Control (the health check) keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class DatabaseUnavailableMiddleware:
    """The database restarting or unreachable: a clear 503 page ("nothing was saved, try
    again") instead of a server error. A write is one transaction, so a request that failed
    here left nothing half-written; the connection pool replaces the broken connections."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request, exception) -> HttpResponse:
    logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
    # Rendered without the request: its context processors would read the session and
    # the user, from the database that is not there.
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "5"
    return response


def server_error(request) -> HttpResponse:
    """The 500 answer (urls.handler500), unless what failed is the database inside a
    middleware, before any view ran (the second factor's check reads the user's devices):
    then the same clear 503 as from a view."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return database_unavailable(request, exception)
    return defaults.server_error(request)
