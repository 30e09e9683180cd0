"""The product's words: how money, runway, scores, shares, dates, axes, quadrants and signed
changes are written, once, for every medium (pages through thin template filters, charts,
exports, the IC pack, e-mails and the API's text fields).

Pure Python like scoring.py (an import-linter contract keeps Django out), so that a chart
and the table beside it cannot disagree on how "$12.5k" or "1.8 y" reads.
"""

from __future__ import annotations

from datetime import date, datetime

from . import scoring

DASH = "–"  # an en dash: nothing to say (unscored, unknown)
MINUS = "\u2212"  # a true minus sign, as print and the screen both want it

AXIS_NAMES = {scoring.X: "Frontier (x)", scoring.Y: "Proprietary (y)"}


def money(value: float | None, currency: str = "$") -> str:
    """An amount in short form, to three significant figures: $12.5M, $800k, $950."""
    if not value:
        return DASH
    value = float(value)
    sign = MINUS if value < 0 else ""
    value = abs(value)
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{sign}{currency}{value / size:.3g}{suffix}"
    return f"{sign}{currency}{value:.0f}"


def points(value: float | None) -> str:
    """A score (0–100 points) to one decimal, or a dash when there is none."""
    return DASH if value is None else f"{value:.1f}"


def signed(value: float | None, digits: int = 1) -> str:
    """A change with its sign and a true minus: +2.4, −3.1; a change that rounds to nothing
    carries no sign (0.0)."""
    if value is None:
        return DASH
    text = f"{abs(value):.{digits}f}"
    if text == f"{0:.{digits}f}":
        return text
    return ("+" if value > 0 else MINUS) + text


def runway_years(years: float | None) -> str:
    """Runway: '1.8 y', 'absorbed' at or below zero, a dash when unscored."""
    if years is None:
        return DASH
    return "absorbed" if years <= 0 else f"{years:.1f} y"


def runway(score) -> str:
    """The runway of a score (anything with runway_years), in words."""
    return runway_years(None if score is None else score.runway_years)


def share(fraction: float | None) -> str:
    """A fraction 0–1 as a whole percentage: '31 %'."""
    return DASH if fraction is None else f"{round(fraction * 100):.0f} %"


def day(value: date | datetime | None) -> str:
    """The one date format of every page and export: '3 Dec 2026'."""
    return DASH if value is None else f"{value.day} {value:%b %Y}"


def since(value: date) -> str:
    """'since 3 Dec 2026'."""
    return f"since {day(value)}"


def quadrant(code: str | None, rubric: scoring.Rubric | None = None) -> str:
    """The rubric's name for a quadrant code ('Untrainable', …)."""
    return (rubric or scoring.DEFAULT_RUBRIC).label(code or scoring.UNSCORED)


def factor(code: str | None) -> str:
    """A factor code in words: system_access -> system access."""
    return (code or "").replace("_", " ")


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 company', '3 companies'."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
