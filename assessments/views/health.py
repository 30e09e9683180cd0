"""/healthz: is this process able to serve? The database and the broker, as JSON."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy", reported by its type only
        return f"error: {type(exc).__name__}"
    return "ok"


def broker_status() -> str:
    """'inline' when no broker is configured (jobs run in the request)."""
    if not settings.CELERY_BROKER_URL:
        return "inline"
    from moatapp.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and broker answer, 503 when either does not. No fund data."""
    status = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in {"ok", "inline"} for value in status.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **status}, status=200 if healthy else 503
    )
