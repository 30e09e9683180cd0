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


def write_scores_csv(out: TextIO, lines: Iterable[ScoreLine], rubric: scoring.Rubric) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCORE_HEADER)
    for line in lines:
        writer.writerow(score_row(line, rubric))
