"""Memo-style Plotly figures: plain data in, a finished chart out.

Partners paste these into investment memos and IC decks untouched, so every
figure carries its own title, subtitle, axis titles in words, legend and a
footnote saying what it shows. Pure: no Django; the views and jobs turn database
rows into the dataclasses below.

Figures are laid out in points (1 px = 1/72 in): a preset's width in inches x 72
is the figure's width in px, so font sizes are point sizes on paper, and
rendering.py scales to 300 dpi for PNG and to the page size for PDF.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import scoring
from . import labels
from . import screen as screen_charts

PX_PER_INCH = 72
# Fonts installed with Debian's fonts-liberation and fonts-dejavu-core (Chromium pulls them in).
FONT_FAMILY = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
INK = "#222222"
MUTED = "#555555"
GRID = "#e3e3e3"

# Okabe & Ito's palette: distinguishable under every common colour-vision deficiency.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",
)
QUADRANT_COLOURS: Mapping[str, str] = {
    scoring.UNTRAINABLE: "#009E73",
    scoring.LAB_TERRITORY: "#D55E00",
    scoring.COMMODITY_TOKENS: "#E69F00",
    scoring.SPECIALIST_MODELS: "#0072B2",
    scoring.UNSCORED: "#999999",
}
UP_COLOUR, DOWN_COLOUR, TOTAL_COLOUR = "#0072B2", "#D55E00", "#777777"

X_TITLE = "Frontier → (harder to score from outside)"
Y_TITLE = "Proprietary ↑ (correctness lives inside the customer)"
METHOD = (
    "Method: each axis is 100·logistic of the sum of decayed, weighted evidence; "
    "the boundary is x + k·y = B(t), rising every year."
)
BOUNDARY_DASHES = ("solid", "dash", "dot")


@dataclass(frozen=True)
class Preset:
    name: str
    width_in: float
    height_in: float
    font_size: float

    @property
    def width(self) -> float:
        return self.width_in * PX_PER_INCH

    @property
    def height(self) -> float:
        return self.height_in * PX_PER_INCH


PRESETS: Mapping[str, Preset] = {
    "memo": Preset("memo", 6.5, 4.5, 7.5),
    "slide": Preset("slide", 13.33, 7.5, 12),
    "square": Preset("square", 6, 6, 8),
}


@dataclass(frozen=True)
class ChartText:
    """What a chart says about itself: title, subtitle (fund, filters) and footnote."""

    title: str
    subtitle: str = ""
    footnote: str = ""


@dataclass(frozen=True)
class MapPoint:
    """One bubble of the portfolio map."""

    label: str
    x: float
    y: float
    size_value: float | None
    quadrant: str
    colour_key: str
    confidence: float
    trail_from: tuple[float, float] | None = None


@dataclass(frozen=True)
class Contribution:
    """One evidence note's signed raw contribution to one axis of a task."""

    label: str
    axis: str
    raw: float


@dataclass(frozen=True)
class HistorySeries:
    name: str
    dates: Sequence[date]
    values: Sequence[float]


def footnote(
    *,
    as_of: date,
    companies: int,
    evidence: int,
    rubric_version: str,
    extra: str = "",
    method: str = METHOD,
) -> str:
    """The footnote every export carries: as-of date, counts, rubric version, method."""
    facts = (
        f"As of {as_of:%d %b %Y} · {companies} compan{'y' if companies == 1 else 'ies'} · "
        f"{evidence} evidence note{'' if evidence == 1 else 's'} · {rubric_version}"
    )
    return " ".join(part for part in (facts + ".", extra, method) if part)


def _wrap(text: str, width_px: float, font_size: float) -> list[str]:
    chars = max(20, int(width_px / (font_size * labels.CHAR_WIDTH)))
    return textwrap.wrap(text, chars) or [""]


