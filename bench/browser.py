"""The map redrawn in Chromium after a filter change, for bench/run.py.

Playwright drives /usr/bin/chromium (headless, the launch arguments of tests/conftest.py)
against a server on loopback. Each run changes one filter the way a person does (the
select's value, then its "change" event) and stops the clock when the chart is whole and
settled: after htmx's settle, then Plotly's plotly_afterplot for the redraw that follows it,
then the next frame, at which the chart passes the journeys' check of a whole chart (Plotly
owns its element; titles, legend, quadrant names, size key and labels inside the card). The two
phases are the change to the settle (server, transfer, swap) and the settle to that frame
(the draw).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

# The journeys' own check of a whole chart (tests/journeys/whole.py), so the clock stops
# only where a journey would pass.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.journeys.whole import CHART_PROBLEMS

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Marks, once per change, when htmx sent, received, swapped and settled, and then the first
# plotly_afterplot after the settle (map.js redraws the kept chart element on the settle); one
# requestAnimationFrame later (the frame that shows it) the chart is checked whole, as the
# journeys check it, and the clock stops there. htmx's marks listen on the window in the
# capture phase, so they precede map.js's own listener on the document.
INSTRUMENT = (
    """
() => {
  if (window.__benchWrapped) { return; }
  window.__benchWrapped = true;
  window.__benchMarks = {};
  const chartProblems = """
    + CHART_PROBLEMS
    + """;
  const mark = (name) => {
    if (window.__benchMarks[name] === undefined) { window.__benchMarks[name] = performance.now(); }
  };
  for (const name of ["beforeRequest", "afterRequest", "afterSwap", "afterSettle"]) {
    window.addEventListener("htmx:" + name, () => mark(name), true);
  }
  // The bytes of the region htmx swapped in (the page's DOM later also holds Plotly's SVG).
  document.addEventListener("htmx:afterRequest", (event) => {
    window.__benchRegionBytes = new Blob([event.detail.xhr.responseText]).size;
  });
  document.getElementById("map-chart").on("plotly_afterplot", () => {
    const marks = window.__benchMarks;
    if (marks.afterSettle === undefined || marks.afterplot !== undefined) { return; }
    mark("afterplot");
    requestAnimationFrame(() => {
      const at = performance.now();
      window.__benchProblems = chartProblems(["#map-chart", []]);
      window.__benchWholeAt = at;
    });
  });
}
"""
)

CHANGE = """
([name, value]) => {
  window.__benchWholeAt = null;
  window.__benchProblems = null;
  window.__benchMarks = {};
  const select = document.querySelector(`#map-filters select[name="${name}"]`);
  window.__benchStartedAt = performance.now();
  select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
}
"""

WHOLE = "() => window.__benchWholeAt !== null && window.__benchWholeAt > window.__benchStartedAt"
PROBLEMS = "() => window.__benchProblems"
ELAPSED = "() => window.__benchWholeAt - window.__benchStartedAt"
# The two phases: the change to htmx's settle (the server's answer, its transfer and the
# swap), and the settle to the first frame after Plotly's redraw (the chart whole).
PHASES = """() => [window.__benchMarks.afterSettle - window.__benchStartedAt,
                   window.__benchWholeAt - window.__benchMarks.afterSettle]"""
# Where the time goes: milliseconds from the change to each step.
MARKS = """() => Object.fromEntries(Object.entries(window.__benchMarks)
  .map(([k, v]) => [k, v - window.__benchStartedAt]))"""
STEPS = ("beforeRequest", "afterRequest", "afterSwap", "afterSettle", "afterplot")
BUBBLES = """() => (document.getElementById("map-chart").data || [])
  .filter((t) => t.mode === "markers")
  .reduce((n, t) => n + (t.x ? t.x.length : 0), 0)"""
LABELS = "() => document.querySelectorAll('#map-chart .annotation').length"


# The first chart on a visit: milliseconds from the navigation's start (performance's time
# origin) until the chart holds its bubbles; and what plotly.js cost on the wire.
CHART_DRAWN = "() => document.querySelector('#map-chart .scatterlayer .points path') !== null"
PLOTLY_ENTRY = """() => {
  const entry = performance.getEntriesByType("resource").find((e) => e.name.includes("plotly"));
  return entry ? {name: entry.name, transfer: entry.transferSize, body: entry.encodedBodySize,
                  decoded: entry.decodedBodySize} : null;
}"""


# The floor of a first chart: plotly.js alone, fetched, parsed and run on an empty page.
LOAD_PLOTLY = """(url) => new Promise((resolve, reject) => {
  const started = performance.now();
  const script = document.createElement("script");
  script.src = url;
  script.onload = () => resolve(performance.now() - started);
  script.onerror = reject;
  document.head.appendChild(script);
})"""


def measure_first_chart(base_url: str, session_key: str, runs: int, plotly_url: str):
    """[(label, seconds per run, detail)]: a cold visit (a new browser profile each run, so
    nothing cached), a warm one (the same profile again: static files from its cache), and
    the floor: plotly.js alone on an empty page of the same server, cold."""
    from playwright.sync_api import sync_playwright

    cold, warm, floor, wire = [], [], [], {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        host = base_url.split("//", 1)[1].split(":")[0]
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_cookies(
                [{"name": "sessionid", "value": session_key, "domain": host, "path": "/"}]
            )
            page = context.new_page()

            def headers(response):
                if "plotly" in response.url:
                    wire["encoding"] = response.headers.get("content-encoding", "none")
                    wire["cache"] = response.headers.get("cache-control", "")

            page.on("response", headers)
            for times in (cold, warm):
                page.goto(base_url + "/", wait_until="commit")
                page.wait_for_function(CHART_DRAWN, timeout=60_000, polling=20)
                times.append(page.evaluate("() => performance.now()") / 1000)
                if times is cold:
                    wire.update(page.evaluate(PLOTLY_ENTRY) or {})
            context.close()
            context = browser.new_context()
            page = context.new_page()
            page.goto(base_url + "/healthz")
            floor.append(page.evaluate(LOAD_PLOTLY, base_url + plotly_url) / 1000)
            context.close()
        browser.close()
    plotly = (
        f"plotly.js {wire.get('body', 0) / 1e6:.2f} MB on the wire "
        f"({wire.get('encoding')}; {wire.get('decoded', 0) / 1e6:.1f} MB unpacked), "
        f"Cache-Control: {wire.get('cache') or 'none'}"
    )
    return [
        ("floor: plotly.js alone, cold (fetched, parsed, run)", floor, "on an empty page"),
        ("first chart, cold visit (empty cache)", cold, plotly),
        ("first chart, warm visit (cached)", warm, "static files from the browser's cache"),
    ]


def measure_redraw(base_url: str, session_key: str, runs: int, fund_id: int):
    """[(label, seconds per run to a whole chart, bubbles drawn, detail, [(server+swap,
    draw) seconds per run])] for the changes measured."""
    from playwright.sync_api import sync_playwright

    # (label, select, the two values it alternates between, page to start from)
    changes = [
        (
            "map whole in Chromium after a change, colour filter",
            "colour",
            ("sector", "quadrant"),
            "/",
        ),
        (
            "map whole in Chromium after a change, sector filter in one fund",
            "sector",
            ("Legal", "Finance"),  # the sectors the bench's first fund holds
            f"/?fund={fund_id}",
        ),
    ]
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        host = base_url.split("//", 1)[1].split(":")[0]
        context.add_cookies(
            [{"name": "sessionid", "value": session_key, "domain": host, "path": "/"}]
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for label, name, values, start in changes:
            page.goto(base_url + start)
            page.wait_for_function("() => document.querySelector('#map-chart .main-svg')")
            page.evaluate(INSTRUMENT)
            times, phases, bubbles, labels, marks = [], [], [], [], []
            for run in range(runs + 1):
                page.evaluate(CHANGE, [name, values[run % 2]])
                # Playwright's default polling is per animation frame, which stalls headless.
                page.wait_for_function(WHOLE, timeout=30_000, polling=20)
                problems = page.evaluate(PROBLEMS)
                if problems:  # a broken chart has no time to report
                    raise RuntimeError(f"{label}: the chart is not whole: {problems}")
                if run:  # the first is a warm-up
                    times.append(page.evaluate(ELAPSED) / 1000)
                    phases.append([phase / 1000 for phase in page.evaluate(PHASES)])
                    bubbles.append(page.evaluate(BUBBLES))
                    labels.append(page.evaluate(LABELS))
                    marks.append(page.evaluate(MARKS))
            size = page.evaluate("() => window.__benchRegionBytes")
            steps = ", ".join(
                f"{step} {statistics.median(m[step] for m in marks):.0f}" for step in STEPS
            )
            detail = f"{max(labels)} labels; region {size / 1000:.0f} kB; ms: {steps}"
            results.append((label, times, min(bubbles), detail, phases))
        browser.close()
        if errors:
            raise RuntimeError(f"errors in the page: {errors}")
    return results
