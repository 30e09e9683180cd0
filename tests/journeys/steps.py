"""Steps the journeys and the map's browser tests share: signing in, and every control of
the map, each done the way a person does it."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page

from tests.browser import test_company_browser as browser_tests

from . import whole


def sign_in(page: Page, base: str, username: str) -> None:
    browser_tests.sign_in(page, base, username)
    # The page signing in lands on loads in full before the next step leaves it.
    page.wait_for_load_state("load")


def select(name: str, **option):
    def act(page):
        page.select_option(f"#map-filters select[name={name}]", **option)

    return act


def more_filters(page) -> None:
    if not page.locator("#map-filters .more-filters[open]").count():
        page.click("#map-filters .more-filters summary")


def first_quadrant(page) -> str:
    return page.locator("#map-table tbody tr").first.locator(".quadrant").inner_text()


def map_controls(fund, sector, today):
    """Every control of the map in the order a person might use them, each a (name, act)."""

    def slider(page):
        page.locator("#as-of-slider").focus()
        page.keyboard.press("ArrowLeft")

    def date_field(page):
        page.fill("#as-of", (today - timedelta(days=200)).isoformat())
        page.dispatch_event("#as-of", "change")

    # The folded filters' panel opens over the chart; a person closes it to look.
    def trails(page):
        more_filters(page)
        page.fill("#map-filters input[name=since]", (today - timedelta(days=540)).isoformat())
        page.dispatch_event("#map-filters input[name=since]", "change")
        page.click("#map-filters .more-filters summary")

    def size_by(page):
        more_filters(page)
        page.select_option("#map-filters select[name=size]", "arr")
        page.click("#map-filters .more-filters summary")

    return [
        ("fund", select("fund", value=str(fund.pk))),
        ("sector", select("sector", label=sector)),
        ("all sectors", select("sector", value="")),
        ("quadrant", lambda page: select("quadrant", label=first_quadrant(page))(page)),
        ("all quadrants", select("quadrant", value="")),
        ("all funds", select("fund", value="")),
        ("as-of slider", slider),
        ("date field", date_field),
        ("a year ago", lambda page: page.click("button.as-of-jump:text('A year ago')")),
        ("trails", trails),
        ("per task", select("per", value="task")),
        ("colour by sector", select("colour", value="sector")),
        ("size by ARR", size_by),
        ("table sort", lambda page: page.click("#map-table th a:text('Frontier (x)')")),
        ("table page", lambda page: page.click("#map-table .table-pager a[rel=next]")),
        ("back", lambda page: page.go_back()),
        ("forward", lambda page: page.go_forward()),
    ]


def do(page: Page, act) -> None:
    """Performs one control and waits until htmx has settled what it brought."""
    before = whole.settles(page)
    act(page)
    whole.wait_settled(page, before)
