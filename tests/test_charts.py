"""The map's pure figure builder and its label placement."""

from datetime import date
from itertools import combinations

from assessments import charts, scoring
from assessments.charts import Box, ChartPoint, place_labels

AS_OF = date(2026, 11, 25)


def label_box(point, offset, char_px=6.8, line_px=15.0, gap=3.0) -> Box:
    x, y, _, text = point
    half_w, half_h = len(text) * char_px / 2 + gap, line_px / 2 + gap / 2
    cx, cy = x + offset[0], y + offset[1]
    return Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def test_labels_in_a_crowded_quadrant_do_not_overlap():
    crowd = [(400 + (i % 4) * 30, 300 + (i // 4) * 25, 8, f"Company {i}") for i in range(12)]
    offsets = place_labels(crowd)
    boxes = [label_box(p, o) for p, o in zip(crowd, offsets, strict=True) if o]
    assert len(boxes) >= 8
    assert all(a.overlap(b) == 0 for a, b in combinations(boxes, 2))
    bubbles = [Box(x - r, y - r, x + r, y + r) for x, y, r, _ in crowd]
    assert all(box.overlap(bubble) == 0 for box in boxes for bubble in bubbles)


def test_a_lone_label_sits_just_above_its_bubble():
    [offset] = place_labels([(300, 300, 10, "Alone")])
    assert offset[0] == 0 and 10 < offset[1] < 25


def test_labels_stay_inside_the_plot():
    corner = [(845, 535, 5, "Top right corner")]
    [offset] = place_labels(corner)
    box = label_box(corner[0], offset)
    assert box.right <= charts.PLOT_WIDTH and box.top <= charts.PLOT_HEIGHT


def test_labels_keep_off_obstacles_when_they_can():
    point = (300, 300, 10, "Moved")
    above = place_labels([point])[0]
    blocked = place_labels([point], obstacles=[label_box(point, above)])[0]
    assert blocked != above


def test_boundary_is_clipped_to_the_square():
    rubric = scoring.DEFAULT_RUBRIC
    xs, ys = charts.boundary_segment(AS_OF, rubric)
    assert xs[0] == 0 and xs[-1] == 100
    assert all(0 <= y <= 100 for y in ys)
    assert abs(ys[0] - scoring.boundary_y(0, AS_OF, rubric)) < 1e-9
    far_future = date(2060, 1, 1)
    assert charts.boundary_segment(far_future, rubric) == ([], [])


def test_bubble_area_is_proportional_to_size():
    small, large, missing = charts.bubble_diameters([1_000_000, 4_000_000, None])
    assert large == charts.MAX_DIAMETER and abs(large / small - 2) < 1e-9
    assert missing == charts.MIN_DIAMETER


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
    figure = charts.map_figure([point(1, 80, 80), point(2, 20, 20)], as_of=AS_OF, rubric=rubric)
    names = [t["name"] for t in figure["data"]]
    assert names[:3] == ["Absorption boundary, Nov 2026", "+1 year", "+2 years"]
    assert [t["line"]["dash"] for t in figure["data"][:3]] == ["solid", "dash", "dot"]
    assert "Moat" in names and "Commodity tokens" in names
    texts = [a["text"] for a in figure["layout"]["annotations"]]
    assert "<b>Moat</b>" in texts and "P1" in texts
    assert len([s for s in figure["layout"]["shapes"] if s["type"] == "rect"]) == 4


def test_trails_end_in_arrows_that_stop_at_the_bubble_rim():
    figure = charts.map_figure(
        [point(1, 80, 80, before=(60, 40))],
        as_of=AS_OF,
        rubric=scoring.DEFAULT_RUBRIC,
        since=date(2025, 6, 1),
    )
    [arrow] = [a for a in figure["layout"]["annotations"] if a.get("showarrow")]
    assert (arrow["ax"], arrow["ay"], arrow["x"], arrow["y"]) == (60, 40, 80, 80)
    assert arrow["standoff"] > charts.MAX_DIAMETER / 2
    assert any(t["name"] == "Position on 1 Jun 2025" for t in figure["data"])


def test_colour_by_sector_groups_by_sector_and_opacity_follows_confidence():
    points = [point(1, 80, 80, group="Legal", confidence=0.1), point(2, 20, 20, group="Fintech")]
    figure = charts.map_figure(points, as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC)
    groups = {t["name"]: t for t in figure["data"] if t.get("mode") == "markers"}
    assert set(groups) == {"Legal", "Fintech"}
    assert groups["Legal"]["marker"]["opacity"][0] < groups["Fintech"]["marker"]["opacity"][0]


def test_text_is_escaped_for_plotly():
    figure = charts.map_figure(
        [point(1, 80, 80, name="<b>x</b>")], as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in [a["text"] for a in figure["layout"]["annotations"]]


def test_labels_keep_off_the_quadrant_names_and_long_names_are_cut():
    near_corner = point(1, 20, 90, name="A rather long task name that goes on and on")
    figure = charts.map_figure([near_corner], as_of=AS_OF, rubric=scoring.DEFAULT_RUBRIC)
    [label] = [a for a in figure["layout"]["annotations"] if a["text"].startswith("A rather")]
    assert label["text"].endswith("…") and len(label["text"]) == charts.LABEL_CHARS
    assert label["yshift"] < 0  # below the bubble: above it sits "Specialist models"
