"""In Chromium: the company page's htmx POST passes CSRF the way a browser sends it (and
the same POST without the token is refused), and no page breaks the CSP."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from assessments.demo import load_demo
from assessments.models import Company, Evidence, Fund
from tests.browser.test_company_browser import sign_in
from tests.security.security_world import ASSOCIATE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Reference call: the bank wired the product into its ledger"

# Listens before any page script runs: every CSP violation, whatever the console says.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_evidence_form_htmx_post_carries_the_csrf_token(page: Page, live_server):
    load_demo()
    sign_in(page, live_server.url, ASSOCIATE)
    company = Company.objects.filter(tasks__isnull=False).order_by("name").first()
    task = company.tasks.order_by("-weight", "name").first()
    page.goto(live_server.url + reverse("company_detail", args=[company.pk]))
    form = page.locator(f"#task-{task.pk}-evidence-form")
    form.locator("select[name=factor]").select_option("system_access")
    form.locator("select[name=strength]").select_option("4")
    form.locator("select[name=confidence]").select_option("high")
    form.locator("textarea[name=note]").fill(NOTE)
    with page.expect_response(lambda r: "/evidence/new/" in r.url) as answer:
        form.get_by_role("button", name="Save evidence").click()
    response = answer.value
    assert response.status == 200
    headers = response.request.headers
    assert headers.get("hx-request") == "true"
    assert headers.get("x-csrftoken"), "htmx sends the token from <body hx-headers>"
    expect(page.locator(f"#task-{task.pk}-evidence")).to_contain_text("ledger")
    assert Evidence.objects.filter(note=NOTE, task=task).count() == 1

    # The same request from the page's own origin, without the token: refused, nothing saved.
    url = reverse("evidence_create", args=[task.pk])
    status = page.evaluate(
        """async (url) => {
            const body = new URLSearchParams({factor: "system_access", stance: "1",
              strength: "3", confidence: "high", observed_on: "2026-01-01", note: "forged"});
            const r = await fetch(url, {method: "POST", body, headers: {"HX-Request": "true"}});
            return r.status;
        }""",
        url,
    )
    assert status == 403
    assert not Evidence.objects.filter(note="forged").exists()


def test_no_csp_violations_on_the_main_pages_as_the_demo_partner(page: Page, live_server):
    load_demo()
    page.add_init_script(CSP_LISTENER)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    sign_in(page, live_server.url, "partner")
    company = Company.objects.filter(tasks__evidence__isnull=False).order_by("name").first()
    fund = Fund.objects.order_by("name").first()
    pages = {
        "map": (reverse("home"), "#map-chart .main-svg"),
        "company page": (reverse("company_detail", args=[company.pk]), ".chart .main-svg"),
        "review queue": (reverse("review_queue"), "h1"),
        "members": (reverse("fund_members", args=[fund.pk]), "h1"),
    }
    for where, (url, ready) in pages.items():
        page.goto(live_server.url + url)
        # The page's scripts ran: Plotly drew the charts (or the page's heading is there).
        expect(page.locator(ready).first).to_be_visible()
        violations = page.evaluate("window.__csp")
        assert violations == [], f"{where}: {violations}"
    blocked = [text for text in console if "Content Security Policy" in text]
    assert blocked == [], blocked
    # The listener hears a real violation: an injected inline script is blocked and reported.
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.append(s); }"""
    )
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__ran") is None
