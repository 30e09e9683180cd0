"""In Chromium: an htmx form disables its submit while the request is in flight, and a
failed request — a server error or a lost connection — is said on the page while the note
the user typed stays in the form."""

import pytest
from playwright.sync_api import Page, expect

from assessments.demo import load_demo
from assessments.models import Company, Evidence
from tests.browser.test_company_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NOTE = "Signed a 3-year DPA giving read access to the document management system"


def open_evidence_form(page: Page, base: str):
    company = Company.objects.filter(tasks__isnull=False).order_by("name").first()
    task = company.tasks.order_by("-weight", "name").first()
    page.goto(f"{base}/companies/{company.pk}/")
    form = page.locator(f"#task-{task.pk}-evidence-form")
    form.locator("select[name=factor]").select_option("system_access")
    form.locator("textarea[name=note]").fill(NOTE)
    return task, form


@pytest.mark.parametrize("failure", ["server_error", "lost_connection"])
def test_a_failed_save_is_said_and_keeps_the_note(page: Page, live_server, artifacts_dir, failure):
    load_demo()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "associate")
    task, form = open_evidence_form(page, live_server.url)
    before = Evidence.objects.filter(task=task).count()
    released = []

    def answer(route):
        released.append(route)
        if failure == "server_error":
            route.fulfill(status=500, body="<h1>Server Error</h1>", content_type="text/html")
        else:
            route.abort("internetdisconnected")

    page.route("**/evidence/new/", answer)
    form.locator("button[type=submit]").click()
    banner = page.locator("#request-error")
    expect(banner).to_be_visible()
    expected = "could not be reached" if failure == "lost_connection" else "server failed"
    expect(banner).to_contain_text(expected)
    expect(form.locator("textarea[name=note]")).to_have_value(NOTE)
    expect(form.locator("button[type=submit]")).to_be_enabled()
    page.screenshot(path=str(artifacts_dir / f"request-{failure}.png"))
    assert len(released) == 1
    assert Evidence.objects.filter(task=task).count() == before


def test_the_submit_is_disabled_while_the_save_is_in_flight(page: Page, live_server):
    load_demo()
    sign_in(page, live_server.url, "associate")
    task, form = open_evidence_form(page, live_server.url)
    held = []
    page.route("**/evidence/new/", lambda route: held.append(route))
    button = form.locator("button[type=submit]")
    button.click()
    expect(button).to_be_disabled()
    # A second click on the disabled button sends nothing.
    button.click(force=True)
    page.wait_for_timeout(200)
    assert len(held) == 1
    held[0].continue_()
    expect(button).to_be_enabled()
