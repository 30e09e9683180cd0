"""IC packs: a fund's portfolio as one PDF a partner can put in front of a committee.

It leads with risk. The first page is what is at risk (the companies with value absorbed
today or within a year, the fund's check size resting on those tasks, the biggest movers
since the movement date) with the pack's facts (fund, dates, rubric, who built it); then
a summary (the map and a table of every company); then a section per company, shortest
runway first unless another order was chosen, companies the fund passed on left out
unless chosen: why it moved, what would buy it runway and what would cost it most (the
pure model's runway levers and sensitivity, as on the company page), every task with its
weight, scores and own runway, each task's waterfall, and its strongest notes on both
sides of the moat.

Every number is read as `export_scores` reads it (selectors.portfolio.score_lines, the
SQL scoring path as of the pack's date), and the map is drawn from those same scores, so
the pack agrees with the command line and with itself. Why each company moved since the
movement date is the pure model's decomposition of the same counted notes under the same
rubric at both dates (scoring.decompose_move), so it starts and ends at those numbers.
The pages are an HTML template (templates/assessments/exports/ic_pack_document.html)
printed to PDF by headless Chromium, the charts embedded as the SVG the chart exports make.

The job (tasks.build_ic_pack) reads the fund as the member who asked for the pack does,
records companies done after each company and a heartbeat; a build whose heartbeat stops
(its worker died) is retried once, then failed with a message, never left "building".
"""

from __future__ import annotations

import base64
import html
import logging
import re
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from .. import access, directions, moves, notes, scoring, selectors
from ..charts import base, memo
from ..models import (
    Company,
    CompanyStatus,
    Evidence,
    Fund,
    ICPack,
    ICPackOrder,
    ICPackStatus,
    Task,
)
from ..selectors import map as map_selectors
from ..selectors import portfolio as portfolio_selectors
from ..selectors import rubric as rubric_selectors
from . import data as export_data
from . import render as rendering

logger = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=1)
# Without a chosen date, the summary shows the movement over the last quarter.
DEFAULT_MOVEMENT = timedelta(days=91)
# The strongest notes on each side of the moat (strengthening, weakening) per company: two
# beside one task's waterfall, one beside two or more, so that a company keeps to its page.
NOTES_PER_SIDE_ONE_TASK = 2
NOTES_PER_SIDE_MORE_TASKS = 1
LEVERS_PER_COMPANY = 3
MOVERS = 3
# Bars per waterfall panel in the pack; the smaller notes are added up into the last one.
WATERFALL_BARS = 6
# A note longer than this (in Markdown characters) ends at a sentence, continued on screen:
# a company's section then fits its page.
NOTE_CHARS = 300
CONTINUED = "(continued in Moat map)"
# A running build beats after every company; silence this long means its worker is gone.
STALLED_AFTER = timedelta(minutes=3)
# The first enqueue and one retry.
MAX_ATTEMPTS = 2
PRINT_TIMEOUT_SECONDS = 240
TEMPLATE = "assessments/exports/ic_pack_document.html"
BUILDING = (ICPackStatus.QUEUED, ICPackStatus.RUNNING)

STALLED_RUNNING = (
    "The build stopped without finishing (its worker was interrupted), and so did its retry. "
    "Build the pack again; if it stops again, ask an administrator to check the workers."
)
STALLED_QUEUED = (
    "The build did not start: no worker took the job. Check that a Celery worker is "
    "running, then build the pack again."
)


class PackError(RuntimeError):
    """A pack that cannot be built, with a message for the person who asked."""


class _Superseded(Exception):
    """This attempt was declared stalled and retried: a newer attempt owns the pack."""


# --- Text fit for print ------------------------------------------------------------------

# C0 and C1 control characters but newline and tab: no PDF or SVG text can carry them, and
# one in a name or a note must not break every member's pack.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SENTENCE_END = re.compile(r"[.!?…][*_)\"'”’]*(?=\s|$)")
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_BULLET = re.compile(r"^\s*(?:[*+-]|\d+\.)\s", re.MULTILINE)


def printable(text: str | None) -> str:
    """Text without control characters (NUL, BEL, escape …); newlines and tabs stay."""
    return _CONTROL.sub("", text or "")


