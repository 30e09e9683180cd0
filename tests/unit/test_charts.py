"""The map's pure figure builder and its label placement."""

import random
from datetime import date
from itertools import combinations

from assessments import scoring
from assessments.charts import labels
from assessments.charts import screen as screen_charts
from assessments.charts.screen import ChartPoint

AS_OF = date(2026, 11, 25)


def bubble_labels(figure) -> list[tuple[labels.Box, dict]]:
    """Each bubble label's pixel box (labels.py's frame, y down) and its annotation."""
    found = []
    for note in figure["layout"]["annotations"]:
        if note["text"].startswith("<b>") or note["text"] == "":
            continue  # a quadrant's name or a trail's arrow
        bx, by = screen_charts.PLOT_FRAME.to_px(note["x"], note["y"])
        if note["showarrow"]:
            cx, cy = bx + note["ax"], by + note["ay"]
        else:
            cx, cy = bx + note["xshift"], by - note["yshift"]
        w, h = labels.text_size(note["text"], screen_charts.LABEL_FONT)
        found.append((labels.Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), note))
    return found


def bubble_discs(figure) -> list[tuple[float, float, float]]:
    discs = []
    for trace in figure["data"]:
        if trace.get("mode") == "markers" and "ids" in trace:
            for x, y, d in zip(trace["x"], trace["y"], trace["marker"]["size"], strict=True):
                discs.append((*screen_charts.PLOT_FRAME.to_px(x, y), d / 2))
    return discs


def map_of(points, **kw):
    return screen_charts.interactive_map(points, as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC, **kw)


def test_labels_in_a_crowded_quadrant_never_overlap_each_other_or_a_bubble():
    rng = random.Random(7)
    crowd = [
        point(n, rng.uniform(55, 65), rng.uniform(55, 65), name=f"Company {n}", size=rng.random())
        for n in range(30)
    ]
    figure = map_of(crowd)
    found = bubble_labels(figure)
    boxes = [box for box, _ in found]
    assert len(boxes) >= 25
    assert all(not a.intersects(b) for a, b in combinations(boxes, 2))
    discs = bubble_discs(figure)
    assert len(discs) == 30
    assert not any(box.covers_circle(*disc) for box in boxes for disc in discs)
    assert all(box.inside(screen_charts.PLOT_FRAME.plot) for box in boxes)
    assert any(note["showarrow"] for _, note in found), "a crowd needs leader lines"


def test_a_lone_label_sits_beside_its_bubble_without_a_leader_line():
    [(box, note)] = bubble_labels(map_of([point(1, 40, 40, name="Alone")]))
    assert not note["showarrow"]
    assert note["yshift"] == 0 and 0 < note["xshift"] < 60


def test_labels_stay_inside_the_plot():
    [(box, _)] = bubble_labels(map_of([point(1, 99.5, 99.5, name="Top right corner")]))
    assert box.inside(screen_charts.PLOT_FRAME.plot)


def test_labels_keep_off_trails():
    # The trail comes in from the right, where the label would otherwise sit.
    moved = point(1, 40, 40, name="Moved", before=(60, 40))
    [(box, _)] = bubble_labels(map_of([moved], since=date(2025, 6, 1)))
    trail = labels.line_boxes(
        screen_charts.PLOT_FRAME.to_px(60, 40), screen_charts.PLOT_FRAME.to_px(40, 40)
    )
    assert not any(box.intersects(stretch) for stretch in trail)


def test_boundary_is_clipped_to_the_square():
    rubric = scoring.DEFAULT_RUBRIC
    xs, ys = screen_charts.boundary_segment(AS_OF, rubric)
    assert xs[0] == 0 and xs[-1] == 100
    assert all(0 <= y <= 100 for y in ys)
    assert abs(ys[0] - scoring.boundary_y(0, AS_OF, rubric)) < 1e-9
    far_future = date(2060, 1, 1)
    assert screen_charts.boundary_segment(far_future, rubric) == ([], [])


