"""Exports: score tables as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from .. import scoring
from ..selectors.portfolio import ScoreLine

SCORE_HEADER = (
    "fund",
    "company",
    "task",
    "x",
    "y",
    "confidence",
    "quadrant",
    "margin",
    "runway_years",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (CSV injection)."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def score_row(line: ScoreLine, rubric: scoring.Rubric) -> list[str]:
    """One CSV row: text cells neutralised, numbers to 4 decimals, empty when unscored."""
    score = line.score
    text = [csv_safe(line.fund), csv_safe(line.company), csv_safe(line.task)]
    if not score.is_scored:
        return [*text, "", "", "", csv_safe(rubric.label(scoring.UNSCORED)), "", ""]
    return [
        *text,
        _number(score.x),
        _number(score.y),
        _number(score.confidence),
        csv_safe(rubric.label(score.quadrant)),
        _number(score.margin),
        _number(score.runway_years),
    ]


# The map's CSV: export_scores' columns first (the same numbers), then every other column
# of the map's table, keyed by the table's column keys (views/map.TABLE_COLUMNS).
MAP_EXTRA_COLUMNS = {
    "sector": "sector",
    "stage": "stage",
    "status": "status",
    "evidence": "evidence_count",
    "size": "size_usd",
}
MAP_HEADER = (*SCORE_HEADER, *MAP_EXTRA_COLUMNS.values())
# Which CSV column carries each of the table's columns.
TABLE_TO_CSV = {
    "name": "company",
    "company": "company",
    "fund": "fund",
    "x": "x",
    "y": "y",
    "quadrant": "quadrant",
    "runway": "runway_years",
    "confidence": "confidence",
    **MAP_EXTRA_COLUMNS,
}


def write_map_csv(out: TextIO, points, rubric: scoring.Rubric, *, per_task: bool) -> None:
    """The map's table as CSV (selectors.map.MapPoint rows): every column the table shows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MAP_HEADER)
    for p in points:
        line = ScoreLine(
            p.fund, p.company if per_task else p.name, p.name if per_task else "", p.score
        )
        size = "" if p.size is None else f"{p.size:.0f}"
        extra = [csv_safe(p.sector), csv_safe(p.stage), csv_safe(p.status)]
        writer.writerow([*score_row(line, rubric), *extra, str(p.score.evidence_count), size])


def write_scores_csv(out: TextIO, lines: Iterable[ScoreLine], rubric: scoring.Rubric) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCORE_HEADER)
    for line in lines:
        writer.writerow(score_row(line, rubric))
