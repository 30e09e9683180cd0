"""The charts: one set of pieces (charts/base) drawn on screen and in print, the label
placer's promise that a reader attaches each label to its own bubble, trails, sizes,
waterfalls and histories."""

import json
import random
import re
from dataclasses import replace
from datetime import date

import pytest

from assessments import scoring
from assessments.charts import base, labels, memo
from assessments.charts import screen as screen_charts
from tests.unit.chart_geometry import geometry, misattached

AS_OF = date(2026, 11, 25)
SINCE = date(2025, 11, 25)
RUBRIC = scoring.DEFAULT_RUBRIC
TASKS = ("Review contracts", "Answer tier-1 support tickets end to end", "Run payroll", "Triage")


def point(key, x, y, **kw) -> base.PlotPoint:
    quadrant = scoring.quadrant_of(x, y, 0.8)
    defaults = {
        "key": key,
        "company_id": key,
        "label": f"P{key}",
        "x": x,
        "y": y,
        "size": 1.0,
        "confidence": 0.8,
        "quadrant": quadrant,
        "group": quadrant,
        "hover": (f"P{key}", "Fund", "Legal", "Seed", RUBRIC.label(quadrant), "3.0 y", "4"),
    }
    return base.PlotPoint(**{**defaults, **kw})


def portfolio(count: int, seed: int, *, trails: bool, per_task: bool) -> list[base.PlotPoint]:
    """A generated portfolio: most companies in a few tight clusters, the rest anywhere."""
    rng = random.Random(seed)
    centres = [(rng.uniform(15, 85), rng.uniform(15, 85)) for _ in range(3)]
    points = []
    for n in range(count):
        if n % 4:
            cx, cy = rng.choice(centres)
            x, y = cx + rng.gauss(0, 5), cy + rng.gauss(0, 5)
        else:
            x, y = rng.uniform(2, 98), rng.uniform(2, 98)
        x, y = min(99, max(1, x)), min(99, max(1, y))
        name = f"Company {n}"
        label = f"{name} · {rng.choice(TASKS)}" if per_task else name
        before = (min(99, max(1, x + rng.uniform(-20, 20))), y) if trails and n % 3 == 0 else None
        points.append(point(n, x, y, label=label, size=rng.uniform(1e5, 2e7), before=before))
    return points


def _bubbles(trace) -> bool:
    """A trace of bubbles (on screen in the bubbles' legend; in print named by swatches)."""
    if trace.get("mode") != "markers" or trace["x"] == [-1000]:
        return False
    return trace.get("legend") == base.BUBBLE_LEGEND or "text" in trace


def screen_map(points, **kw):
    return screen_charts.interactive_map(points, as_of=AS_OF, rubric=RUBRIC, **kw)


def print_map(points, preset="memo", **kw):
    return memo.memo_map(
        points, rubric=RUBRIC, as_of=AS_OF, text=memo.ChartText("Map", "", "Note."),
        preset=preset, **kw,
    )  # fmt: skip


MEDIA = ["screen", "memo", "slide", "square"]
PORTFOLIOS = [(10, 1, False), (25, 2, True), (40, 3, False), (60, 4, True)]


def rendering(medium, points, **kw):
    """(figure, its label font, the frame its placer used) for one medium."""
    if medium == "screen":
        figure = screen_map(points, since=SINCE if any(p.before for p in points) else None)
        return figure, screen_charts.LABEL_FONT, screen_charts.PLOT_FRAME
    figure = print_map(points, medium, since=SINCE, **kw)
    return figure, memo.PRESETS[medium].small_size, None


