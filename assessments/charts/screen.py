"""The charts on screen: the interactive map, the task waterfalls and the score histories.

Plain data in, a figure dict out (no database, no Django). The browser draws the
dicts with plotly.js (Plotly.react), and they travel to it through json_script.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from .. import scoring
from . import labels

QUADRANT_COLOURS = {
    scoring.UNTRAINABLE: "#0e7c66",
    scoring.LAB_TERRITORY: "#c26b00",
    scoring.COMMODITY_TOKENS: "#9a3b3b",
    scoring.SPECIALIST_MODELS: "#3f5fb5",
}
SECTOR_PALETTE = (
    "#2456c8",
    "#0e7c66",
    "#c26b00",
    "#9a3b3b",
    "#7a4fb5",
    "#1d8fb0",
    "#b5476f",
    "#5f7d1e",
    "#8a6a2f",
    "#4b5563",
)
BOUNDARY_COLOUR = "#c0392b"
TRAIL_COLOUR = "#6b7280"
# Where each quadrant sits, as (x0, x1, y0, y1) on the 0-100 axes.
QUADRANT_BOXES = {
    scoring.SPECIALIST_MODELS: (0, 50, 50, 100),
    scoring.UNTRAINABLE: (50, 100, 50, 100),
    scoring.COMMODITY_TOKENS: (0, 50, 0, 50),
    scoring.LAB_TERRITORY: (50, 100, 0, 50),
}

# The plot area the label placement assumes (px); the browser's is close at 1280 px wide.
PLOT_WIDTH = 850
PLOT_HEIGHT = 540
CHART_HEIGHT = 680
MARGIN = {"l": 60, "r": 16, "t": 16, "b": CHART_HEIGHT - 16 - PLOT_HEIGHT}
MIN_DIAMETER = 10
MAX_DIAMETER = 46
# Past this many bubbles, names would only be noise: hover carries them.
MAX_LABELS = 60
# Longer names are cut on the chart (hover and table show them whole).
LABEL_CHARS = 26
LABEL_FONT = 11
QUADRANT_FONT = 13
# The plot area as labels.py sees it: pixels, y growing downwards from the top.
PLOT_FRAME = labels.Frame(PLOT_WIDTH, PLOT_HEIGHT, 0, 0, 0, 0)


@dataclass(frozen=True)
class ChartPoint:
    """One bubble, in plain values."""

    key: int
    company_id: int
    name: str
    x: float
    y: float
    size: float | None
    confidence: float
    quadrant: str
    group: str
    hover: tuple[str, ...]
    before: tuple[float, float] | None = None


def bubble_diameters(sizes: Sequence[float | None]) -> list[float]:
    """Diameters in px whose areas are proportional to the sizes; no size gets the smallest."""
    largest = max((s for s in sizes if s), default=0)
    if largest <= 0:
        return [MIN_DIAMETER + 6.0 for _ in sizes]
    return [
        max(MIN_DIAMETER, MAX_DIAMETER * math.sqrt(s / largest)) if s else MIN_DIAMETER
        for s in sizes
    ]


def opacity(confidence: float) -> float:
    """Faint when little evidence counts, solid when much does."""
    return round(0.3 + 0.65 * max(0.0, min(1.0, confidence)), 3)


def boundary_segment(day: date, rubric: scoring.Rubric) -> tuple[list[float], list[float]]:
    """The boundary x + k·y = B(day) clipped to the 0-100 square; empty when outside it."""
    level = scoring.boundary_at(day, rubric)
    k = rubric.proprietary_weight
    x_lo = max(0.0, level - 100 * k)
    x_hi = min(100.0, level)
    if x_lo >= x_hi:
        return [], []
    xs = [x_lo, x_hi]
    return xs, [scoring.boundary_y(x, day, rubric) for x in xs]


def short_label(name: str, limit: int = LABEL_CHARS) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _text(value: str) -> str:
    # plotly.js reads a small HTML subset in text; escaping shows names exactly as typed.
    return html.escape(value, quote=False)


def _quadrant_layout(rubric: scoring.Rubric) -> tuple[list[dict], list[dict], list[labels.Box]]:
    """Shading, names and the names' pixel boxes (bubble labels keep off them)."""
    shapes, names, boxes = [], [], []
    for quadrant, (x0, x1, y0, y1) in QUADRANT_BOXES.items():
        colour = QUADRANT_COLOURS[quadrant]
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": x0,
                "x1": x1,
                "y0": y0,
                "y1": y1,
                "fillcolor": colour,
                "opacity": 0.09,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        right, top = x0 >= 50, y0 >= 50
        x, y = (98 if right else 2), (98 if top else 2)
        xanchor, yanchor = ("right" if right else "left"), ("top" if top else "bottom")
        names.append(
            {
                "x": x,
                "y": y,
                "xref": "x",
                "yref": "y",
                "xanchor": xanchor,
                "yanchor": yanchor,
                "text": f"<b>{_text(rubric.label(quadrant))}</b>",
                "showarrow": False,
                "font": {"size": QUADRANT_FONT, "color": colour},
            }
        )
        # Bold glyphs run wider than the estimate for regular ones.
        size = QUADRANT_FONT * 1.1
        boxes.append(
            labels.anchored_box(PLOT_FRAME, rubric.label(quadrant), x, y, xanchor, yanchor, size)
        )
    shapes.append(
        {
            "type": "line",
            "x0": 50,
            "x1": 50,
            "y0": 0,
            "y1": 100,
            "line": {"color": "#c5cbd5", "width": 1},
            "layer": "below",
        }
    )
    shapes.append(
        {
            "type": "line",
            "x0": 0,
            "x1": 100,
            "y0": 50,
            "y1": 50,
            "line": {"color": "#c5cbd5", "width": 1},
            "layer": "below",
        }
    )
    return shapes, names, boxes


