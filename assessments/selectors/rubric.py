"""Reads for the rubric studio and the company page's "why it moved" and "what if".

The preview scores a draft with the SQL path of the past-date map (scoring_sql, with the
draft's parameters) and writes nothing. The company-page answers come from the pure model
(scoring.decompose_move, sensitivity, runway_levers) over the company's evidence, read in
one query.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from .. import access, moves, scoring
from ..models import (
    Company,
    CompanySnapshot,
    Evidence,
    Fund,
    RubricVersion,
    Task,
    TaskSnapshot,
)
from . import Adoption, active_rubric_version, adoption_on, adoptions, today
from . import map as map_selectors

# --- Versions and when each was adopted ----------------------------------------------------


def adoption_marks() -> list[tuple[date, str]]:
    """What the history charts mark: each adoption after the firm's first version, one per
    day (the last that day), as (day, "v2 adopted")."""
    per_day = {a.day: a for a in adoptions()[1:]}
    return [(day, f"v{a.number} adopted") for day, a in sorted(per_day.items())]


def restatement_dates(version: RubricVersion) -> list[date]:
    """The dates of the stored history recorded under any other version: the dates at which
    activating this version restates its history (its own recorded dates need nothing, and
    today is re-scored, not restated)."""
    dates: set[date] = set()
    for model in (TaskSnapshot, CompanySnapshot):
        dates |= set(
            model.objects.exclude(rubric_version=version)
            .values_list("as_of", flat=True)
            .distinct()
            .order_by()
        )
    dates.discard(today())
    return sorted(dates)


def version_on(day: date, adopted: list[Adoption], versions: dict[int, RubricVersion]):
    """The version in force on a day: the last adopted by then, else the first ever."""
    in_force = adoption_on(day, adopted)
    if in_force and in_force.version_id in versions:
        return versions[in_force.version_id]
    return active_rubric_version()


def shown(value) -> str:
    """A rubric value as the editor shows it: 1.2, 180, 1 Jan 2026."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    """One number or name of a draft that differs from the active version."""

    label: str
    active: object
    draft: object

    @property
    def was(self) -> str:
        return shown(self.active)

    @property
    def now(self) -> str:
        return shown(self.draft)


def compare(draft: scoring.Rubric, active: scoring.Rubric) -> list[FieldChange]:
    """Field by field, what a version changes against the active one."""
    changes = []
    for f in scoring.FACTORS:
        name = f.code.replace("_", " ")
        for label, mapping in (("weight", "factor_weights"), ("half-life, days", "half_lives")):
            old, new = getattr(active, mapping)[f.code], getattr(draft, mapping)[f.code]
            if not math.isclose(old, new):
                changes.append(FieldChange(f"{name} {label}", old, new))
    for attr, label in PARAMETER_LABELS.items():
        old, new = getattr(active, attr), getattr(draft, attr)
        if old != new:
            changes.append(FieldChange(label, old, new))
    for quadrant in scoring.QUADRANTS:
        if active.label(quadrant) != draft.label(quadrant):
            changes.append(
                FieldChange(
                    f"name of {scoring.DEFAULT_QUADRANT_LABELS[quadrant]}",
                    active.label(quadrant),
                    draft.label(quadrant),
                )
            )
    return changes


PARAMETER_LABELS = {
    "unverified_weight": "unverified weight",
    "scale": "scale",
    "mass_for_confidence": "mass for confidence",
    "proprietary_weight": "proprietary weight k",
    "boundary_at_epoch": "boundary level at epoch",
    "boundary_epoch": "boundary epoch",
    "boundary_drift_per_year": "boundary drift per year",
    "reunderwrite_after_days": "re-underwrite after, days",
}


# --- The preview -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    """A company (or task) that the draft would move."""

    point: map_selectors.MapPoint
    before: scoring.Score
    after: scoring.Score

    @property
    def changes_quadrant(self) -> bool:
        return self.before.quadrant != self.after.quadrant

    @property
    def crosses_boundary(self) -> bool:
        if not (self.before.is_scored and self.after.is_scored):
            return False
        return (self.before.margin > 0) != (self.after.margin > 0)

    @property
    def runway_change(self) -> float:
        return (self.after.runway_years or 0.0) - (self.before.runway_years or 0.0)

    @property
    def runway_change_text(self) -> str:
        return moves.signed(self.runway_change) + " y"

    @property
    def distance(self) -> float:
        if not (self.before.is_scored and self.after.is_scored):
            return 0.0
        return math.hypot(self.after.x - self.before.x, self.after.y - self.before.y)

    @property
    def size(self) -> tuple[float, float]:
        """How big the move is: the runway change, then the distance on the map."""
        return (abs(self.runway_change), self.distance)


@dataclass
class Preview:
    active: map_selectors.MapView
    draft_points: list[map_selectors.MapPoint]
    draft: scoring.Rubric
    movers: list[Mover]

    @property
    def quadrant_changes(self) -> int:
        return sum(m.changes_quadrant for m in self.movers)

    @property
    def boundary_crossings(self) -> int:
        return sum(m.crosses_boundary for m in self.movers)

    @property
    def draft_scored(self) -> list[map_selectors.MapPoint]:
        return [p for p in self.draft_points if p.score.is_scored]


MOVERS_SHOWN = 50
# A move smaller than this (points on the map, years of runway) is rounding, not a mover.
MOVE_EPSILON = 0.05


def draft_scores(
    ids: list[int], per: str, day: date, rubric: scoring.Rubric
) -> dict[int, scoring.Score]:
    """Scores of companies or tasks as of a day under any rubric, by the SQL path of the
    past-date map: one query for the tasks' weights and one grouped scoring statement."""
    weights = map_selectors.task_weights(ids, per)
    return map_selectors.scores_as_of(ids, weights, day, rubric)


