"""The charts on screen: the interactive map, the task waterfalls and the score histories.

Built from charts/base, as the print figures are; what is the screen's own is hover,
clicks and a responsive width. Plain data in, a figure dict out (no database, no
Django). The browser draws the dicts with plotly.js (Plotly.react), and they travel
to it through json_script.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .. import scoring
from . import base, labels

# The plot area the label placement assumes (px); the browser's is close at 1280-1440 px wide.
# Labels sit at pixel offsets from their bubbles, so they stay with them at any width.
PLOT_WIDTH = 850
PLOT_HEIGHT = 470
CHART_HEIGHT = 600
MARGIN = {"l": 60, "r": 96, "t": 12, "b": CHART_HEIGHT - 12 - PLOT_HEIGHT}
MIN_DIAMETER = 8
MAX_DIAMETER = 44
# Past this many bubbles, names would only be noise: hover carries them.
MAX_LABELS = 60
# Longer names are shortened on the chart (hover and table show them whole).
LABEL_CHARS = 30
LABEL_FONT = 11
QUADRANT_FONT = 13
START_MARKER = 8
# The plot area as labels.py sees it: pixels, y growing downwards from the top.
PLOT_FRAME = labels.Frame(PLOT_WIDTH, PLOT_HEIGHT, 0, 0, 0, 0)
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12}
SIZE_TITLES = {"check": "Check size", "arr": "ARR"}


def _hover(members: Sequence[base.PlotPoint]) -> tuple[str, list]:
    """The trace's hover template and its compact per-point data: a field with one value
    across the trace is written into the template once instead of into every point."""
    columns = list(zip(*(p.hover for p in members), strict=True))
    varying = [n for n, column in enumerate(columns) if n == 0 or len(set(column)) > 1]
    field = {n: base.escape(column[0]) for n, column in enumerate(columns)}
    for position, n in enumerate(varying, start=1):
        field[n] = f"%{{customdata[{position}]}}"
    confidence = f"%{{customdata[{len(varying) + 1}]:.2f}}"
    template = (
        f"<b>{field[0]}</b><br>{field[1]} · {field[2]} · {field[3]}<br>"
        "Frontier %{x:.1f} · Proprietary %{y:.1f}<br>"
        f"{field[4]} · runway {field[5]}<br>"
        f"Confidence {confidence} · {field[6]} evidence"
        + (f"<br>{field[7]}" if len(columns) > 7 else "")
        + "<extra></extra>"
    )
    data = [
        [
            p.company_id,
            *(_compact(base.escape(p.hover[n])) for n in varying),
            round(p.confidence, 2),
        ]
        for p in members
    ]
    return template, data


def _compact(value: str) -> str | int:
    """A count travels as a number (no quotes)."""
    return int(value) if value.isdigit() else value


def interactive_map(
    points: Sequence[base.PlotPoint],
    *,
    as_of: date,
    rubric: scoring.Rubric,
    since: date | None = None,
    size_reference: float | None = None,
    size_by: str = "check",
) -> dict:
    """The 2x2 map: shaded, named quadrants, the boundary at as_of and one and two years
    out, one bubble per point grouped into legend entries, trails from hollow start
    markers, labels a reader cannot misattach, and a size key.

    ``size_reference`` is the largest size in the whole portfolio the user can see, so a
    bubble keeps its size whatever the filters remove.
    """
    shapes = base.quadrant_shapes()
    annotations, quadrant_boxes = base.quadrant_names(rubric, PLOT_FRAME, QUADRANT_FONT)
    # Named so that a phone can fold them onto two lines (static/js/map.js).
    annotations = [{**note, "name": "quadrant"} for note in annotations]
    traces = base.boundary_traces(as_of, rubric, width=2.2)
    # Rounded once: the figure carries these, and the labels' leaders end at these edges.
    diameters = [
        round(d, 1)
        for d in base.bubble_diameters(
            [p.size for p in points], size_reference, MIN_DIAMETER, MAX_DIAMETER
        )
    ]

    trails = [(i, p) for i, p in enumerate(points) if p.before]
    if trails:
        traces.append(base.trail_start_trace(points, since, START_MARKER))
        annotations += [
            base.trail_arrow(p.before, (p.x, p.y), diameters[i], scale=1.1) for i, p in trails
        ]

    groups = base.legend_groups(points, rubric)
    for name, colour, indices in groups:
        members = [points[i] for i in indices]
        template, customdata = _hover(members)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": base.escape(name),
                "legend": base.BUBBLE_LEGEND,
                # A tenth of a point is under a pixel: more digits would only add bytes.
                "x": [round(p.x, 1) for p in members],
                "y": [round(p.y, 1) for p in members],
                "customdata": customdata,
                "hovertemplate": template,
                # Bubbles at the edge of the square are drawn whole.
                "cliponaxis": False,
                "marker": {
                    "size": [diameters[i] for i in indices],
                    "sizemode": "diameter",
                    "color": colour,
                    "opacity": [base.opacity(p.confidence) for p in members],
                    "line": {"color": "#ffffff", "width": 1},
                },
            }
        )

    if len(points) <= MAX_LABELS:
        placed = base.map_labels(
            points,
            diameters,
            PLOT_FRAME,
            LABEL_FONT,
            limit=LABEL_CHARS,
            obstacles=quadrant_boxes,
            start_marker=START_MARKER if trails else 0,
        )
        annotations += placed.annotations

    key_shapes, key_notes = base.size_key(
        size_reference or max((p.size or 0 for p in points), default=0),
        small=MIN_DIAMETER,
        large=MAX_DIAMETER,
        title=SIZE_TITLES.get(size_by, "Size"),
        x=1.02,
        y=1.0,
        font=11,
    )
    axis = {k: v for k, v in base.axis("", 12).items() if k != "title"}
    axis |= {"tickvals": list(range(0, 101, 10)), "mirror": False}
    return {
        "data": traces,
        "layout": {
            "height": CHART_HEIGHT,
            "margin": MARGIN,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "font": FONT,
            "xaxis": {**axis, "title": {"text": base.X_TITLE, "standoff": 6}},
            "yaxis": {**axis, "title": {"text": base.Y_TITLE, "standoff": 6}},
            "shapes": shapes + key_shapes,
            "annotations": annotations + key_notes,
            "showlegend": True,
            # The lines' legend keeps each line's width and dash; the bubbles' has swatches
            # of one size, on the row below.
            "legend": {
                "orientation": "h",
                "yanchor": "top",
                "y": -48 / PLOT_HEIGHT,
                "x": 0,
                "font": {"size": 12},
                "itemsizing": "trace",
                "traceorder": "normal",
            },
            "legend2": base.bubble_legend(-74 / PLOT_HEIGHT, 12),
            "hovermode": "closest",
            # Left-aligned: Plotly right-aligns a box drawn left of its bubble, and the
            # trails' "why it moved" line is much longer than the others.
            "hoverlabel": {**base.HOVER_LABEL, "align": "left"},
        },
        "config": {
            "displaylogo": False,
            "responsive": True,
            "modeBarButtonsToRemove": ["lasso2d", "select2d"],
        },
    }


# --- The company page ---------------------------------------------------------------------

# "factor · observed date" whole: the longest factor's name and a date fit.
WATERFALL_LABEL_CHARS = 40
# Bars per axis on the page; the smaller notes are added up into one bar.
WATERFALL_BARS = 12
BAR_PX = 20


def waterfall(
    contributions: Sequence[base.Contribution], rubric: scoring.Rubric = scoring.DEFAULT_RUBRIC
) -> dict:
    """One waterfall per axis (frontier above, proprietary below) from the know-nothing 50
    to the final score: a bar per evidence note labelled "factor · observed date" and
    valued in score points. Hover shows the note's first line; each bar's customdata is
    its evidence id, which static/js/company.js follows to the note's row."""
    steps = {
        axis: base.lump(axis_steps, WATERFALL_BARS)
        for axis, axis_steps in base.waterfall_steps(contributions, rubric).items()
    }
    rows = [len(steps[axis]) + 1 for axis in scoring.AXES]
    gap = 70  # px between the panels: the lower one's title and the upper one's axis
    plot_h = BAR_PX * sum(rows) + gap
    layout: dict = {
        "margin": {"l": 8, "r": 40, "t": 26, "b": 34},
        "height": plot_h + 60,
        "showlegend": False,
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#fafbfc",
        "hoverlabel": base.HOVER_LABEL,
        "annotations": [],
    }
    traces, top = [], 1.0
    for index, axis in enumerate(scoring.AXES):
        suffix = "" if index == 0 else str(index + 1)
        axis_steps = steps[axis]
        height = BAR_PX * rows[index] / plot_h
        domain = [max(0.0, top - height), top]
        top = domain[0] - gap / plot_h
        trace = base.waterfall_trace(
            axis_steps, base.AXIS_TITLES[axis], label_chars=WATERFALL_LABEL_CHARS
        )
        hover = [
            f"<b>{base.escape(s.contribution.label)}</b><br>{s.points:+.1f} points"
            + (f"<br>{base.escape(s.contribution.note)}" if s.contribution.note else "")
            for s in axis_steps
        ]
        final = base.final_score(axis_steps)
        trace |= {
            "hovertext": [*hover, f"score {final:.1f}"],
            "hoverinfo": "text",
            "customdata": [s.contribution.evidence_id for s in axis_steps] + [None],
            "xaxis": f"x{suffix}",
            "yaxis": f"y{suffix}",
        }
        traces.append(trace)
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "range": [0, 100],
            "gridcolor": "#e3e7ee",
            "title": {"text": "score (from 50), in points", "standoff": 2, "font": {"size": 11}},
            "tickfont": {"size": 11},
        }
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "domain": domain,
            "autorange": "reversed",
            "automargin": True,
            "tickfont": {"size": 11},
        }
        layout["annotations"].append(
            {
                "text": f"<b>{base.AXIS_TITLES[axis]}: {final:.1f}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "xanchor": "left",
                "y": domain[1],
                "yanchor": "bottom",
                "yshift": 2,
                "showarrow": False,
            }
        )
    return {"data": traces, "layout": layout}


def score_history(
    series: Sequence[base.HistorySeries], marks: Sequence[tuple[date, str]] = ()
) -> dict:
    """Lines of scores over time (None leaves a gap); a dotted line where the rubric changed."""
    shapes, notes = base.history_marks(marks, 11)
    traces = base.history_traces(series, line=2, marker=6)
    for trace in traces:
        unit = " y" if trace.get("yaxis") == "y2" else ""
        trace["hovertemplate"] = (
            "%{x|%-d %b %Y}: %{y:.1f}" + unit + "<extra>" + trace["name"] + "</extra>"
        )
    runway_axis = base.history_runway_axis(series, 11)
    return {
        "data": traces,
        "layout": {
            **({"yaxis2": runway_axis} if runway_axis else {}),
            "margin": {"l": 40, "r": 50 if runway_axis else 10, "t": 10, "b": 30},
            "height": 240,
            "font": FONT,
            "yaxis": {"range": [0, 100], "gridcolor": "#e3e7ee"},
            "xaxis": base.date_axis(series),
            "legend": {"orientation": "h", "y": -0.2},
            "shapes": shapes,
            "annotations": notes,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "#fafbfc",
            "hoverlabel": base.HOVER_LABEL,
        },
    }