def _boundary_traces(as_of: date, rubric: scoring.Rubric) -> list[dict]:
    traces = []
    styles = (("solid", 2.4, "Absorption boundary, {d}"), ("dash", 1.6, "+1 year"))
    styles += (("dot", 1.6, "+2 years"),)
    for day, (dash, width, name) in zip(scoring.project_boundary_dates(as_of), styles, strict=True):
        xs, ys = boundary_segment(day, rubric)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "name": name.format(d=as_of.strftime("%b %Y")),
                "line": {"color": BOUNDARY_COLOUR, "dash": dash, "width": width},
                "hoverinfo": "skip",
            }
        )
    return traces


def _bubble_labels(
    points: Sequence[ChartPoint],
    diameters: Sequence[float],
    quadrant_boxes: Sequence[labels.Box],
    trails: Sequence[ChartPoint],
) -> list[dict]:
    """One annotation per name that labels.py found room for, off the quadrants' names
    and the trails; a name moved away from its bubble points back at it with a thin line.
    """
    bubbles = [
        labels.Bubble(*PLOT_FRAME.to_px(p.x, p.y), d / 2, short_label(p.name))
        for p, d in zip(points, diameters, strict=True)
    ]
    obstacles = list(quadrant_boxes)
    for p in trails:
        obstacles += labels.line_boxes(PLOT_FRAME.to_px(*p.before), PLOT_FRAME.to_px(p.x, p.y))
    notes = []
    for point, placement in zip(
        points, labels.place_labels(bubbles, PLOT_FRAME, LABEL_FONT, obstacles), strict=True
    ):
        if not placement.clear:
            continue  # no free spot near it: hover and the table still name it
        bubble = placement.bubble
        cx, cy = placement.box.center
        # Offsets in px from the bubble's centre; plotly's yshift grows upwards, ay down.
        dx, dy = cx - bubble.cx, cy - bubble.cy
        note = {
            "x": point.x,
            "y": point.y,
            "xref": "x",
            "yref": "y",
            "text": _text(bubble.text),
            "font": {"size": LABEL_FONT, "color": "#1d2330"},
            "bgcolor": "rgba(255,255,255,0.7)",
        }
        if placement.moved:
            leader = {"arrowhead": 0, "arrowwidth": 0.8, "arrowcolor": TRAIL_COLOUR}
            note |= {"showarrow": True, "ax": dx, "ay": dy, "standoff": bubble.radius, **leader}
        else:
            note |= {"showarrow": False, "xshift": dx, "yshift": -dy}
        notes.append(note)
    return notes


HOVER_TEMPLATE = (
    "<b>%{customdata[1]}</b><br>%{customdata[2]} · %{customdata[3]} · %{customdata[4]}<br>"
    "Frontier %{x:.1f} · Proprietary %{y:.1f}<br>%{customdata[5]} · runway %{customdata[6]}<br>"
    "Confidence %{customdata[7]} · %{customdata[8]} evidence<extra></extra>"
)