def _base_layout(preset: Preset, text: ChartText, margins: dict, with_text: bool) -> dict:
    font = preset.font_size
    layout = {
        "width": preset.width,
        "height": preset.height,
        "margin": {**margins, "pad": 0, "autoexpand": False},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": FONT_FAMILY, "size": font, "color": INK},
        "showlegend": True,
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": font * 0.95},
            "itemsizing": "constant",
            "bgcolor": "rgba(0,0,0,0)",
        },
    }
    if with_text:
        layout["title"] = {
            "text": f"<b>{_t(text.title)}</b>",
            "x": 8 / preset.width,
            "xanchor": "left",
            "xref": "container",
            "y": 1 - 6 / preset.height,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": font * 1.45},
            "subtitle": {"text": _t(text.subtitle), "font": {"size": font, "color": MUTED}},
        }
    return layout


def _t(value: str) -> str:
    """Fund text for plotly, which reads a small HTML subset (<a>, <b>, <br>) in every
    label: escaped, a name is drawn exactly as typed and never becomes a link or markup."""
    return html.escape(str(value), quote=False)


def legend_rows(names: Sequence[str], preset: Preset) -> int:
    """How many rows a horizontal legend with these entries takes across the figure."""
    font = preset.font_size * 0.95
    rows, used = 1 if names else 0, 0.0
    for name in names:
        # Plotly draws a 40 px symbol, a gap, the text and a trailing gap per entry.
        width = 50 + len(name) * font * 0.58
        if used and used + width > preset.width - 16:
            rows, used = rows + 1, 0.0
        used += width
    return rows


def _margins(preset: Preset, with_text: bool, footnote_lines: int, legend: int = 0) -> dict:
    font = preset.font_size
    top = font * 5.8 if with_text else font * 1.2
    # ticks + axis title, then the legend's rows, then the footnote
    bottom = font * 3.6 + legend * font * 1.9
    if with_text:
        bottom += footnote_lines * font * 1.15 + font * 0.8
    return {"l": font * 6.8, "r": font * 1.5, "t": top, "b": bottom}


def _footnote(preset: Preset, margins: dict, lines: list[str]) -> dict:
    """The footnote as an annotation dict, at the foot of the figure, left-aligned."""
    plot_w = preset.width - margins["l"] - margins["r"]
    plot_h = preset.height - margins["t"] - margins["b"]
    font = preset.font_size
    top_px = preset.height - 4 - len(lines) * font * 1.15  # from the top of the figure
    return {
        "text": "<br>".join(_t(line) for line in lines),
        "xref": "paper",
        "yref": "paper",
        "x": -(margins["l"] - 8) / plot_w,
        "y": (preset.height - margins["b"] - top_px) / plot_h,
        "xanchor": "left",
        "yanchor": "top",
        "align": "left",
        "showarrow": False,
        "font": {"size": font * 0.85, "color": MUTED},
    }


def _add_footnote(fig: go.Figure, preset: Preset, margins: dict, lines: list[str]) -> None:
    fig.add_annotation(**_footnote(preset, margins, lines))


def _legend_y(margins: dict, preset: Preset) -> float:
    plot_h = preset.height - margins["t"] - margins["b"]
    return -(preset.font_size * 3.4) / plot_h


def _axis(title: str, font: float) -> dict:
    return {
        "range": [0, 100],
        "title": {"text": title, "font": {"size": font}, "standoff": font * 0.5},
        "tickvals": [0, 25, 50, 75, 100],
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "showline": True,
        "linecolor": "#999999",
        "mirror": True,
        "ticks": "outside",
        "ticklen": 3,
        "fixedrange": True,
    }


def bubble_diameters(values: Sequence[float | None], preset: Preset) -> list[float]:
    """Marker diameters in px: area proportional to the value (check size or ARR)."""
    small, large = preset.font_size * 0.8, preset.font_size * 2.6
    known = [v for v in values if v]
    top = max(known) if known else 0
    return [small + (large - small) * math.sqrt(v / top) if v and top else small for v in values]


