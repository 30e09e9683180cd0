"""In Chromium: a partner previews a draft (two maps drawn), activates it through the
confirmation, and reads a company's "why it moved" line, its runway levers and its
tornado chart, then asks since another date; screenshots go to test-artifacts/."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from assessments import selectors, services
from assessments.demo import load_demo
from assessments.models import Company, RubricVersion
from tests.browser.test_company_browser import sign_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_partner_previews_activates_and_reads_why_a_company_moved(
    page: Page, live_server, artifacts_dir
):
    load_demo()
    page.set_viewport_size({"width": 1440, "height": 900})
    errors = watch_console(page)
    sign_in(page, live_server.url, "partner")
    partner = Company.objects.first().fund.memberships.get(role="partner").user
    draft = services.rubric_draft_create(
        user=partner,
        base=selectors.active_rubric_version(),
        name="Access counts more",
        factor_weights={"system_access": 2.4},
    )
    page.goto(f"{live_server.url}/rubric/{draft.pk}/preview/")
    for figure in ("preview-active-figure", "preview-draft-figure"):
        expect(page.locator(f"[data-figure='{figure}'] .main-svg").first).to_be_visible()
    expect(page.locator("table.movers tbody tr").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "rubric-preview.png", full_page=True)

    page.goto(f"{live_server.url}/rubric/{draft.pk}/activate/")
    page.check("input[name=confirm]")
    page.click("form.confirm button.primary")
    expect(page.locator("#activation-progress")).to_contain_text("Done")
    assert RubricVersion.objects.get(pk=draft.pk).is_active

    company = Company.objects.filter(tasks__isnull=False).order_by("name").first()
    page.goto(f"{live_server.url}/companies/{company.pk}/")
    line = page.locator("#company-insight [data-move-line]")
    # Runway while above the boundary, the margin once absorbed; the boundary rose a year.
    expect(line).to_contain_text("boundary −8.0" if not company.runway_years else "boundary −1.0")
    expect(page.locator("#company-insight ol.levers li").first).to_contain_text("strong, verified")
    expect(page.locator("[data-figure='company-tornado'] .main-svg").first).to_be_visible()
    page.locator("#company-insight").screenshot(path=artifacts_dir / "rubric-why-it-moved.png")
    since = (selectors.today() - timedelta(days=90)).isoformat()
    page.fill("#insight-since", since)
    page.locator("#insight-since").dispatch_event("change")
    day = selectors.today() - timedelta(days=90)
    expect(line).to_contain_text(f"Since {day.day} {day:%b %Y}")
    assert not errors, errors
