"""The pieces every chart is built from, on screen and in print.

One palette (Okabe & Ito's, distinguishable under every common colour-vision
deficiency, and the same on a screen and on paper), the quadrants' boxes, the
boundary's geometry, bubble sizes, escaping, shortening, waterfall steps, trail
arrows and the map's labels with their leader lines. charts/screen.py (hover and
clicks) and charts/memo.py (fonts, sizes and footnotes for paper) both build from
here, so a memo chart pasted beside a screenshot shows the same picture.

Pure: no Django. Sizes are in the figure's own pixels (screen px, or points in print).
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from .. import moves, scoring, vocabulary
from . import labels

# --- The palette ---------------------------------------------------------------------------

BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
INK = "#222222"
MUTED = "#555555"
# Past Okabe & Ito's seven, darker hues from Paul Tol's schemes, told apart by lightness.
INDIGO = "#332288"
WINE = "#882255"
OLIVE = "#999933"
FOREST = "#117733"
BROWN = "#8C510A"
# Qualitative: every colour once, in the order that keeps neighbours apart. No grey: grey
# is an unscored point, and a faint bubble is one with little evidence.
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, YELLOW, INDIGO, WINE, OLIVE, FOREST, BROWN)
QUADRANT_COLOURS: Mapping[str, str] = {
    scoring.UNTRAINABLE: GREEN,
    scoring.LAB_TERRITORY: VERMILLION,
    scoring.COMMODITY_TOKENS: ORANGE,
    scoring.SPECIALIST_MODELS: BLUE,
}
OTHER = "Other"
# The sectors past the palette's length share a dark teal of their own: a hue, so even a
# faint "Other" bubble never reads as grey.
OTHER_COLOUR = "#00505A"
BOUNDARY_COLOUR = INK
BOUNDARY_DASHES = ("solid", "dash", "dot")
TRAIL_COLOUR = MUTED
# A leader line is drawn unlike a trail: thinner, lighter, and without a head.
LEADER_COLOUR = "#a0a0a0"
QUADRANT_SHADE = 0.09
DIVIDER = {"color": "#9aa3b0", "width": 0.8}
# Waterfalls: a note that raises a score, one that lowers it, the final score.
UP_COLOUR, DOWN_COLOUR, TOTAL_COLOUR = BLUE, VERMILLION, "#777777"
SERIES_COLOURS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY)
# Hover boxes: dark text on white, 14:1 (the text colour is set, not taken from the border).
HOVER_LABEL = {"bgcolor": "#ffffff", "bordercolor": "#5b6474", "font": {"color": "#1d2330"}}

X_TITLE = "Frontier → (harder to score from outside)"
Y_TITLE = "Proprietary → (correctness lives inside the customer)"
AXIS_TITLES = vocabulary.AXIS_NAMES
QUADRANT_BOXES: Mapping[str, tuple[float, float, float, float]] = {
    # Where each quadrant sits, as (x0, x1, y0, y1) on the 0-100 axes.
    scoring.SPECIALIST_MODELS: (0, 50, 50, 100),
    scoring.UNTRAINABLE: (50, 100, 50, 100),
    scoring.COMMODITY_TOKENS: (0, 50, 0, 50),
    scoring.LAB_TERRITORY: (50, 100, 0, 50),
}


def escape(value: object) -> str:
    """Fund text for plotly, which reads a small HTML subset (<a>, <b>, <br>) in every
    label: escaped, a name is drawn exactly as typed and never becomes a link or markup."""
    return html.escape(str(value), quote=False)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis (never mid-word
    unless the first word alone is longer than the limit)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ·,;:-–—") + "…"


runway_text = vocabulary.runway
money = vocabulary.money


# --- One point of a map ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlotPoint:
    """One bubble of a map chart: a company, or one of its tasks."""

    key: int
    company_id: int
    label: str  # the name drawn beside the bubble, whole (each medium shortens it)
    x: float
    y: float
    size: float | None
    confidence: float
    quadrant: str
    group: str  # the colour key: a quadrant, or a sector
    # name, fund, sector, stage, quadrant, runway, evidence count (formatted for hover), and
    # with a trail why it moved since its start ("Since 1 Dec 2025: runway −1.3 y — …")
    hover: tuple[str, ...] = ()
    before: tuple[float, float] | None = None


def plot_point(row, rubric: scoring.Rubric, *, per_task: bool, by_quadrant: bool) -> PlotPoint:
    """A map chart's point from a row of the map's read (selectors.map.MapPoint: name,
    company, fund, sector, stage, size, score, before, movement)."""
    score = row.score
    label = f"{row.company} · {row.name}" if per_task else row.name
    # Only a map with trails says why each point moved: without them the figure is no larger.
    moved = () if row.movement is None else (_capitalised(moves.move_line(row.movement)),)
    # A company whose mean hides value absorbed within two years, or unevidenced, says so.
    shares = getattr(row, "shares", None)
    truth = ""
    if shares is not None and (shares.absorbed_2y > 0 or shares.unscored > 0):
        truth = f" · {vocabulary.value_words(shares)}"
    return PlotPoint(
        key=row.id,
        company_id=row.company_id,
        label=label,
        x=score.x,
        y=score.y,
        size=row.size,
        confidence=score.confidence,
        quadrant=score.quadrant,
        group=score.quadrant if by_quadrant else (row.sector or "No sector"),
        hover=(
            label,
            row.fund,
            row.sector or "No sector",
            row.stage or "No stage",
            rubric.label(score.quadrant),
            runway_text(score) + truth,
            str(score.evidence_count),
            *moved,
        ),
        before=(row.before.x, row.before.y) if row.before is not None else None,
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def group_colours(points: Sequence[PlotPoint], rubric: scoring.Rubric) -> dict[str, tuple]:
    """Per colour key: (colour, legend name). Quadrants keep their colour; sectors take the
    palette largest first, each its own while they fit; only past its length do the smallest
    sectors share "Other", named in the legend with how many sectors it holds."""
    counts = Counter(p.group for p in points if p.group not in QUADRANT_COLOURS)
    sectors = sorted(counts, key=lambda g: (-counts[g], g))
    own = len(PALETTE) if len(sectors) <= len(PALETTE) else len(PALETTE) - 1
    colours: dict[str, tuple] = {
        q: (c, rubric.label(q))
        for q, c in QUADRANT_COLOURS.items()
        if q in {p.group for p in points}
    }
    other = f"{OTHER} ({len(sectors) - own} sectors)"
    for n, sector in enumerate(sectors):
        colours[sector] = (PALETTE[n], sector) if n < own else (OTHER_COLOUR, other)
    return colours


def legend_groups(points: Sequence[PlotPoint], rubric: scoring.Rubric) -> list[tuple]:
    """The bubbles as legend entries: (legend name, colour, indices of its points), quadrants
    first in the quadrants' order, sectors largest first, "Other" last."""
    colours = group_colours(points, rubric)
    entries: dict[str, tuple[str, list[int]]] = {}
    for i, p in enumerate(points):
        colour, name = colours[p.group]
        entries.setdefault(name, (colour, []))[1].append(i)
    order = list(dict.fromkeys(name for _, (_, name) in colours.items()))
    order.sort(key=lambda name: name in entries and entries[name][0] == OTHER_COLOUR)
    return [(name, *entries[name]) for name in order if name in entries]


