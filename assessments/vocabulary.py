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
    """A fraction 0–1 as a whole percentage, never broken from its sign: '31 %'."""
    return DASH if fraction is None else f"{round(fraction * 100):.0f}\u00a0%"


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


# Shares a person says in words rather than as a percentage (by the rounded percentage).
SHARE_WORDS = {25: "a quarter", 33: "a third", 50: "half", 67: "two thirds", 75: "three quarters"}


def share_text(share_of: float) -> str:
    """A share of value as a person says it: "a third", "half", "31 %", "all"."""
    percent = round(share_of * 100)
    if share_of >= 1:
        return "all"
    if percent >= 100:
        return "over 99\u00a0%"
    if percent == 0 and share_of > 0:
        return "under 1\u00a0%"
    return SHARE_WORDS.get(percent) or share(share_of)


def value_words(shares: scoring.ValueShares | None) -> str:
    """The whole truth behind a company's mean position, in plain words: "31 % of value
    absorbed today · 45 % within a year · a third has no evidence". A horizon that adds
    nothing to the one before is left out; empty for a company without tasks."""
    if shares is None:
        return ""
    said: list[str] = []
    shown = share_text(0.0)
    for share, when in (
        (shares.absorbed, "today"),
        (shares.absorbed_1y, "within a year"),
        (shares.absorbed_2y, "within two years"),
    ):
        if share > 0 and share_text(share) != shown:
            shown = share_text(share)
            said.append(f"{shown} {'' if said else 'of value absorbed '}{when}")
    if not said:
        said.append("no value absorbed within two years")
    if shares.unscored >= 1:
        said.append("none of it has evidence yet")
    elif shares.unscored > 0:
        said.append(f"{share_text(shares.unscored)} has no evidence")
    return " · ".join(said)


def unscored_words(shares: scoring.ValueShares | None) -> str:
    """What the mean position leaves out, said beside the runway: "a third of its value has
    no evidence" (empty when every task has some)."""
    if shares is None or shares.unscored <= 0:
        return ""
    return f"{share_text(shares.unscored)} of its value has no evidence"


def absorbed_shares(shares: scoring.ValueShares | None) -> str:
    """A table cell: the share absorbed now, within a year and within two ("0 % · 50 % ·
    50 %"), a dash for a task or a company without tasks."""
    if shares is None:
        return DASH
    return " · ".join(share(v) for v in (shares.absorbed, shares.absorbed_1y, shares.absorbed_2y))


def unscored_share(shares: scoring.ValueShares | None) -> str:
    """A table cell: the share of value with no evidence ("33 %")."""
    return DASH if shares is None else share(shares.unscored)