def _markup_closed(prefix: str) -> bool:
    """Whether Markdown cut after ``prefix`` leaves no bold, code, link or emphasis open."""
    if prefix.count("```") % 2:
        return False
    plain = re.sub(r"`[^`\n]*`", "", prefix)
    if "`" in plain or plain.count("[") != plain.count("]"):
        return False
    if plain.count("**") % 2 or plain.count("__") % 2:
        return False
    singles = _BULLET.sub("", plain).replace("**", "")
    return singles.count("*") % 2 == 0


def _cut(text: str, limit: int) -> str:
    """The longest start of ``text`` that ends a sentence (or, failing that, a word) within
    ``limit`` characters and leaves no Markdown open."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, limit + 1)]
    ends += [m.start() for m in re.finditer(r"\n\s*\n", text[:limit])]
    for end in sorted(set(ends), reverse=True):
        if end > limit // 4 and _markup_closed(text[:end]):
            return text[:end].rstrip()
    words = [m.start() for m in re.finditer(r"\s", text[: limit + 1])]
    for end in reversed(words):
        if _markup_closed(text[:end]):
            return text[:end].rstrip() + " …"
    return ""


def _links_as_text(note_html: str) -> str:
    """Print has no links: a link reads as its text, with the address when it differs."""

    def as_text(match: re.Match) -> str:
        href, label = html.unescape(match.group(1)), match.group(2)
        address = href.removeprefix("mailto:")
        if html.unescape(re.sub(r"<[^>]+>", "", label)).strip() in (href, address):
            return label
        return f"{label} ({html.escape(address)})"

    return _LINK.sub(as_text, note_html)


def note_html(text: str | None, limit: int = NOTE_CHARS) -> str:
    """A note as sanitised, formatted HTML for print: bold, lists and links as text, never
    raw Markdown; a long note ends at a sentence with "(continued in Moat map)"."""
    source = printable(text).strip()
    continued = len(source) > limit
    if continued:
        source = _cut(source, limit)
    rendered = _links_as_text(notes.render_note_or_text(source)).strip()
    if not continued:
        return rendered
    marker = f'<span class="continued">{CONTINUED}</span>'
    if rendered.endswith("</p>"):
        return f"{rendered[:-4]} {marker}</p>"
    return f"{rendered}<p>{marker}</p>"


# --- What the pack shows ------------------------------------------------------------------


@dataclass
class TaskSection:
    name: str
    weight: float
    # Its part of the company's position: weight over the scored tasks' total (0 unscored).
    share: float
    score: scoring.Score
    waterfall: str = ""  # the chart as a data: URI of its SVG

    @property
    def weight_text(self) -> str:
        return f"{self.weight:g}"

    @property
    def runway(self) -> str:
        """The task's own runway, "absorbed" below the boundary, a dash unscored."""
        return runway_text(self.score)

    @property
    def share_text(self) -> str:
        return f"{self.share:.0%}"


@dataclass
class NoteSection:
    task: str
    factor: str
    stance: str
    strength: int
    confidence: str
    observed_on: date
    author: str
    verified: bool
    source: str
    html: str
    direction: directions.Direction | None = None


@dataclass(frozen=True)
class ValueAtRisk:
    """Shares of a company's value (task weight over all its tasks) that are absorbed today,
    within one year, and that no counting evidence scores: fractions 0–1."""

    absorbed: float = 0.0
    within_1y: float = 0.0
    unscored: float = 0.0


def value_at_risk(
    tasks: list[tuple[float, scoring.Score]], as_of: date, rubric: scoring.Rubric
) -> ValueAtRisk:
    """The company's shares of value absorbed today and within a year, and unscored, as
    scoring.value_shares says them (nothing at risk for a company without tasks)."""
    shares = scoring.value_shares(tasks, as_of, rubric)
    if shares is None:
        return ValueAtRisk()
    return ValueAtRisk(shares.absorbed, shares.absorbed_1y, shares.unscored)