@pytest.mark.parametrize("medium", MEDIA)
@pytest.mark.parametrize(("count", "seed", "per_task"), PORTFOLIOS)
@pytest.mark.parametrize("trails", [False, True], ids=["no-trails", "trails"])
def test_every_label_is_attached_to_its_own_bubble(medium, count, seed, per_task, trails):
    points = portfolio(count, seed, trails=trails, per_task=per_task)
    figure, font, frame = rendering(medium, points)
    g = geometry(figure, frame)
    assert len(g.bubbles) == count
    assert misattached(g, font) == []
    # Not by labelling nothing: a quarter or more of a small portfolio is labelled.
    if count <= 25:
        assert len(g.labels) >= count // 4
    limit = screen_charts.LABEL_CHARS if medium == "screen" else memo.LABEL_CHARS
    drawn = {lab.text for lab in g.labels}
    left_off = {p.label for p in points if base.shorten(p.label, limit) not in drawn}
    if medium != "screen":
        # Paper has no hover: every bubble is named, or numbered and named in the key.
        numbered = figure["layout"]["meta"]["numbered"]
        assert {name for _, name in numbered} == left_off
        assert len(g.labels) + len(numbered) >= count
        drawn_numbers = {
            re.sub(r"</?b>", "", note["text"])
            for note in figure["layout"]["annotations"]
            if str(note.get("name", "")).startswith(("label", "number"))
        }
        assert {str(k) for k, _ in numbered} <= drawn_numbers
        if numbered:
            key = figure["layout"]["annotations"][-1]["text"].replace("<br>", " ")
            assert key.count(";") == len(numbered) - 1 and "Numbered: 1 " in key


def test_the_association_check_fails_when_the_placer_ignores_it(monkeypatch):
    """The same check on a placer that puts every label to the right of its bubble (no
    association test) finds labels a reader would attach to the wrong bubble."""

    def beside_right(bubbles, frame, font_size, obstacles=(), **_):
        result = []
        for b in bubbles:
            w, h = labels.text_size(b.text, font_size)
            box = labels.Box(
                b.cx + b.radius + 2, b.cy - h / 2, b.cx + b.radius + 2 + w, b.cy + h / 2
            )
            result.append(labels.Placement(b, box, False))
        return result

    monkeypatch.setattr(labels, "place_labels", beside_right)
    points = portfolio(40, 3, trails=True, per_task=False)
    for medium in MEDIA:
        figure, font, frame = rendering(medium, points)
        assert misattached(geometry(figure, frame), font), medium


def test_a_lone_label_sits_beside_its_bubble_without_a_leader_line():
    g = geometry(screen_map([point(1, 40, 40, label="Alone")]), screen_charts.PLOT_FRAME)
    [label] = g.labels
    assert label.leader is None
    assert labels.disc_distance(label.box, label.own) <= labels.GAP + 0.5


def test_labels_keep_off_trails_and_trails_start_at_a_hollow_marker_named_by_date():
    moved = point(1, 40, 40, label="Moved", before=(60, 40))
    figure = screen_map([moved], since=date(2025, 6, 1))
    g = geometry(figure, screen_charts.PLOT_FRAME)
    [label] = g.labels
    assert not any(labels.segment_crosses_box(t, label.box) for t in g.trails)
    [start] = [t for t in figure["data"] if t.get("marker", {}).get("symbol") == "circle-open"]
    assert start["name"] == "Position on 1 Jun 2025" and (start["x"], start["y"]) == ([60], [40])


@pytest.mark.parametrize("medium", ["screen", "memo"])
def test_trail_arrows_end_at_the_bubble_edge_and_leaders_look_unlike_them(medium):
    points = [point(1, 80, 80, before=(60, 40), size=4.0), point(2, 81, 79, size=1.0)]
    points += [point(n, 80 + n % 3, 78 + n % 4) for n in range(3, 9)]
    figure = screen_map(points, since=SINCE) if medium == "screen" else print_map(points)
    notes = figure["layout"]["annotations"]
    [arrow] = [a for a in notes if a.get("arrowhead") == 2]
    big = max(t["marker"]["size"][0] for t in figure["data"] if _bubbles(t))
    assert (arrow["ax"], arrow["ay"], arrow["x"], arrow["y"]) == (60, 40, 80, 80)
    assert arrow["standoff"] >= big / 2
    leaders = [a for a in notes if str(a.get("name", "")).startswith("label") and a["showarrow"]]
    assert leaders, "a crowd needs leader lines"
    for leader in leaders:
        assert leader["arrowhead"] == 0 and leader["arrowwidth"] < arrow["arrowwidth"]
        assert leader["arrowcolor"] == base.LEADER_COLOUR != arrow["arrowcolor"]


