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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


def due_for_reunderwriting(
    latest_observed_on: date | None, as_of: date, rubric: Rubric = DEFAULT_RUBRIC
) -> bool:
    """A task with no evidence newer than the rubric's limit is due for re-underwriting."""
    if latest_observed_on is None:
        return True
    return (as_of - latest_observed_on).days > rubric.reunderwrite_after_days
