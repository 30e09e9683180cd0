"""The scoring model of Moat map: evidence in, scores out.

A pure module (no database, no Django) so that it can be read in one sitting and
tested exhaustively. The database-facing code feeds it evidence, or sums of
contributions computed in SQL for the bulk paths, and stores what it returns.

Axes run 0-100 and "up and to the right" is good:
- x, frontier: 100 = nobody can score this task from outside yet;
- y, proprietary: 100 = correctness can only be judged inside the customer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType

X = "x"
Y = "y"
AXES = (X, Y)

SUPPORTS = 1
CONTRADICTS = -1

UNSCORED = "unscored"
UNTRAINABLE = "untrainable"
LAB_TERRITORY = "lab_territory"
COMMODITY_TOKENS = "commodity_tokens"
SPECIALIST_MODELS = "specialist_models"
QUADRANTS = (UNTRAINABLE, LAB_TERRITORY, COMMODITY_TOKENS, SPECIALIST_MODELS)

CONFIDENCE_VALUES: Mapping[str, float] = MappingProxyType({"low": 0.3, "medium": 0.6, "high": 0.9})
DAYS_PER_YEAR = 365.25
_BELOW_ONE = math.nextafter(1.0, 0.0)


@dataclass(frozen=True)
class Factor:
    """One entry of the evidence vocabulary: the axis it moves and which way."""

    code: str
    axis: str
    polarity: int
    weight: float
    half_life_days: float
    meaning: str


FACTORS: tuple[Factor, ...] = (
    Factor(
        "public_benchmark", X, -1, 1.0, 180, "A public benchmark or leaderboard measures this task"
    ),
    Factor(
        "cheap_verification",
        X,
        -1,
        1.0,
        365,
        "Correctness can be checked at near-zero cost (compiler, tests, exact answers)",
    ),
    Factor("public_training_data", X, -1, 0.7, 365, "Abundant public data exists for the task"),
    Factor(
        "frontier_model_parity",
        X,
        -1,
        1.2,
        180,
        "General models already do the task about as well as the product",
    ),
    Factor(
        "open_model_parity",
        X,
        -1,
        0.8,
        180,
        "Open or distilled models are good enough; buyers ask only about price",
    ),
    Factor("lab_first_party", X, -1, 0.8, 270, "A model lab ships its own product for this task"),
    Factor(
        "long_feedback_loop",
        X,
        +1,
        0.8,
        730,
        "Whether the work was right is known only after months or years in production",
    ),
    Factor(
        "tacit_judgment",
        X,
        +1,
        0.7,
        730,
        "The task turns on judgment that no external score captures",
    ),
    Factor(
        "proprietary_data", Y, +1, 1.0, 730, "Doing the task well needs the customer's private data"
    ),
    Factor(
        "system_access",
        Y,
        +1,
        1.2,
        730,
        "The product holds permissions inside customer systems (the lock)",
    ),
    Factor(
        "accountability",
        Y,
        +1,
        1.0,
        1095,
        "The company carries liability, a licence or contractual responsibility for outcomes",
    ),
    Factor(
        "user_habit", Y, +1, 1.0, 365, "Professionals use it habitually and trust it (the bolt)"
    ),
    Factor(
        "private_eval", Y, +1, 1.2, 540, 'The company owns the definition of "good" for this task'
    ),
    Factor(
        "outcome_pricing",
        Y,
        +1,
        0.6,
        540,
        "It is paid on outcomes, so its price is itself an evaluation",
    ),
    Factor(
        "time_in_production",
        Y,
        +1,
        0.8,
        1095,
        "Its correctness has been proven by years under real load",
    ),
    Factor(
        "workflow_depth",
        Y,
        +1,
        0.8,
        730,
        "The task spans a long, transaction-level workflow with its own structure",
    ),
    Factor(
        "portable_workflow",
        Y,
        -1,
        0.8,
        365,
        "The workflow is standardised and portable; an outsider could crawl in",
    ),
)
FACTORS_BY_CODE: Mapping[str, Factor] = MappingProxyType({f.code: f for f in FACTORS})

DEFAULT_QUADRANT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        UNTRAINABLE: "Untrainable",
        LAB_TERRITORY: "Lab territory",
        COMMODITY_TOKENS: "Commodity tokens",
        SPECIALIST_MODELS: "Specialist models",
        UNSCORED: "Unscored",
    }
)


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Rubric:
    """The firm's parameters: every number of the model, with the defaults of scoring.md."""

    factor_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen({f.code: f.weight for f in FACTORS})
    )
    half_lives: Mapping[str, float] = field(
        default_factory=lambda: _frozen({f.code: f.half_life_days for f in FACTORS})
    )
    unverified_weight: float = 0.7
    scale: float = 1.0
    mass_for_confidence: float = 2.0
    proprietary_weight: float = 1.5
    boundary_at_epoch: float = 110.0
    boundary_epoch: date = date(2026, 1, 1)
    boundary_drift_per_year: float = 8.0
    reunderwrite_after_days: int = 180
    quadrant_labels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_QUADRANT_LABELS)

    def label(self, quadrant: str) -> str:
        return self.quadrant_labels.get(quadrant, DEFAULT_QUADRANT_LABELS[quadrant])