def trail_arrow(
    start: tuple[float, float],
    end: tuple[float, float],
    diameter_px: float,
    colour: str,
    *,
    size: float,
    width: float,
) -> dict:
    """A Plotly annotation: an arrow in data coordinates from where a point stood to where it
    stands, stopping at the bubble's rim so that the head is never hidden under it."""
    return {
        "x": end[0],
        "y": end[1],
        "ax": start[0],
        "ay": start[1],
        "xref": "x",
        "yref": "y",
        "axref": "x",
        "ayref": "y",
        "text": "",
        "showarrow": True,
        "arrowhead": 2,
        "arrowsize": size,
        "arrowwidth": width,
        "arrowcolor": colour,
        "standoff": diameter_px / 2 + 1,
    }


def interactive_map(
    points: Sequence[ChartPoint],
    *,
    as_of: date,
    rubric: scoring.Rubric,
    colour_by: str = "quadrant",
    since: date | None = None,
) -> dict:
    """The 2x2 map: shaded, labelled quadrants, the boundary at as_of and one and two years
    out, one bubble per point grouped into legend entries, trails and non-overlapping labels.

    ``hover`` of each point holds, in order: name, fund, sector, stage, quadrant label,
    runway, confidence, evidence count (already formatted).
    """
    shapes, annotations, quadrant_boxes = _quadrant_layout(rubric)
    traces = _boundary_traces(as_of, rubric)
    diameters = bubble_diameters([p.size for p in points])
    by_group: dict[str, list[int]] = {}
    for index, point in enumerate(points):
        by_group.setdefault(point.group, []).append(index)
    palette = {
        group: QUADRANT_COLOURS.get(group) or SECTOR_PALETTE[i % len(SECTOR_PALETTE)]
        for i, group in enumerate(sorted(by_group))
    }

    trails = [(i, p) for i, p in enumerate(points) if p.before]
    if trails:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [p.before[0] for _, p in trails],
                "y": [p.before[1] for _, p in trails],
                "name": f"Position on {since.strftime('%-d %b %Y')}" if since else "Before",
                "marker": {
                    "size": 7,
                    "color": "#ffffff",
                    "line": {"color": TRAIL_COLOUR, "width": 1.5},
                },
                "hoverinfo": "skip",
            }
        )
        annotations += [
            trail_arrow(p.before, (p.x, p.y), diameters[i], TRAIL_COLOUR, size=1.3, width=1.4)
            for i, p in trails
        ]

    for group in sorted(by_group, key=lambda g: (g not in QUADRANT_COLOURS, g)):
        members = [points[i] for i in by_group[group]]
        label = rubric.label(group) if group in QUADRANT_COLOURS else (group or "No sector")
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _text(label),
                "x": [p.x for p in members],
                "y": [p.y for p in members],
                "ids": [str(p.key) for p in members],
                "customdata": [[p.company_id, *(_text(h) for h in p.hover)] for p in members],
                "hovertemplate": HOVER_TEMPLATE,
                # Bubbles at the edge of the square are drawn whole.
                "cliponaxis": False,
                "marker": {
                    "size": [diameters[i] for i in by_group[group]],
                    "sizemode": "diameter",
                    "color": palette[group],
                    "opacity": [opacity(p.confidence) for p in members],
                    "line": {"color": "#ffffff", "width": 1},
                },
            }
        )

    if len(points) <= MAX_LABELS:
        annotations += _bubble_labels(points, diameters, quadrant_boxes, [p for _, p in trails])

    axis = {
        "range": [0, 100],
        "dtick": 10,
        "showgrid": False,
        "zeroline": False,
        "linecolor": "#9aa3b0",
        "ticks": "outside",
        "fixedrange": True,
    }
    return {
        "data": traces,
        "layout": {
            "height": CHART_HEIGHT,
            "margin": MARGIN,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
            "xaxis": {**axis, "title": {"text": "Frontier → (harder to score from outside)"}},
            "yaxis": {
                **axis,
                "title": {"text": "Proprietary → (correctness lives inside the customer)"},
            },
            "shapes": shapes,
            "annotations": annotations,
            "showlegend": True,
            "legend": {
                "orientation": "h",
                "yanchor": "top",
                "y": -0.11,
                "x": 0,
                "font": {"size": 12},
            },
            "hovermode": "closest",
            "hoverlabel": {"bgcolor": "#ffffff", "bordercolor": "#c9d0da"},
        },
        "config": {
            "displaylogo": False,
            "responsive": True,
            "modeBarButtonsToRemove": ["lasso2d", "select2d"],
        },
    }


# --- The company page ---------------------------------------------------------------------

AXIS_TITLES = {scoring.X: "Frontier (x)", scoring.Y: "Proprietary (y)"}
UP = "#0e7c66"
DOWN = "#b42318"
TOTAL = "#2456c8"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12}