@dataclass
class CompanySection:
    name: str
    as_of: date
    rubric: scoring.Rubric
    rubric_name: str
    sector: str
    stage: str
    lead: str
    score: scoring.Score
    then: scoring.Score
    tasks: list[TaskSection]
    # Why it moved since the movement date (today's rubric at both dates).
    move: scoring.Movement | None = None
    # The strongest notes that strengthen the moat, and those that weaken it.
    strengths: list[NoteSection] = field(default_factory=list)
    weaknesses: list[NoteSection] = field(default_factory=list)
    # What would buy it runway (the notes worth finding), and what would cost it most.
    levers: list[str] = field(default_factory=list)
    costliest: str = ""
    at_risk: ValueAtRisk = field(default_factory=ValueAtRisk)
    status: str = CompanyStatus.PORTFOLIO
    check_size: float | None = None
    combination: str = ""
    counted: int = 0
    later: int = 0
    verified: int = 0

    @property
    def notes(self) -> list[NoteSection]:
        return [*self.strengths, *self.weaknesses]

    @property
    def sides(self) -> list[tuple[list[NoteSection], str]]:
        """The strongest notes on each side, each side under its heading."""
        return [
            (self.strengths, "Strongest notes for the moat"),
            (self.weaknesses, "Strongest notes against the moat"),
        ]

    @property
    def runway_change(self) -> float | None:
        """Years of runway gained (+) or lost since the movement date; None where the move
        cannot be split (unscored then or now)."""
        if self.move is None or not self.move.is_decomposed:
            return None
        return self.move.total("runway_years")

    @property
    def dx(self) -> float | None:
        if not (self.score.is_scored and self.then.is_scored):
            return None
        return self.score.x - self.then.x

    @property
    def dy(self) -> float | None:
        if not (self.score.is_scored and self.then.is_scored):
            return None
        return self.score.y - self.then.y

    @property
    def runway(self) -> str:
        return runway_text(self.score)

    @property
    def movement(self) -> str:
        """Change in frontier / proprietary since the movement date, in score points."""
        if not self.score.is_scored:
            return "–"
        if not self.then.is_scored:
            return "new: no evidence then"
        text = f"{moves.signed(self.dx)} / {moves.signed(self.dy)}"
        if self.then.quadrant != self.score.quadrant:
            text += f" (was {self.rubric.label(self.then.quadrant)})"
        return text

    @property
    def move_parts(self) -> tuple[str, list[str]]:
        """Why runway (or margin) moved, without the date the column names: ("runway −0.4 y",
        ["new evidence +0.2", "decay −0.1", "boundary −0.5"]); empty where nothing can be
        split (unscored then or now)."""
        if self.move is None or not self.move.is_decomposed:
            return "", []
        return moves.move_parts(self.move)

    @property
    def move_words(self) -> str:
        """The move without its date (the movers' heading says it)."""
        return moves.move_words(self.move) if self.move_parts[0] else ""

    @property
    def move_line(self) -> str:
        """The same in one line with its date, for the company's headline."""
        return moves.move_line(self.move) if self.move_parts[0] else ""

    @property
    def details(self) -> str:
        parts = [self.sector, self.stage, f"Lead: {self.lead}" if self.lead else ""]
        return " · ".join(p for p in parts if p)

    @property
    def footnote(self) -> str:
        """This company's own counts (never the fund's)."""
        tasks = len(self.tasks)
        text = (
            f"{self.name}: {self.counted} evidence note{'' if self.counted == 1 else 's'} "
            f"observed by {_day(self.as_of)} counted ({self.verified} verified) across "
            f"{tasks} task{'' if tasks == 1 else 's'}"
        )
        if self.later:
            text += f"; {self.later} observed later not counted"
        return text + f". Scores as of {_day(self.as_of)}, {self.rubric_name}."

    @property
    def risk_text(self) -> str:
        """ "40% of its value absorbed today, 60% within a year; 10% unscored"."""
        risk = self.at_risk
        parts = [
            f"{risk.absorbed:.0%} of its value absorbed today" if risk.absorbed else "",
            f"{risk.within_1y:.0%} within a year" if risk.within_1y > risk.absorbed else "",
            f"{risk.unscored:.0%} has no counting evidence" if risk.unscored else "",
        ]
        return "; ".join(p for p in parts if p)


