"""Exports: score tables as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from .. import moves, scoring
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
    *scoring.VALUE_SHARE_FIELDS,
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (CSV injection)."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def score_row(line: ScoreLine, rubric: scoring.Rubric) -> list[str]:
    """One CSV row: text cells neutralised, numbers to 4 decimals, empty when unscored; a
    company's shares of value absorbed and unscored, empty on a task's row."""
    score = line.score
    text = [csv_safe(line.fund), csv_safe(line.company), csv_safe(line.task)]
    shares = line.shares.as_dict().values() if line.shares else [None] * 4
    if not score.is_scored:
        cells = ["", "", "", csv_safe(rubric.label(scoring.UNSCORED)), "", ""]
    else:
        cells = [
            _number(score.x),
            _number(score.y),
            _number(score.confidence),
            csv_safe(rubric.label(score.quadrant)),
            _number(score.margin),
            _number(score.runway_years),
        ]
    return [*text, *cells, *(_number(share) for share in shares)]


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
    "absorbed": "value_absorbed",
    "unscored": "value_unscored",
    "confidence": "confidence",
    **MAP_EXTRA_COLUMNS,
}


# With a trail, where each point stood on the trail's start date and why it moved since
# (scoring.movement_under_one_rubric): the runway's and the margin's total change and their
# parts, which add up to it, then the same in words as the map's hover says it.
MOVE_MEASURE_COLUMNS = {"runway_years": "runway", "margin": "margin"}
TRAIL_HEADER = (
    "since",
    "start_x",
    "start_y",
    "start_margin",
    "start_runway_years",
    *(
        f"{name}_{part}"
        for name in MOVE_MEASURE_COLUMNS.values()
        for part in ("change", *scoring.MOVE_PARTS)
    ),
    "why_it_moved",
)


def trail_cells(point) -> list[str]:
    """The trail's columns of one point: empty numbers where it was unscored on the start
    date (nothing to decompose), and the reason in words."""
    movement = point.movement
    start = movement.start
    cells = [movement.start_on.isoformat()]
    if start.is_scored:
        cells += [_number(v) for v in (start.x, start.y, start.margin, start.runway_years)]
    else:
        cells += [""] * 4
    for measure in MOVE_MEASURE_COLUMNS:
        if movement.is_decomposed:
            parts = [movement.parts[measure][cause] for cause in scoring.MOVE_PARTS]
            cells += [_number(movement.total(measure)), *(_number(p) for p in parts)]
        else:
            cells += [""] * (1 + len(scoring.MOVE_PARTS))
    return [*cells, csv_safe(moves.move_words(movement))]


def write_map_csv(
    out: TextIO, points, rubric: scoring.Rubric, *, per_task: bool, trail: bool = False
) -> None:
    """The map's table as CSV (selectors.map.MapPoint rows): every column the table shows,
    and with a trail where each point started and why it moved."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*MAP_HEADER, *(TRAIL_HEADER if trail else ())))
    for p in points:
        line = ScoreLine(
            p.fund, p.company if per_task else p.name, p.name if per_task else "", p.score, p.shares
        )
        size = "" if p.size is None else f"{p.size:.0f}"
        extra = [csv_safe(p.sector), csv_safe(p.stage), csv_safe(p.status)]
        moved = trail_cells(p) if trail and p.movement is not None else []
        writer.writerow(
            [*score_row(line, rubric), *extra, str(p.score.evidence_count), size, *moved]
        )


def write_scores_csv(out: TextIO, lines: Iterable[ScoreLine], rubric: scoring.Rubric) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCORE_HEADER)
    for line in lines:
        writer.writerow(score_row(line, rubric))