def preview(user, filters: map_selectors.MapFilters, draft: RubricVersion) -> Preview:
    """The map under the active rubric (exactly the map page's points, same filters and
    date) and the same points under the draft, with the movers, largest move first."""
    # The preview's trails run from the active version to the draft, never from a date: a
    # "movement since" of the map page would only add queries and a hover line that lies.
    active = map_selectors.map_points(user, replace(filters, since=None))
    rubric = draft.to_rubric()
    ids = [p.id for p in active.points]
    scores = draft_scores(ids, filters.per, active.as_of, rubric)
    unscored = scoring.score_task([], active.as_of, rubric)
    draft_points = [
        replace(p, score=scores.get(p.id, unscored), before=p.score if p.score.is_scored else None)
        for p in active.points
    ]
    movers = [
        Mover(p, p.score, d.score)
        for p, d in zip(active.points, draft_points, strict=True)
        if _moved(p.score, d.score)
    ]
    movers.sort(key=lambda m: m.point.name.lower())
    movers.sort(key=lambda m: m.size, reverse=True)
    return Preview(active=active, draft_points=draft_points, draft=rubric, movers=movers)


@dataclass(frozen=True)
class FundMoves:
    name: str
    moved: int
    companies: int


def funds_moved(user, draft: RubricVersion) -> list[FundMoves]:
    """Every fund of the firm, with how many of its companies the draft moves today (the
    activation re-scores them all, whoever activates): counts only. Funds the user is not a
    member of are not named: they are counted together, as "other funds"."""
    visible = set(access.visible_funds(user).values_list("id", flat=True))
    companies = list(Company.objects.values_list("id", "fund_id"))
    ids = [pk for pk, _ in companies]
    day = today()
    before = draft_scores(ids, "company", day, active_rubric_version().to_rubric())
    after = draft_scores(ids, "company", day, draft.to_rubric())
    unscored = scoring.score_task([], day, draft.to_rubric())
    funds = dict(Fund.objects.values_list("id", "name"))
    hidden = len(funds.keys() - visible)
    other = f"{hidden} other fund{'s' if hidden != 1 else ''} (not yours: not named)"
    counts = {funds[f]: [0, 0] for f in sorted(visible & funds.keys(), key=funds.get)}
    if hidden:
        counts[other] = [0, 0]
    for pk, fund_id in companies:
        row = counts[funds[fund_id] if fund_id in visible else other]
        row[1] += 1
        row[0] += _moved(before.get(pk, unscored), after.get(pk, unscored))
    return [FundMoves(name, moved, total) for name, (moved, total) in counts.items()]


