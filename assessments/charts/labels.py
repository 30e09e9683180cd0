"""Label placement for the map's charts: labels a reader cannot attach to the wrong bubble.

Plotly does not place scatter labels, so every map (the interactive one in screen.py
and each print preset in memo.py, through base.map_labels) asks this pure module
where each name goes. Placement happens in pixel space (the figure's size is known
for every preset), greedily: the largest bubbles first, each label at the first
candidate position (nearest first) whose box hits no placed label, no bubble, no
trail, no fixed obstacle (a quadrant's name), stays inside the plot area, and either
has its own bubble clearly nearest or can be joined to it by a clear leader line.
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
MAX_CANDIDATES = 600


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


def _box_at(cx: float, cy: float, w: float, h: float) -> Box:
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _beside(b: Bubble, w: float, h: float) -> list[Box]:
    """The positions touching the bubble: right, left, above, below; the same slid along
    the bubble's side (still touching it); then the corners."""
    d = b.radius + GAP
    right = Box(b.cx + d, b.cy - h / 2, b.cx + d + w, b.cy + h / 2)
    left = Box(b.cx - d - w, b.cy - h / 2, b.cx - d, b.cy + h / 2)
    above = Box(b.cx - w / 2, b.cy - d - h, b.cx + w / 2, b.cy - d)
    below = Box(b.cx - w / 2, b.cy + d, b.cx + w / 2, b.cy + d + h)
    slid = []
    for side in (right, left):
        slid += [_shifted(side, 0, -h / 2), _shifted(side, 0, h / 2)]
    for side in (above, below):
        slid += [_shifted(side, w * 0.4, 0), _shifted(side, -w * 0.4, 0)]
    diag = d / math.sqrt(2)
    corners = [
        Box(b.cx + diag, b.cy - diag - h, b.cx + diag + w, b.cy - diag),
        Box(b.cx - diag - w, b.cy - diag - h, b.cx - diag, b.cy - diag),
        Box(b.cx + diag, b.cy + diag, b.cx + diag + w, b.cy + diag + h),
        Box(b.cx - diag - w, b.cy + diag, b.cx - diag, b.cy + diag + h),
    ]
    return [right, left, above, below, *slid, *corners]


def _shifted(box: Box, dx: float, dy: float) -> Box:
    return Box(box.left + dx, box.top + dy, box.right + dx, box.bottom + dy)


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


Point = tuple[float, float]
Segment = tuple[Point, Point]


def box_distance(box: Box, cx: float, cy: float) -> float:
    """Distance in pixels from a point to the nearest point of a box (0 inside it)."""
    dx = max(box.left - cx, 0.0, cx - box.right)
    dy = max(box.top - cy, 0.0, cy - box.bottom)
    return math.hypot(dx, dy)


def disc_distance(box: Box, bubble: Bubble) -> float:
    """Distance from a box to a bubble's edge (0 when they touch or overlap)."""
    return max(0.0, box_distance(box, bubble.cx, bubble.cy) - bubble.radius)


def segment_crosses_box(segment: Segment, box: Box) -> bool:
    """True if the segment passes through the box's interior (Liang–Barsky clipping)."""
    (x0, y0), (x1, y1) = segment
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in (
        (-dx, x0 - box.left),
        (dx, box.right - x0),
        (-dy, y0 - box.top),
        (dy, box.bottom - y0),
    ):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return True


def segment_distance(segment: Segment, cx: float, cy: float) -> float:
    """Distance from a point to a segment."""
    (x0, y0), (x1, y1) = segment
    dx, dy = x1 - x0, y1 - y0
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((cx - x0) * dx + (cy - y0) * dy) / length))
    return math.hypot(x0 + t * dx - cx, y0 + t * dy - cy)


def segments_cross(a: Segment, b: Segment) -> bool:
    """True if two segments cross (touching at an end does not count)."""

    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = side(b[0], b[1], a[0]), side(b[0], b[1], a[1])
    d3, d4 = side(a[0], a[1], b[0]), side(a[0], a[1], b[1])
    return d1 * d2 < 0 and d3 * d4 < 0


def leader_segment(bubble: Bubble, box: Box) -> Segment:
    """The leader line as plotly draws an annotation's arrow: on the line from the label's
    centre to the bubble's centre, from the label box's edge to the bubble's edge."""
    cx, cy = box.center
    dx, dy = bubble.cx - cx, bubble.cy - cy
    dist = math.hypot(dx, dy) or 1.0
    # Where the line leaves the box: the first side it meets.
    half_w, half_h = (box.right - box.left) / 2, (box.bottom - box.top) / 2
    t_box = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    start = (cx + dx * t_box, cy + dy * t_box)
    t_end = max(0.0, 1 - bubble.radius / dist)
    return start, (cx + dx * t_end, cy + dy * t_end)


def association_margin(font_size: float) -> float:
    """How much nearer its own bubble a label must be than any other, in pixels."""
    return max(3.0, 0.6 * font_size)