@dataclass
class Document:
    fund: str
    as_of: date
    since: date
    rubric: scoring.Rubric
    rubric_name: str
    built_by: str
    built_at: datetime
    map_chart: str
    companies: list[CompanySection]
    # The number of the version in force on the movement date, where it is not this one.
    rubric_then_number: int | None = None
    order: str = ICPackOrder.RUNWAY
    include_passed: bool = False
    passed_left_out: int = 0

    @property
    def order_text(self) -> str:
        return ICPackOrder(self.order).label.lower()

    @property
    def at_risk(self) -> list[CompanySection]:
        """Companies with value absorbed today or within a year, the most absorbed first."""
        hit = [c for c in self.companies if c.at_risk.within_1y > 0 or c.at_risk.absorbed > 0]
        return sorted(hit, key=lambda c: (-c.at_risk.absorbed, -c.at_risk.within_1y, c.name))

    @property
    def absorbed_companies(self) -> list[CompanySection]:
        """Companies whose own position is below the boundary today."""
        return [c for c in self.companies if c.score.is_scored and not c.score.runway_years]

    @property
    def within_a_year(self) -> list[CompanySection]:
        """Companies above the boundary today that it reaches within a year."""
        return [c for c in self.companies if c.score.runway_years and c.score.runway_years < 1]

    def _value(self, measure: str) -> float:
        return sum((c.check_size or 0) * getattr(c.at_risk, measure) for c in self.companies)

    @property
    def check_total(self) -> float:
        return sum(c.check_size or 0 for c in self.companies)

    @property
    def value_absorbed(self) -> str:
        return base.money(self._value("absorbed"))

    @property
    def value_within_1y(self) -> str:
        return base.money(self._value("within_1y"))

    @property
    def check_total_text(self) -> str:
        return base.money(self.check_total)

    @property
    def movers(self) -> list[CompanySection]:
        """The biggest movers since the movement date: runway lost or gained, most first."""
        moved = [c for c in self.companies if c.runway_change]
        return sorted(moved, key=lambda c: (-abs(c.runway_change), c.name))[:MOVERS]

    @property
    def running_footer(self) -> str:
        """The page footer's text as a CSS string body: every character but letters and
        digits escaped, so no name can end the string or the style element."""
        text = f"{self.fund} · IC pack as of {_day(self.as_of)} · confidential"
        return mark_safe(
            "".join(ch if ch.isascii() and ch.isalnum() else f"\\{ord(ch):06x}" for ch in text)
        )

    @property
    def boundary(self) -> str:
        return f"x + {self.rubric.proprietary_weight:g}·y = B(t)"

    @property
    def contents(self) -> str:
        names = [c.name for c in self.companies]
        if not names:
            return "The summary; the fund has no companies yet."
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return (
            "The summary (the map and every company's numbers), then one section per "
            f"company: {listed}."
        )

    @property
    def evidence_count(self) -> int:
        return sum(c.counted for c in self.companies)

    @property
    def unscored(self) -> list[CompanySection]:
        return [c for c in self.companies if not c.score.is_scored]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def runway_text(score: scoring.Score) -> str:
    """Years until the boundary reaches it; "absorbed" once below it, never "0.0 years"."""
    if score.runway_years is None:
        return "–"
    if score.runway_years <= 0:
        return "absorbed"
    return f"{score.runway_years:.1f} years"


def _person(user) -> str:
    if user is None:
        return "a former member"
    return printable(user.get_full_name().strip() or user.get_username())


def combination(name: str, tasks: list[TaskSection], as_of: date) -> str:
    """One sentence: how the company's tasks combine into its position."""
    scored = [t for t in tasks if t.score.is_scored]
    unscored = [t.name for t in tasks if not t.score.is_scored]
    if not tasks:
        return f"{name} has no tasks yet, so it has no position on the map."
    if not scored:
        return (
            f"None of {name}'s tasks has evidence observed by {_day(as_of)}, "
            "so it has no position on the map."
        )
    if len(scored) == 1:
        sentence = f"{name} has one scored task, {scored[0].name}, and stands where it stands"
    else:
        parts = [f"{t.name} counts {t.share:.0%} (weight {t.weight:g})" for t in scored]
        sentence = (
            f"{name} stands at the weighted mean of its {len(scored)} scored tasks, for "
            f"frontier, proprietary and confidence alike: {', '.join(parts[:-1])} and {parts[-1]}"
        )
    if unscored:
        sentence += f"; {', '.join(unscored)} ha{'s' if len(unscored) == 1 else 've'} no "
        sentence += "evidence yet and count for nothing"
    return sentence + "."


