"""The JSON API under /api/v1/: django-ninja, with personal API tokens.

Every operation goes through the pages' own path: access.py scopes every read and checks
every role, forms.py validates every write, services.py makes it. Errors are JSON:
{"detail": "...", "errors": {"field": ["message", ...]}} with 400, 401, 403, 404 or 409.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from .. import services
from ..identity import tokens


class TokenAuth(HttpBearer):
    """Authorization: Bearer mm_…: the request acts as the token's owner."""

    openapi_description = "A personal API token from Settings → API tokens."

    def authenticate(self, request, token: str):
        found = tokens.token_authenticate(token)
        if found is None:
            return None
        # Refused before the body is read (ninja parses it only after authentication).
        if request.method not in ("GET", "HEAD", "OPTIONS") and not found.can_write:
            raise PermissionDenied("This API token is read-only: create a read-write token.")
        # The audit trail (django-simple-history reads request.user) names the owner.
        request.user = found.user
        request.api_token = found
        return found


class StrictJsonParser(Parser):
    """JSON whose strings the database can store: no lone surrogates (\\ud800 and kin)."""

    def parse_body(self, request):
        data = json.loads(request.body or b"null")
        _check_text(data)
        return data


def _check_text(value) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as bad:
            raise NinjaValidationError(
                [{"loc": ["body"], "msg": "Text must be valid Unicode (no lone surrogates)."}]
            ) from bad
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _docs_gate(view):
    """The schema and the docs answer GET (and HEAD) only, and only to a signed-in user
    unless API_DOCS_PUBLIC opens them: they map every operation of the API."""

    @require_safe
    @wraps(view)
    def gated(request, *args, **kwargs):
        if not (settings.API_DOCS_PUBLIC or request.user.is_authenticated):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return gated


api = NinjaAPI(
    title="Moat map API",
    version="1",
    description=(
        "Funds, companies, tasks, scores, evidence and alerts of the funds you belong to. "
        "Authenticate with `Authorization: Bearer <token>` (a personal API token from the "
        "settings page). Lists are paginated (`page`, `page_size`). Edits of companies and "
        "evidence name the `version` they started from; a newer save answers 409."
    ),
    urls_namespace="api",
    docs_decorator=_docs_gate,
    auth=TokenAuth(),
    parser=StrictJsonParser(),
)


def _error(request, status: int, detail: str, errors: dict | None = None, **extra):
    return api.create_response(
        request, {"detail": detail, "errors": errors or {}, **extra}, status=status
    )


class FieldErrors(Exception):
    """A form refused the input: messages per field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The input has errors.")
        self.errors = errors


@api.exception_handler(FieldErrors)
def _field_errors(request, exc: FieldErrors):
    return _error(request, 400, "The input has errors; nothing was saved.", exc.errors)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "name") → "name"; ("query", "page") → "page"
        field = ".".join(loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]) or "body"
        errors.setdefault(field, []).append(str(error.get("msg", "Invalid value.")))
    return _error(request, 400, "The request has errors; nothing was saved.", errors)


@api.exception_handler(DjangoValidationError)
def _model_invalid(request, exc: DjangoValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 400, "The input has errors; nothing was saved.", errors)


@api.exception_handler(json.JSONDecodeError)
def _bad_json(request, exc):
    return _error(request, 400, f"The body is not JSON: {exc.msg}.")


@api.exception_handler(UnicodeDecodeError)
def _bad_encoding(request, exc):
    return _error(request, 400, "The body is not UTF-8.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "No such object.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or "Your role in this fund does not allow that.")


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return _error(request, 401, "Send a valid API token: Authorization: Bearer <token>.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(services.ConflictError)
def _conflict(request, exc: services.ConflictError):
    return _error(request, 409, str(exc), current_version=exc.current.version)


@api.exception_handler(IntegrityError)
def _integrity(request, exc):
    # A concurrent save with the same name got there first (the forms check, then this).
    return _error(
        request, 409, "That conflicts with a record saved at the same moment.", current_version=0
    )


from . import endpoints  # noqa: E402,F401  (registers the operations on api)