# Bubbles have a legend of their own, with swatches of one size whatever the bubbles'
# sizes (a small sector is not a speck); the lines' legend shows each line's own style.
BUBBLE_LEGEND = "legend2"


def bubble_legend(y: float, font: float) -> dict:
    """The bubbles' legend (layout.legend2): horizontal, swatches of one size."""
    return {
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "y": y,
        "yanchor": "top",
        "itemsizing": "constant",
        "traceorder": "normal",
        "font": {"size": font},
        "bgcolor": "rgba(0,0,0,0)",
    }


# --- Geometry --------------------------------------------------------------------------------


def boundary_segment(day: date, rubric: scoring.Rubric) -> tuple[list[float], list[float]]:
    """The boundary x + k·y = B(day) clipped to the 0–100 square; empty when outside it."""
    level = scoring.boundary_at(day, rubric)
    k = rubric.proprietary_weight
    ends = []
    for x in (0.0, 100.0):
        y = scoring.boundary_y(x, day, rubric)
        if 0 <= y <= 100:
            ends.append((x, y))
    for y in (0.0, 100.0):
        x = level - k * y
        if 0 < x < 100:
            ends.append((x, y))
    pairs = sorted(set(ends))
    if len(pairs) < 2:
        return [], []
    return [p[0] for p in pairs], [p[1] for p in pairs]


