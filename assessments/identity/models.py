"""Identity: who signs in and how they prove it (personal API tokens, identities at the
firm's identity provider). The tables stay in the `assessments` app (no migration moved them);
AssessmentsConfig imports this module with the domain's models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    READ_WRITE = "read_write", "Read and write"


class ApiToken(models.Model):
    """A personal API token: the key is shown once; only its SHA-256 is kept.

    A token acts as its owner, with its owner's memberships and roles; a read token
    cannot write whatever the role.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=20, choices=TokenScope.choices, default=TokenScope.READ)
    # The first characters of the key, to tell tokens apart on the settings page.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Set at creation from API_TOKEN_LIFETIME_DAYS; the token opens nothing after it.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=TokenScope.values), name="api_token_scope_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.READ_WRITE

    @property
    def is_expired(self) -> bool:
        return self.expires_at is None or self.expires_at <= timezone.now()


class ExternalIdentity(models.Model):
    """A user's account at the firm's identity provider (OpenID Connect issuer + subject):
    how a returning SSO user is recognised, whatever their e-mail becomes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    # The groups the provider sent at the last sign-in (what the mapping was applied to).
    groups = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class SecurityEventKind(models.TextChoices):
    SECOND_FACTOR_FAILED = "mfa_failed", "Wrong second-factor code"
    SECOND_FACTOR_PASSED = "mfa_passed", "Second factor verified"
    SECOND_FACTOR_LOCKED = "mfa_locked", "Locked out after wrong codes"
    SSO_LINKED_BY_EMAIL = "sso_email_link", "SSO identity linked by e-mail"
    TOKENS_REVOKED = "tokens_revoked", "API tokens revoked"
    SESSIONS_ENDED = "sessions_ended", "Other sessions ended"


class SecurityEvent(models.Model):
    """The account-level audit trail: what happened to a sign-in, a second factor, a
    token, with the client's address. Also what the second-factor lockout counts."""

    kind = models.CharField(max_length=20, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    # Kept as written: the user may be deleted later.
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["kind", "user", "at"], name="security_event_user"),
            models.Index(fields=["kind", "ip_address", "at"], name="security_event_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username} at {self.at:%Y-%m-%d %H:%M}"