def test_screen_and_print_share_the_palette_boundary_and_quadrants():
    points = [point(1, 80, 80), point(2, 20, 20), point(3, 70, 20)]
    on_screen, in_print = screen_map(points), print_map(points)

    def colours(figure):
        return {
            t["name"]: t["marker"]["color"]
            for t in figure["data"]
            if t.get("mode") == "markers" and t["marker"].get("symbol") != "circle-open"
        }

    def shades(figure):
        return [
            (s["x0"], s["y0"], s["fillcolor"])
            for s in figure["layout"]["shapes"]
            if s["type"] == "rect"
        ]

    def boundaries(figure):
        return [(t["x"], t["y"], t["line"]["color"], t["line"]["dash"]) for t in figure["data"][:3]]

    assert colours(on_screen) == {
        k: v for k, v in colours(in_print).items() if k in colours(on_screen)
    }
    assert colours(on_screen)["Untrainable"] == base.QUADRANT_COLOURS[scoring.UNTRAINABLE]
    assert shades(on_screen) == shades(in_print)
    assert boundaries(on_screen) == boundaries(in_print)
    assert [t["name"] for t in on_screen["data"][:3]] == [
        "Boundary Nov 2026", "Boundary +1 year", "Boundary +2 years",
    ]  # fmt: skip


def test_legend_shows_each_line_style_as_a_line_and_bubbles_as_swatches_of_one_size():
    points = [point(n, 10 + n * 7, 60, group=f"Sector {n % 4}", size=n + 1) for n in range(12)]
    on_screen, in_print = screen_map(points, since=SINCE), print_map(points)
    for figure in (on_screen, in_print):
        legend = figure["layout"]["legend"]
        assert legend["itemsizing"] == "trace" and legend["traceorder"] == "normal"
        lines = [t for t in figure["data"] if t.get("mode") == "lines"]
        assert [t["line"]["dash"] for t in lines] == ["solid", "dash", "dot"]
        assert max(t["line"]["width"] for t in lines) <= 2.5, "a line, not a bar"
        assert not any(t.get("legend") for t in lines)
    # On screen the bubbles have a legend of their own, whose swatches are all one size.
    assert on_screen["layout"]["legend2"]["itemsizing"] == "constant"
    bubbles = [t for t in on_screen["data"] if _bubbles(t)]
    assert len(bubbles) == 4 and all(t.get("showlegend", True) for t in bubbles)
    # In print, swatches of one size outside the axes stand for the bubbles.
    swatches = [t for t in in_print["data"] if t.get("x") == [-1000]]
    assert len(swatches) == 4 and len({t["marker"]["size"] for t in swatches}) == 1
    assert sorted(t["name"] for t in swatches) == [f"Sector {n}" for n in range(4)]


def test_sectors_past_the_palette_share_other_smallest_first():
    size = len(base.PALETTE)
    sectors = [f"S{n:02}" for n in range(size + 3)]
    points = [
        point(k, 50, 50, group=sector)
        for n, sector in enumerate(sectors)
        for k in range(len(sectors) - n)
    ]
    colours = base.group_colours(points, RUBRIC)
    own = {colours[s][0] for s in sectors[: size - 1]}
    assert len(own) == size - 1 and base.OTHER_COLOUR not in own
    assert all(colours[s] == (base.OTHER_COLOUR, "Other (4 sectors)") for s in sectors[size - 1 :])
    names = [name for name, _, _ in base.legend_groups(points, RUBRIC)]
    assert names == [*sectors[: size - 1], "Other (4 sectors)"]