def _boundary_segment(day: date, rubric: scoring.Rubric) -> tuple[list[float], list[float]]:
    """The boundary x + k·y = B(day) clipped to the 0–100 square (empty if outside)."""
    xs, ys = [], []
    level = scoring.boundary_at(day, rubric)
    k = rubric.proprietary_weight
    for x in (0.0, 100.0):
        y = scoring.boundary_y(x, day, rubric)
        if 0 <= y <= 100:
            xs.append(x)
            ys.append(y)
    for y in (0.0, 100.0):
        x = level - k * y
        if 0 < x < 100:
            xs.append(x)
            ys.append(y)
    pairs = sorted(set(zip(xs, ys, strict=True)))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _quadrant_corners(rubric: scoring.Rubric) -> list[tuple[str, float, float, str, str]]:
    return [
        (rubric.label(scoring.UNTRAINABLE), 99, 99, "right", "top"),
        (rubric.label(scoring.LAB_TERRITORY), 99, 1, "right", "bottom"),
        (rubric.label(scoring.COMMODITY_TOKENS), 1, 1, "left", "bottom"),
        (rubric.label(scoring.SPECIALIST_MODELS), 1, 99, "left", "top"),
    ]


def memo_map(
    points: Sequence[MapPoint],
    *,
    rubric: scoring.Rubric,
    as_of: date,
    text: ChartText,
    preset: str = "memo",
    with_text: bool = True,
    colours: Mapping[str, str] | None = None,
) -> dict:
    """The portfolio map as a memo chart: a figure dict that Kaleido renders as it is.

    A plain dict, not go.Figure: plotly.py validates every property it is given, and
    for a map of 40 bubbles that validation alone took longer than Kaleido's render.
    ``colours`` maps a point's colour key to a colour; by default quadrant keys get
    their quadrant colour and any other key (a sector) the Okabe–Ito palette in order.
    Unscored points are never drawn in a quadrant: the caller mentions them in the footnote.
    """
    p = PRESETS[preset]
    font = p.font_size
    drawn = [pt for pt in points if pt.quadrant != scoring.UNSCORED]
    keys = list(dict.fromkeys(pt.colour_key for pt in drawn))
    key_names = {q: rubric.label(q) for q in QUADRANT_COLOURS}
    # Coloured by quadrant, the shaded and named quadrants are the key: no legend entries.
    by_quadrant = all(key in QUADRANT_COLOURS for key in keys)
    boundary_dates = scoring.project_boundary_dates(as_of)
    boundary_names = [
        f"Boundary {day:%b %Y}" if n == 0 else f"Boundary +{n} year{'s' * (n > 1)}"
        for n, day in enumerate(boundary_dates)
    ]
    legend = boundary_names + ([] if by_quadrant else [key_names.get(k, k) for k in keys])
    note_lines = _wrap(text.footnote, p.width - 16, font * 0.85) if with_text else []
    margins = _margins(p, with_text, len(note_lines), legend_rows(legend, p))
    frame = labels.Frame(p.width, p.height, margins["l"], margins["r"], margins["t"], margins["b"])
    layout = _base_layout(p, text, margins, with_text)
    layout["xaxis"] = _axis(X_TITLE, font)
    layout["yaxis"] = _axis(Y_TITLE.replace(" (", "<br>("), font)
    layout["legend"]["y"] = _legend_y(margins, p)

    # Quadrants: light shading and their names in the outer corners.
    shades = {
        scoring.UNTRAINABLE: (50, 100, 50, 100),
        scoring.LAB_TERRITORY: (50, 100, 0, 50),
        scoring.COMMODITY_TOKENS: (0, 50, 0, 50),
        scoring.SPECIALIST_MODELS: (0, 50, 50, 100),
    }
    divider = {"color": "#999999", "width": 0.8}
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
            "opacity": 0.09,
            "line": {"width": 0},
            "layer": "below",
        }
        for quadrant, (x0, x1, y0, y1) in shades.items()
    ]
    shapes.append(
        {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 50, "y1": 50,
         "line": divider}
    )  # fmt: skip
    shapes.append(
        {"type": "line", "xref": "x", "x0": 50, "x1": 50, "yref": "paper", "y0": 0, "y1": 1,
         "line": divider}
    )  # fmt: skip
    notes: list[dict] = []
    obstacles = []
    for label, x, y, xanchor, yanchor in _quadrant_corners(rubric):
        notes.append(
            {
                "text": f"<b>{_t(label)}</b>",
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
        obstacles.append(labels.anchored_box(frame, label, x, y, xanchor, yanchor, font * 1.05))

    # The boundary today and projected: lines in the legend, named by their date.
    data: list[dict] = []
    for n, day in enumerate(boundary_dates):
        xs, ys = _boundary_segment(day, rubric)
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "name": boundary_names[n],
                "line": {"color": INK, "width": 1.2, "dash": BOUNDARY_DASHES[n % 3]},
                "hoverinfo": "skip",
            }
        )

    diameters = bubble_diameters([pt.size_value for pt in drawn], p)
    palette = dict(colours or {})
    spare = iter(c for c in OKABE_ITO if c not in palette.values())
    for key in keys:
        if key not in palette:
            palette[key] = QUADRANT_COLOURS.get(key) or next(spare, "#999999")
    for key in keys:
        idx = [i for i, pt in enumerate(drawn) if pt.colour_key == key]
        data.append(
            {
                "type": "scatter",
                "x": [drawn[i].x for i in idx],
                "y": [drawn[i].y for i in idx],
                "mode": "markers",
                "name": _t(key_names.get(key, key)),
                "showlegend": not by_quadrant,
                "text": [_t(drawn[i].label) for i in idx],
                "hoverinfo": "text",
                "marker": {
                    "size": [diameters[i] for i in idx],
                    "color": palette[key],
                    # Opacity by confidence, never so faint that a bubble disappears.
                    "opacity": [0.35 + 0.6 * drawn[i].confidence for i in idx],
                    "line": {"color": "white", "width": 0.8},
                },
            }
        )

    # Trails: where each point was, an arrow that stops at the bubble's edge.
    for pt, d in zip(drawn, diameters, strict=True):
        if pt.trail_from is None or pt.trail_from == (pt.x, pt.y):
            continue
        notes.append(
            screen_charts.trail_arrow(pt.trail_from, (pt.x, pt.y), d, MUTED, size=0.9, width=0.9)
        )

    bubbles = []
    for pt, d in zip(drawn, diameters, strict=True):
        cx, cy = frame.to_px(pt.x, pt.y)
        bubbles.append(labels.Bubble(cx, cy, d / 2 + 0.8, pt.label))
    for placement in labels.place_labels(bubbles, frame, font * 0.9, obstacles):
        if not placement.clear:
            continue  # no free spot near it: hover and the CSV still name it
        cx, cy = placement.box.center
        lx, ly = frame.to_data(cx, cy)
        if placement.moved:
            ex, ey = labels.leader_end(placement)
            bx, by = placement.bubble.cx, placement.bubble.cy
            dist = math.hypot(ex - bx, ey - by) or 1
            # The leader runs from the bubble's edge to the label's nearest edge.
            sx = bx + (ex - bx) * placement.bubble.radius / dist
            sy = by + (ey - by) * placement.bubble.radius / dist
            (x0, y0), (x1, y1) = frame.to_data(sx, sy), frame.to_data(ex, ey)
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "y",
                    "x0": x0,
                    "y0": y0,
                    "x1": x1,
                    "y1": y1,
                    "line": {"color": "#888888", "width": 0.6},
                }
            )
        notes.append(
            {
                "text": _t(placement.bubble.text),
                "x": lx,
                "y": ly,
                "xref": "x",
                "yref": "y",
                "xanchor": "center",
                "yanchor": "middle",
                "showarrow": False,
                "font": {"size": font * 0.9, "color": INK},
            }
        )
    if with_text:
        notes.append(_footnote(p, margins, note_lines))
    layout["annotations"] = notes
    layout["shapes"] = shapes
    return {"data": data, "layout": layout}


def waterfall_steps(
    contributions: Iterable[Contribution], rubric: scoring.Rubric = scoring.DEFAULT_RUBRIC
) -> dict[str, list[tuple[str, float]]]:
    """Per axis, one step per contribution (largest first) in score points from 50.

    The steps add up exactly to the final score, because each is the change of
    100·logistic(raw sum) when that contribution joins the sum.
    """
    steps: dict[str, list[tuple[str, float]]] = {scoring.X: [], scoring.Y: []}
    by_axis: dict[str, list[Contribution]] = {scoring.X: [], scoring.Y: []}
    for c in contributions:
        by_axis[c.axis].append(c)
    for axis, items in by_axis.items():
        raw, before = 0.0, 50.0
        for c in sorted(items, key=lambda c: -abs(c.raw)):
            raw += c.raw
            after = scoring.axis_score(raw, rubric)
            steps[axis].append((c.label, after - before))
            before = after
    return steps


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _lump(steps: list[tuple[str, float]], max_bars: int) -> list[tuple[str, float]]:
    if len(steps) <= max_bars:
        return steps
    rest = steps[max_bars - 1 :]
    return [*steps[: max_bars - 1], (f"{len(rest)} smaller notes", sum(d for _, d in rest))]


def _add_waterfall(fig: go.Figure, steps, row: int, col: int, name: str, max_bars: int) -> None:
    shown = _lump(steps, max_bars)
    final = 50 + sum(d for _, d in steps)
    fig.add_trace(
        go.Waterfall(
            orientation="h",
            name=name,
            base=50,
            y=[_t(label) for label, _ in shown] + [f"{name}: {final:.0f}"],
            x=[d for _, d in shown] + [0],
            measure=["relative"] * len(shown) + ["total"],
            increasing={"marker": {"color": UP_COLOUR}},
            decreasing={"marker": {"color": DOWN_COLOUR}},
            totals={"marker": {"color": TOTAL_COLOUR}},
            connector={"line": {"color": "#bbbbbb", "width": 0.6}},
            showlegend=False,
        ),
        row=row,
        col=col,
    )