def _as_svg_uri(figure) -> str:
    svg = rendering.render(figure, "svg")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _waterfall(task: Task, evidence: list[Evidence], as_of: date, rubric) -> str:
    contributions = export_data.task_contributions(evidence, as_of, rubric)
    figure = memo.waterfall_figure(
        contributions,
        rubric=rubric,
        text=memo.ChartText(printable(task.name)),
        preset="memo",
        with_text=False,
        max_bars=WATERFALL_BARS,
    )
    # Caption and footnote are the page's text; the chart needs only room for its bars,
    # so that a company of two tasks keeps to one page.
    bars = max(len([c for c in contributions if c.axis == axis]) for axis in scoring.AXES)
    figure.update_layout(
        height=memo.PX_PER_INCH * (0.8 + 0.12 * min(bars, WATERFALL_BARS) + 0.12),
        # Room above the panels for their titles ("Frontier (x)", "Proprietary (y)").
        margin_t=memo.PX_PER_INCH * 0.3,
    )
    return _as_svg_uri(figure)


def _map(user, fund: Fund, as_of: date, since: date, sections: dict[str, CompanySection]):
    """The summary's map: the map's own read, drawn with the pack's (export_scores') numbers."""
    filters = map_selectors.MapFilters(fund=fund.id, as_of=as_of, since=since)
    data = export_data.map_data(user, filters)
    # The companies the pack leaves out (passed, unless chosen) are not on its map either.
    data.view.points = [p for p in data.view.points if p.name in sections]
    for point in data.view.points:
        section = sections[point.name]
        # Today's map reads the stored scores, which lag while a re-score is pending: the
        # pack's map must show the numbers printed beside it.
        point.score = section.score
        point.before = section.then if section.then.is_scored else None
        point.name = printable(point.name)
        point.fund = printable(point.fund)
    return _as_svg_uri(export_data.map_chart(data, preset="memo"))


@dataclass(frozen=True)
class _Read:
    """What every company's section is drawn from: the pack's date and the fund's reads."""

    as_of: date
    since: date
    rubric: scoring.Rubric
    rubric_name: str
    scores: dict[tuple[str, str], scoring.Score]
    then: dict[tuple[str, str], scoring.Score]
    evidence_of: dict[int, list[Evidence]]

    def score(self, company: str, task: str = "", *, then: bool = False) -> scoring.Score:
        found = (self.then if then else self.scores).get((company, task))
        return found or scoring.score_task([], self.as_of, self.rubric)


def _company(company: Company, tasks: list[Task], read: _Read) -> CompanySection:
    """One company's section: its tasks (each with its waterfall), notes and counts."""
    as_of, rubric = read.as_of, read.rubric
    task_scores = {t.id: read.score(company.name, t.name) for t in tasks}
    scored_weight = sum(t.weight for t in tasks if task_scores[t.id].is_scored)
    share = {t.id: t.weight / scored_weight if task_scores[t.id].is_scored else 0.0 for t in tasks}
    sections = [
        TaskSection(
            name=printable(t.name),
            weight=t.weight,
            share=share[t.id],
            score=task_scores[t.id],
            waterfall=_waterfall(t, read.evidence_of.get(t.id, []), as_of, rubric)
            if task_scores[t.id].is_scored
            else "",
        )
        for t in tasks
    ]
    everything = [e for t in tasks for e in read.evidence_of.get(t.id, [])]
    weighted = [
        (t.weight, [e.as_scoring_row() for e in read.evidence_of.get(t.id, [])]) for t in tasks
    ]
    counted = [e for e in everything if e.observed_on <= as_of]
    # A note's pull on the company: its pull on its task, times the task's share.
    pull = {
        e.pk: scoring.contribution(e.as_scoring_row(), as_of, rubric) * share[e.task_id]
        for e in counted
    }
    influence = sorted(counted, key=lambda e: (-abs(pull[e.pk]), e.pk))
    scored_tasks = len([t for t in tasks if task_scores[t.id].is_scored])
    per_side = NOTES_PER_SIDE_ONE_TASK if scored_tasks <= 1 else NOTES_PER_SIDE_MORE_TASKS
    name = printable(company.name)
    lead = company.lead_partner
    return CompanySection(
        name=name,
        as_of=as_of,
        rubric=rubric,
        rubric_name=read.rubric_name,
        sector=printable(company.sector),
        stage=printable(company.stage),
        lead=_person(lead) if lead else "",
        score=read.score(company.name),
        then=read.score(company.name, then=True),
        tasks=sections,
        move=scoring.decompose_move(weighted, read.since, as_of, rubric, rubric),
        strengths=[_note(e, tasks) for e in influence if pull[e.pk] > 0][:per_side],
        weaknesses=[_note(e, tasks) for e in influence if pull[e.pk] < 0][:per_side],
        levers=_levers(tasks, weighted, as_of, rubric),
        costliest=_costliest(weighted, as_of, rubric),
        at_risk=value_at_risk([(t.weight, task_scores[t.id]) for t in tasks], as_of, rubric),
        status=company.status,
        check_size=float(company.check_size) if company.check_size else None,
        combination=combination(name, sections, as_of),
        counted=len(counted),
        later=len(everything) - len(counted),
        verified=len([e for e in counted if e.verified_at]),
    )