def test_eleven_sectors_each_get_a_colour_of_their_own_and_none_is_grey():
    # The demo's eleven companies, one sector each: nobody is lumped into "Other".
    points = [point(n, 50, 50, group=f"Sector {n}") for n in range(11)]
    colours = base.group_colours(points, RUBRIC)
    used = [colour for colour, _ in colours.values()]
    assert len(set(used)) == 11 and base.OTHER_COLOUR not in used
    assert not {name for _, name in colours.values()} & {"Other"}
    # Neither the unscored grey nor any other grey (equal red, green and blue).
    for colour in (*base.PALETTE, base.OTHER_COLOUR):
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert not red == green == blue, colour
    assert base.OTHER_COLOUR not in base.PALETTE


def test_bubble_area_is_proportional_to_size_against_the_visible_portfolio():
    small, large, missing = base.bubble_diameters([1e6, 4e6, None], 4e6, 8, 44)
    assert large == 44 and abs(large / small - 2) < 1e-9 and missing == 8
    # Filtered down to the small company alone, it keeps its size.
    [alone] = base.bubble_diameters([1e6], 4e6, 8, 44)
    assert alone == small
    figure = screen_map([point(1, 40, 40, size=1e6)], size_reference=4e6)
    [trace] = [t for t in figure["data"] if _bubbles(t)]
    assert trace["marker"]["size"] == [round(small, 1)]


def test_size_key_draws_circles_at_the_bubbles_own_sizes():
    figure = screen_map([point(1, 40, 40, size=3e6)], size_reference=2.4e7)
    circles = [s for s in figure["layout"]["shapes"] if s["type"] == "circle"]
    assert [round(c["x1"] - c["x0"], 3) for c in circles] == [
        round(d, 3) for d in base.bubble_diameters([2e7, 5e6], 2.4e7, 8, 44)
    ]
    texts = [a["text"] for a in figure["layout"]["annotations"]]
    assert {"Check size", "$20M", "$5M"} <= set(texts)


def test_boundary_is_clipped_to_the_square():
    xs, ys = base.boundary_segment(AS_OF, RUBRIC)
    assert xs[0] == 0 and xs[-1] == 100
    assert all(0 <= y <= 100 for y in ys)
    assert abs(ys[0] - scoring.boundary_y(0, AS_OF, RUBRIC)) < 1e-9
    assert base.boundary_segment(date(2060, 1, 1), RUBRIC) == ([], [])


def test_text_is_escaped_for_plotly():
    figure = screen_map([point(1, 80, 80, label="<b>x</b>")])
    assert "&lt;b&gt;x&lt;/b&gt;" in [a["text"] for a in figure["layout"]["annotations"]]


def test_per_task_labels_read_company_and_task_shortened_at_a_word_boundary():
    row = type("Row", (), {})()
    row.id, row.company_id, row.name, row.company = (
        7,
        3,
        "Run payroll and file payroll taxes",
        "Paystack Cloud",
    )
    row.fund, row.sector, row.stage, row.size, row.before = "F", "Fintech", "Seed", 1.0, None
    row.movement = None
    row.score = scoring.Score(30, 70, 0.8, scoring.SPECIALIST_MODELS, 5.0, 1.0, 4)
    p = base.plot_point(row, RUBRIC, per_task=True, by_quadrant=True)
    assert p.label == "Paystack Cloud · Run payroll and file payroll taxes"
    figure = screen_map([p])
    [label] = [a for a in figure["layout"]["annotations"] if a.get("name") == "label 0"]
    assert label["text"] == "Paystack Cloud · Run payroll…"
    assert len(label["text"]) <= screen_charts.LABEL_CHARS
    [trace] = [t for t in figure["data"] if _bubbles(t)]
    assert trace["customdata"][0][1] == "Paystack Cloud · Run payroll and file payroll taxes"


def test_hover_is_dark_on_white_and_carries_only_what_varies():
    points = [
        point(
            n,
            60 + n,
            60,
            hover=(f"Co {n}", "Fund", "Legal", "Seed", "Untrainable", "2.0 y", str(n)),
        )
        for n in range(3)
    ]
    figure = screen_map(points)
    hover = figure["layout"]["hoverlabel"]
    assert hover["bgcolor"] == "#ffffff" and hover["font"]["color"] == "#1d2330"
    [trace] = [t for t in figure["data"] if _bubbles(t)]
    # Fund, sector, stage, quadrant and runway are the same for all: written once.
    assert "Fund · Legal · Seed" in trace["hovertemplate"]
    assert trace["customdata"][0] == [0, "Co 0", 0, 0.8]


