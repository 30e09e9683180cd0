"""The settings page, personal API tokens, the second factor and sign-in with the firm's
identity provider."""

from django.urls import path

from . import sso, views

urlpatterns = [
    path("settings/", views.account_settings, name="account_settings"),
    path("settings/tokens/", views.api_tokens, name="api_tokens"),
    path("settings/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    # The second factor (under accounts/2fa/, which RequireSecondFactor leaves open).
    path("accounts/2fa/", views.mfa_setup, name="mfa_setup"),
    path("accounts/2fa/verify/", views.mfa_verify, name="mfa_verify"),
    path("accounts/2fa/disable/", views.mfa_disable, name="mfa_disable"),
    # Sign-in with the firm's identity provider (404 while OIDC_CLIENT_ID is unset).
    path("accounts/sso/start/", sso.SsoStart.as_view(), name="oidc_authentication_init"),
    path("accounts/sso/callback/", sso.SsoCallback.as_view(), name="oidc_authentication_callback"),
]
