"""Label placement for the map's charts: no two labels overlap and none covers a bubble.

Plotly does not place scatter labels, so both figure builders (the interactive map
in charts.py and the memo exports in memo.py) ask this pure module where each
company's name goes. Placement happens in pixel space (the figure's
size is known for every preset), greedily: the largest bubbles first, each label
at the first candidate position (nearest first) whose box hits no placed label,
no bubble, no fixed obstacle (a quadrant label) and stays inside the plot area.
A label that had to leave its bubble's side gets a leader line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, islice

# Average advance of a glyph of Liberation Sans (Arial's metrics) as a share of the
# font size is ≈ 0.5 for names like "Company 12"; a margin on top keeps estimates safe.
CHAR_WIDTH = 0.58
PADDING = 2.0  # pixels kept clear around every label box
GAP = 2.0  # pixels between a bubble's edge and its label
# Positions tried per label before it is left out: in a crowded chart a label that
# fits nowhere near its bubble would otherwise search the whole plot, slowly.
MAX_CANDIDATES = 1500


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels (y grows downwards, as on screen)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)

    def intersects(self, other: Box) -> bool:
        return not (
            self.right <= other.left
            or other.right <= self.left
            or self.bottom <= other.top
            or other.bottom <= self.top
        )

    def covers_circle(self, cx: float, cy: float, r: float) -> bool:
        """True if the box and the disc of radius r around (cx, cy) share any area."""
        nearest_x = min(max(cx, self.left), self.right)
        nearest_y = min(max(cy, self.top), self.bottom)
        return (cx - nearest_x) ** 2 + (cy - nearest_y) ** 2 < r * r

    def inside(self, area: Box) -> bool:
        return (
            self.left >= area.left
            and self.right <= area.right
            and self.top >= area.top
            and self.bottom <= area.bottom
        )


@dataclass(frozen=True)
class Frame:
    """The plot area of a figure in pixels and the data ranges it shows."""

    width: float
    height: float
    margin_left: float
    margin_right: float
    margin_top: float
    margin_bottom: float
    x_range: tuple[float, float] = (0.0, 100.0)
    y_range: tuple[float, float] = (0.0, 100.0)

    @property
    def plot(self) -> Box:
        return Box(
            self.margin_left,
            self.margin_top,
            self.width - self.margin_right,
            self.height - self.margin_bottom,
        )

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        plot = self.plot
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        px = plot.left + (x - x0) / (x1 - x0) * (plot.right - plot.left)
        py = plot.bottom - (y - y0) / (y1 - y0) * (plot.bottom - plot.top)
        return px, py

    def to_data(self, px: float, py: float) -> tuple[float, float]:
        plot = self.plot
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        x = x0 + (px - plot.left) / (plot.right - plot.left) * (x1 - x0)
        y = y0 + (plot.bottom - py) / (plot.bottom - plot.top) * (y1 - y0)
        return x, y


@dataclass(frozen=True)
class Bubble:
    """A bubble to label: its centre and radius in pixels, and its label's text."""

    cx: float
    cy: float
    radius: float
    text: str


@dataclass(frozen=True)
class Placement:
    """Where a bubble's label went; ``moved`` means it needs a leader line."""

    bubble: Bubble
    box: Box
    moved: bool
    # False when no free spot existed within reach: the chart then leaves the label out.
    clear: bool = True


def text_size(text: str, font_size: float) -> tuple[float, float]:
    """Estimated (width, height) in pixels of one line of text."""
    return len(text) * font_size * CHAR_WIDTH + 2 * PADDING, font_size * 1.25 + 2 * PADDING


def anchored_box(
    frame: Frame, text: str, x: float, y: float, xanchor: str, yanchor: str, font_size: float
) -> Box:
    """The pixel box of a text anchored at data point (x, y), as plotly anchors annotations."""
    w, h = text_size(text, font_size)
    px, py = frame.to_px(x, y)
    left = px - w if xanchor == "right" else px
    top = py if yanchor == "top" else py - h
    return Box(left, top, left + w, top + h)


def line_boxes(
    start: tuple[float, float], end: tuple[float, float], step: float = 10.0, half: float = 2.0
) -> list[Box]:
    """Small boxes along a line in pixels: obstacles that keep labels off a drawn line."""
    (x0, y0), (x1, y1) = start, end
    steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
    points = ((x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps + 1))
    return [Box(x - half, y - half, x + half, y + half) for x, y in points]


