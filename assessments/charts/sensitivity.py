"""The tornado chart of the company page: which rubric numbers move the company most.

Plain data in, a figure dict out (no database, no Django), drawn with the company page's
other charts, in their palette and font.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from . import base
from .screen import FONT

LOW_COLOUR = base.VERMILLION
HIGH_COLOUR = base.BLUE
# The measures drawn, as (key, panel title, unit in the hover).
PANELS = (("x", "x (frontier)", "pts"), ("y", "y (proprietary)", "pts"), ("runway", "runway", "y"))
# Below the boundary runway is 0 whatever the weights: the margin says how far below.
ABSORBED_PANELS = (*PANELS[:2], ("margin", "margin", "pts"))
UNITS = {"pts": "points", "y": "years"}
ROW_HEIGHT = 26


@dataclass(frozen=True)
class TornadoRow:
    """One rubric number: its name, and the change of each measure at −step and +step."""

    label: str
    low: dict[str, float]
    high: dict[str, float]


def tornado(rows: Sequence[TornadoRow], step_percent: int = 20, absorbed: bool = False) -> dict:
    """One horizontal bar pair per number (−step grey, +step blue) in three panels side by
    side (x, y, runway; margin instead of runway for an absorbed company), the rows in the
    order given with the first on top."""
    panels = ABSORBED_PANELS if absorbed else PANELS
    labels = [html.escape(r.label, quote=False) for r in rows]
    traces = []
    layout: dict = {
        "barmode": "overlay",
        "height": 90 + ROW_HEIGHT * max(len(rows), 1),
        # Room for the longest name at about 7 px a character.
        "margin": {
            "l": 24 + 7 * max((len(r.label) for r in rows), default=10),
            "r": 16,
            "t": 48,
            "b": 40,
        },
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#fafbfc",
        "legend": {"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
        "bargap": 0.35,
    }
    gap = 0.04
    width = (1 - gap * (len(panels) - 1)) / len(panels)
    for index, (key, title, unit) in enumerate(panels):
        suffix = "" if index == 0 else str(index + 1)
        for name, colour, side in (
            (f"\u2212{step_percent} %", LOW_COLOUR, "low"),
            (f"+{step_percent} %", HIGH_COLOUR, "high"),
        ):
            values = [getattr(r, side)[key] for r in rows]
            traces.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": name,
                    "legendgroup": name,
                    "showlegend": index == 0,
                    "x": values,
                    "y": labels,
                    "marker": {"color": colour},
                    "hovertemplate": f"%{{y}} {name}: %{{x:+.2f}} {unit}<extra>{title}</extra>",
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                }
            )
        start = index * (width + gap)
        layout[f"xaxis{suffix}"] = {
            "domain": [start, start + width],
            "title": {"text": f"{title}, {UNITS[unit]}", "standoff": 4},
            "side": "top",
            "zeroline": True,
            "zerolinecolor": "#9aa3b0",
            "gridcolor": "#e3e7ee",
            "automargin": True,
        }
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "autorange": "reversed",  # the largest first, at the top
            "showticklabels": index == 0,
            "type": "category",
        }
        if index:
            layout[f"yaxis{suffix}"]["matches"] = "y"
    return {"data": traces, "layout": layout}
