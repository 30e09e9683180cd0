"""The charts in a real headless Chromium at 1440 x 900: a readable map tooltip, bubble sizes
that hold from one view to the next, and waterfall bars that lead to their evidence."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from assessments import selectors
from assessments.demo import load_demo
from assessments.models import Company, Evidence
from tests.browser.test_company_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def partner(page: Page, live_server):
    load_demo()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "partner")
    page.wait_for_selector("#map-chart .main-svg")
    return page


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two CSS colours."""
    la, lb = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def bubble_size(page: Page, name: str) -> float:
    """The drawn diameter (px) of the named company's bubble."""
    return page.evaluate(
        """(name) => {
          for (const trace of document.querySelectorAll('#map-chart .scatterlayer .trace')) {
            const t = trace.__data__[0].trace;
            if (!t.customdata) continue;
            const i = t.customdata.findIndex((row) => row[1] === name);
            if (i < 0) continue;
            return trace.querySelectorAll('.points path')[i].getBoundingClientRect().width;
          }
          return null;
        }""",
        name,
    )


def test_the_map_tooltip_reads_at_least_4_5_to_1(partner, artifacts_dir):
    page = partner
    point = page.locator("#map-chart .scatterlayer .points path").first
    point.hover(force=True)
    hover = page.locator("#map-chart .hoverlayer .hovertext")
    expect(hover).to_be_visible()
    background = hover.locator("path").first.evaluate("(el) => getComputedStyle(el).fill")
    texts = hover.locator("text")
    assert texts.count() >= 1
    for n in range(texts.count()):
        colour = texts.nth(n).evaluate("(el) => getComputedStyle(el).fill")
        assert contrast(colour, background) >= 4.5, (colour, background)
    page.screenshot(path=str(artifacts_dir / "charts-map-tooltip.png"))


def test_a_bubble_keeps_its_size_when_a_filter_removes_the_others(partner, artifacts_dir):
    page = partner
    before = bubble_size(page, "Lexbench")
    assert before and before > 0
    with page.expect_response(re.compile(r"sector=Legal")):
        page.select_option("select[name=sector]", "Legal")
    expect(page.locator("#map-chart .scatterlayer .points path")).to_have_count(1)
    assert bubble_size(page, "Lexbench") == pytest.approx(before, abs=0.5)
    page.screenshot(path=str(artifacts_dir / "charts-map-legal-only.png"))


def test_the_map_per_task_by_sector_with_trails(partner, live_server, artifacts_dir):
    """Screenshots to look at: per task, colour by sector, trails; the labels name the
    company and the task, and the trails start at markers named by their date."""
    page = partner
    since = (selectors.today() - timedelta(days=365)).isoformat()
    page.goto(f"{live_server.url}/?per=task&since={since}")
    page.wait_for_selector("#map-chart .main-svg")
    labels = page.locator("#map-chart .annotation-text").all_text_contents()
    assert any(" · " in text for text in labels)
    legend = page.locator("#map-chart .legendtext").all_text_contents()
    assert any(text.startswith("Position on") for text in legend)
    page.screenshot(path=str(artifacts_dir / "charts-map-task-trails.png"), full_page=True)
    page.goto(f"{live_server.url}/?colour=sector")
    page.wait_for_selector("#map-chart .main-svg")
    # The bubbles' own legend (legend2): one swatch size whatever the sector's bubbles.
    swatches = page.locator("#map-chart .legend2 .traces .legendpoints path")
    sizes = {round(s.bounding_box()["width"]) for s in swatches.all() if s.bounding_box()}
    assert swatches.count() >= 5 and len(sizes) == 1, "one swatch size for every sector"
    page.screenshot(path=str(artifacts_dir / "charts-map-sector.png"), full_page=True)
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#map-chart .main-svg")
    page.screenshot(path=str(artifacts_dir / "charts-map-1440.png"))


def test_a_waterfall_bar_leads_to_its_evidence_row(partner, live_server, artifacts_dir):
    page = partner
    company = Company.objects.get(name="Lexbench")
    page.goto(f"{live_server.url}/companies/{company.pk}/")
    chart = page.locator(".chart[data-figure$='-waterfall']").first
    chart.scroll_into_view_if_needed()
    bar = chart.locator(".waterfalllayer .point path").first
    expect(bar).to_be_visible()
    evidence_id = chart.evaluate("(el) => el.data[0].customdata[0]")
    assert Evidence.objects.filter(pk=evidence_id, task__company=company).exists()
    page.screenshot(path=str(artifacts_dir / "charts-company-waterfall.png"), full_page=False)
    bar.click(force=True)
    row = page.locator(f"#evidence-{evidence_id}")
    expect(row).to_have_class(re.compile("evidence-highlight"))
    expect(row).to_be_in_viewport()
