"""Notifications: alert events as they go out, each user's alert e-mail choice, a fund's
webhooks and their deliveries. The tables stay in the `assessments` app (no migration moved
them); AssessmentsConfig imports this module with the domain's models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ..models import Alert, Fund


class AlertEmail(models.TextChoices):
    OFF = "off", "No e-mail"
    IMMEDIATE = "immediate", "At once"
    DAILY = "daily", "Daily digest"


class AlertPreference(models.Model):
    """How one user hears of the alerts of their funds by e-mail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    email = models.CharField(max_length=10, choices=AlertEmail.choices, default=AlertEmail.OFF)
    # The digest covers the alerts raised after this moment; moved on by each digest sent.
    digest_sent_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.email}"


class AlertEvent(models.Model):
    """An alert as it goes out: with the values before and after the re-score that raised
    it, so that a webhook receiver or a digest reader sees what moved. One per alert; a
    repeated re-score raises no second one."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, related_name="event")
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="alert_events")
    previous = models.JSONField(default=dict)
    current = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Webhook deliveries and immediate e-mails made; None while still to do (swept).
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="alert_event_undispatched",
            ),
            models.Index(fields=["fund", "created_at"], name="alert_event_fund_created"),
        ]

    def __str__(self) -> str:
        return f"Event for {self.alert}"


class Webhook(models.Model):
    """A URL of a fund's own systems that receives the fund's alerts, signed with HMAC.

    The secret must be kept to sign, so it is stored; it is shown to the partner once.
    """

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["fund", "id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One POST of a batch of alerts to one webhook, with every attempt's outcome."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    events = models.ManyToManyField(AlertEvent, related_name="deliveries")
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"Delivery {self.pk} to {self.webhook}"
