"""Pure Plotly figure builders for the company page: plain data in, a figure dict out.

Figures are plain dicts (what Plotly.react takes), so building them costs nothing
and they go to the browser through json_script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from . import scoring

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
        labels, values, measures, hovers = ["no evidence"], [50.0], ["absolute"], ["start: 50"]
        raw = 0.0
        for bar in rows:
            before = scoring.axis_score(raw, rubric)
            raw += bar.contribution
            labels.append(bar.label)
            values.append(scoring.axis_score(raw, rubric) - before)
            measures.append("relative")
            hovers.append(f"{bar.label}<br>contribution {bar.contribution:+.3f}<br>{bar.hover}")
        final = scoring.axis_score(raw, rubric)
        labels.append("score")
        values.append(0.0)
        measures.append("total")
        hovers.append(f"score {final:.1f}")
        traces.append(
            {
                "type": "waterfall",
                "name": AXIS_TITLES[axis],
                "x": labels,
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
