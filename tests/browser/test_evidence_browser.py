"""In Chromium at 1440×900: an associate enters ten notes from one call from the keyboard
(the date typed once in one field, the source kept, the form saying which way each note
pushes); a partner works through the review queue filtered to one company, the counts and
the navigation badge changing without a reload. Screenshots go to test-artifacts/."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from assessments import directions, selectors
from assessments.demo import load_demo
from assessments.models import Alert, Company, Evidence
from tests.browser.test_company_browser import sign_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALL = "Call with the deputy GC"
# (what to type on the factor select, its code, stance "+" or "-", the note)
NOTES = (
    (
        "system access",
        "system_access",
        "+",
        "Matter workspaces are written to by the service account.",
    ),
    ("private eval", "private_eval", "+", "The knowledge team scores vendors on Lexbench's set."),
    ("accountability", "accountability", "+", "The indemnity covers missed change-of-control."),
    ("frontier model parity", "frontier_model_parity", "+", "General models match it on NDAs."),
    ("tacit judgment", "tacit_judgment", "+", "Materiality calls stay with senior associates."),
    ("workflow depth", "workflow_depth", "+", "Review feeds the disclosure schedule and sign-off."),
    ("proprietary data", "proprietary_data", "+", "Precedents come from the firm's own bank."),
    ("user habit", "user_habit", "-", "Partners rarely open it themselves."),
    ("long feedback loop", "long_feedback_loop", "+", "Errors show up in warranty claims."),
    ("public benchmark", "public_benchmark", "-", "No public benchmark tests issue lists."),
)


@pytest.fixture
def wide(page: Page) -> Page:
    page.set_viewport_size({"width": 1440, "height": 900})
    return page


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.name || document.activeElement.tagName")


def test_associate_enters_ten_notes_from_one_call_from_the_keyboard(
    wide: Page, live_server, artifacts_dir
):
    page = wide
    load_demo()
    errors = watch_console(page)
    sign_in(page, live_server.url, "associate")
    company = Company.objects.get(name="Lexbench")
    task = company.tasks.order_by("-weight", "name").first()
    before = Evidence.objects.filter(task=task).count()
    call_day = (selectors.today() - timedelta(days=6)).isoformat()
    page.goto(f"{live_server.url}/companies/{company.pk}/")
    page.evaluate("window.__samePage = true")
    expect(page.locator("[data-task-mix]")).to_contain_text("weighted mean")
    page.screenshot(path=str(artifacts_dir / "company-header.png"))
    form = f"#task-{task.pk}-evidence-form"
    page.focus(f"{form} select[name=factor]")

    for index, (typed, code, stance, text) in enumerate(NOTES):
        assert focused(page) == "factor"
        page.keyboard.type(typed)
        expect(page.locator(f"{form} select[name=factor]")).to_have_value(code)
        page.keyboard.press("Tab")  # the stance: one stop for the pair of radios
        assert focused(page) == "stance"
        if stance == "-":
            page.keyboard.press("ArrowRight")
        direction = page.locator(f"{form} [data-direction]")
        said = directions.direction(code, 1 if stance == "+" else -1).text
        expect(direction).to_contain_text(said)
        if code == "frontier_model_parity":
            expect(direction.locator("[data-moat-effect]")).to_have_class(
                "moat-effect moat-weakens"
            )
            page.screenshot(path=str(artifacts_dir / "evidence-form-direction.png"))
        page.keyboard.press("Tab")
        assert focused(page) == "strength"
        if index == 0:
            page.keyboard.type("4")
        page.keyboard.press("Tab")
        assert focused(page) == "confidence"
        if index == 0:
            page.keyboard.type("High")
        page.keyboard.press("Tab")
        assert focused(page) == "observed_on"  # one field, one stop
        if index == 0:
            page.keyboard.press("Control+A")
            page.keyboard.type(call_day)
        else:
            expect(page.locator(f"{form} input[name=observed_on]")).to_have_value(call_day)
        page.keyboard.press("Tab")
        assert focused(page) == "source"  # the calendar button is out of the tab order
        if index == 0:
            page.keyboard.type(CALL)
        else:
            expect(page.locator(f"{form} input[name=source]")).to_have_value(CALL)
        page.keyboard.press("Tab")
        assert focused(page) == "note"
        expect(page.locator(f"{form} textarea[name=note]")).to_have_value("")
        page.keyboard.type(text)
        page.keyboard.press("Control+Enter")
        expect(page.locator(f"#task-{task.pk}-evidence")).to_contain_text(text)
        expect(page.locator(f"{form} select[name=factor]")).to_be_focused()
        if index == 0:
            page.screenshot(path=str(artifacts_dir / "evidence-after-first-note.png"))

    saved = Evidence.objects.filter(task=task, source=CALL)
    assert saved.count() == 10 and Evidence.objects.filter(task=task).count() == before + 10
    assert {e.observed_on.isoformat() for e in saved} == {call_day}
    assert {(e.strength, e.confidence) for e in saved} == {(4, "high")}
    assert page.evaluate("window.__samePage") is True
    # Each row shows its effect now, in points with its direction.
    row = page.locator(f"#evidence-{saved.get(factor='frontier_model_parity').pk}")
    expect(row.locator("[data-effect]")).to_contain_text("x −")
    page.locator(f"#task-{task.pk}").screenshot(path=str(artifacts_dir / "evidence-ten-notes.png"))
    assert errors == []
    # What partners verified is a partner's to delete; the page says what would go.
    page.goto(f"{live_server.url}/companies/{company.pk}/delete/")
    expect(page.locator("[data-delete-summary]")).to_contain_text("verified by partners")
    expect(page.locator("[data-partner-needed]")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "confirm-delete-associate.png"))


def test_partner_works_through_the_queue_filtered_to_one_company(
    wide: Page, live_server, artifacts_dir
):
    page = wide
    load_demo()
    errors = watch_console(page)
    company = Company.objects.get(name="Lexbench")
    Alert.objects.create(
        company=company, kind="quadrant_change", message="Lexbench moved", as_of=selectors.today()
    )
    sign_in(page, live_server.url, "partner")
    badge = page.locator("#nav-review-badge")
    unread = Alert.objects.filter(read_at__isnull=True).count()
    expect(badge).to_have_text(str(unread))
    page.goto(f"{live_server.url}/review/")
    page.evaluate("window.__samePage = true")
    expect(page.locator(".tab.active")).to_contain_text("Alerts")  # unread alerts come first
    page.screenshot(path=str(artifacts_dir / "review-alerts.png"), full_page=True)

    page.select_option("#queue-company", str(company.pk))
    # The region swapped in place and the address says so (a bookmark keeps the filter).
    expect(page).to_have_url(re.compile(f"company={company.pk}"))
    expect(page.locator('[data-count="alerts"]')).to_have_text("1")
    expect(page.locator("#queue-alerts")).to_contain_text("Lexbench moved")
    page.locator("#queue-alerts").get_by_role("button", name="Mark read").first.click()
    expect(page.locator('[data-count="alerts"]')).to_have_text("0")
    expect(badge).to_have_text(str(unread - 1))

    page.locator('[data-tab="pending"]').click()
    expect(page.locator(".tab.active")).to_contain_text("Pending")
    expect(page.locator("#queue-unverified")).to_be_visible()
    pending = Evidence.objects.filter(task__company=company, verified_at__isnull=True)
    count = pending.count()
    assert count > 2
    expect(page.locator('[data-count="pending"]')).to_have_text(str(count))
    rows = page.locator("#queue-unverified tbody tr")
    expect(rows).to_have_count(count)
    # Every row is this company's, with its source and the note's first line.
    for text in rows.all_inner_texts():
        assert "Lexbench" in text
    first = pending.order_by("id").first()
    expect(page.locator("#queue-unverified")).to_contain_text(first.source)
    page.screenshot(path=str(artifacts_dir / "review-pending-one-company.png"), full_page=True)

    rows.first.get_by_role("button", name="Verify").click()
    expect(page.locator('[data-count="pending"]')).to_have_text(str(count - 1))
    expect(rows).to_have_count(count - 1)

    page.locator("[data-select-all]").check()
    page.get_by_role("button", name="Verify selected").click()
    expect(page.locator('[data-count="pending"]')).to_have_text("0")
    expect(page.locator("#queue-unverified")).to_contain_text("Nothing waits for verification")
    assert not Evidence.objects.filter(task__company=company, verified_at__isnull=True).exists()

    page.locator('[data-tab="contradictions"]').click()
    expect(page.locator(".tab.active")).to_contain_text("Contradictions")
    articles = page.locator("article.contradiction")
    contradictions = articles.count()
    page.screenshot(path=str(artifacts_dir / "review-contradictions.png"), full_page=True)
    assert contradictions > 0
    first_article = articles.first
    first_article.locator("input[name=comment]").fill("The later bake-off supersedes it")
    # The columns and buttons are named by their effect on the moat.
    expect(first_article.locator('[data-side="weakens"] h4')).to_contain_text("weakens the moat")
    first_article.get_by_role("button", name="“Weakens the moat” side superseded").click()
    expect(page.locator('[data-count="contradictions"]')).to_have_text(str(contradictions - 1))
    assert Evidence.objects.filter(superseded_at__isnull=False).exists()
    articles.first.get_by_role("button", name="Genuinely mixed").click()
    expect(page.locator('[data-count="contradictions"]')).to_have_text(str(contradictions - 2))
    expect(page.locator("#queue-message")).to_contain_text("genuinely mixed")
    page.screenshot(path=str(artifacts_dir / "review-contradiction-resolved.png"), full_page=True)

    page.locator('[data-tab="reunderwrite"]').click()
    expect(page.locator(".tab.active")).to_contain_text("Re-underwrite")
    expect(page.locator("#queue-due")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "review-reunderwrite.png"), full_page=True)
    assert page.evaluate("window.__samePage") is True
    assert errors == []