def boundary_traces(as_of: date, rubric: scoring.Rubric, width: float) -> list[dict]:
    """The boundary today and one and two years out: lines named by their date, drawn in the
    legend as a short line of their own style."""
    traces = []
    for n, day in enumerate(scoring.project_boundary_dates(as_of)):
        xs, ys = boundary_segment(day, rubric)
        name = f"Boundary {day:%b %Y}" if n == 0 else f"Boundary +{n} year{'s' * (n > 1)}"
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "name": name,
                "line": {
                    "color": BOUNDARY_COLOUR,
                    "dash": BOUNDARY_DASHES[n % 3],
                    "width": width if n == 0 else width * 0.75,
                },
                "hoverinfo": "skip",
            }
        )
    return traces


def quadrant_shapes() -> list[dict]:
    """The quadrants' light shading and the two dividers at 50."""
    shapes: list[dict] = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y",
            "x0": x0,
            "x1": x1,
            "y0": y0,
            "y1": y1,
            "fillcolor": QUADRANT_COLOURS[quadrant],
            "opacity": QUADRANT_SHADE,
            "line": {"width": 0},
            "layer": "below",
        }
        for quadrant, (x0, x1, y0, y1) in QUADRANT_BOXES.items()
    ]
    for x0, x1, y0, y1 in ((50, 50, 0, 100), (0, 100, 50, 50)):
        line = {"type": "line", "xref": "x", "yref": "y", "layer": "below", "line": DIVIDER}
        shapes.append({**line, "x0": x0, "x1": x1, "y0": y0, "y1": y1})
    return shapes


def quadrant_names(
    rubric: scoring.Rubric, frame: labels.Frame, font: float
) -> tuple[list[dict], list[labels.Box]]:
    """The quadrants' names in their outer corners, and their pixel boxes (labels keep off)."""
    notes, boxes = [], []
    for quadrant, (x0, _, y0, _) in QUADRANT_BOXES.items():
        right, top = x0 >= 50, y0 >= 50
        x, y = (99 if right else 1), (99 if top else 1)
        xanchor, yanchor = ("right" if right else "left"), ("top" if top else "bottom")
        label = rubric.label(quadrant)
        notes.append(
            {
                "text": f"<b>{escape(label)}</b>",
                "x": x,
                "y": y,
                "xref": "x",
                "yref": "y",
                "xanchor": xanchor,
                "yanchor": yanchor,
                "showarrow": False,
                "font": {"size": font, "color": MUTED},
            }
        )
        # Bold glyphs run wider than the estimate for regular ones.
        boxes.append(labels.anchored_box(frame, label, x, y, xanchor, yanchor, font * 1.1))
    return notes, boxes


def axis(title: str, font: float) -> dict:
    """A 0–100 score axis."""
    return {
        "range": [0, 100],
        "title": {"text": title, "font": {"size": font}, "standoff": font * 0.5},
        "tickvals": [0, 25, 50, 75, 100],
        "showgrid": False,
        "zeroline": False,
        "showline": True,
        "linecolor": "#9aa3b0",
        "mirror": True,
        "ticks": "outside",
        "ticklen": 3,
        "fixedrange": True,
    }


# --- Bubbles ---------------------------------------------------------------------------------


def bubble_diameters(
    sizes: Sequence[float | None], reference: float | None, small: float, large: float
) -> list[float]:
    """Diameters whose areas are proportional to the sizes, the ``reference`` size (the
    largest in the whole portfolio the user can see, not in this view) drawn ``large``, so
    a bubble keeps its size whatever a filter removes. No size: the smallest bubble."""
    top = reference or max((s for s in sizes if s), default=0)
    if not top:
        return [small for _ in sizes]
    return [max(small, large * math.sqrt(min(s, top) / top)) if s else small for s in sizes]


def size_key_values(reference: float | None) -> list[float]:
    """Round sizes for the size key: the largest round value up to the reference, and a
    quarter of it (whose bubble is half as wide)."""
    if not reference or reference <= 0:
        return []
    magnitude = 10 ** math.floor(math.log10(reference))
    top = max(m * magnitude for m in (1, 2, 5, 10) if m * magnitude <= reference)
    return [top, top / 4]