DEFAULT_RUBRIC = Rubric()


@dataclass(frozen=True)
class EvidenceRow:
    """What the model needs of one evidence row."""

    factor: str
    stance: int
    strength: int
    confidence: str
    observed_on: date
    verified: bool = False


@dataclass(frozen=True)
class Score:
    """The scores of a task or a company as of one date.

    An unscored result keeps the know-nothing prior (50, 50) but has no
    quadrant, margin or runway: callers must never draw it in a quadrant.
    """

    x: float
    y: float
    confidence: float
    quadrant: str
    margin: float | None
    runway_years: float | None
    evidence_count: int = 0

    @property
    def is_scored(self) -> bool:
        return self.quadrant != UNSCORED

    @classmethod
    def unscored(cls, evidence_count: int = 0) -> Score:
        """No quadrant, margin or runway: the know-nothing prior (50, 50), never drawn."""
        return cls(50.0, 50.0, 0.0, UNSCORED, None, None, evidence_count)


def decay(age_days: float, half_life_days: float) -> float:
    """Weight left to a row observed ``age_days`` ago: 0.5 ^ (age / half-life)."""
    return 0.5 ** (age_days / half_life_days)


def contribution(row: EvidenceRow, as_of: date, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """Signed contribution of one row to its factor's axis; 0 for a row observed after as_of."""
    if row.observed_on > as_of:
        return 0.0
    factor = FACTORS_BY_CODE[row.factor]
    verified_weight = 1.0 if row.verified else rubric.unverified_weight
    age_days = (as_of - row.observed_on).days
    return (
        factor.polarity
        * row.stance
        * rubric.factor_weights[row.factor]
        * (row.strength / 5)
        * CONFIDENCE_VALUES[row.confidence]
        * verified_weight
        * decay(age_days, rubric.half_lives[row.factor])
    )


def axis_score(raw: float, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """100 · logistic(raw / scale): no evidence gives 50."""
    z = raw / rubric.scale
    # Written in two branches so that a very large |z| cannot overflow exp().
    if z >= 0:
        return 100.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return 100.0 * e / (1.0 + e)


def confidence_from_mass(mass: float, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """1 − exp(−M / mass_for_confidence); 0 with no evidence."""
    if mass <= 0:
        return 0.0
    # In floating point a large mass rounds to exactly 1; confidence stays below certainty.
    return min(-math.expm1(-mass / rubric.mass_for_confidence), _BELOW_ONE)


def quadrant_of(x: float, y: float, confidence: float) -> str:
    """The quadrant a point sits in; Unscored while no evidence counts."""
    if confidence <= 0:
        return UNSCORED
    if x >= 50:
        return UNTRAINABLE if y >= 50 else LAB_TERRITORY
    return SPECIALIST_MODELS if y >= 50 else COMMODITY_TOKENS


def boundary_at(day: date, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """B(t): the absorption boundary's level on ``day``; it rises with time."""
    years = (day - rubric.boundary_epoch).days / DAYS_PER_YEAR
    return rubric.boundary_at_epoch + rubric.boundary_drift_per_year * years


def absorption_margin(x: float, y: float, as_of: date, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """x + k·y − B(as_of): how far above the boundary a point stands."""
    return x + rubric.proprietary_weight * y - boundary_at(as_of, rubric)


def runway_years(margin: float, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """Years until the rising boundary reaches the point; 0 once absorbed."""
    if margin <= 0:
        return 0.0
    if rubric.boundary_drift_per_year <= 0:
        return math.inf  # a boundary that never rises never reaches the point
    return margin / rubric.boundary_drift_per_year


def runway_shown(years: float) -> float:
    """The runway as every page shows it (one decimal): thresholds are compared on it, so
    an alert never says "under a year" of a runway that reads 1.0 y."""
    return round(years, 1)


def boundary_y(x: float, day: date, rubric: Rubric = DEFAULT_RUBRIC) -> float:
    """The boundary as a line on the map: the y at which x + k·y = B(day)."""
    return (boundary_at(day, rubric) - x) / rubric.proprietary_weight


def project_boundary_dates(as_of: date, years: Iterable[int] = (0, 1, 2)) -> list[date]:
    """The dates the map draws the boundary at: as_of and whole years after it."""
    return [as_of + timedelta(days=round(n * DAYS_PER_YEAR)) for n in years]


def _score(x: float, y: float, confidence: float, as_of: date, rubric: Rubric, count: int) -> Score:
    quadrant = quadrant_of(x, y, confidence)
    if quadrant == UNSCORED:
        return Score.unscored(count)
    margin = absorption_margin(x, y, as_of, rubric)
    return Score(x, y, confidence, quadrant, margin, runway_years(margin, rubric), count)


def on_boundary(score: Score, day: date, rubric: Rubric = DEFAULT_RUBRIC) -> Score:
    """The same position (x, y, confidence) measured against the boundary of another day:
    only its margin and runway change. The margin is the one thing of a score that depends
    on the date beyond the evidence, so a state of "why it moved" needs no re-score."""
    if not score.is_scored:
        return score
    return _score(score.x, score.y, score.confidence, day, rubric, score.evidence_count)


def score_from_sums(
    raw_x: float,
    raw_y: float,
    mass: float,
    evidence_count: int,
    as_of: date,
    rubric: Rubric = DEFAULT_RUBRIC,
) -> Score:
    """A task's scores from its per-axis raw sums and its evidence mass.

    The bulk paths compute the sums in SQL and finish here, so that both paths
    share one definition of everything after the sum.
    """
    confidence = confidence_from_mass(mass, rubric)
    return _score(
        axis_score(raw_x, rubric),
        axis_score(raw_y, rubric),
        confidence,
        as_of,
        rubric,
        evidence_count,
    )


def score_task(rows: Iterable[EvidenceRow], as_of: date, rubric: Rubric = DEFAULT_RUBRIC) -> Score:
    """A task's scores as of a date, from all its evidence (rows after as_of are ignored)."""
    per_axis: dict[str, list[float]] = {X: [], Y: []}
    count = 0
    for row in rows:
        if row.observed_on > as_of:
            continue
        count += 1
        per_axis[FACTORS_BY_CODE[row.factor].axis].append(contribution(row, as_of, rubric))
    # fsum makes the result independent of the rows' order, to the last bit.
    raw_x = math.fsum(per_axis[X])
    raw_y = math.fsum(per_axis[Y])
    mass = math.fsum(abs(c) for c in per_axis[X] + per_axis[Y])
    return score_from_sums(raw_x, raw_y, mass, count, as_of, rubric)


def score_company(
    tasks: Iterable[tuple[float, Score]], as_of: date, rubric: Rubric = DEFAULT_RUBRIC
) -> Score:
    """A company's scores: task-weight-weighted means over its scored tasks."""
    scored = [(weight, score) for weight, score in tasks if score.is_scored]
    count = sum(score.evidence_count for _, score in scored)
    total_weight = math.fsum(weight for weight, _ in scored)
    if not scored or total_weight <= 0:
        return Score.unscored(count)
    x = math.fsum(w * s.x for w, s in scored) / total_weight
    y = math.fsum(w * s.y for w, s in scored) / total_weight
    confidence = math.fsum(w * s.confidence for w, s in scored) / total_weight
    # Rounding can put a weighted mean of equal values a hair outside them.
    x = min(max(x, min(s.x for _, s in scored)), max(s.x for _, s in scored))
    y = min(max(y, min(s.y for _, s in scored)), max(s.y for _, s in scored))
    return _score(x, y, confidence, as_of, rubric, count)


@dataclass(frozen=True)
class ValueShares:
    """How much of a company's value (by task weight, over all its tasks, scored or not)
    the boundary has absorbed today, will have within one year and within two years, and
    how much rests on no counting evidence at all. Fractions 0-1; the absorbed shares only
    grow with the horizon."""

    absorbed: float
    absorbed_1y: float
    absorbed_2y: float
    unscored: float

    @classmethod
    def stored(cls, values: Sequence[float | None]) -> ValueShares | None:
        """The shares as stored (in VALUE_SHARE_FIELDS order); None while any is missing."""
        return None if None in values else cls(*values)

    def as_dict(self) -> dict[str, float]:
        """The shares under the names every export and the API use."""
        return dict(zip(VALUE_SHARE_FIELDS, astuple(self), strict=True))


VALUE_SHARE_FIELDS = ("value_absorbed", "value_absorbed_1y", "value_absorbed_2y", "value_unscored")


def value_shares(
    tasks: Iterable[tuple[float, Score]], as_of: date, rubric: Rubric = DEFAULT_RUBRIC
) -> ValueShares | None:
    """The company's whole truth behind its mean position: the share of its task weight
    absorbed within 0, 1 and 2 years (a task counts when it is scored and
    x + k·y < B(as_of + h), at the dates the map draws the boundary), and the share that is
    unscored. None for a company without tasks (no value to share out)."""
    tasks = list(tasks)
    total = math.fsum(weight for weight, _ in tasks)
    if not tasks or total <= 0:
        return None
    levels = [boundary_at(day, rubric) for day in project_boundary_dates(as_of)]

    def share(counts) -> float:
        return math.fsum(weight for weight, score in tasks if counts(score)) / total

    def absorbed_by(level: float):
        return lambda s: s.is_scored and s.x + rubric.proprietary_weight * s.y < level

    absorbed = [share(absorbed_by(level)) for level in levels]
    return ValueShares(*absorbed, share(lambda s: not s.is_scored))


# --- The partner's two questions: why did it move, and what if? ----------------------------
#
# Pure functions over a company's evidence, given as one (task weight, rows) pair per task.
# They re-score through score_task and score_company above, so they agree with every other
# path by construction.

TaskRows = tuple[float, Sequence[EvidenceRow]]

NEW_EVIDENCE = "new_evidence"
DECAY = "decay"
RUBRIC_CHANGE = "rubric"
BOUNDARY_RISE = "boundary"
# The order the parts are listed in; the order they are computed in is MOVE_STEPS below.
MOVE_PARTS = (NEW_EVIDENCE, DECAY, RUBRIC_CHANGE, BOUNDARY_RISE)
MOVE_MEASURES = ("x", "y", "margin", "runway_years")


def company_state(
    tasks: Iterable[TaskRows],
    *,
    rows_until: date,
    decay_at: date,
    rubric: Rubric,
    boundary_on: date,
) -> Score:
    """A company's scores from the rows observed by ``rows_until``, decayed to ``decay_at``,
    under ``rubric``, against the boundary of ``boundary_on``. With all three dates equal
    this is the company's score as of that date."""
    scored = [
        (weight, score_task([r for r in rows if r.observed_on <= rows_until], decay_at, rubric))
        for weight, rows in tasks
    ]
    return score_company(scored, boundary_on, rubric)


@dataclass(frozen=True)
class Movement:
    """Why a company moved between two dates: the total change of each measure and its parts.

    A stated sequential decomposition: from the start, (1) the evidence held then ages to
    the end date (decay), (2) the evidence observed since is added (new evidence), (3) the
    rubric in force then is replaced by the one in force now (rubric), (4) the boundary
    rises from the start date to the end date (boundary). Each part is the change of one
    step, so the parts add up to the total; a step whose cause is absent changes nothing.
    Unscored at the start (no evidence then): ``parts`` is empty.
    """

    start_on: date
    end_on: date
    start: Score
    end: Score
    parts: Mapping[str, Mapping[str, float]]

    @property
    def is_decomposed(self) -> bool:
        return bool(self.parts)

    def total(self, measure: str) -> float:
        return _measure(self.end, measure) - _measure(self.start, measure)


def _measure(score: Score, measure: str) -> float:
    value = getattr(score, measure)
    return 0.0 if value is None else value


def decompose_move(
    tasks: Sequence[TaskRows],
    start_on: date,
    end_on: date,
    rubric_then: Rubric,
    rubric_now: Rubric,
) -> Movement:
    """Split the change in x, y, margin and runway from start_on to end_on into new
    evidence, decay, rubric change and boundary rise (see Movement)."""
    tasks = [(weight, tuple(rows)) for weight, rows in tasks]
    steps = (
        (start_on, start_on, rubric_then, start_on),
        (start_on, end_on, rubric_then, start_on),  # decay: old rows age to end_on
        (end_on, end_on, rubric_then, start_on),  # new evidence: rows since start_on join
        (end_on, end_on, rubric_now, start_on),  # rubric: today's parameters
        (end_on, end_on, rubric_now, end_on),  # boundary: its rise since start_on
    )
    states = [
        company_state(tasks, rows_until=u, decay_at=d, rubric=r, boundary_on=b)
        for u, d, r, b in steps
    ]
    return movement_from_states(start_on, end_on, states)


# The cause of each step from one state of a decomposition to the next.
MOVE_STEPS = (DECAY, NEW_EVIDENCE, RUBRIC_CHANGE, BOUNDARY_RISE)


def movement_from_states(start_on: date, end_on: date, states: Sequence[Score]) -> Movement:
    """The Movement from the five states of the stated decomposition, S0 to S4 (the start;
    old rows aged to end_on; with the rows since; under today's rubric; against today's
    boundary), however they were computed: by the pure model (decompose_move) or by the
    SQL path (movement_under_one_rubric)."""
    start, end = states[0], states[-1]
    if not start.is_scored or not end.is_scored:
        return Movement(start_on, end_on, start, end, {})
    parts = {
        measure: {
            cause: _measure(after, measure) - _measure(before, measure)
            for cause, before, after in zip(MOVE_STEPS, states[:-1], states[1:], strict=True)
        }
        for measure in MOVE_MEASURES
    }
    return Movement(start_on, end_on, start, end, parts)


def movement_under_one_rubric(
    start_on: date, end_on: date, start: Score, aged: Score, end: Score, rubric: Rubric
) -> Movement:
    """Why it moved when both dates are scored under one rubric (the map's trails, the IC
    pack), from three scores: ``start`` as of start_on, ``aged`` from the rows observed by
    start_on decayed to end_on, ``end`` as of end_on. The rubric part is zero by
    construction; the other states differ from these only by the boundary's day."""
    at_old_boundary = on_boundary(end, start_on, rubric)
    states = (start, on_boundary(aged, start_on, rubric), at_old_boundary, at_old_boundary, end)
    return movement_from_states(start_on, end_on, states)


def rounded_parts(total: float, parts: Sequence[float], digits: int = 1) -> list[float]:
    """Parts rounded so that they still add up to the rounded total (largest remainder):
    a line that says "−1.3: +0.6, −0.9, −1.0" must add up on the page too."""
    unit = 10.0**-digits
    target = round(round(total, digits) / unit)
    floors = [math.floor(p / unit) for p in parts]
    remainders = sorted(range(len(parts)), key=lambda i: parts[i] / unit - floors[i], reverse=True)
    shortfall = target - sum(floors)
    units = list(floors)
    order = remainders if shortfall >= 0 else remainders[::-1]
    for i in order[: abs(shortfall)]:
        units[i] += 1 if shortfall >= 0 else -1
    return [round(u * unit, digits) for u in units]


WEIGHT = "weight"
HALF_LIFE = "half_life"


@dataclass(frozen=True)
class Sensitivity:
    """What one rubric number changed by −step and +step does to a company: the change
    in x, y, margin and runway for each (low, high)."""

    kind: str  # WEIGHT or HALF_LIFE
    factor: str
    value: float
    low: Mapping[str, float]
    high: Mapping[str, float]

    def swing(self, measure: str) -> float:
        return max(abs(self.low[measure]), abs(self.high[measure]))


def _with_factor_number(rubric: Rubric, kind: str, factor: str, value: float) -> Rubric:
    if kind == WEIGHT:
        return replace(rubric, factor_weights=_frozen({**rubric.factor_weights, factor: value}))
    return replace(rubric, half_lives=_frozen({**rubric.half_lives, factor: value}))


def _changes(before: Score, after: Score) -> dict[str, float]:
    return {m: _measure(after, m) - _measure(before, m) for m in MOVE_MEASURES}


def sensitivity(
    tasks: Sequence[TaskRows], as_of: date, rubric: Rubric, step: float = 0.2
) -> list[Sensitivity]:
    """Each factor weight and half-life changed by ±step, the effect on the company;
    largest effect on runway first (then on margin, which still moves once absorbed).
    Empty for a company with no scored task."""
    tasks = [(weight, tuple(r for r in rows if r.observed_on <= as_of)) for weight, rows in tasks]
    weights = [weight for weight, _ in tasks]
    task_scores = [score_task(rows, as_of, rubric) for _, rows in tasks]
    base = score_company(list(zip(weights, task_scores, strict=True)), as_of, rubric)
    if not base.is_scored:
        return []

    def score(changed: Rubric, factor: str) -> Score:
        # A task with no row on the factor scores exactly as before: only the others change.
        scores = [
            score_task(rows, as_of, changed) if any(r.factor == factor for r in rows) else old
            for (_, rows), old in zip(tasks, task_scores, strict=True)
        ]
        return score_company(list(zip(weights, scores, strict=True)), as_of, changed)

    results = []
    for kind, numbers in ((WEIGHT, rubric.factor_weights), (HALF_LIFE, rubric.half_lives)):
        for factor in FACTORS:
            value = numbers[factor.code]
            low, high = (
                _changes(
                    base,
                    score(_with_factor_number(rubric, kind, factor.code, value * m), factor.code),
                )
                for m in (1 - step, 1 + step)
            )
            results.append(Sensitivity(kind, factor.code, value, low, high))
    results.sort(key=lambda s: (-s.swing("runway_years"), -s.swing("margin"), s.factor, s.kind))
    return results


@dataclass(frozen=True)
class Lever:
    """A note that is not there yet: strong, highly confident, verified, observed today,
    on one factor of one task, in the direction that lifts its axis."""

    task_index: int
    factor: str
    stance: int
    runway_gain: float
    margin_gain: float
    after: Score


def runway_levers(
    tasks: Sequence[TaskRows], as_of: date, rubric: Rubric, limit: int = 5
) -> list[Lever]:
    """The few notes that would add the most runway if found and verified: every factor of
    every task tried once, ranked by runway gained (then margin, for an absorbed company)."""
    tasks = [(weight, tuple(r for r in rows if r.observed_on <= as_of)) for weight, rows in tasks]
    # Only the task that gets the note is re-scored; the others keep their scores.
    task_scores = [score_task(rows, as_of, rubric) for _, rows in tasks]
    weights = [weight for weight, _ in tasks]
    base = score_company(list(zip(weights, task_scores, strict=True)), as_of, rubric)
    levers = []
    for index, (_, rows) in enumerate(tasks):
        for factor in FACTORS:
            note = EvidenceRow(factor.code, factor.polarity, 5, "high", as_of, verified=True)
            scores = list(task_scores)
            scores[index] = score_task((*rows, note), as_of, rubric)
            after = score_company(list(zip(weights, scores, strict=True)), as_of, rubric)
            if not after.is_scored:
                continue
            margin_gain = _measure(after, "margin") - _measure(base, "margin")
            if not base.is_scored:
                margin_gain = _measure(after, "margin")
            if margin_gain <= 0:
                continue
            runway_gain = _measure(after, "runway_years") - _measure(base, "runway_years")
            levers.append(
                Lever(index, factor.code, factor.polarity, runway_gain, margin_gain, after)
            )
    levers.sort(key=lambda lv: (-lv.runway_gain, -lv.margin_gain, lv.task_index, lv.factor))
    return levers[:limit]