def test_a_thousand_bubbles_cost_a_compact_figure():
    rng = random.Random(5)
    points = [
        point(
            n, rng.uniform(0, 100), rng.uniform(0, 100), size=rng.uniform(1e5, 3e7),
            confidence=rng.random(),
            hover=(f"Company {n}", f"Fund {n % 3}", f"Sector {n % 11}", "Seed", "Untrainable",
                   f"{rng.uniform(0, 9):.1f} y", str(rng.randint(0, 40))),
        )
        for n in range(1000)
    ]  # fmt: skip
    size = len(json.dumps(screen_map(points)))
    print(f"figure JSON at 1,000 bubbles: {size:,} bytes")
    assert size < 100_000  # it was 166,000 bytes with every field in every point


def test_why_it_moved_rides_in_the_hover_of_a_map_with_trails_only():
    rng = random.Random(6)
    plain = [
        point(
            n, rng.uniform(0, 100), rng.uniform(0, 100), size=rng.uniform(1e5, 3e7),
            hover=(f"Company {n}", "Fund", "Legal", "Seed", "Untrainable", "2.0 y", str(n)),
        )
        for n in range(1000)
    ]  # fmt: skip
    line = "Since 1 Dec 2025: runway \u2212{}.3 y \u2014 new evidence +0.6, decay \u22120.9"
    trailed = [
        replace(p, before=(p.x, p.y), hover=(*p.hover, line.format(n % 9)))
        for n, p in enumerate(plain)
    ]
    without = screen_map([replace(p, before=(p.x, p.y)) for p in plain], since=SINCE)
    with_line = screen_map(trailed, since=SINCE)
    traces = [t for t in with_line["data"] if _bubbles(t)]
    # The line is the hover's last, and each point's own (the last field that varies).
    assert all(re.search(r"evidence<br>%\{customdata\[\d\]\}<extra>", t["hovertemplate"])
               for t in traces)  # fmt: skip
    said = sorted(row[-2] for t in traces for row in t["customdata"])
    assert said == sorted(p.hover[-1] for p in trailed)
    assert "Since" not in json.dumps(screen_map(plain))
    # What the line costs, per trailed bubble (the arrows cost several times more).
    cost = (len(json.dumps(with_line)) - len(json.dumps(without))) / len(trailed)
    print(f"the why-it-moved line: {cost:.0f} bytes a trailed bubble")
    assert cost < 120


def test_screen_waterfall_bars_name_their_note_in_score_points_and_link_to_it():
    contributions = [
        base.Contribution("system access · 3 Mar 2026", scoring.X, 0.8, "Deep SSO hooks", 27),
        base.Contribution("public benchmark · 1 Feb 2026", scoring.X, -0.3, "", 31),
        base.Contribution("data rights · 9 Jan 2026", scoring.Y, 0.4, "Owns the ledger", 40),
    ]
    figure = screen_charts.waterfall(contributions)
    x_trace, y_trace = figure["data"]
    assert x_trace["y"][:2] == ["system access · 3 Mar 2026", "public benchmark · 1 Feb 2026"]
    assert x_trace["customdata"] == [27, 31, None]
    steps = base.waterfall_steps(contributions)[scoring.X]
    assert x_trace["x"][:2] == [round(s.points, 2) for s in steps]
    assert 50 + sum(x_trace["x"]) == pytest.approx(scoring.axis_score(0.5), abs=0.02)
    assert "Deep SSO hooks" in x_trace["hovertext"][0] and "+" in x_trace["hovertext"][0]
    assert "points" in x_trace["hovertext"][0] and "0.8" not in x_trace["hovertext"][0]
    assert y_trace["customdata"] == [40, None]


