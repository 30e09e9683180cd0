"""Whether a page is whole as a person sees it: shared by the journeys, the map's browser
tests and bench/browser.py (which stops its redraw clock only when CHART_PROBLEMS is empty).

A chart is whole when plotly.js owns its element (the `js-plotly-plot` class that its own
stylesheet hangs the layers on), has drawn, and its titles, legend and annotations (quadrant
names, size key, labels) lie inside the chart's card; without the class the layers stack
and fall onto whatever follows the card. A page is whole when, besides, nothing went wrong
on the way: no console error, no uncaught exception, no failed request and no 4xx/5xx.
"""

from __future__ import annotations

import contextlib
import re

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# (selector, [texts that must be among the chart's annotations]) -> list of problems, empty
# when every chart the selector finds is whole. A part is outside when it overhangs the
# card by more than a pixel (anti-aliasing rounds the edges).
CHART_PROBLEMS = r"""
([selector, texts]) => {
  const problems = [];
  const charts = document.querySelectorAll(selector);
  if (!charts.length) { problems.push(`no chart at ${selector}`); }
  for (const chart of charts) {
    const name = chart.id || chart.dataset.figure || selector;
    if (!chart.classList.contains("js-plotly-plot")) {
      problems.push(`${name}: plotly.js does not own the element (no js-plotly-plot)`);
    }
    if (!chart.querySelector(".main-svg")) { problems.push(`${name}: nothing drawn`); continue; }
    const card = (chart.closest(".card") || chart.parentElement).getBoundingClientRect();
    const parts = chart.querySelectorAll(
      ".g-xtitle .xtitle, .g-ytitle .ytitle, .legend, .legend2, .annotation-text");
    for (const part of parts) {
      const box = part.getBoundingClientRect();
      if (!box.width && !box.height) { continue; }
      if (box.left < card.left - 1 || box.right > card.right + 1 ||
          box.top < card.top - 1 || box.bottom > card.bottom + 1) {
        const legend = part.classList.contains("legend") || part.classList.contains("legend2");
        const what = legend ? part.getAttribute("class")
          : (part.textContent || part.getAttribute("class")).slice(0, 40);
        problems.push(`${name}: "${what}" lies outside its card`);
      }
    }
    // The two legends (the lines', the bubbles') must not lie on each other.
    // Nor on the x-axis' title.
    const items = (selector) => Array.from(chart.querySelectorAll(selector),
      (e) => [e.textContent, e.getBoundingClientRect()]);
    const pairs = [
      [".legend .traces", ".legend2 .traces"], [".g-xtitle .xtitle", ".legend .traces"]];
    for (const [one, another] of pairs) {
      for (const [first, a] of items(one)) {
        for (const [second, b] of items(another)) {
          if (a.left < b.right - 1 && b.left < a.right - 1 &&
              a.top < b.bottom - 1 && b.top < a.bottom - 1) {
            problems.push(`${name}: "${first}" lies on "${second}"`);
          }
        }
      }
    }
    // The named annotations (a name may be folded onto two lines) are there, each clear
    // of the others.
    const squash = (text) => text.replace(/\s+/g, "");
    const notes = Array.from(chart.querySelectorAll(".annotation-text"));
    const named = [];
    for (const text of texts) {
      const note = notes.find((e) => squash(e.textContent) === squash(text));
      if (!note) { problems.push(`${name}: no "${text}"`); continue; }
      const box = note.getBoundingClientRect();
      for (const [other, seen] of named) {
        if (box.left < seen.right && seen.left < box.right &&
            box.top < seen.bottom && seen.top < box.bottom) {
          problems.push(`${name}: "${text}" lies on "${other}"`);
        }
      }
      named.push([text, box]);
    }
  }
  return problems;
}
"""

# Counts htmx's settles on every document the page opens, so a step can wait for its own.
SETTLE_COUNTER = """
window.__settles = 0;
document.addEventListener("htmx:afterSettle", () => { window.__settles += 1; });
"""


class Watch:
    """Everything that went wrong in a page since the last look: console errors, uncaught
    exceptions, failed requests and 4xx/5xx responses."""

    def __init__(self, page: Page, *, allow: tuple[str, ...] = ()):
        self.problems: list[str] = []
        # Responses a step provokes on purpose (a form that answers 400 to bad input).
        self.allow = [re.compile(pattern) for pattern in allow]
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not self._allowed(message.text):
            self.problems.append(f"console: {message.text}")

    def _failed(self, request) -> None:
        if not self._allowed(request.url):
            self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and not self._allowed(response.url):
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def _allowed(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.allow)

    def forgive(self, problem: str) -> None:
        """Drops a problem a step caused on purpose and checked itself."""
        self.problems = [p for p in self.problems if p != problem]

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