def size_key(
    reference: float | None,
    *,
    small: float,
    large: float,
    title: str,
    x: float,
    y: float,
    font: float,
) -> tuple[list[dict], list[dict]]:
    """The size key: circles drawn at the bubbles' own pixel sizes, stacked downwards from
    (x, y) in paper coordinates, each with its value. Returns (shapes, annotations)."""
    values = size_key_values(reference)
    if not values:
        return [], []
    diameters = bubble_diameters(values, reference, small, large)
    shapes, notes = [], []
    # A title of two lines ("Check size\nper task") keeps a narrow key inside its margin.
    lines = title.split("\n")
    notes.append(_paper_text("<br>".join(escape(t) for t in lines), x, y, font, anchor="left"))
    top = font * (0.3 + 1.3 * len(lines))  # px below y: under the title
    for value, d in zip(values, diameters, strict=True):
        shapes.append(
            {
                "type": "circle",
                "xref": "paper",
                "yref": "paper",
                "xsizemode": "pixel",
                "ysizemode": "pixel",
                "xanchor": x,
                "yanchor": y,
                "x0": 0,
                "x1": d,
                "y0": -top,
                "y1": -top - d,
                "line": {"color": MUTED, "width": 0.8},
                "fillcolor": "rgba(0,0,0,0)",
            }
        )
        notes.append(
            _paper_text(money(value), x, y, font, anchor="left", xshift=d + 4, yshift=-top - d / 2)
        )
        top += d + font * 0.6
    return shapes, notes


def _paper_text(text, x, y, font, *, anchor, xshift=0.0, yshift=0.0) -> dict:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "xanchor": anchor,
        "align": anchor,
        "yanchor": "middle" if yshift else "top",
        "xshift": xshift,
        "yshift": yshift,
        "showarrow": False,
        "font": {"size": font, "color": MUTED},
    }


def opacity(confidence: float) -> float:
    """Faint when little evidence counts, solid when much does; never so faint it vanishes."""
    return round(0.35 + 0.6 * max(0.0, min(1.0, confidence)), 2)


# --- Trails and labels -----------------------------------------------------------------------


def trail_start_trace(points: Sequence[PlotPoint], since: date | None, size: float) -> dict:
    """Hollow markers where the trails start, named by the start date in the legend."""
    starts = [p for p in points if p.before]
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [round(p.before[0], 2) for p in starts],
        "y": [round(p.before[1], 2) for p in starts],
        "name": f"Position on {since:%-d %b %Y}" if since else "Earlier position",
        "marker": {
            "size": size,
            "symbol": "circle-open",
            "color": TRAIL_COLOUR,
            "line": {"width": max(1.0, size / 5)},
        },
        "hoverinfo": "skip",
        "cliponaxis": False,
    }


def trail_arrow(
    start: tuple[float, float], end: tuple[float, float], diameter: float, *, scale: float = 1.0
) -> dict:
    """A Plotly annotation: an arrow in data coordinates from where a point stood to where it
    stands, its head at the bubble's rim so that it is never hidden under it."""
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
        "arrowsize": 1.1,
        "arrowwidth": 1.3 * scale,
        "arrowcolor": TRAIL_COLOUR,
        "standoff": diameter / 2 + 0.5,
    }


@dataclass(frozen=True)
class MapLabels:
    """The labels of a map: annotations, the names left off for want of a clear spot, and
    (print) the names drawn as a number, with their numbers, for the chart's key."""

    annotations: list[dict]
    left_off: list[str]
    numbered: Sequence[tuple[int, str]] = ()