def test_a_one_point_history_is_a_point_on_a_day_axis_with_the_rubric_change_marked():
    series = [base.HistorySeries("x", [date(2026, 11, 20)], [61.0])]
    marks = [(date(2026, 11, 20), "Rubric v2")]
    for figure in (
        screen_charts.score_history(series, marks),
        memo.history_figure(series, text=memo.ChartText("H"), marks=marks).to_plotly_json(),
    ):
        [trace] = figure["data"]
        assert "markers" in trace["mode"]
        axis = figure["layout"]["xaxis"]
        assert axis["type"] == "date" and axis["tickformat"] == "%-d %b %Y"
        start, end = (date.fromisoformat(d[:10]) for d in axis["range"])
        assert (end - start).days == 30
        assert any(s.get("x0") == "2026-11-20" for s in figure["layout"]["shapes"])
        assert "Rubric v2" in [a["text"] for a in figure["layout"]["annotations"]]


def test_shorten_cuts_at_word_boundaries():
    assert base.shorten("Run payroll and file payroll taxes", 20) == "Run payroll and…"
    assert base.shorten("Short", 20) == "Short"
    assert base.shorten("Supercalifragilisticexpialidocious", 10) == "Supercali…"


def test_every_score_history_draws_its_runway_on_its_own_axis_on_screen_and_in_print():
    from types import SimpleNamespace

    from assessments.selectors.company import history_series

    days = [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)]
    # A swing that x and y alone hide: 0.8 → 3.2 → 1.0 y, then absorbed.
    runways = [0.8, 3.2, 1.0, 0.0]
    snapshots = [
        SimpleNamespace(as_of=d, x=55.0, y=52.0 + r, runway_years=r)
        for d, r in zip(days, runways, strict=True)
    ]
    series = history_series(snapshots, ("x", "y", "runway"))
    assert [s.measure for s in series] == [base.SCORE, base.SCORE, base.RUNWAY]
    screen = screen_charts.score_history(series)
    printed = memo.history_figure(series, text=memo.ChartText("H")).to_plotly_json()
    for figure in (screen, printed):
        runway = next(t for t in figure["data"] if t["name"] == "runway")
        assert list(runway["y"]) == runways  # absorbed is 0, not a gap
        assert runway["yaxis"] == "y2" and runway["line"]["dash"] == "dash"
        axis = figure["layout"]["yaxis2"]
        assert axis["overlaying"] == "y" and axis["side"] == "right"
        assert axis["range"][0] == 0 and axis["range"][1] >= 3.2
        assert axis["ticksuffix"] == " y" and axis["dtick"] == 1
        scores = [t for t in figure["data"] if t["name"] in ("x", "y")]
        assert all(t.get("yaxis", "y") == "y" for t in scores)
    assert "y<extra>runway</extra>" in next(
        t["hovertemplate"] for t in screen["data"] if t["name"] == "runway"
    )
    # An unscored date leaves a gap in the runway line.
    gap = base.runway_series("runway", [SimpleNamespace(as_of=days[0], runway_years=None)])
    assert list(gap.values) == [None]


@pytest.mark.parametrize("preset", ["memo", "square"])
def test_a_long_legend_and_key_make_a_print_map_taller_not_its_plot_a_strip(preset):
    # Per task across funds: twelve sectors in the legend and many numbered bubbles in the key.
    points = [
        replace(p, group=f"Sector {p.key % 12}")
        for p in portfolio(60, 5, trails=False, per_task=True)
    ]
    layout = print_map(points, preset)["layout"]
    page = memo.PRESETS[preset]
    margin = layout["margin"]
    plot_height = layout["height"] - margin["t"] - margin["b"]
    assert layout["meta"]["numbered"], "the key holds numbered bubbles"
    assert plot_height >= memo.MIN_PLOT_SHARE * page.height - 1
    assert layout["height"] > page.height, "the figure grew to keep its plot"
    # A short legend leaves the page its printed size.
    assert (
        print_map(portfolio(5, 6, trails=False, per_task=False), preset)["layout"]["height"]
        == page.height
    )
