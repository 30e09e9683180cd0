"""The forms of sign-in and identity: a personal API token, a second-factor code."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings

from .models import TokenScope


class ApiTokenForm(forms.Form):
    """A new token: asked for the password again (a token opens the user's funds without
    them), or, for a user who signs in only through SSO, a sign-in a few minutes old."""

    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “CRM sync”.")
    scope = forms.ChoiceField(
        choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect
    )
    password = forms.CharField(
        label="Your password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Asked again: a token acts as you without you.",
    )

    def __init__(self, *args, user, signed_in_at: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.signed_in_at = signed_in_at
        if not user.has_usable_password():
            del self.fields["password"]

    def clean(self):
        cleaned = super().clean()
        if "password" in self.fields:
            if not self.user.check_password(cleaned.get("password") or ""):
                self.add_error("password", "That is not your password.")
            return cleaned
        minutes = settings.API_TOKEN_FRESH_SIGN_IN_MINUTES
        if self.signed_in_at is None or time.time() - self.signed_in_at > minutes * 60:
            raise forms.ValidationError(
                f"Sign in again with {settings.OIDC_PROVIDER_NAME} first: a token is made "
                f"only within {minutes} minutes of signing in.",
                code="stale_sign_in",
            )
        return cleaned


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )
