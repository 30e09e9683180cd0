"""The print figures: the map, waterfalls and histories for memos, slides and IC packs.

Built from charts/base, as the screen's charts are; what is print's own is fonts,
sizes, titles and footnotes. Partners paste these into investment memos and IC
decks untouched, so every figure carries its own title, subtitle, axis titles in
words, legend and a footnote saying what it shows. Pure: no Django.

Figures are laid out in points (1 px = 1/72 in): a preset's width in inches x 72
is the figure's width in px, so font sizes are point sizes on paper, and
exports/render.py scales to 300 dpi for PNG and to the page size for PDF.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import scoring
from . import base, labels

PX_PER_INCH = 72
# Fonts installed with Debian's fonts-liberation and fonts-dejavu-core (Chromium pulls them in).
FONT_FAMILY = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
GRID = "#e3e3e3"
METHOD = (
    "Method: each axis is 100·logistic of the sum of decayed, weighted evidence; "
    "the boundary is x + k·y = B(t), rising every year."
)
LABEL_CHARS = 26
# Per task, "company · task": room for the company and the task's first words.
TASK_LABEL_CHARS = 40
WATERFALL_LABEL_CHARS = 40  # "factor · observed date" whole
# Plotly's line spacing in multi-line text, as a share of the font size.
LINE_HEIGHT = 1.35
FOOT_GAP = 10  # px below the footnote
# The least share of a page preset's height the map's plot keeps: a long legend or numbered
# key makes a memo or square figure taller instead of squeezing the plot to a strip (a
# slide's picture has a fixed box on its slide, so it keeps its size).
MIN_PLOT_SHARE = 0.55
# A legend row's height, as a share of its font size (symbols included).
LEGEND_ROW = 2.7


@dataclass(frozen=True)
class Preset:
    """A print size: inches, the body font and the smallest text (labels, legend, footnote)."""

    name: str
    width_in: float
    height_in: float
    font_size: float
    small_size: float

    @property
    def width(self) -> float:
        return self.width_in * PX_PER_INCH

    @property
    def height(self) -> float:
        return self.height_in * PX_PER_INCH


# The smallest text: 7 pt on a memo page, 12 pt on a projected slide.
PRESETS: Mapping[str, Preset] = {
    "memo": Preset("memo", 6.5, 4.5, 8, 7),
    "slide": Preset("slide", 13.33, 7.5, 14, 12),
    "square": Preset("square", 6, 6, 8.5, 7),
}
# The slide's body between its title and footnote text boxes (exports/render.slide_pptx):
# the picture is drawn at this size, so its text keeps the slide's point sizes.
SLIDE_BODY = Preset("slide", 12.33, 5.35, 14, 12)


def preset_of(preset: str | Preset) -> Preset:
    return preset if isinstance(preset, Preset) else PRESETS[preset]


@dataclass(frozen=True)
class ChartText:
    """What a chart says about itself: title, subtitle (fund, filters) and footnote."""

    title: str
    subtitle: str = ""
    footnote: str = ""


# The print figures take the same pieces as the screen's.
Contribution = base.Contribution
HistorySeries = base.HistorySeries


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
        f"As of {as_of:%-d %b %Y} · {companies} compan{'y' if companies == 1 else 'ies'} · "
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
        "font": {"family": FONT_FAMILY, "size": font, "color": base.INK},
        "showlegend": True,
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": preset.small_size},
            # Each line keeps its own width and dash in the legend (a short line, not a bar);
            # the bubbles' colours are shown by swatches of one size (swatch).
            "itemsizing": "trace",
            # In the order given: grouped order would put every entry on a row of its own.
            "traceorder": "normal",
            "itemwidth": 30,
            "bgcolor": "rgba(0,0,0,0)",
        },
    }
    if with_text:
        layout["title"] = {
            "text": f"<b>{base.escape(text.title)}</b>",
            "x": 8 / preset.width,
            "xanchor": "left",
            "xref": "container",
            "y": 1 - 6 / preset.height,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": font * 1.4},
            "subtitle": {
                "text": base.escape(text.subtitle),
                "font": {"size": font, "color": base.MUTED},
            },
        }
    return layout


def legend_entry_width(names: Sequence[str], preset: Preset) -> float:
    """One width for every legend entry's text (plotly's entrywidth): the widest one's."""
    return max((len(name) * preset.small_size * labels.CHAR_WIDTH for name in names), default=0)


# Plotly adds the symbol (itemwidth 30) and gaps to each entry's text width.
LEGEND_ENTRY_EXTRA = 45


def legend_rows(names: Sequence[str], preset: Preset, plot_width: float) -> int:
    """How many rows a horizontal legend with these entries takes under the plot."""
    if not names:
        return 0
    slot = legend_entry_width(names, preset) + LEGEND_ENTRY_EXTRA
    per_row = max(1, int(plot_width // slot))
    return -(-len(names) // per_row)


def _margins(
    preset: Preset, with_text: bool, footnote_lines: int, legend: int = 0, right: float = 1.5
) -> dict:
    font = preset.font_size
    top = font * 5.8 if with_text else font * 1.2
    # ticks + axis title, then the legend's rows, then the footnote
    bottom = font * 3.6 + legend * preset.small_size * LEGEND_ROW
    if with_text:
        bottom += footnote_lines * preset.small_size * LINE_HEIGHT + font * 0.8 + FOOT_GAP
    return {"l": font * 6.8, "r": font * right, "t": top, "b": bottom}


def _footnote(preset: Preset, margins: dict, lines: list[str]) -> dict:
    """The footnote as an annotation dict, at the foot of the figure, left-aligned."""
    plot_w = preset.width - margins["l"] - margins["r"]
    plot_h = preset.height - margins["t"] - margins["b"]
    small = preset.small_size
    # From the figure's top; the PDF's page is a hair shorter than the figure.
    top_px = preset.height - FOOT_GAP - len(lines) * small * LINE_HEIGHT
    return {
        "text": "<br>".join(base.escape(line) for line in lines),
        "xref": "paper",
        "yref": "paper",
        "x": -(margins["l"] - 8) / plot_w,
        "y": (preset.height - margins["b"] - top_px) / plot_h,
        "xanchor": "left",
        "yanchor": "top",
        "align": "left",
        "showarrow": False,
        "font": {"size": small, "color": base.MUTED},
    }


def _footnote_lines(preset: Preset, text: str, with_text: bool) -> list[str]:
    return _wrap(text, preset.width - 16, preset.small_size) if with_text else []


def _legend_y(margins: dict, preset: Preset) -> float:
    plot_h = preset.height - margins["t"] - margins["b"]
    return -(preset.font_size * 3.4) / plot_h


def swatch(name: str, colour: str, size: float) -> dict:
    """A legend entry for a group of bubbles, one size whatever its bubbles' sizes: a marker
    outside the axes (never drawn in the plot). On screen, the bubbles' own legend does this
    (base.bubble_legend); plotly's constant swatch is too large for a memo page."""
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [-1000],
        "y": [-1000],
        "name": base.escape(name),
        "marker": {"size": size, "color": colour},
        "hoverinfo": "skip",
        "cliponaxis": True,
    }


def memo_map(
    points: Sequence[base.PlotPoint],
    *,
    rubric: scoring.Rubric,
    as_of: date,
    text: ChartText,
    preset: str | Preset = "memo",
    with_text: bool = True,
    since: date | None = None,
    size_reference: float | None = None,
    size_title: str = "Check size",
    label_chars: int = LABEL_CHARS,
) -> dict:
    """The portfolio map as a print chart: a figure dict that Kaleido renders as it is.

    A plain dict, not go.Figure: plotly.py validates every property it is given, and
    for a map of 40 bubbles that validation alone took longer than Kaleido's render.
    Unscored points are never drawn in a quadrant: the caller mentions them in the
    footnote. Paper has no hover: a bubble whose name the placer found no unmistakable
    spot for is numbered, and the footnote's key names every number (``layout.meta``
    holds the numbers and names, and the names left off).
    """
    p = preset_of(preset)
    font, small = p.font_size, p.small_size
    drawn = [pt for pt in points if pt.quadrant != scoring.UNSCORED]
    groups = base.legend_groups(drawn, rubric)
    # Coloured by quadrant, the shaded and named quadrants are the key: no legend entries.
    by_quadrant = all(pt.group in base.QUADRANT_COLOURS for pt in drawn)
    data = base.boundary_traces(as_of, rubric, width=1.3)
    trails = [pt for pt in drawn if pt.before is not None and pt.before != (pt.x, pt.y)]
    start_size = small * 0.9
    if trails:
        data.append(base.trail_start_trace(trails, since, start_size))
    legend = [t["name"] for t in data] + ([] if by_quadrant else [g[0] for g in groups])
    small_d, large_d = font * 0.8, font * 2.6
    diameters = base.bubble_diameters([pt.size for pt in drawn], size_reference, small_d, large_d)

    page = p

    def layout_for(note_lines: int) -> tuple[dict, dict, labels.Frame]:
        nonlocal p
        plot_width = page.width - font * (6.8 + 6)  # _margins' left and right
        margins = _margins(page, with_text, note_lines, legend_rows(legend, page, plot_width), 6)
        around = margins["t"] + margins["b"]
        p = page
        if page.name != "slide" and page.height - around < MIN_PLOT_SHARE * page.height:
            p = replace(page, height_in=(around + MIN_PLOT_SHARE * page.height) / PX_PER_INCH)
        frame = labels.Frame(
            p.width, p.height, margins["l"], margins["r"], margins["t"], margins["b"]
        )
        return margins, _base_layout(p, text, margins, with_text), frame

    # The footnote's length depends on the labels left off, and the frame on the footnote:
    # place with the footnote as it is, then again while the "also plotted" line grows it.
    note_text, line_count = text.footnote, 0
    for _ in range(3):
        line_count = max(line_count, len(_footnote_lines(p, note_text, with_text)))
        margins, layout, frame = layout_for(line_count)
        quadrant_notes, obstacles = base.quadrant_names(rubric, frame, font)
        placed = base.map_labels(
            drawn,
            diameters,
            frame,
            small,
            limit=label_chars,
            obstacles=obstacles,
            start_marker=start_size if trails else 0,
            number_left_off=True,
        )
        extra = base.number_key(placed.numbered)
        note_text = " ".join(part for part in (text.footnote, extra) if part)
        if len(_footnote_lines(p, note_text, with_text)) <= line_count or not with_text:
            break
    layout["xaxis"] = base.axis(base.X_TITLE, font)
    # The axis title in words while the plot is tall enough to hold it; a long footnote or
    # legend can shrink the plot below that, and the title would then run into the subtitle.
    plot_h = p.height - margins["t"] - margins["b"]
    words = len(base.Y_TITLE.split(" (")[1]) * font * labels.CHAR_WIDTH
    y_title = base.Y_TITLE.replace(" (", "<br>(") if words < plot_h else base.Y_TITLE.split(" (")[0]
    layout["yaxis"] = base.axis(y_title, font)
    layout["legend"]["y"] = _legend_y(margins, p)
    layout["legend"] |= {"entrywidth": legend_entry_width(legend, p), "entrywidthmode": "pixels"}

    for name, colour, idx in groups:
        data.append(
            {
                "type": "scatter",
                "x": [drawn[i].x for i in idx],
                "y": [drawn[i].y for i in idx],
                "mode": "markers",
                "name": base.escape(name),
                "showlegend": False,
                "text": [base.escape(drawn[i].label) for i in idx],
                "hoverinfo": "text",
                "cliponaxis": False,
                "marker": {
                    "size": [diameters[i] for i in idx],
                    "color": colour,
                    "opacity": [base.opacity(drawn[i].confidence) for i in idx],
                    "line": {"color": "white", "width": 0.8},
                },
            }
        )

    if not by_quadrant:
        data += [swatch(name, colour, small * 0.9) for name, colour, _ in groups]
    notes = list(quadrant_notes)
    # Trails: from the hollow start marker to an arrowhead at the bubble's edge.
    notes += [
        base.trail_arrow(pt.before, (pt.x, pt.y), d, scale=0.7)
        for pt, d in zip(drawn, diameters, strict=True)
        if pt in trails
    ]
    notes += placed.annotations
    key_shapes, key_notes = base.size_key(
        size_reference or max((pt.size or 0 for pt in drawn), default=0),
        small=small_d,
        large=large_d,
        title=size_title,
        x=1 + 6 / (p.width - margins["l"] - margins["r"]),
        y=1 - font * 0.2 / plot_h,
        font=small,
    )
    notes += key_notes
    if with_text:
        notes.append(_footnote(p, margins, _footnote_lines(p, note_text, with_text)))
    layout["annotations"] = notes
    layout["shapes"] = base.quadrant_shapes() + key_shapes
    layout["meta"] = {"also_plotted": placed.left_off, "numbered": placed.numbered}
    return {"data": data, "layout": layout}


def waterfall_range(
    steps: Sequence[base.Step], panel_px: float, text_px: float, least: float = 16.0
) -> tuple[list[float], list[float]]:
    """The score axis of one panel and its ticks: the bars' whole path from 50, at least
    ``least`` points wide (a one-note panel's bar is then long enough to read), with
    ``text_px`` to spare beyond both ends for the values written beside the bars
    (``panel_px`` is the panel's width). The spare room may reach past 0 or 100, where a
    value beside a bar needs it; the ticks never do."""
    path, level = [50.0], 50.0
    for step in steps:
        level += step.points
        path.append(level)
    low, high = min(path), max(path)
    widen = max(0.0, least - (high - low)) / 2
    low, high = max(0.0, low - widen), min(100.0, high + widen)
    share = min(0.35, text_px / max(panel_px, 1.0))
    pad = (high - low) * share / (1 - 2 * share)
    span = high - low
    # Three or four ticks: a memo's panel is about an inch and a half wide.
    every = 5 if span <= 15 else 10 if span <= 30 else 20 if span <= 60 else 25
    ticks = [float(t) for t in range(0, 101, every) if low - 1e-9 <= t <= high + 1e-9]
    return [low - pad, high + pad], ticks


def empty_axis_line(axis: str) -> str:
    """Said in place of a panel with no note."""
    return "No evidence counted on this axis,<br>so it stays at 50 (no bars to draw)."


def waterfall_figure(
    contributions: Iterable[base.Contribution],
    *,
    rubric: scoring.Rubric,
    text: ChartText,
    preset: str | Preset = "memo",
    with_text: bool = True,
    max_bars: int = 8,
) -> go.Figure:
    """A task's scores explained: from 50 to the final score on each axis, note by note,
    each bar labelled with its value. An axis with no note has no chart: its place says
    why (``layout.meta.empty_axes`` names it), never a blank frame."""
    p = preset_of(preset)
    font = p.font_size
    steps = base.waterfall_steps(contributions, rubric)
    shown = {axis: base.lump(s, max_bars) for axis, s in steps.items()}
    empty = [axis for axis in scoring.AXES if not shown[axis]]
    note_lines = _footnote_lines(p, text.footnote, with_text)
    margins = _margins(p, with_text, len(note_lines))
    # Room on the left of each panel for its bar labels.
    longest = max(
        [
            len(base.shorten(s.contribution.label, WATERFALL_LABEL_CHARS))
            for a in shown.values()
            for s in a
        ]
        + [16]
    )
    label_px = min(longest * p.small_size * labels.CHAR_WIDTH + 8, p.width * 0.25)
    margins = {**margins, "l": label_px}
    plot_w = p.width - margins["l"] - margins["r"]
    spacing = min(0.45, (label_px + font * 2) / plot_w)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=tuple(base.AXIS_TITLES[a] for a in scoring.AXES),
        horizontal_spacing=spacing,
    )
    fig.update_layout(**{**_base_layout(p, text, margins, with_text), "showlegend": False})
    fig.update_layout(meta={"empty_axes": empty})
    fig.update_annotations(font_size=font)  # the panels' titles
    panel_px = plot_w * (1 - spacing) / 2
    for col, axis in enumerate(scoring.AXES, start=1):
        if axis in empty:
            fig.update_xaxes(visible=False, row=1, col=col)
            fig.update_yaxes(visible=False, row=1, col=col)
            fig.add_annotation(
                text=empty_axis_line(axis),
                xref="paper",
                yref="paper",
                x=sum(fig.layout[f"xaxis{'' if col == 1 else col}"].domain) / 2,
                y=0.6,
                showarrow=False,
                font={"size": p.small_size, "color": base.MUTED},
            )
            continue
        trace = base.waterfall_trace(
            shown[axis], base.AXIS_TITLES[axis].split(" (")[0], label_chars=WATERFALL_LABEL_CHARS
        )
        trace["hoverinfo"] = "skip"
        trace["textfont"] = {"size": p.small_size, "color": base.INK}
        fig.add_trace(trace, row=1, col=col)
        text_px = max(len(v) for v in trace["text"]) * p.small_size * labels.CHAR_WIDTH + 8
        score_range, ticks = waterfall_range(shown[axis], panel_px, text_px)
        fig.update_xaxes(
            range=score_range,
            tickvals=ticks,
            gridcolor=GRID,
            showline=True,
            linecolor="#999999",
            title={"text": "Score in points (each note from 50)", "font": {"size": p.small_size}},
            tickfont_size=p.small_size,
            row=1,
            col=col,
        )
        fig.update_yaxes(
            autorange="reversed", automargin=False, tickfont_size=p.small_size, row=1, col=col
        )
    if with_text:
        fig.add_annotation(**_footnote(p, margins, note_lines))
    return fig


def history_figure(
    series: Sequence[base.HistorySeries],
    *,
    text: ChartText,
    preset: str | Preset = "memo",
    with_text: bool = True,
    y_title: str = "Score (0–100)",
    marks: Sequence[tuple[date, str]] = (),
) -> go.Figure:
    """A score history: one line per series (e.g. frontier x and proprietary y); a dotted
    line where the rubric version changed."""
    p = preset_of(preset)
    font = p.font_size
    note_lines = _footnote_lines(p, text.footnote, with_text)
    names = [s.name for s in series]
    margins = _margins(p, with_text, len(note_lines), legend_rows(names, p, p.width * 0.8))
    fig = go.Figure()
    fig.update_layout(**_base_layout(p, text, margins, with_text))
    fig.update_layout(legend_y=_legend_y(margins, p))
    for trace in base.history_traces(series, line=1.6, marker=font * 0.6):
        fig.add_trace(trace)
    fig.add_hline(y=50, line={"color": "#999999", "width": 0.8, "dash": "dot"})
    shapes, notes = base.history_marks(marks, p.small_size)
    for shape in shapes:
        fig.add_shape(shape)
    for note in notes:
        fig.add_annotation(note)
    score_axis = base.axis(y_title, font)
    score_axis |= {"mirror": False, "showgrid": True, "gridcolor": GRID}
    fig.update_yaxes(**score_axis)
    runway_axis = base.history_runway_axis(series, font)
    if runway_axis:
        # The runway's ticks ("2 y") sit right of the plot: room for them inside the page.
        fig.update_layout(yaxis2=runway_axis, margin_r=(fig.layout.margin.r or 0) + font * 3)
    fig.update_xaxes(**base.date_axis(series), gridcolor=GRID, ticks="outside")
    if with_text:
        fig.add_annotation(**_footnote(p, margins, note_lines))
    return fig