def map_labels(
    points: Sequence[PlotPoint],
    diameters: Sequence[float],
    frame: labels.Frame,
    font: float,
    *,
    limit: int,
    obstacles: Sequence[labels.Box] = (),
    start_marker: float = 0.0,
    text: Callable[[str], str] = escape,
    number_left_off: bool = False,
) -> MapLabels:
    """Each bubble's name where labels.py finds it a spot a reader cannot misattach: beside
    its own bubble (the nearest to it), or joined to it by a leader line.

    A leader is an annotation's arrow without a head, thin and light, ending at the
    bubble's edge (standoff = radius); the label's offsets are in pixels from its bubble,
    so the pair stays together however wide the browser draws the chart.

    With ``number_left_off`` (print, where nothing can be hovered), a bubble whose name
    found no spot gets a number instead, placed by the same rules around the names
    already placed, or else drawn on the bubble itself; the caller lists the numbers in a
    key, so every bubble is either named or numbered.
    """
    bubbles = [
        labels.Bubble(*frame.to_px(p.x, p.y), d / 2, shorten(p.label, limit))
        for p, d in zip(points, diameters, strict=True)
    ]
    trails = [
        (frame.to_px(*p.before), frame.to_px(p.x, p.y)) for p in points if p.before is not None
    ]
    starts = [
        labels.Bubble(*frame.to_px(*p.before), start_marker / 2, "")
        for p in points
        if p.before is not None and start_marker
    ]
    placements = labels.place_labels(bubbles, frame, font, obstacles, trails=trails, markers=starts)
    notes, left_off = [], []
    for n, (point, placement) in enumerate(zip(points, placements, strict=True)):
        if not placement.clear:
            left_off.append(point.label)
            continue
        notes.append(_label_note(point, placement, text(placement.bubble.text), font, n))
    if not number_left_off or not left_off:
        return MapLabels(notes, left_off)
    # Numbers in reading order (top to bottom, then left to right), so the key reads down
    # the chart as the eye does.
    missing = sorted(
        (i for i, p in enumerate(placements) if not p.clear),
        key=lambda i: (-points[i].y, points[i].x),
    )
    numbers = {i: k for k, i in enumerate(missing, start=1)}
    named = [p for p in placements if p.clear]
    again = labels.place_labels(
        [replace(bubbles[i], text=str(numbers[i])) for i in missing],
        frame,
        font,
        # A pixel round each name: its annotation's offsets are rounded to a tenth.
        [*obstacles, *(_grown(p.box, 1.0) for p in named)],
        trails=[*trails, *(labels.leader_segment(p.bubble, p.box) for p in named if p.moved)],
        markers=[*starts, *(p.bubble for p in named)],
    )
    for i, placement in zip(missing, again, strict=True):
        if placement.clear:
            notes.append(_label_note(points[i], placement, str(numbers[i]), font, i))
        else:
            # Nowhere clear around it: the number sits on its own bubble, which no reader
            # can attach to another.
            notes.append(
                {
                    "name": f"number {i}",
                    "x": round(points[i].x, 3),
                    "y": round(points[i].y, 3),
                    "xref": "x",
                    "yref": "y",
                    "text": f"<b>{numbers[i]}</b>",
                    "font": {"size": font, "color": INK},
                    "bgcolor": "rgba(255,255,255,0.8)",
                    "borderpad": 0,
                    "showarrow": False,
                }
            )
    numbered = [(numbers[i], points[i].label) for i in missing]
    return MapLabels(notes, left_off, numbered)


def _grown(box: labels.Box, by: float) -> labels.Box:
    return labels.Box(box.left - by, box.top - by, box.right + by, box.bottom + by)


def _label_note(point: PlotPoint, placement: labels.Placement, text: str, font, n: int) -> dict:
    """One placed label as a Plotly annotation, offset in px from its bubble."""
    bubble = placement.bubble
    cx, cy = placement.box.center
    # Offsets in px from the bubble's centre; plotly's yshift grows upwards, ay down.
    dx, dy = cx - bubble.cx, cy - bubble.cy
    note = {
        "name": f"label {n}",
        "x": round(point.x, 3),
        "y": round(point.y, 3),
        "xref": "x",
        "yref": "y",
        "text": text,
        "font": {"size": font, "color": INK},
        # A light ground keeps the name readable where it crosses a boundary line.
        "bgcolor": "rgba(255,255,255,0.75)",
        "borderpad": 0,
        "xanchor": "center",
        "yanchor": "middle",
    }
    if placement.moved:
        leader = {"arrowhead": 0, "arrowwidth": 0.7, "arrowcolor": LEADER_COLOUR}
        note |= {"showarrow": True, "ax": round(dx, 1), "ay": round(dy, 1), **leader}
        note["standoff"] = round(bubble.radius, 1)
        return note
    # Anchored on the side that faces the bubble, so the text starts right at the gap
    # whatever its real width (the placer's width is an estimate).
    box, r = placement.box, bubble.radius
    xanchor, ax = "center", cx
    if box.left >= bubble.cx + r - 0.5:
        xanchor, ax = "left", box.left
    elif box.right <= bubble.cx - r + 0.5:
        xanchor, ax = "right", box.right
    yanchor, ay = "middle", cy
    if box.top >= bubble.cy + r - 0.5:
        yanchor, ay = "top", box.top
    elif box.bottom <= bubble.cy - r + 0.5:
        yanchor, ay = "bottom", box.bottom
    return note | {
        "showarrow": False,
        "xanchor": xanchor,
        "yanchor": yanchor,
        "xshift": round(ax - bubble.cx, 1),
        "yshift": round(bubble.cy - ay, 1),
    }