def _levers(tasks: list[Task], weighted, as_of: date, rubric: scoring.Rubric) -> list[str]:
    """What would buy runway: the notes that would add the most (scoring.runway_levers, as
    the company page lists them), worded as there, with what each adds."""
    said = []
    for lever in scoring.runway_levers(weighted, as_of, rubric, limit=LEVERS_PER_COMPANY):
        text = rubric_selectors.lever_text(rubric_selectors.Lever(tasks[lever.task_index], lever))
        gain = _runway_or_margin(lever.runway_gain, lever.margin_gain)
        said.append(f"{printable(text)}: {gain}")
    return said


def _runway_or_margin(runway: float, margin: float) -> str:
    """A change in runway where it shows at one decimal, else in margin (an absorbed
    company's runway stays 0 while its margin moves)."""
    if abs(runway) >= 0.05:
        return f"runway {moves.signed(runway)} y"
    return f"margin {moves.signed(margin)} pts"


def _costliest(weighted, as_of: date, rubric: scoring.Rubric) -> str:
    """What would cost it most: of the rubric numbers the company page's tornado moves by
    20 % either way (scoring.sensitivity), the change that takes the most runway (then
    margin), in words; empty when none costs anything."""
    worst = None
    for s in scoring.sensitivity(weighted, as_of, rubric):
        for lower, change in ((True, s.low), (False, s.high)):
            key = (change["runway_years"], change["margin"])
            if key < (0, 0) and (worst is None or key < worst[0]):
                worst = (key, s, lower)
    if worst is None:
        return ""
    (runway, margin), s, lower = worst
    name = s.factor.replace("_", " ")
    after = s.value * (0.8 if lower else 1.2)
    if s.kind == scoring.WEIGHT:
        change = f"{name} weighing 20 % {'less' if lower else 'more'} ({s.value:g} → {after:.3g})"
    else:
        change = (
            f"{name} notes aging 20 % {'faster' if lower else 'slower'} "
            f"(half-life {s.value:g} → {after:.0f} d)"
        )
    return f"{change}: {_runway_or_margin(runway, margin)}"


def _order(sections: list[CompanySection], order: str) -> list[CompanySection]:
    """Shortest runway first (absorbed first, the furthest below the boundary first,
    unscored last), or by name, or largest check first."""
    if order == ICPackOrder.NAME:
        return sorted(sections, key=lambda c: c.name.casefold())
    if order == ICPackOrder.CHECK_SIZE:
        return sorted(sections, key=lambda c: (-(c.check_size or 0), c.name.casefold()))
    return sorted(
        sections,
        key=lambda c: (
            not c.score.is_scored,
            c.score.runway_years or 0,
            c.score.margin or 0,
            c.name.casefold(),
        ),
    )


def _no_progress(done: int, total: int) -> None:
    return None


