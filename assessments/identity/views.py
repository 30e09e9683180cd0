"""The pages of sign-in and identity: the second factor (set up TOTP with recovery codes,
give a code after the password, turn it off), personal API tokens and the settings page."""

from __future__ import annotations

from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from .. import access
from ..notifications import alerting
from ..notifications.forms import AlertPreferenceForm
from . import mfa, tokens
from .forms import ApiTokenForm, SecondFactorForm


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _locked_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {"second_factor": True, "minutes": settings.MFA_COOLOFF_MINUTES},
        status=429,
    )
    response["Retry-After"] = str(settings.MFA_COOLOFF_MINUTES * 60)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code, confirm with a code, keep the recovery codes (shown once)."""
    if mfa.pending(request) == "verify":
        # A session that still owes a code must not set up (and so verify itself with) an
        # authenticator of its own choosing, nor replace the recovery codes.
        messages.error(request, "Give your current code first; then you can set up another.")
        return redirect(f"{reverse('mfa_verify')}?next={quote(reverse('mfa_setup'))}")
    if mfa.has_totp(request.user):
        return render(
            request,
            "identity/mfa_setup.html",
            {
                "enabled": True,
                "left": mfa.recovery_codes_left(request.user),
                "required": mfa.required_for(request.user),
                "form": SecondFactorForm(),
            },
        )
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_setup(request, form.cleaned_data["code"])
        if codes is not None:
            response = render(
                request, "identity/mfa_setup.html", {"codes": codes, "next": _next(request)}
            )
            response["Cache-Control"] = "private, no-store"
            return response
        form.add_error(
            "code", "That code does not match: check the time on your phone and try again."
        )
    uri = mfa.setup_uri(request)
    return render(
        request,
        "identity/mfa_setup.html",
        {
            "form": form,
            "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
            "secret": mfa.setup_secret(request),
            "required": mfa.required_for(request.user),
            "next": request.GET.get("next", ""),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the authenticator (or a recovery code)."""
    if mfa.pending(request) != "verify":
        return HttpResponseRedirect(_next(request))
    if mfa.locked(request):
        return _locked_out(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify(request, form.cleaned_data["code"]):
            return HttpResponseRedirect(_next(request))
        if mfa.locked(request):
            return _locked_out(request)
        form.add_error("code", "That code is not right, or was already used.")
    return render(
        request, "identity/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@login_required
@require_POST
def mfa_disable(request: HttpRequest) -> HttpResponse:
    """Turn the second factor off, with a current code (not while it is required)."""
    if not mfa.has_totp(request.user):
        return redirect("mfa_setup")
    if mfa.required_for(request.user):
        messages.error(request, "Partners must keep a second factor.")
        return redirect("mfa_setup")
    if mfa.locked(request):
        return _locked_out(request)
    form = SecondFactorForm(request.POST)
    if form.is_valid() and mfa.verify(request, form.cleaned_data["code"]):
        mfa.disable(request.user)
        messages.success(request, "Two-factor sign-in is off.")
    else:
        messages.error(request, "That code is not right: the second factor stays on.")
    return redirect("mfa_setup")


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    """How the user hears of alerts, and where their tokens and funds' webhooks are."""
    pref = alerting.preference_of(request.user)
    form = AlertPreferenceForm(request.POST or None, initial={"email": pref.email})
    if request.method == "POST" and form.is_valid():
        alerting.preference_set(user=request.user, email=form.cleaned_data["email"])
        messages.success(request, "Alert e-mail saved.")
        return redirect("account_settings")
    webhook_funds = [
        fund
        for fund in access.visible_funds(request.user)
        if access.can(request.user, access.MANAGE_WEBHOOKS, fund.pk)
    ]
    return render(
        request,
        "identity/settings.html",
        {"form": form, "webhook_funds": webhook_funds, "has_email": bool(request.user.email)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a new token's key is shown on this answer only."""
    fresh = {"user": request.user, "signed_in_at": request.session.get(mfa.SIGNED_IN_AT_KEY)}
    form = ApiTokenForm(request.POST or None, **fresh)
    new_key = new_token = None
    if request.method == "POST" and form.is_valid():
        new_token, new_key = tokens.token_create(
            user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
        )
        form = ApiTokenForm(**fresh)
    response = render(
        request,
        "identity/api_tokens.html",
        {
            "form": form,
            "tokens": tokens.tokens_of(request.user),
            "new_key": new_key,
            "new_token": new_token,
            "lifetime_days": settings.API_TOKEN_LIFETIME_DAYS,
        },
    )
    # The key must not stay in a cache or the browser's history.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not tokens.token_revoke(user=request.user, token_id=token_id):
        raise Http404("No such token.")
    messages.success(request, "Token revoked: it no longer opens the API.")
    return redirect("api_tokens")