def number_key(numbered: Sequence[tuple[int, str]], limit: int = 44) -> str:
    """The key to the numbered bubbles: "Numbered: 1 Tensorhaus · Serve open-weight models
    by the token; 2 …". Every one is listed, each name shortened at a word."""
    if not numbered:
        return ""
    listed = "; ".join(f"{k} {shorten(name, limit)}" for k, name in numbered)
    return f"Numbered: {listed}" + ("" if listed.endswith("…") else ".")


# --- Waterfalls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """One evidence note's signed raw contribution to one axis of a task."""

    label: str  # "factor · observed date"
    axis: str
    raw: float
    note: str = ""  # the note's first line (hover)
    evidence_id: int | None = None


@dataclass(frozen=True)
class Step:
    contribution: Contribution
    points: float  # the change it makes, in score points


def waterfall_steps(
    contributions: Iterable[Contribution], rubric: scoring.Rubric = scoring.DEFAULT_RUBRIC
) -> dict[str, list[Step]]:
    """Per axis, one step per contribution (largest first) in score points from 50.

    Contributions add up on the raw (logit) scale, so each step is the change of
    100·logistic(raw sum) when that contribution joins the sum: the steps then end
    exactly at the task's score.
    """
    steps: dict[str, list[Step]] = {axis: [] for axis in scoring.AXES}
    by_axis: dict[str, list[Contribution]] = {axis: [] for axis in scoring.AXES}
    for c in contributions:
        by_axis[c.axis].append(c)
    for axis, items in by_axis.items():
        raw, before = 0.0, 50.0
        for c in sorted(items, key=lambda c: (-abs(c.raw), c.label)):
            raw += c.raw
            after = scoring.axis_score(raw, rubric)
            steps[axis].append(Step(c, after - before))
            before = after
    return steps


def final_score(steps: Sequence[Step]) -> float:
    return 50 + math.fsum(s.points for s in steps)


def unique_labels(names: Sequence[str]) -> list[str]:
    """Category labels made unique (plotly merges equal categories into one bar)."""
    seen: Counter = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def lump(steps: Sequence[Step], max_bars: int | None) -> list[Step]:
    """At most ``max_bars`` steps: the smallest ones are added up into one."""
    if max_bars is None or len(steps) <= max_bars:
        return list(steps)
    rest = steps[max_bars - 1 :]
    lumped = Step(
        Contribution(f"{len(rest)} smaller notes", rest[0].contribution.axis, 0.0),
        math.fsum(s.points for s in rest),
    )
    return [*steps[: max_bars - 1], lumped]


def waterfall_trace(steps: Sequence[Step], axis_name: str, *, label_chars: int) -> dict:
    """One axis's waterfall, drawn across from 50: a bar per note, labelled "factor ·
    observed date" and valued in score points, then the final score. Each bar carries its
    value as text beside it (+3.2, −1.4, then the score), on screen and on paper alike."""
    names = unique_labels([escape(shorten(s.contribution.label, label_chars)) for s in steps])
    final = final_score(steps)
    return {
        "text": [moves.signed(s.points) for s in steps] + [f"{final:.1f}"],
        "textposition": "outside",
        "cliponaxis": False,
        "type": "waterfall",
        "orientation": "h",
        "name": axis_name,
        "base": 50,
        "y": [*names, f"{escape(axis_name)}: {final:.1f}"],
        "x": [round(s.points, 2) for s in steps] + [0],
        "measure": ["relative"] * len(steps) + ["total"],
        "increasing": {"marker": {"color": UP_COLOUR}},
        "decreasing": {"marker": {"color": DOWN_COLOUR}},
        "totals": {"marker": {"color": TOTAL_COLOUR}},
        "connector": {"line": {"color": "#bbbbbb", "width": 0.6}},
        "showlegend": False,
    }