def assemble(pack: ICPack, progress: Callable[[int, int], None] = _no_progress) -> Document:
    """Read and draw everything the pack shows, as the member who asked for it sees the
    fund; ``progress(done, total)`` is told before the first company and after each."""
    user, fund, as_of = pack.requested_by, pack.fund, pack.as_of
    since = pack.since or as_of - DEFAULT_MOVEMENT
    if user is None or access.role_in(user, fund.id) is None:
        raise PackError(
            "The member who asked for this pack is no longer a member of the fund: build it again."
        )
    version = selectors.active_rubric_version()
    rubric = version.to_rubric()
    lines = portfolio_selectors.score_lines(as_of=as_of, fund_name=fund.name, user=user)
    then_lines = portfolio_selectors.score_lines(as_of=since, fund_name=fund.name, user=user)
    scores = {(line.company, line.task): line.score for line in lines}
    then = {(line.company, line.task): line.score for line in then_lines}
    everyone = access.scoped(Company.objects.select_related("lead_partner"), user).filter(fund=fund)
    chosen = everyone if pack.include_passed else everyone.exclude(status=CompanyStatus.PASSED)
    companies = list(chosen.order_by("name"))
    tasks = list(
        Task.objects.filter(company__in=companies).order_by("company_id", "-weight", "name")
    )
    evidence = list(
        # Sent-back and superseded notes do not count: not in the score, not in the pack.
        Evidence.objects.counting()
        .filter(task__in=tasks)
        .select_related("author")
        .order_by("-observed_on", "id")
    )
    tasks_of: dict[int, list[Task]] = {}
    for task in tasks:
        tasks_of.setdefault(task.company_id, []).append(task)
    evidence_of: dict[int, list[Evidence]] = {}
    for row in evidence:
        evidence_of.setdefault(row.task_id, []).append(row)
    read = _Read(as_of, since, rubric, printable(str(version)), scores, then, evidence_of)
    pack_sections: dict[str, CompanySection] = {}
    progress(0, len(companies))
    for company in companies:
        pack_sections[company.name] = _company(company, tasks_of.get(company.id, []), read)
        progress(len(pack_sections), len(companies))
    return Document(
        fund=printable(fund.name),
        as_of=as_of,
        since=since,
        rubric=rubric,
        rubric_name=printable(str(version)),
        built_by=printable(pack.requested_by_name),
        built_at=timezone.localtime(),
        map_chart=_map(user, fund, as_of, since, pack_sections),
        companies=_order(list(pack_sections.values()), pack.order),
        rubric_then_number=_other_version_on(since, version.number),
        order=pack.order,
        include_passed=pack.include_passed,
        passed_left_out=0 if pack.include_passed else everyone.count() - len(companies),
    )


def _other_version_on(day: date, number: int) -> int | None:
    """The number of the version in force on a day, where it is not ``number``: the pack
    scores both dates under the current version, which is worth a sentence."""
    then = selectors.adoption_on(day, selectors.adoptions())
    return then.number if then is not None and then.number != number else None


def _note(e: Evidence, tasks: list[Task]) -> NoteSection:
    return NoteSection(
        task=printable(next(t.name for t in tasks if t.id == e.task_id)),
        factor=e.factor.replace("_", " "),
        stance=e.get_stance_display(),
        strength=e.strength,
        confidence=e.get_confidence_display(),
        observed_on=e.observed_on,
        author=_person(e.author),
        verified=e.verified_at is not None,
        source=printable(e.source),
        html=note_html(e.note) if e.note.strip() else "",
        direction=directions.direction(e.factor, e.stance),
    )


# --- Printing -----------------------------------------------------------------------------


