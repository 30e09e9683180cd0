"""The portfolio map in a real headless Chromium: filters, as-of date, bookmarks, hover, click."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from assessments import selectors
from assessments.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server):
    load_demo()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "partner")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#map-chart .main-svg")
    yield page, errors
    assert errors == []


def table_names(page) -> list[str]:
    return page.locator("#map-table tbody tr td:first-child").all_inner_texts()


def test_map_updates_in_place_and_bookmarks(signed_in, live_server, artifacts_dir):
    page, _ = signed_in
    assert "Lexbench" in table_names(page)
    page.screenshot(path=str(artifacts_dir / "map-today.png"), full_page=True)
    # The README's screenshot (docs/map.png) is this view's first 1280×1000 pixels.
    page.screenshot(
        path=str(artifacts_dir / "map-readme.png"),
        clip={"x": 0, "y": 0, "width": 1280, "height": 1000},
    )
    page.evaluate("window.__marker = 'still here'")

    with page.expect_response(re.compile(r"sector=Legal")):
        page.select_option("select[name=sector]", "Legal")
    expect(page.locator("#map-table tbody tr")).to_have_count(1)
    assert table_names(page) == ["Lexbench"]
    assert "sector=Legal" in page.url
    assert page.evaluate("window.__marker") == "still here"
    expect(page.locator("#map-chart .main-svg").first).to_be_visible()
    expect(page.locator("#map-chart .scatterlayer .points path")).to_have_count(1)
    # The page it left (the fund's confidential numbers) is not copied into the browser's
    # storage for Back: Back asks the server again.
    assert page.evaluate("window.sessionStorage.getItem('htmx-history-cache')") is None
    assert page.evaluate("window.localStorage.length") == 0

    # Back restores the unfiltered map in place, chart included.
    page.go_back()
    expect(page.locator("#map-table tbody tr")).to_have_count(11)
    expect(page).not_to_have_url(re.compile("sector=Legal"))
    assert page.locator("select[name=sector]").input_value() == ""
    expect(page.locator("#map-chart .scatterlayer .points path")).to_have_count(11)
    assert page.evaluate("window.__marker") == "still here"
    before = page.locator("#map-summary").inner_text()
    year_ago = (selectors.today() - timedelta(days=365)).isoformat()
    page.fill("#as-of", year_ago)
    page.dispatch_event("#as-of", "change")
    expect(page.locator("#map-summary")).not_to_have_text(before)
    assert f"as_of={year_ago}" in page.url
    assert page.evaluate("window.__marker") == "still here"
    page.wait_for_selector("#map-chart .main-svg")
    page.screenshot(path=str(artifacts_dir / "map-year-ago.png"), full_page=True)

    # The slider picks a month with evidence and takes the date field with it.
    page.locator("#as-of-slider").fill("3")
    expect(page).not_to_have_url(re.compile(f"as_of={year_ago}"))
    assert page.locator("#as-of").input_value() != year_ago

    # A bookmarked URL opens the same state.
    bookmark = f"{live_server.url}/?sector=Healthcare&as_of={year_ago}&sort=-x"
    page.goto(bookmark)
    page.wait_for_selector("#map-chart .main-svg")
    assert table_names(page) == ["Wardround"]
    assert page.locator("select[name=sector]").input_value() == "Healthcare"
    assert page.locator("#as-of").input_value() == year_ago

    # Back goes to the previous state.
    page.go_back()
    expect(page).not_to_have_url(re.compile("Healthcare"))


def test_hover_and_click_a_bubble(signed_in, live_server):
    page, _ = signed_in
    page.goto(f"{live_server.url}/?sector=Legal")
    page.wait_for_selector("#map-chart .main-svg")
    bubble = page.locator("#map-chart .scatterlayer .trace .points path").last
    box = bubble.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#map-chart .hoverlayer .hovertext")
    hover = page.locator("#map-chart .hoverlayer").text_content()
    assert "Lexbench" in hover and "Northbridge Ventures III" in hover and "runway" in hover
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # The bubble opens the company's page.
    page.wait_for_url("**/companies/*/")
    assert page.locator("h1").first.inner_text().startswith("Lexbench")


def test_trails_and_table_sort(signed_in, live_server, artifacts_dir):
    page, _ = signed_in
    since = (selectors.today() - timedelta(days=540)).isoformat()
    page.goto(f"{live_server.url}/?since={since}")
    page.wait_for_selector("#map-chart .main-svg")
    assert page.locator("#map-chart .annotation-arrow-g").count() >= 5
    page.screenshot(path=str(artifacts_dir / "map-trails.png"), full_page=True)
    # A trailed bubble's hover says why it moved, in one line.
    bubble = page.locator("#map-chart .scatterlayer .trace .points path").last
    box = bubble.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#map-chart .hoverlayer .hovertext")
    hover = page.locator("#map-chart .hoverlayer").text_content()
    assert re.search(r"Since \d+ \w{3} \d{4}: (runway|margin) [+−]\d+\.\d", hover), hover
    page.screenshot(path=str(artifacts_dir / "map-trail-hover.png"))
    page.mouse.move(5, 5)
    page.click("#map-table th a:text('Frontier (x)')")
    expect(page).to_have_url(re.compile(r"sort=x"))
    assert f"since={since}" in page.url
    page.goto(f"{live_server.url}/?per=task&colour=sector&size=arr")
    page.wait_for_selector("#map-chart .main-svg")
    expect(page.locator("#map-table th").first).to_contain_text("Task")
    page.screenshot(path=str(artifacts_dir / "map-tasks-by-sector.png"), full_page=True)
    page.go_back()
    # The sort survives a later change of filter.
    page.select_option("select[name=sector]", "Legal")
    expect(page).to_have_url(re.compile(r"sector=Legal"))
    assert "sort=x" in page.url


@pytest.mark.parametrize("width,height", [(1440, 900), (1280, 720)])
def test_the_whole_chart_is_on_the_first_screen(
    signed_in, live_server, artifacts_dir, width, height
):
    """Axes, the four quadrant names and the legend (the boundary lines' among it) are in
    the viewport without scrolling, and so is the boundary in words."""
    from assessments import scoring

    page, _ = signed_in
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#map-chart .main-svg")
    page.screenshot(path=str(artifacts_dir / f"map-first-screen-{width}x{height}.png"))
    assert page.evaluate("window.scrollY") == 0
    chart = page.locator("#map-chart")
    parts = {
        "x-axis title": chart.locator(".xtitle"),
        "y-axis title": chart.locator(".ytitle"),
        "legend": chart.locator(".legend"),
        "boundary in the legend": chart.locator(".legend .traces").filter(has_text="boundary"),
        "boundary in words": page.locator("#boundary-words"),
    }
    for quadrant in scoring.QUADRANTS:
        name = scoring.DEFAULT_QUADRANT_LABELS[quadrant]
        parts[name] = chart.locator(".annotation-text").filter(has_text=re.compile(f"^{name}$"))
    for what, locator in parts.items():
        expect(locator.first, what).to_be_visible()
        box = locator.first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (what, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (what, box)
    words = page.locator("#boundary-words").inner_text()
    assert "rising 8 a year: below the line, general models do the work" in words


def test_the_slider_moves_by_day_and_a_year_ago_is_one_click(signed_in, live_server):
    page, _ = signed_in
    today = selectors.today()
    year_ago = today.replace(year=today.year - 1)
    page.click("button.as-of-jump:text('A year ago')")
    expect(page).to_have_url(re.compile(f"as_of={year_ago.isoformat()}"))
    expect(page.locator("#map-summary")).to_contain_text(f"As of {year_ago.day} {year_ago:%b %Y}")
    # One step of the slider is one day, and the date field shows it.
    slider = page.locator("#as-of-slider")
    days = int(slider.input_value())
    slider.focus()
    page.keyboard.press("ArrowLeft")
    day_before = year_ago - timedelta(days=1)
    assert int(slider.input_value()) == days - 1
    assert page.locator("#as-of").input_value() == day_before.isoformat()
    expect(page).to_have_url(re.compile(f"as_of={day_before.isoformat()}"))


def test_table_pages_and_sorts_without_redrawing_the_chart(signed_in, live_server, monkeypatch):
    from assessments.views import map as map_views

    monkeypatch.setattr(map_views, "TABLE_PAGE", 4)
    page, _ = signed_in
    page.goto(f"{live_server.url}/?sort=-x")
    page.wait_for_selector("#map-chart .main-svg")
    page.evaluate("window.__chart = document.querySelector('#map-chart .main-svg')")
    first = table_names(page)
    assert len(first) == 4
    page.click("#map-table .table-pager a[rel=next]")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#map-table .table-pager")).to_contain_text("Rows 5–8 of 11")
    assert not set(table_names(page)) & set(first)
    # The chart was left as it was (the table's links swap the table only).
    assert page.evaluate("window.__chart === document.querySelector('#map-chart .main-svg')")
    page.click("#map-table th a:text('Company')")
    expect(page).to_have_url(re.compile(r"sort=name"))
    assert "page=" not in page.url
    assert table_names(page) == sorted(table_names(page), key=str.lower)
    # A filter change afterwards keeps the new order.
    page.select_option("select[name=quadrant]", "untrainable")
    expect(page).to_have_url(re.compile(r"quadrant=untrainable"))
    assert "sort=name" in page.url


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_the_chart_stays_whole_through_every_control(
    page, live_server, artifacts_dir, monkeypatch, width, height
):
    """After each control in turn (each an in-place swap), plotly.js still owns the chart,
    its titles, quadrant names, legend and size key lie inside its card, a hover shows a
    tooltip and a click opens the bubble's company; nothing fails on the way."""
    from assessments import scoring
    from assessments.models import Company
    from assessments.views import map as map_views
    from tests.journeys import steps, whole

    monkeypatch.setattr(map_views, "TABLE_PAGE", 4)  # so the table has pages to turn
    load_demo()
    company = Company.objects.select_related("fund").order_by("name").first()
    page.add_init_script(whole.SETTLE_COUNTER)
    watch = whole.Watch(page)
    page.set_viewport_size({"width": width, "height": height})
    steps.sign_in(page, live_server.url, "partner")
    page.wait_for_selector("#map-chart .main-svg")
    quadrants = tuple(scoring.DEFAULT_QUADRANT_LABELS[q] for q in scoring.QUADRANTS)

    controls = steps.map_controls(company.fund, company.sector, selectors.today())
    for number, (name, act) in enumerate([("first load", None), *controls]):
        if act:
            steps.do(page, act)
        shot = f"map-whole-{width}x{height}-{number:02d}-{name.replace(' ', '-')}.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir / shot), full_page=True)
        size_title = "ARR" if "size=arr" in page.url else "Check size"
        whole.assert_whole(page, watch, name, charts="#map-chart", texts=(*quadrants, size_title))
        tooltip = whole.hover_shows_tooltip(page, "#map-chart")
        opened = Company.objects.get(pk=whole.click_opens_company(page, watch))
        assert opened.name in tooltip, (name, opened.name, tooltip)
        assert not watch.take(), name
    # The control's state is in the URL at the end, as after each swap.
    assert "per=task" in page.url and "size=arr" in page.url and "page=2" in page.url
