"""The IC pack page in a real headless Chromium: the bar follows the build, then stops."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.demo import DEMO_PASSWORD, load_demo
from assessments.models import Fund, ICPack, ICPackStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_progress_bar_follows_the_build_and_polling_stops_when_done(
    page, live_server, artifacts_dir
):
    load_demo()
    fund = Fund.objects.order_by("name").first()
    partner = fund.memberships.get(user__username="partner").user
    pack = ICPack.objects.create(
        fund=fund,
        requested_by=partner,
        as_of=timezone.localdate(),
        status=ICPackStatus.RUNNING,
        companies_done=1,
        companies_total=4,
        attempts=1,
        heartbeat_at=timezone.now(),
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/exports/ic-pack/{fund.id}/")
    bar = page.locator(".ic-pack-status progress")
    expect(bar).to_have_attribute("value", "1")
    expect(page.locator(".ic-pack-status")).to_contain_text("1 of 4 companies done")

    # The job moves on: the page shows it without a reload.
    ICPack.objects.filter(id=pack.id).update(companies_done=3, heartbeat_at=timezone.now())
    expect(page.locator(".ic-pack-status")).to_contain_text("3 of 4 companies done")
    expect(bar).to_have_attribute("value", "3")
    page.screenshot(path=str(artifacts_dir / "ic-pack-building.png"), full_page=True)

    ICPack.objects.filter(id=pack.id).update(status=ICPackStatus.DONE, companies_done=4)
    expect(page.get_by_role("link", name="Download the IC pack (PDF)")).to_be_visible()
    # 286 ended the polling: no request for the progress fragment follows.
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(2500)
    assert not [url for url in requests if "/exports/ic-pack/progress/" in url]
    page.screenshot(path=str(artifacts_dir / "ic-pack-done.png"), full_page=True)