def place_labels(
    bubbles: Sequence[Bubble],
    frame: Frame,
    font_size: float,
    obstacles: Sequence[Box] = (),
    *,
    trails: Sequence[Segment] = (),
    markers: Sequence[Bubble] = (),
) -> list[Placement]:
    """A box for every bubble's label, in the order of ``bubbles``, that a reader cannot
    attach to the wrong bubble.

    A label goes beside its bubble when its own bubble is then clearly the nearest one
    (``association_margin`` nearer than any other bubble or trail start marker); else
    further out, joined to its bubble by a leader line that crosses no other label, no
    other bubble, no trail and no other leader, with no other bubble touching the label.
    No label covers a bubble, an obstacle (a quadrant's name) or a trail. A label with no
    such spot within reach is reported with ``clear=False``: the chart leaves it out and
    names it elsewhere, rather than place it where it could be misread.
    """
    plot = frame.plot
    margin = association_margin(font_size)
    # Everything a label may not touch, indexed by where it is: the other labels and
    # fixed obstacles, every bubble and trail start marker (with the margin around it),
    # the trails and the leaders drawn so far.
    grid = _Grid()
    for box in obstacles:
        grid.add(box, box.intersects)
    for other in (*bubbles, *markers):
        r = other.radius + margin
        bounds = Box(other.cx - r, other.cy - r, other.cx + r, other.cy + r)
        grid.add(bounds, partial(_near, other, margin), other)
    for line in trails:
        grid.add(_segment_bounds(line), partial(segment_crosses_box, line), line=line)
    result: dict[int, Placement] = {}
    # Big bubbles first: they have the least room around them.
    order = sorted(range(len(bubbles)), key=lambda i: (-bubbles[i].radius, i))
    step = font_size * 1.25
    # A leader longer than this no longer reads as pointing at its bubble.
    reach = min(0.25 * max(plot.right - plot.left, plot.bottom - plot.top), 12 * font_size)
    for i in order:
        bubble = bubbles[i]
        w, h = text_size(bubble.text, font_size)
        chosen: Box | None = None
        moved = False
        candidates = islice(
            chain(_beside(bubble, w, h), _further(bubble, w, h, reach, step)), MAX_CANDIDATES
        )
        for box in candidates:
            if not box.inside(plot) or _covers(bubble, box):
                continue
            if grid.blocked(box, bubble):
                continue
            own = disc_distance(box, bubble)
            if own <= GAP + 0.5:
                # Beside its bubble, with no leader: its bubble must be clearly the nearest.
                reach_box = _grown(box, own + margin)
                neighbours = [o for o in grid.bubbles_near(reach_box) if o is not bubble]
                if all(disc_distance(box, o) >= own + margin for o in neighbours):
                    chosen = box
                    break
                continue
            leader = leader_segment(bubble, box)
            if _leader_clear(leader, bubble, grid):
                chosen, moved = box, True
                grid.add(_segment_bounds(leader), partial(segment_crosses_box, leader), line=leader)
                break
        if chosen is None:
            result[i] = Placement(bubble, _beside(bubble, w, h)[0], True, clear=False)
            continue
        grid.add(chosen, chosen.intersects)
        result[i] = Placement(bubble, chosen, moved)
    return [result[i] for i in range(len(bubbles))]


@dataclass(frozen=True)
class _Item:
    bounds: Box
    blocks: object  # box -> bool
    owner: Bubble | None = None
    line: Segment | None = None


class _Grid:
    """A coarse spatial index: each candidate is tested only against what lies near it."""

    CELL = 40.0

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[_Item]] = {}
        self.last: _Item | None = None

    def _keys(self, box: Box):
        c = self.CELL
        for gx in range(int(box.left // c), int(box.right // c) + 1):
            for gy in range(int(box.top // c), int(box.bottom // c) + 1):
                yield gx, gy

    def add(self, bounds: Box, blocks, owner: Bubble | None = None, line=None) -> None:
        item = _Item(bounds, blocks, owner, line)
        for key in self._keys(bounds):
            self.cells.setdefault(key, []).append(item)

    def blocked(self, box: Box, bubble: Bubble) -> bool:
        """True if anything but the bubble's own disc rules the box out; the last thing
        that did is tried first, as neighbouring candidates mostly meet the same one."""
        last = self.last
        if last is not None and last.owner is not bubble and last.blocks(box):
            return True
        for key in self._keys(box):
            for item in self.cells.get(key, ()):
                if item.owner is not bubble and item.blocks(box):
                    self.last = item
                    return True
        return False

    def near(self, box: Box) -> list[_Item]:
        seen: dict[int, _Item] = {}
        for key in self._keys(box):
            for item in self.cells.get(key, ()):
                if item.bounds.intersects(box):
                    seen[id(item)] = item
        return list(seen.values())

    def bubbles_near(self, box: Box) -> list[Bubble]:
        return [item.owner for item in self.near(box) if item.owner is not None]


def _segment_bounds(line: Segment) -> Box:
    (x0, y0), (x1, y1) = line
    return Box(min(x0, x1) - 1, min(y0, y1) - 1, max(x0, x1) + 1, max(y0, y1) + 1)


def _grown(box: Box, by: float) -> Box:
    return Box(box.left - by, box.top - by, box.right + by, box.bottom + by)


def _near(other: Bubble, margin: float, box: Box) -> bool:
    """True if the box comes within ``margin`` of another bubble (or covers it)."""
    return box.covers_circle(other.cx, other.cy, other.radius + margin)


def _leader_clear(leader: Segment, bubble: Bubble, grid: _Grid) -> bool:
    """A leader crosses no label, no other bubble, no trail and no other leader."""
    for item in grid.near(_segment_bounds(leader)):
        if item.line is not None:
            if segments_cross(leader, item.line):
                return False
        elif item.owner is not None:
            other = item.owner
            if (
                other is not bubble
                and segment_distance(leader, other.cx, other.cy) < other.radius + 1
            ):
                return False
        elif segment_crosses_box(leader, item.bounds):
            return False
    return True