def _box_at(cx: float, cy: float, w: float, h: float) -> Box:
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _beside(b: Bubble, w: float, h: float) -> list[Box]:
    """The eight positions touching the bubble: right, left, above, below, then corners."""
    d = b.radius + GAP
    right = Box(b.cx + d, b.cy - h / 2, b.cx + d + w, b.cy + h / 2)
    left = Box(b.cx - d - w, b.cy - h / 2, b.cx - d, b.cy + h / 2)
    above = Box(b.cx - w / 2, b.cy - d - h, b.cx + w / 2, b.cy - d)
    below = Box(b.cx - w / 2, b.cy + d, b.cx + w / 2, b.cy + d + h)
    diag = d / math.sqrt(2)
    corners = [
        Box(b.cx + diag, b.cy - diag - h, b.cx + diag + w, b.cy - diag),
        Box(b.cx - diag - w, b.cy - diag - h, b.cx - diag, b.cy - diag),
        Box(b.cx + diag, b.cy + diag, b.cx + diag + w, b.cy + diag + h),
        Box(b.cx - diag - w, b.cy + diag, b.cx - diag, b.cy + diag + h),
    ]
    return [right, left, above, below, *corners]


def _further(b: Bubble, w: float, h: float, reach: float, step: float) -> Iterator[Box]:
    """Positions on rings of growing radius around the bubble, out to ``reach``.

    A generator: most labels fit on the first rings, so the rest are never built.
    """
    ring = b.radius + GAP + max(w, h) / 2 + step
    while ring < reach:
        count = max(16, int(2 * math.pi * ring / step))
        for k in range(count):
            angle = 2 * math.pi * k / count
            cx, cy = b.cx + ring * math.cos(angle), b.cy - ring * math.sin(angle)
            yield _box_at(cx, cy, w, h)
        ring += step


def _covers(bubble: Bubble, box: Box) -> bool:
    return box.covers_circle(bubble.cx, bubble.cy, bubble.radius)


def place_labels(
    bubbles: Sequence[Bubble],
    frame: Frame,
    font_size: float,
    obstacles: Sequence[Box] = (),
) -> list[Placement]:
    """A box for every bubble's label, in the order of ``bubbles``.

    Each label is checked only against the bubbles and labels near it (within its
    search reach), and the search stops at a reach beyond which a leader line would
    no longer read as pointing at its bubble. A label with no free spot in reach is
    reported with ``clear=False`` so the chart leaves it out rather than overprint.
    """
    plot = frame.plot
    placed: list[Box] = list(obstacles)
    result: dict[int, Placement] = {}
    # Big bubbles first: they have the least room around them.
    order = sorted(range(len(bubbles)), key=lambda i: (-bubbles[i].radius, i))
    step = font_size
    reach = 0.6 * max(plot.right - plot.left, plot.bottom - plot.top)
    for i in order:
        bubble = bubbles[i]
        w, h = text_size(bubble.text, font_size)
        # Everything a candidate box could touch lies within reach + the box's size.
        span = reach + w + h
        area = Box(bubble.cx - span, bubble.cy - span, bubble.cx + span, bubble.cy + span)
        near_boxes = [other for other in placed if other.intersects(area)]
        near_bubbles = [o for o in bubbles if area.covers_circle(o.cx, o.cy, o.radius)]
        # Neighbouring candidates are mostly blocked by the same thing: try it first.
        blockers: list = [box.intersects for box in near_boxes]
        blockers += [partial(_covers, o) for o in near_bubbles]
        last = 0
        chosen: Box | None = None
        moved = False
        candidates = islice(
            chain(_beside(bubble, w, h), _further(bubble, w, h, reach, step)), MAX_CANDIDATES
        )
        for n, box in enumerate(candidates):
            if not box.inside(plot):
                continue
            if blockers and blockers[last](box):
                continue
            hit = next((k for k, blocks in enumerate(blockers) if blocks(box)), None)
            if hit is None:
                chosen, moved = box, n >= 8
                break
            last = hit
        if chosen is None:
            result[i] = Placement(bubble, _beside(bubble, w, h)[0], True, clear=False)
            continue
        placed.append(chosen)
        result[i] = Placement(bubble, chosen, moved)
    return [result[i] for i in range(len(bubbles))]


def leader_end(placement: Placement) -> tuple[float, float]:
    """The point of the label box nearest the bubble, where a leader line starts."""
    b, box = placement.bubble, placement.box
    return min(max(b.cx, box.left), box.right), min(max(b.cy, box.top), box.bottom)