def print_pdf(document_html: str) -> bytes:
    """HTML to PDF with headless Chromium. The document's own Content-Security-Policy
    allows no script and no fetch: every image is inline."""
    browser = rendering.browser_path()
    if browser is None:
        raise rendering.ExportUnavailable(rendering.INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="moat-pack-") as work:
        source, target = Path(work) / "pack.html", Path(work) / "pack.pdf"
        source.write_text(document_html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, timeout=PRINT_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as slow:
            raise PackError(
                f"Printing the pack took longer than {PRINT_TIMEOUT_SECONDS} s."
            ) from slow
        if not target.exists() or target.stat().st_size == 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise PackError(f"Chromium did not print the pack ({' '.join(detail)}).")
        return target.read_bytes()


# --- The build and its state --------------------------------------------------------------


def request_build(
    *,
    fund: Fund,
    user,
    as_of: date,
    since: date,
    order: str = ICPackOrder.RUNWAY,
    include_passed: bool = False,
) -> tuple[ICPack, bool]:
    """A new build for the fund, or the one already running (False): one at a time."""
    for _ in range(3):
        try:
            with transaction.atomic():
                pack = ICPack.objects.create(
                    fund=fund,
                    requested_by=user,
                    as_of=as_of,
                    since=since,
                    order=order,
                    include_passed=include_passed,
                    attempts=1,
                    heartbeat_at=timezone.now(),
                )
            return pack, True
        except IntegrityError:
            running = ICPack.objects.filter(fund=fund, status__in=BUILDING).first()
            if running is not None:
                return running, False
    raise PackError("Another build of this fund's pack keeps starting; try again.")


def fail(pack_id: int, message: str) -> None:
    ICPack.objects.filter(id=pack_id, status__in=BUILDING).update(
        status=ICPackStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


def _claim(pack_id: int) -> int | None:
    """Take a queued pack for this worker; the attempt number, or None if it is not queued."""
    claimed = ICPack.objects.filter(id=pack_id, status=ICPackStatus.QUEUED).update(
        status=ICPackStatus.RUNNING, heartbeat_at=timezone.now(), companies_done=0
    )
    if not claimed:
        return None
    return ICPack.objects.values_list("attempts", flat=True).get(id=pack_id)


def _mine(pack_id: int, attempt: int):
    return ICPack.objects.filter(id=pack_id, attempts=attempt, status=ICPackStatus.RUNNING)


def build(pack_id: int) -> str:
    """Build a queued pack: progress after each company, the file stored when printed.

    A duplicate message (a broker redelivering after a lost worker) finds the pack no
    longer queued and does nothing; an attempt that was declared stalled stops quietly.
    """
    attempt = _claim(pack_id)
    if attempt is None:
        return ""
    pack = ICPack.objects.select_related("fund", "requested_by").get(id=pack_id)

    def beat(done: int, total: int) -> None:
        if not _mine(pack_id, attempt).update(
            companies_done=done, companies_total=total, heartbeat_at=timezone.now()
        ):
            raise _Superseded

    try:
        document = assemble(pack, progress=beat)
        if not _mine(pack_id, attempt).update(heartbeat_at=timezone.now()):
            raise _Superseded
        pdf = print_pdf(render_to_string(TEMPLATE, {"pack": document}))
        name = f"ic-pack-{pack.fund_id}-{pack.as_of.isoformat()}-{uuid.uuid4().hex[:12]}.pdf"
        pack.file.save(name, ContentFile(pdf), save=False)
    except _Superseded:
        return ""
    except (PackError, rendering.ExportUnavailable) as error:
        fail(pack_id, str(error))
        return ""
    except Exception as error:
        # Logged with its traceback for the operator; the member sees what happened.
        logger.exception("IC pack %s failed", pack_id)
        fail(pack_id, f"The pack could not be built ({type(error).__name__}: {error}).")
        return ""
    if not _mine(pack_id, attempt).update(
        status=ICPackStatus.DONE, file=pack.file.name, finished_at=timezone.now()
    ):
        pack.file.delete(save=False)
        return ""
    return pack.file.name


def resolve_stalled(*, fund_id: int | None = None, retry: bool = True, now=None) -> list[int]:
    """Packs whose build went silent: queued again once (their ids are returned, for the
    caller to enqueue), then failed with a message. Never left "building"."""
    now = now or timezone.now()
    cutoff = now - STALLED_AFTER
    silent = ICPack.objects.filter(status__in=BUILDING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    if fund_id is not None:
        silent = silent.filter(fund_id=fund_id)
    again = []
    for pack in silent:
        unchanged = ICPack.objects.filter(
            id=pack.id, status=pack.status, attempts=pack.attempts, heartbeat_at=pack.heartbeat_at
        )
        if retry and pack.attempts < MAX_ATTEMPTS:
            if unchanged.update(
                status=ICPackStatus.QUEUED,
                attempts=F("attempts") + 1,
                companies_done=0,
                heartbeat_at=now,
            ):
                again.append(pack.id)
            continue
        message = STALLED_QUEUED if pack.status == ICPackStatus.QUEUED else STALLED_RUNNING
        unchanged.update(status=ICPackStatus.FAILED, error=message, finished_at=now)
    return again


def sweep_expired(now=None) -> int:
    """Delete packs older than a day, with their files."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    expired = list(ICPack.objects.filter(created_at__lt=cutoff).filter(~Q(status__in=BUILDING)))
    for pack in expired:
        if pack.file:
            pack.file.delete(save=False)
    ICPack.objects.filter(id__in=[p.id for p in expired]).delete()
    return len(expired)