def test_bubble_area_is_proportional_to_size():
    small, large, missing = screen_charts.bubble_diameters([1_000_000, 4_000_000, None])
    assert large == screen_charts.MAX_DIAMETER and abs(large / small - 2) < 1e-9
    assert missing == screen_charts.MIN_DIAMETER


def point(key, x, y, **kw) -> ChartPoint:
    hover = ("Name", "Fund", "Legal", "Seed", "Untrainable", "3.0 y", "0.80", "4")
    defaults = {
        "key": key,
        "company_id": key,
        "name": f"P{key}",
        "x": x,
        "y": y,
        "size": 1.0,
        "confidence": 0.8,
        "quadrant": scoring.quadrant_of(x, y, 0.8),
        "group": scoring.quadrant_of(x, y, 0.8),
        "hover": hover,
    }
    return ChartPoint(**{**defaults, **kw})


def test_figure_has_quadrants_boundaries_and_one_trace_per_group():
    rubric = scoring.Rubric(
        quadrant_labels={**scoring.DEFAULT_QUADRANT_LABELS, "untrainable": "Moat"}
    )
    figure = screen_charts.interactive_map(
        [point(1, 80, 80), point(2, 20, 20)], as_of=AS_OF, rubric=rubric
    )
    names = [t["name"] for t in figure["data"]]
    assert names[:3] == ["Absorption boundary, Nov 2026", "+1 year", "+2 years"]
    assert [t["line"]["dash"] for t in figure["data"][:3]] == ["solid", "dash", "dot"]
    assert "Moat" in names and "Commodity tokens" in names
    texts = [a["text"] for a in figure["layout"]["annotations"]]
    assert "<b>Moat</b>" in texts and "P1" in texts
    assert len([s for s in figure["layout"]["shapes"] if s["type"] == "rect"]) == 4


def test_trails_end_in_arrows_that_stop_at_the_bubble_rim():
    figure = screen_charts.interactive_map(
        [point(1, 80, 80, before=(60, 40))],
        as_of=AS_OF,
        rubric=scoring.DEFAULT_RUBRIC,
        since=date(2025, 6, 1),
    )
    [arrow] = [a for a in figure["layout"]["annotations"] if a.get("showarrow")]
    assert (arrow["ax"], arrow["ay"], arrow["x"], arrow["y"]) == (60, 40, 80, 80)
    assert arrow["standoff"] > screen_charts.MAX_DIAMETER / 2
    assert any(t["name"] == "Position on 1 Jun 2025" for t in figure["data"])


def test_colour_by_sector_groups_by_sector_and_opacity_follows_confidence():
    points = [point(1, 80, 80, group="Legal", confidence=0.1), point(2, 20, 20, group="Fintech")]
    figure = screen_charts.interactive_map(points, as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC)
    groups = {t["name"]: t for t in figure["data"] if t.get("mode") == "markers"}
    assert set(groups) == {"Legal", "Fintech"}
    assert groups["Legal"]["marker"]["opacity"][0] < groups["Fintech"]["marker"]["opacity"][0]


def test_text_is_escaped_for_plotly():
    figure = screen_charts.interactive_map(
        [point(1, 80, 80, name="<b>x</b>")], as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in [a["text"] for a in figure["layout"]["annotations"]]


def test_labels_keep_off_the_quadrant_names_and_long_names_are_cut():
    near_corner = point(1, 6, 94, name="A rather long task name that goes on and on")
    figure = screen_charts.interactive_map(
        [near_corner], as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC
    )
    [(box, label)] = bubble_labels(figure)
    assert label["text"].endswith("…") and len(label["text"]) == screen_charts.LABEL_CHARS
    _, _, names = screen_charts._quadrant_layout(scoring.DEFAULT_RUBRIC)
    assert not any(box.intersects(name) for name in names)
