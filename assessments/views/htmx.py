"""When a view answers with its page's partial rather than the whole page."""

from __future__ import annotations

from django.http import HttpRequest


def htmx_partial(request: HttpRequest) -> bool:
    """True for an htmx request that swaps a region in place. A boosted link and a history
    restore (Back after the page left htmx's cache) need the whole page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