# --- Histories -------------------------------------------------------------------------------


SCORE = "score"
RUNWAY = "runway"


@dataclass(frozen=True)
class HistorySeries:
    name: str
    dates: Sequence[date]
    values: Sequence[float | None]
    # Scores share the 0-100 axis; a runway, in years, is drawn dashed on its own axis.
    measure: str = SCORE


def runway_series(name: str, snapshots) -> HistorySeries:
    """A runway line from snapshots (anything with as_of and runway_years): 0 where it was
    absorbed, a gap where it was unscored (or had no end), so swings such as
    0.8 → 3.2 → 1.0 y show."""
    values = [
        s.runway_years if s.runway_years is not None and math.isfinite(s.runway_years) else None
        for s in snapshots
    ]
    return HistorySeries(name, [s.as_of for s in snapshots], values, RUNWAY)


def history_traces(series: Sequence[HistorySeries], *, line: float, marker: float) -> list[dict]:
    """One line per series, with a marker on every point: a history of one point is a point.
    A runway is dashed and read on the second axis (history_runway_axis)."""
    traces = []
    for n, s in enumerate(series):
        runway = s.measure == RUNWAY
        trace = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": escape(s.name),
            "x": [d.isoformat() for d in s.dates],
            "y": [None if v is None else round(v, 2) for v in s.values],
            "connectgaps": False,
            "line": {"color": SERIES_COLOURS[n % len(SERIES_COLOURS)], "width": line},
            "marker": {"size": marker},
        }
        if runway:
            trace["yaxis"] = "y2"
            trace["line"]["dash"] = "dash"
        traces.append(trace)
    return traces


def history_runway_axis(series: Sequence[HistorySeries], font: float) -> dict | None:
    """The runway's own axis, on the right, in years from 0 (None without a runway line).
    Its ticks carry the unit ("2 y") and the legend names the line: a rotated title there
    collides with the ticks in print."""
    values = [v for s in series if s.measure == RUNWAY for v in s.values if v is not None]
    if not any(s.measure == RUNWAY for s in series):
        return None
    top = math.ceil(max([1.0, *values]) * 1.05)
    return {
        "overlaying": "y",
        "side": "right",
        # Whole years, so the ticks read 0 y, 1 y, 2 y… rather than 1.112 y.
        "range": [0, top],
        "dtick": max(1, math.ceil(top / 5)),
        "tickformat": "~g",
        # Room for its ticks and title on the right, in print as on screen.
        "automargin": True,
        "showgrid": False,
        "zeroline": False,
        "ticksuffix": " y",
        "tickfont": {"size": font},
        "fixedrange": True,
    }


def date_axis(series: Sequence[HistorySeries]) -> dict:
    """A date axis in days: a history shorter than a month is widened to one, so plotly never
    falls back to hours and milliseconds."""
    dates = sorted(d for s in series for d in s.dates)
    axis: dict = {"type": "date", "tickformat": "%-d %b %Y", "showline": True}
    axis["linecolor"] = "#9aa3b0"
    if dates and (dates[-1] - dates[0]).days < 30:
        middle = dates[0] + (dates[-1] - dates[0]) / 2
        axis["range"] = [
            (middle - timedelta(days=15)).isoformat(),
            (middle + timedelta(days=15)).isoformat(),
        ]
        axis["dtick"] = 7 * 86_400_000  # a tick a week
    return axis


def history_marks(marks: Sequence[tuple[date, str]], font: float) -> tuple[list[dict], list[dict]]:
    """Where the rubric changed along a history: a dotted line at the date, labelled."""
    shapes, notes = [], []
    for day, label in marks:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day.isoformat(),
                "x1": day.isoformat(),
                "y0": 0,
                "y1": 1,
                "line": {"color": MUTED, "width": 1, "dash": "dot"},
            }
        )
        notes.append(
            {
                "text": escape(label),
                "xref": "x",
                "yref": "paper",
                "x": day.isoformat(),
                "y": 1,
                "xanchor": "left",
                "yanchor": "top",
                "xshift": 3,
                "showarrow": False,
                "font": {"size": font, "color": MUTED},
            }
        )
    return shapes, notes