def _waterfall_axes(fig: go.Figure, font: float, cols: int) -> None:
    for col in range(1, cols + 1):
        fig.update_xaxes(
            range=[0, 100],
            gridcolor=GRID,
            showline=True,
            linecolor="#999999",
            title={"text": "Score (0–100, starting from 50)", "font": {"size": font}},
            row=1,
            col=col,
        )
        fig.update_yaxes(autorange="reversed", automargin=False, tickfont_size=font, row=1, col=col)


def waterfall_figure(
    contributions: Iterable[Contribution],
    *,
    rubric: scoring.Rubric,
    text: ChartText,
    preset: str = "memo",
    with_text: bool = True,
    max_bars: int = 8,
) -> go.Figure:
    """A task's scores explained: from 50 to the final score on each axis, note by note."""
    p = PRESETS[preset]
    font = p.font_size
    steps = {
        axis: [(_short(label), delta) for label, delta in axis_steps]
        for axis, axis_steps in waterfall_steps(contributions, rubric).items()
    }
    note_lines = _wrap(text.footnote, p.width - 16, font * 0.85) if with_text else []
    margins = _margins(p, with_text, len(note_lines))
    # Room on the left of each panel for its bar labels.
    longest = max([len(label) for axis in steps.values() for label, _ in axis] + [16])
    label_px = min(longest * font * 0.9 * labels.CHAR_WIDTH + 8, p.width * 0.25)
    margins = {**margins, "l": label_px}
    plot_w = p.width - margins["l"] - margins["r"]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Frontier (x)", "Proprietary (y)"),
        horizontal_spacing=min(0.45, (label_px + font * 2) / plot_w),
    )
    fig.update_layout(**{**_base_layout(p, text, margins, with_text), "showlegend": False})
    _add_waterfall(fig, steps[scoring.X], 1, 1, "Frontier", max_bars)
    _add_waterfall(fig, steps[scoring.Y], 1, 2, "Proprietary", max_bars)
    _waterfall_axes(fig, font * 0.9, 2)
    fig.update_annotations(font_size=font)
    if with_text:
        _add_footnote(fig, p, margins, note_lines)
    return fig


