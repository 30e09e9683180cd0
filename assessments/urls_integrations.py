"""The settings pages (API tokens, alert e-mail, second factor) and the fund's webhooks."""

from django.urls import path

from .views import integrations, mfa

urlpatterns = [
    path("settings/", integrations.account_settings, name="account_settings"),
    path("settings/tokens/", integrations.api_tokens, name="api_tokens"),
    path(
        "settings/tokens/<int:token_id>/revoke/",
        integrations.api_token_revoke,
        name="api_token_revoke",
    ),
    # The second factor (under accounts/2fa/, which RequireSecondFactor leaves open).
    path("accounts/2fa/", mfa.mfa_setup, name="mfa_setup"),
    path("accounts/2fa/verify/", mfa.mfa_verify, name="mfa_verify"),
    path("accounts/2fa/disable/", mfa.mfa_disable, name="mfa_disable"),
    path("funds/<int:fund_id>/webhooks/", integrations.fund_webhooks, name="fund_webhooks"),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/",
        integrations.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/test/",
        integrations.webhook_send_test,
        name="webhook_send_test",
    ),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/resend/",
        integrations.webhook_resend,
        name="webhook_resend",
    ),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/delete/",
        integrations.webhook_delete,
        name="webhook_delete",
    ),
]
