"""Reading a map figure back as geometry: its bubbles, labels, leader lines and trails in
pixels, and the check that a reader attaches every label to its own bubble."""

from __future__ import annotations

import math
from dataclasses import dataclass

from assessments.charts import labels


@dataclass
class Label:
    text: str
    box: labels.Box
    own: labels.Bubble
    leader: labels.Segment | None


@dataclass
class MapGeometry:
    bubbles: list[labels.Bubble]
    markers: list[labels.Bubble]
    labels: list[Label]
    trails: list[labels.Segment]
    frame: labels.Frame


def frame_of(figure: dict, screen_frame: labels.Frame | None = None) -> labels.Frame:
    """The figure's plot area in pixels (the screen's is the one its placer assumed)."""
    if screen_frame is not None:
        return screen_frame
    layout = figure["layout"]
    m = layout["margin"]
    return labels.Frame(layout["width"], layout["height"], m["l"], m["r"], m["t"], m["b"])


def geometry(figure: dict, screen_frame: labels.Frame | None = None) -> MapGeometry:
    frame = frame_of(figure, screen_frame)
    bubbles, markers = [], []
    for trace in figure["data"]:
        marker = trace.get("marker", {})
        if trace.get("mode") != "markers" or trace["x"] == [-1000]:
            continue  # not a bubble, or a legend swatch outside the axes
        sizes = marker["size"]
        sizes = sizes if isinstance(sizes, list) else [sizes] * len(trace["x"])
        target = markers if marker.get("symbol") == "circle-open" else bubbles
        for x, y, d in zip(trace["x"], trace["y"], sizes, strict=True):
            target.append(labels.Bubble(*frame.to_px(x, y), d / 2, ""))
    trails, found = [], []
    for note in figure["layout"]["annotations"]:
        if note.get("arrowhead") == 2:
            trails.append((frame.to_px(note["ax"], note["ay"]), frame.to_px(note["x"], note["y"])))
    for note in figure["layout"]["annotations"]:
        if not str(note.get("name", "")).startswith("label"):
            continue
        px, py = frame.to_px(note["x"], note["y"])
        own = min(bubbles, key=lambda b: math.hypot(b.cx - px, b.cy - py))
        w, h = labels.text_size(note["text"], note["font"]["size"])
        if note["showarrow"]:
            cx, cy = px + note["ax"], py + note["ay"]
        else:
            # The anchor is the box's edge (or middle) on the side it names.
            ax, ay = px + note["xshift"], py - note["yshift"]
            cx = {"left": ax + w / 2, "right": ax - w / 2}.get(note["xanchor"], ax)
            cy = {"top": ay + h / 2, "bottom": ay - h / 2}.get(note["yanchor"], ay)
        box = labels.Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        leader = None
        if note["showarrow"]:
            assert note["arrowhead"] == 0, "a leader has no arrowhead"
            assert note["standoff"] == round(own.radius, 1), "a leader ends at the bubble's edge"
            leader = labels.leader_segment(own, box)
        found.append(Label(note["text"], box, own, leader))
    return MapGeometry(bubbles, markers, found, trails, frame)


def misattached(g: MapGeometry, font: float) -> list[str]:
    """Every way a reader could attach a label to the wrong bubble, in words (empty: none).

    Beside its bubble, a label's own bubble must be the nearest by a clear margin; joined
    by a leader, the leader may cross no other label, bubble or trail. No label may cover
    a bubble, cross a trail, overlap another label, or leave the plot.
    """
    problems = []
    # The figures round offsets to 0.1 px: allow for that much.
    slack = 0.3
    margin = labels.association_margin(font) - slack
    for n, label in enumerate(g.labels):
        others = [b for b in g.bubbles if b is not label.own] + g.markers
        inner = labels.Box(
            label.box.left + slack,
            label.box.top + slack,
            label.box.right - slack,
            label.box.bottom - slack,
        )
        if not label.box.inside(labels.Box(*(v + d for v, d in zip(
            (g.frame.plot.left, g.frame.plot.top, g.frame.plot.right, g.frame.plot.bottom),
            (-1, -1, 1, 1), strict=True,
        )))):  # fmt: skip
            problems.append(f"{label.text!r} leaves the plot")
        if any(inner.covers_circle(b.cx, b.cy, b.radius) for b in g.bubbles):
            problems.append(f"{label.text!r} covers a bubble")
        if any(labels.segment_crosses_box(t, inner) for t in g.trails):
            problems.append(f"{label.text!r} sits on a trail")
        if any(inner.intersects(other.box) for other in g.labels[n + 1 :]):
            problems.append(f"{label.text!r} overlaps another label")
        own = labels.disc_distance(label.box, label.own)
        nearest = min((labels.disc_distance(label.box, o) for o in others), default=math.inf)
        if label.leader is None:
            if own > labels.GAP + 1 or nearest < own + margin:
                problems.append(f"{label.text!r} is not clearly nearest its own bubble")
            continue
        if any(labels.segment_crosses_box(label.leader, o.box) for o in g.labels if o is not label):
            problems.append(f"the leader of {label.text!r} crosses another label")
        if any(
            labels.segment_distance(label.leader, o.cx, o.cy) < o.radius - slack for o in others
        ):
            problems.append(f"the leader of {label.text!r} crosses another bubble")
        if any(labels.segments_cross(label.leader, t) for t in g.trails):
            problems.append(f"the leader of {label.text!r} crosses a trail")
        leaders = [o.leader for o in g.labels if o.leader is not None and o is not label]
        if any(labels.segments_cross(label.leader, other) for other in leaders):
            problems.append(f"the leader of {label.text!r} crosses another leader")
    return problems