def _moved(before: scoring.Score, after: scoring.Score) -> bool:
    if before.quadrant != after.quadrant:
        return True
    if not (before.is_scored and after.is_scored):
        return False
    return (
        math.hypot(after.x - before.x, after.y - before.y) >= MOVE_EPSILON
        or abs((after.runway_years or 0) - (before.runway_years or 0)) >= MOVE_EPSILON
        or (before.margin > 0) != (after.margin > 0)
    )


# --- The company page: why it moved, what would buy runway, what it rests on ----------------


@dataclass(frozen=True)
class Lever:
    task: Task
    lever: scoring.Lever


@dataclass
class CompanyInsight:
    company: Company
    as_of: date
    since: date
    movement: scoring.Movement
    rubric_then: RubricVersion
    rubric_now: RubricVersion
    levers: list[Lever]
    sensitivity: list[scoring.Sensitivity]
    recorded: list[CompanySnapshot]
    has_evidence: bool


def default_since(as_of: date) -> date:
    """A year back: the question a board asks once a year."""
    try:
        return as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - 1, day=28)


RECORDED_ROWS = 40
TORNADO_ROWS = 10


def company_insight(company: Company, *, since: date | None = None) -> CompanyInsight:
    """The company's move since a date split into its causes, the notes that would buy it
    the most runway, and how much each weight and half-life moves it (a fixed number of
    queries: the tasks, their evidence, the versions, their audit trail, recorded rows)."""
    as_of = today()
    since = min(since or default_since(as_of), as_of)
    tasks = list(company.tasks.order_by("-weight", "name"))
    rows: dict[int, list[scoring.EvidenceRow]] = defaultdict(list)
    # Sent-back and superseded notes count nowhere: not in the stored score, not here.
    for evidence in (
        Evidence.objects.counting()
        .filter(task__company=company)
        .only("task_id", "factor", "stance", "strength", "confidence", "observed_on", "verified_at")
    ):
        rows[evidence.task_id].append(evidence.as_scoring_row())
    weighted = [(t.weight, rows[t.id]) for t in tasks]
    now_version = active_rubric_version()
    versions = {v.pk: v for v in RubricVersion.objects.all()}
    then_version = version_on(since, adoptions(), versions)
    rubric_now = now_version.to_rubric()
    movement = scoring.decompose_move(weighted, since, as_of, then_version.to_rubric(), rubric_now)
    levers = [
        Lever(tasks[lv.task_index], lv)
        for lv in scoring.runway_levers(weighted, as_of, rubric_now, limit=5)
    ]
    recorded = list(
        CompanySnapshot.objects.filter(company=company, restated=False)
        .select_related("rubric_version")
        .order_by("-as_of", "-rubric_version__number")[:RECORDED_ROWS]
    )
    return CompanyInsight(
        company=company,
        as_of=as_of,
        since=since,
        movement=movement,
        rubric_then=then_version,
        rubric_now=now_version,
        levers=levers,
        sensitivity=scoring.sensitivity(weighted, as_of, rubric_now),
        recorded=recorded,
        has_evidence=any(rows.values()),
    )


def sensitivity_label(s: scoring.Sensitivity) -> str:
    """ "system access weight 1.2" or "system access half-life 730 d"."""
    name = s.factor.replace("_", " ")
    if s.kind == scoring.WEIGHT:
        return f"{name} weight {s.value:g}"
    return f"{name} half-life {s.value:g} d"


def lever_text(item: Lever) -> str:
    """ "a strong, verified system access note on 'First-pass review'"."""
    lever = item.lever
    factor = lever.factor.replace("_", " ")
    note = (
        f"a strong, verified {factor} note"
        if lever.stance == scoring.SUPPORTS
        else f"a strong, verified note contradicting {factor}"
    )
    return f"{note} on \u2018{item.task.name}\u2019"
