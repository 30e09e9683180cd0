"""The forms of the notifications: a user's alert e-mail, a fund's webhook."""

from __future__ import annotations

from django import forms

from .. import outbound
from .models import AlertEmail


class AlertPreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label="E-mail me the alerts of my funds",
        choices=AlertEmail.choices,
        widget=forms.RadioSelect,
    )


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Your system's endpoint; it receives a signed JSON POST per batch of alerts.",
    )
    description = forms.CharField(max_length=200, required=False)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Give an http:// or https:// URL.")
        try:
            outbound.check(url)
        except outbound.HostNotFound:
            pass  # It may be set up later: each delivery checks the host again.
        except outbound.OutboundRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        return url
