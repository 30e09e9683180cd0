"""The settings page, the API tokens page and a fund's webhook pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.identity import tokens
from assessments.identity.models import ApiToken
from assessments.notifications.models import AlertEmail, AlertPreference, Webhook, WebhookDelivery
from tests.security.hostile import PAYLOAD, assert_escaped
from tests.security.security_world import ASSOCIATE, PARTNER, VIEWER, build_world

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # the factories' password


def test_a_new_token_is_shown_once_and_then_only_by_its_prefix():
    world = build_world()
    client = world.client(VIEWER)
    response = client.post(
        reverse("api_tokens"), {"name": "CRM sync", "scope": "read_write", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    key = response.context["new_key"]
    html = response.content.decode()
    assert key in html and "only this once" in html
    token = ApiToken.objects.get(user=world.users[VIEWER])
    assert (token.name, token.scope) == ("CRM sync", "read_write")
    assert tokens.token_authenticate(key) == token
    again = client.get(reverse("api_tokens")).content.decode()
    assert key not in again and token.prefix in again


def test_a_token_is_revoked_by_its_owner_only():
    world = build_world()
    token, key = tokens.token_create(user=world.users[VIEWER], name="t", scope="read")
    other = world.client(ASSOCIATE).post(reverse("api_token_revoke", args=[token.pk]))
    assert other.status_code == 404
    assert tokens.token_authenticate(key) is not None
    mine = world.client(VIEWER).post(reverse("api_token_revoke", args=[token.pk]))
    assert mine.status_code == 302
    assert tokens.token_authenticate(key) is None
    assert (
        world.client(VIEWER)
        .get("/api/v1/funds", headers={"Authorization": f"Bearer {key}"})
        .status_code
        == 401
    )


def test_the_token_form_explains_a_missing_name():
    world = build_world()
    response = world.client(VIEWER).post(reverse("api_tokens"), {"name": "", "scope": "admin"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "scope", "password"}
    assert not ApiToken.objects.exists()


def test_alert_email_choice_is_saved():
    world = build_world()
    client = world.client(VIEWER)
    assert client.get(reverse("account_settings")).status_code == 200
    response = client.post(reverse("account_settings"), {"email": AlertEmail.DAILY})
    assert response.status_code == 302
    pref = AlertPreference.objects.get(user=world.users[VIEWER])
    assert pref.email == AlertEmail.DAILY and pref.digest_sent_until is not None
    bad = client.post(reverse("account_settings"), {"email": "hourly"})
    assert bad.status_code == 200 and "email" in bad.context["form"].errors


def test_a_partner_adds_a_webhook_and_sees_its_secret_once():
    world = build_world()
    client = world.client(PARTNER)
    url = reverse("fund_webhooks", args=[world.fund.pk])
    response = client.post(url, {"url": "https://crm.example.com/moat", "description": "CRM"})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    hook = Webhook.objects.get(fund=world.fund)
    assert hook.secret == secret and secret in response.content.decode()
    assert hook.history.first().history_user == world.users[PARTNER]
    assert secret not in client.get(url).content.decode()
    refused = client.post(url, {"url": "ftp://files.example.com/"})
    assert refused.status_code == 200 and "url" in refused.context["form"].errors
    assert Webhook.objects.count() == 1


def test_the_delivery_log_lists_each_batch_with_its_attempts():
    world = build_world()
    hook = Webhook.objects.create(fund=world.fund, url="https://x.example.com/", secret="s")
    WebhookDelivery.objects.create(
        webhook=hook,
        payload={"alerts": [{}, {}]},
        status="failed",
        attempts=6,
        last_status_code=502,
    )
    html = (
        world.client(PARTNER)
        .get(reverse("webhook_deliveries", args=[world.fund.pk, hook.pk]))
        .content.decode()
    )
    assert "Failed" in html and "HTTP 502" in html and ">6<" in html and "<td>2</td>" in html


def test_hostile_text_is_escaped_on_the_integration_pages(settings):
    world = build_world()
    client = world.client(PARTNER)
    tokens.token_create(user=world.users[PARTNER], name=PAYLOAD[:100], scope="read")
    Webhook.objects.create(
        fund=world.fund, url="https://x.example.com/", secret="s", description=PAYLOAD[:200]
    )
    hook = Webhook.objects.get()
    WebhookDelivery.objects.create(webhook=hook, payload={"alerts": []}, last_error=PAYLOAD)
    for where, url in (
        ("tokens", reverse("api_tokens")),
        ("webhooks", reverse("fund_webhooks", args=[world.fund.pk])),
    ):
        assert_escaped(client.get(url).content, where)
    deliveries = client.get(reverse("webhook_deliveries", args=[world.fund.pk, hook.pk]))
    assert_escaped(deliveries.content, "delivery log")