@dataclass(frozen=True)
class Bar:
    """One evidence row's part in a task's score."""

    label: str
    axis: str
    contribution: float
    hover: str


def waterfall(bars: Sequence[Bar], rubric: scoring.Rubric = scoring.DEFAULT_RUBRIC) -> dict:
    """One waterfall per axis from the know-nothing 50 to the final score.

    Contributions add up on the raw (logit) scale, so each bar is the change in
    points its row makes when the rows are added largest first: the bars then
    end exactly at the task's score.
    """
    traces = []
    layout: dict = {
        "margin": {"l": 40, "r": 10, "t": 30, "b": 10},
        "height": 300,
        "showlegend": False,
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#fafbfc",
    }
    for index, axis in enumerate(scoring.AXES):
        suffix = "" if index == 0 else str(index + 1)
        rows = sorted(
            (b for b in bars if b.axis == axis), key=lambda b: (-abs(b.contribution), b.label)
        )
        bar_names, values, measures, hovers = ["no evidence"], [50.0], ["absolute"], ["start: 50"]
        raw = 0.0
        for bar in rows:
            before = scoring.axis_score(raw, rubric)
            raw += bar.contribution
            bar_names.append(bar.label)
            values.append(scoring.axis_score(raw, rubric) - before)
            measures.append("relative")
            hovers.append(f"{bar.label}<br>contribution {bar.contribution:+.3f}<br>{bar.hover}")
        final = scoring.axis_score(raw, rubric)
        bar_names.append("score")
        values.append(0.0)
        measures.append("total")
        hovers.append(f"score {final:.1f}")
        traces.append(
            {
                "type": "waterfall",
                "name": AXIS_TITLES[axis],
                "x": bar_names,
                "y": values,
                "measure": measures,
                "hovertext": hovers,
                "hoverinfo": "text",
                "base": 0,
                "increasing": {"marker": {"color": UP}},
                "decreasing": {"marker": {"color": DOWN}},
                "totals": {"marker": {"color": TOTAL}},
                "connector": {"line": {"color": "#c9d0da", "width": 1}},
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
            }
        )
        layout[f"xaxis{suffix}"] = {
            "domain": [0, 0.48] if index == 0 else [0.52, 1],
            "showticklabels": False,
            "title": {"text": f"{AXIS_TITLES[axis]}: {final:.1f}", "standoff": 4},
        }
        layout[f"yaxis{suffix}"] = {
            "range": [0, 100],
            "anchor": f"x{suffix}",
            "gridcolor": "#e3e7ee",
        }
    layout["xaxis"]["side"] = "top"
    layout["xaxis2"]["side"] = "top"
    return {"data": traces, "layout": layout}


def score_history(series: Sequence[tuple[str, Sequence[date], Sequence[float | None]]]) -> dict:
    """Lines of scores over time: (name, dates, values) per line; None leaves a gap."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": [d.isoformat() for d in dates],
            "y": [None if v is None else round(v, 2) for v in values],
            "connectgaps": False,
            "hovertemplate": "%{x}: %{y:.1f}<extra>" + name.replace("<", "&lt;") + "</extra>",
        }
        for name, dates, values in series
    ]
    return {
        "data": traces,
        "layout": {
            "margin": {"l": 40, "r": 10, "t": 10, "b": 30},
            "height": 240,
            "font": FONT,
            "yaxis": {"range": [0, 100], "gridcolor": "#e3e7ee"},
            "xaxis": {"type": "date"},
            "legend": {"orientation": "h", "y": -0.2},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "#fafbfc",
        },
    }


def mark_adoptions(figure: dict, adoptions: Sequence[tuple[date, str]]) -> dict:
    """A dotted vertical line and its name at each date a rubric version was adopted, on a
    score history figure (a new dict; the history before a mark is restated under the
    version in force now, so the lines stay comparable across it)."""
    shapes = list(figure["layout"].get("shapes", []))
    notes = list(figure["layout"].get("annotations", []))
    for day, label in adoptions:
        x = day.isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {"color": TRAIL_COLOUR, "width": 1, "dash": "dot"},
            }
        )
        notes.append(
            {
                "x": x,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": _text(label),
                "showarrow": False,
                "font": {"size": 10, "color": TRAIL_COLOUR},
            }
        )
    layout = {**figure["layout"], "shapes": shapes, "annotations": notes}
    if adoptions:
        layout["margin"] = {**layout.get("margin", {}), "t": 24}
    return {**figure, "layout": layout}
