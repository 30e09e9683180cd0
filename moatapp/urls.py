from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assessments import sso
from assessments.api import api

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    # The JSON API, its OpenAPI schema (openapi.json) and its docs (docs).
    path("api/v1/", api.urls),
    path("", include("assessments.urls_integrations")),
    # Sign-in with the firm's identity provider (404 while OIDC_CLIENT_ID is unset).
    path("accounts/sso/start/", sso.SsoStart.as_view(), name="oidc_authentication_init"),
    path("accounts/sso/callback/", sso.SsoCallback.as_view(), name="oidc_authentication_callback"),
    path("", include("assessments.urls")),
]

# A database failure inside a middleware answers the same clear 503 as one inside a view.
handler500 = "moatapp.middleware.server_error"