def history_figure(
    series: Sequence[HistorySeries],
    *,
    text: ChartText,
    preset: str = "memo",
    with_text: bool = True,
    y_title: str = "Score (0–100)",
) -> go.Figure:
    """A score history: one line per series (e.g. frontier x and proprietary y)."""
    p = PRESETS[preset]
    font = p.font_size
    note_lines = _wrap(text.footnote, p.width - 16, font * 0.85) if with_text else []
    margins = _margins(p, with_text, len(note_lines))
    fig = go.Figure()
    fig.update_layout(**_base_layout(p, text, margins, with_text))
    fig.update_layout(legend_y=_legend_y(margins, p))
    for n, s in enumerate(series):
        fig.add_scatter(
            x=list(s.dates),
            y=list(s.values),
            mode="lines+markers",
            name=_t(s.name),
            line={"color": OKABE_ITO[n % len(OKABE_ITO)], "width": 1.6},
            marker={"size": font * 0.5},
        )
    fig.add_hline(y=50, line={"color": "#999999", "width": 0.8, "dash": "dot"})
    fig.update_yaxes(**{k: v for k, v in _axis(y_title, font).items() if k != "mirror"})
    fig.update_xaxes(showline=True, linecolor="#999999", gridcolor=GRID, ticks="outside")
    if with_text:
        _add_footnote(fig, p, margins, note_lines)
    return fig


def company_page_figure(
    *,
    name: str,
    facts: Sequence[tuple[str, str]],
    notes: Sequence[str],
    contributions: Iterable[Contribution],
    task_name: str,
    rubric: scoring.Rubric,
    text: ChartText,
    preset: str = "slide",
) -> go.Figure:
    """An IC-pack page: a company's scores, its five most influential notes, and the
    waterfall of its largest task. Text is drawn as annotations so one Kaleido render
    makes the whole page."""
    p = PRESETS[preset]
    font = p.font_size * 0.85
    fig = waterfall_figure(
        contributions,
        rubric=rubric,
        text=ChartText(name, text.subtitle, text.footnote),
        preset=preset,
        max_bars=6,
    )
    # The waterfalls take the lower half; the facts and notes the upper half.
    fig.update_yaxes(domain=[0, 0.42])
    fig.update_annotations(selector={"text": "Frontier (x)"}, y=0.44, yanchor="bottom")
    fig.update_annotations(selector={"text": "Proprietary (y)"}, y=0.44, yanchor="bottom")
    fact_text = "   ·   ".join(f"<b>{_t(k)}</b> {_t(v)}" for k, v in facts)
    wrap_px = p.width * 0.9
    lines = [
        fact_text,
        "",
        f"<b>Largest task:</b> {_t(task_name)}",
        "<b>Most influential evidence</b>",
    ]
    for note in notes:
        wrapped = _wrap(note, wrap_px, font)
        lines.append("• " + _t(wrapped[0]) + (" …" if len(wrapped) > 1 else ""))
    fig.add_annotation(
        text="<br>".join(lines),
        xref="paper",
        yref="paper",
        x=-(fig.layout.margin.l - 8) / (p.width - fig.layout.margin.l - fig.layout.margin.r),
        y=1.0,
        xanchor="left",
        yanchor="top",
        align="left",
        showarrow=False,
        font={"size": font, "color": INK},
    )
    return fig
