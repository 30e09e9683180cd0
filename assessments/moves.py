"""Why it moved, in words: "since 1 Dec 2025: runway −1.3 y — new evidence +0.6, decay −0.9,
boundary −1.0", and the table of every measure's parts. Pure (no Django), so the company
page, the map's hover and the IC pack say a scoring.Movement the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import scoring, vocabulary

PART_NAMES = {
    scoring.NEW_EVIDENCE: "new evidence",
    scoring.DECAY: "decay",
    scoring.RUBRIC_CHANGE: "rubric",
    scoring.BOUNDARY_RISE: "boundary",
}
MEASURE_NAMES = {
    "x": ("x", ""),
    "y": ("y", ""),
    "margin": ("margin", " pts"),
    "runway_years": ("runway", " y"),
}
MEASURE_ROWS = {
    "x": "x (frontier)",
    "y": "y (proprietary)",
    "margin": "margin, points",
    "runway_years": "runway, years",
}


signed = vocabulary.signed


@dataclass(frozen=True)
class MoveRow:
    """One measure of a move: its total and its parts, rounded so that they add up."""

    measure: str
    unit: str
    total: str
    parts: list[str]


def move_rows(movement: scoring.Movement) -> list[MoveRow]:
    rows = []
    for measure in scoring.MOVE_MEASURES:
        _, unit = MEASURE_NAMES[measure]
        total, rounded = _rounded(movement, measure)
        rows.append(
            MoveRow(MEASURE_ROWS[measure], unit, signed(total), [signed(p) for p in rounded])
        )
    return rows


def _rounded(movement: scoring.Movement, measure: str) -> tuple[float, list[float]]:
    total = movement.total(measure)
    parts = [movement.parts[measure][cause] for cause in scoring.MOVE_PARTS]
    return total, scoring.rounded_parts(total, parts)


def since_words(day: date) -> str:
    return vocabulary.since(day)


def move_parts(movement: scoring.Movement) -> tuple[str, list[str]]:
    """The move's total and its parts, in words: ("runway −1.3 y", ["new evidence +0.6",
    "decay −0.9", "boundary −1.0"]). Runway while the company is above the boundary, else
    its margin; parts that round to nothing are left out. Print keeps each part whole."""
    if not movement.is_decomposed:
        if not movement.end.is_scored:
            return "still unscored (no evidence counts yet)", []
        return "not scored then (no evidence observed by that date)", []
    measure = "runway_years"
    if not (movement.start.runway_years or movement.end.runway_years):
        measure = "margin"  # absorbed at both dates: runway says nothing, margin does
    name, unit = MEASURE_NAMES[measure]
    total, rounded = _rounded(movement, measure)
    said = [
        f"{PART_NAMES[cause]} {signed(value)}"
        for cause, value in zip(scoring.MOVE_PARTS, rounded, strict=True)
        if value != 0
    ]
    if not said:
        return f"{name} unchanged", []
    return f"{name} {signed(total)}{unit}", said


def move_words(movement: scoring.Movement) -> str:
    """The move without its date: "runway −1.3 y — new evidence +0.6, decay −0.9, boundary
    −1.0" (where a column or a heading already names the date)."""
    total, parts = move_parts(movement)
    return f"{total} \u2014 " + ", ".join(parts) if parts else total


def move_line(movement: scoring.Movement) -> str:
    """The move in one line: "since 1 Dec 2025: runway −1.3 y — new evidence +0.6, decay
    −0.9, boundary −1.0"."""
    return f"{since_words(movement.start_on)}: {move_words(movement)}"
