"""In Chromium: the API docs (served from the installed package, within the CSP), the API
tokens page (a key shown once, then working against the API), a fund's webhooks (the
secret shown once) and the delivery log after a re-score raised alerts. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from assessments.demo import DEMO_PASSWORD, load_demo
from assessments.models import Fund, Membership
from assessments.notifications.models import Webhook
from tests.browser.test_company_browser import sign_in
from tests.browser.test_security_pages_browser import CSP_LISTENER
from tests.factories import CompanyFactory, TaskFactory
from tests.identity.oidc_provider import Provider
from tests.notifications.test_alerts_out import Receiver, add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def screen(page: Page) -> Page:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.add_init_script(CSP_LISTENER)
    return page


def test_api_docs_render_offline_within_the_csp(screen: Page, live_server, artifacts_dir):
    load_demo()
    sign_in(screen, live_server.url, "viewer")  # the docs are behind a sign-in
    requests: list[str] = []
    screen.on("request", lambda r: requests.append(r.url))
    screen.goto(live_server.url + reverse("api:openapi-view"))
    expect(screen.locator(".swagger-ui .info .title")).to_contain_text("Moat map API")
    expect(screen.locator(".opblock-summary-path").first).to_be_visible()
    screen.screenshot(path=artifacts_dir / "api-docs.png")
    assert screen.evaluate("window.__csp") == []
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests)


def test_a_token_is_shown_once_and_opens_the_api(screen: Page, live_server, artifacts_dir):
    load_demo()
    sign_in(screen, live_server.url, "partner")
    screen.goto(live_server.url + reverse("api_tokens"))
    screen.fill("#id_name", "CRM sync")
    screen.check("input[name=scope][value=read_write]")
    screen.fill("#id_password", DEMO_PASSWORD)
    screen.get_by_role("button", name="Create token").click()
    key = screen.locator("#token-key").inner_text().strip()
    assert key.startswith("mm_")
    screen.screenshot(path=artifacts_dir / "api-token-shown-once.png", full_page=True)
    answer = screen.request.get(
        live_server.url + "/api/v1/funds", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status == 200
    assert {f["name"] for f in answer.json()["items"]} == set(
        Fund.objects.values_list("name", flat=True)
    )
    screen.goto(live_server.url + reverse("api_tokens"))
    expect(screen.locator("#tokens")).to_contain_text("CRM sync")
    assert key not in screen.content()
    screen.screenshot(path=artifacts_dir / "api-tokens-list.png", full_page=True)
    assert screen.evaluate("window.__csp") == []


def test_a_partner_adds_a_webhook_and_reads_its_delivery_log(
    screen: Page, live_server, artifacts_dir, settings
):
    settings.WEBHOOK_BACKOFF_SECONDS = 0  # the sweep below finds the retry due at once
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver is on loopback
    settings.ALERT_SETTLE_SECONDS = 0  # one re-score, no burst: its alerts go out at once
    load_demo()
    fund = Fund.objects.order_by("name").first()
    receiver = Receiver()
    try:
        receiver.statuses = [500]
        sign_in(screen, live_server.url, "partner")
        screen.goto(live_server.url + reverse("fund_webhooks", args=[fund.pk]))
        screen.fill("#id_url", receiver.url)
        screen.fill("#id_description", "Deal-team chat bridge")
        screen.get_by_role("button", name="Add webhook").click()
        secret = screen.locator("#webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        screen.screenshot(path=artifacts_dir / "webhook-secret-shown-once.png", full_page=True)

        # A re-score moves a company: its alerts go out in one batch (the first POST fails).
        partner = fund.memberships.get(role="partner").user
        task = TaskFactory(
            company=CompanyFactory(fund=fund, name="Ledgerline (new)"), name="Reconciliation"
        )
        add(task, partner, factor="tacit_judgment")
        add(task, partner, factor="system_access")
        for _ in range(3):
            add(task, partner, factor="frontier_model_parity")
        from assessments.notifications import jobs

        jobs.dispatch_alert_events.delay()  # the sweep sends the retry once it is due
        hook = Webhook.objects.get(fund=fund)
        retried = hook.deliveries.order_by("id").first()
        assert (retried.status, retried.attempts) == ("delivered", 2)
        assert not hook.deliveries.exclude(status="delivered").exists()

        screen.goto(live_server.url + reverse("fund_webhooks", args=[fund.pk]))
        assert secret not in screen.content()
        expect(screen.locator("#webhooks")).to_contain_text("Delivered")
        screen.screenshot(path=artifacts_dir / "webhooks.png", full_page=True)
        screen.get_by_role("link", name="Delivery log").click()
        expect(screen.locator("#deliveries")).to_contain_text("Delivered")
        screen.screenshot(path=artifacts_dir / "webhook-delivery-log.png", full_page=True)
        assert screen.evaluate("window.__csp") == []
    finally:
        receiver.close()


def test_sign_in_through_the_identity_provider_lands_on_the_map_with_the_groups_funds(
    screen: Page, live_server, artifacts_dir, settings
):
    load_demo()
    provider = Provider()
    try:
        for name, value in provider.settings().items():
            setattr(settings, name, value)
        settings.OIDC_PROVIDER_NAME = "Firm SSO"
        settings.OIDC_GROUP_ROLES = {
            "moat-ventures-iii": [["Northbridge Ventures III", "associate"]]
        }
        settings.AUTHENTICATION_BACKENDS = [
            *settings.AUTHENTICATION_BACKENDS,
            "assessments.identity.sso.SsoBackend",
        ]
        provider.claims = {
            "sub": "okta-00u1",
            "email": "quinn@firm.example",
            "preferred_username": "quinn",
            "groups": ["moat-ventures-iii", "everyone"],
        }
        screen.goto(live_server.url + reverse("login"))
        expect(screen.locator("#sso-sign-in")).to_have_text("Sign in with Firm SSO")
        screen.screenshot(path=artifacts_dir / "sso-sign-in.png")
        screen.click("#sso-sign-in")
        expect(screen.locator(".account")).to_contain_text("quinn")
        assert screen.url == live_server.url + reverse("home")
        screen.wait_for_selector("#map-chart .main-svg")
        # Only the fund the groups grant is offered.
        funds = screen.locator("select[name=fund] option").all_inner_texts()
        assert [f for f in funds if f.startswith("Northbridge")] == ["Northbridge Ventures III"]
        screen.screenshot(path=artifacts_dir / "sso-landed-on-map.png")
        roles = dict(
            Membership.objects.filter(user__username="quinn").values_list("fund__name", "role")
        )
        assert roles == {"Northbridge Ventures III": "associate"}
        assert screen.evaluate("window.__csp") == []
    finally:
        provider.close()


def test_turn_on_totp_then_sign_in_with_a_code(screen: Page, live_server, artifacts_dir):
    from tests.identity.test_second_factor import code_for

    load_demo()
    sign_in(screen, live_server.url, "viewer")
    screen.goto(live_server.url + reverse("account_settings"))
    screen.screenshot(path=artifacts_dir / "settings.png", full_page=True)
    screen.get_by_role("link", name="Two-factor sign-in").click()
    expect(screen.locator(".mfa-setup img")).to_be_visible()
    screen.screenshot(path=artifacts_dir / "totp-setup.png", full_page=True)
    secret = screen.locator("#totp-secret").inner_text().strip()
    screen.fill("#id_code", code_for(secret))
    screen.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(screen.locator("#recovery-codes li")).to_have_count(10)
    screen.screenshot(path=artifacts_dir / "totp-recovery-codes.png", full_page=True)

    screen.get_by_role("button", name="Sign out").click()
    screen.goto(f"{live_server.url}/accounts/login/")
    screen.fill("#id_username", "viewer")
    screen.fill("#id_password", DEMO_PASSWORD)
    screen.click("button[type=submit]")
    expect(screen.locator("h1")).to_have_text("One more step")
    screen.screenshot(path=artifacts_dir / "totp-code-at-sign-in.png")
    screen.fill("#id_code", code_for(secret, shift=1))
    screen.get_by_role("button", name="Verify").click()
    screen.wait_for_selector("#map-chart .main-svg")
    assert screen.url == live_server.url + reverse("home")
    assert screen.evaluate("window.__csp") == []