def settles(page: Page) -> int:
    """htmx's settles on this document so far (0 on a document just opened)."""
    return page.evaluate("() => window.__settles || 0")


def wait_settled(page: Page, before: int, *, timeout: float = 15_000) -> None:
    """Waits for a settle after `before` (or for a new document, whose count starts again),
    then for no request in flight and two frames, so plotly.js has drawn what came."""
    page.wait_for_function(
        """(before) => (window.__settles || 0) > before
             || ((window.__settles || 0) < before && document.readyState === "complete")""",
        arg=before,
        timeout=timeout,
        polling=20,
    )
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request')", timeout=timeout, polling=20
    )
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def chart_problems(page: Page, selector: str, texts: list[str] | tuple[str, ...] = ()) -> list:
    """What keeps the charts at `selector` from being whole, after giving plotly.js up to
    two seconds to finish a redraw it has started (a broken chart stays broken)."""
    # A timeout is no error here: the problems themselves are the report.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            f"(args) => ({CHART_PROBLEMS})(args).length === 0",
            arg=[selector, list(texts)],
            timeout=2_000,
            polling=50,
        )
    return page.evaluate(CHART_PROBLEMS, [selector, list(texts)])


def _point_centre(page: Page, chart: str) -> tuple[float, float] | None:
    """The middle of the chart's last bubble or bar, scrolled into view (None if none)."""
    points = page.locator(
        f"{chart} .scatterlayer .trace .points path, {chart} .barlayer .point path"
    )
    if not points.count():
        return None
    point = points.last
    # To the middle of the window: at its edge the sticky top bar would be over the point.
    point.evaluate("(e) => e.scrollIntoView({block: 'center', inline: 'center'})")
    box = point.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def hover_shows_tooltip(page: Page, chart: str) -> str:
    """Hovers the middle of the chart's last bubble (or bar) and returns the tooltip's text
    ('' when none appears)."""
    page.mouse.move(1, 1)
    centre = _point_centre(page, chart)
    if centre is None:
        return ""
    page.mouse.move(*centre)
    tooltip = page.locator(f"{chart} .hoverlayer .hovertext")
    try:
        tooltip.first.wait_for(state="attached", timeout=2_000)
    except PlaywrightTimeout:
        return ""
    return " ".join(tooltip.all_text_contents())


COMPANY_PAGE = re.compile(r"/companies/(\d+)/$")


def click_opens_company(page: Page, watch: Watch, chart: str = "#map-chart") -> int:
    """Clicks the chart's last bubble and returns the id of the company whose page the
    browser was sent to. That page is answered 204 No Content, which leaves the map where
    it is (the browser reports the navigation aborted, the one failure forgiven here), so
    the next step goes on from the same map; a journey opens a company for real."""
    page.route(COMPANY_PAGE, lambda route: route.fulfill(status=204))
    try:
        centre = _point_centre(page, chart)
        assert centre, f"{chart}: no bubble to click"
        with (
            page.expect_event(
                "requestfailed", lambda r: bool(COMPANY_PAGE.search(r.url)), timeout=5_000
            ) as aborted,
            page.expect_request(
                lambda r: bool(COMPANY_PAGE.search(r.url)) and r.is_navigation_request(),
                timeout=5_000,
            ) as sent,
        ):
            page.mouse.click(*centre)
        page.mouse.move(1, 1)
    finally:
        page.unroute(COMPANY_PAGE)
    watch.forgive(f"failed: GET {aborted.value.url} {aborted.value.failure}")
    return int(COMPANY_PAGE.search(sent.value.url).group(1))


def assert_whole(
    page: Page,
    watch: Watch,
    step: str,
    *,
    charts: str | None = None,
    texts: tuple[str, ...] = (),
    hover: bool = True,
    known: str | None = None,
) -> None:
    """The one check after every step: nothing went wrong, and the charts at `charts` (if
    any) are whole and answer a hover with a tooltip. `known` (a pattern) leaves out the
    chart problems of a bug that is reported and someone else's to fix, and nothing else."""
    problems = watch.take()
    if charts:
        found = chart_problems(page, charts, texts)
        problems += [p for p in found if not (known and re.search(known, p))]
        if hover and not hover_shows_tooltip(page, charts.split(",")[0].strip()):
            problems.append(f"{charts}: a hover on a bubble shows no tooltip")
        page.mouse.move(1, 1)
    problems += watch.take()
    assert not problems, f"after {step}: {problems}"
