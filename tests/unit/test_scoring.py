"""Tests of the pure scoring module against docs/scoring.md.

Three kinds of test:
- property-based (Hypothesis) tests of the properties listed at the end of scoring.md
  (1-6 and 8; number 7 needs the database and is tested elsewhere);
- worked examples whose expected numbers are written out here as literal arithmetic
  from the formulas of scoring.md, not computed with the module's own helpers;
- the sample portfolio CSV, scored with the pure module and compared with the
  reference score CSVs in tests/data.
"""

import csv
import math
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments import scoring
from assessments.scoring import (
    COMMODITY_TOKENS,
    CONFIDENCE_VALUES,
    DEFAULT_QUADRANT_LABELS,
    DEFAULT_RUBRIC,
    FACTORS,
    FACTORS_BY_CODE,
    LAB_TERRITORY,
    SPECIALIST_MODELS,
    UNSCORED,
    UNTRAINABLE,
    EvidenceRow,
    Rubric,
    Score,
    X,
    Y,
    absorption_margin,
    boundary_at,
    contribution,
    quadrant_of,
    runway_years,
    score_company,
    score_task,
)

DATA = Path(__file__).resolve().parents[1] / "data"

# database=None: no .hypothesis folder is written into the tree.
PROPERTY = settings(max_examples=200, deadline=None, database=None)

FACTOR_CODES = [f.code for f in FACTORS]
PLUS_FACTOR_CODES = [f.code for f in FACTORS if f.polarity == +1]
MINUS_FACTOR_CODES = [f.code for f in FACTORS if f.polarity == -1]

WINDOW_START = date(2023, 1, 1)
WINDOW_END = date(2027, 12, 31)
MAX_AGE_DAYS = (WINDOW_END - WINDOW_START).days

# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

dates = st.dates(min_value=WINDOW_START, max_value=WINDOW_END)
stances = st.sampled_from([1, -1])
strengths = st.integers(min_value=1, max_value=5)
confidences = st.sampled_from(["low", "medium", "high"])


def evidence_rows(factor=None, stance=None, observed_on=None):
    """EvidenceRow with any field drawn at random unless a strategy is given."""
    return st.builds(
        EvidenceRow,
        factor=factor if factor is not None else st.sampled_from(FACTOR_CODES),
        stance=stance if stance is not None else stances,
        strength=strengths,
        confidence=confidences,
        observed_on=observed_on if observed_on is not None else dates,
        verified=st.booleans(),
    )


def _per_factor(values):
    return st.fixed_dictionaries(dict.fromkeys(FACTOR_CODES, values))


# A firm's rubric: every number positive. The ranges are wide but keep the evidence
# mass of at most 20 rows well short of M / mass_for_confidence ~ 37, where
# 1 - exp(-M / mass_for_confidence) rounds to 1.0 in floating point (see
# test_confidence_stays_below_one_for_a_realistic_amount_of_evidence).
rubrics = st.builds(
    Rubric,
    factor_weights=_per_factor(st.floats(min_value=0.05, max_value=2.0)),
    half_lives=_per_factor(st.floats(min_value=60.0, max_value=2000.0)),
    unverified_weight=st.floats(min_value=0.1, max_value=1.0),
    scale=st.floats(min_value=0.25, max_value=4.0),
    mass_for_confidence=st.floats(min_value=1.5, max_value=5.0),
    proprietary_weight=st.floats(min_value=0.5, max_value=3.0),
    boundary_at_epoch=st.floats(min_value=50.0, max_value=200.0),
    boundary_epoch=dates,
    # runway = margin / drift, so a rubric that scores needs a rising boundary; a flat
    # one (drift 0) is only used for the boundary itself (boundary_rubrics below).
    boundary_drift_per_year=st.floats(min_value=0.5, max_value=20.0),
)
any_rubric = st.one_of(st.just(DEFAULT_RUBRIC), rubrics)
boundary_rubrics = st.one_of(
    st.just(DEFAULT_RUBRIC),
    st.builds(
        Rubric,
        boundary_at_epoch=st.floats(min_value=-200.0, max_value=300.0),
        boundary_epoch=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
        boundary_drift_per_year=st.floats(min_value=0.0, max_value=50.0),
    ),
)
row_lists = st.lists(evidence_rows(), max_size=20)


@st.composite
def row_observed_by(draw, as_of, factor=None, stance=None):
    """A row observed on or before as_of (so that it counts)."""
    age = draw(st.integers(min_value=0, max_value=MAX_AGE_DAYS))
    return draw(
        evidence_rows(factor=factor, stance=stance, observed_on=st.just(as_of - timedelta(age)))
    )


def axis_value(score: Score, axis: str) -> float:
    return score.x if axis == X else score.y


def other_axis(axis: str) -> str:
    return Y if axis == X else X


# ---------------------------------------------------------------------------
# Property 1: ranges; no evidence gives 50, 50, confidence 0, Unscored
# ---------------------------------------------------------------------------


@PROPERTY
@given(rows=row_lists, as_of=dates, rubric=any_rubric)
def test_scores_stay_within_0_100_and_confidence_within_0_1(rows, as_of, rubric):
    score = score_task(rows, as_of, rubric)
    assert 0.0 <= score.x <= 100.0
    assert 0.0 <= score.y <= 100.0
    assert 0.0 <= score.confidence < 1.0
    counted = [r for r in rows if r.observed_on <= as_of]
    assert score.evidence_count == len(counted)
    if counted:
        # Evidence that counts always carries some weight, so the task is placed.
        assert score.confidence > 0.0
        assert score.quadrant != UNSCORED
        assert score.margin is not None and score.runway_years is not None
        # Runway is margin / drift above the boundary, 0 on or below it (absorbed).
        if score.margin > 0:
            assert score.runway_years > 0.0
        else:
            assert score.runway_years == 0.0
    else:
        assert score.quadrant == UNSCORED


@PROPERTY
@given(as_of=dates, rubric=any_rubric)
def test_no_evidence_scores_fifty_fifty_unscored(as_of, rubric):
    score = score_task([], as_of, rubric)
    assert (score.x, score.y, score.confidence) == (50.0, 50.0, 0.0)
    assert score.quadrant == UNSCORED
    assert not score.is_scored
    assert score.margin is None
    assert score.runway_years is None
    assert score.evidence_count == 0


@PROPERTY
@given(rows=st.lists(evidence_rows(), min_size=1, max_size=20), rubric=any_rubric)
def test_evidence_observed_only_after_as_of_leaves_the_task_unscored(rows, rubric):
    as_of = min(r.observed_on for r in rows) - timedelta(days=1)
    score = score_task(rows, as_of, rubric)
    assert (score.x, score.y, score.confidence) == (50.0, 50.0, 0.0)
    assert score.quadrant == UNSCORED
    assert score.evidence_count == 0


# ---------------------------------------------------------------------------
# Property 2: the order of the evidence does not matter (to the last bit)
# ---------------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), rows=row_lists, as_of=dates, rubric=any_rubric)
def test_score_does_not_depend_on_evidence_order(data, rows, as_of, rubric):
    shuffled = data.draw(st.permutations(rows), label="shuffled")
    assert score_task(shuffled, as_of, rubric) == score_task(rows, as_of, rubric)
    assert score_task(list(reversed(rows)), as_of, rubric) == score_task(rows, as_of, rubric)


# ---------------------------------------------------------------------------
# Property 3: supporting evidence moves its axis in the factor's direction only
# ---------------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), rows=row_lists, as_of=dates, rubric=any_rubric)
def test_supporting_a_plus_one_factor_never_lowers_its_axis(data, rows, as_of, rubric):
    factor = data.draw(st.sampled_from(PLUS_FACTOR_CODES), label="factor")
    new = data.draw(row_observed_by(as_of, factor=st.just(factor), stance=st.just(1)), label="new")
    axis = FACTORS_BY_CODE[factor].axis
    before = score_task(rows, as_of, rubric)
    after = score_task([*rows, new], as_of, rubric)
    assert axis_value(after, axis) >= axis_value(before, axis)
    assert axis_value(after, other_axis(axis)) == axis_value(before, other_axis(axis))


@PROPERTY
@given(data=st.data(), rows=row_lists, as_of=dates, rubric=any_rubric)
def test_supporting_a_minus_one_factor_never_raises_its_axis(data, rows, as_of, rubric):
    factor = data.draw(st.sampled_from(MINUS_FACTOR_CODES), label="factor")
    new = data.draw(row_observed_by(as_of, factor=st.just(factor), stance=st.just(1)), label="new")
    axis = FACTORS_BY_CODE[factor].axis
    before = score_task(rows, as_of, rubric)
    after = score_task([*rows, new], as_of, rubric)
    assert axis_value(after, axis) <= axis_value(before, axis)
    assert axis_value(after, other_axis(axis)) == axis_value(before, other_axis(axis))


@PROPERTY
@given(data=st.data(), rows=row_lists, as_of=dates, rubric=any_rubric)
def test_contradicting_a_factor_moves_its_axis_against_the_polarity(data, rows, as_of, rubric):
    new = data.draw(row_observed_by(as_of, stance=st.just(-1)), label="new")
    factor = FACTORS_BY_CODE[new.factor]
    before = axis_value(score_task(rows, as_of, rubric), factor.axis)
    after = axis_value(score_task([*rows, new], as_of, rubric), factor.axis)
    if factor.polarity == +1:
        assert after <= before
    else:
        assert after >= before


# ---------------------------------------------------------------------------
# Property 4: a support and a contradiction with equal parameters cancel exactly
# ---------------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), rows=row_lists, as_of=dates, rubric=any_rubric)
def test_support_and_equal_contradiction_cancel_exactly(data, rows, as_of, rubric):
    support = data.draw(row_observed_by(as_of, stance=st.just(1)), label="support")
    contradiction = EvidenceRow(
        factor=support.factor,
        stance=-1,
        strength=support.strength,
        confidence=support.confidence,
        observed_on=support.observed_on,
        verified=support.verified,
    )
    position = data.draw(st.integers(min_value=0, max_value=len(rows)), label="position")
    with_both = [*rows[:position], support, *rows[position:], contradiction]

    without = score_task(rows, as_of, rubric)
    both = score_task(with_both, as_of, rubric)
    assert (both.x, both.y) == (without.x, without.y)
    # The pair still adds evidence mass: the task is known better, not moved.
    assert both.confidence > without.confidence
    assert both.quadrant != UNSCORED
    if without.is_scored:
        assert both.quadrant == without.quadrant
        assert both.margin == without.margin
        assert both.runway_years == without.runway_years


# ---------------------------------------------------------------------------
# Property 5: time only wears evidence down; rows after as_of change nothing
# ---------------------------------------------------------------------------


@PROPERTY
@given(
    row=evidence_rows(),
    extra_days=st.integers(min_value=0, max_value=MAX_AGE_DAYS),
    later_days=st.integers(min_value=0, max_value=3 * 365),
    rubric=any_rubric,
)
def test_moving_as_of_forward_never_increases_a_rows_weight(row, extra_days, later_days, rubric):
    as_of = row.observed_on + timedelta(days=extra_days)
    later = as_of + timedelta(days=later_days)
    now = contribution(row, as_of, rubric)
    then = contribution(row, later, rubric)
    assert now != 0.0
    assert abs(then) <= abs(now)
    # Decay wears a row down; it never flips its sign.
    assert math.copysign(1.0, then) == math.copysign(1.0, now)


@PROPERTY
@given(rows=row_lists, as_of=dates, later_days=st.integers(0, 3 * 365), rubric=any_rubric)
def test_moving_as_of_forward_without_new_evidence_never_raises_confidence(
    rows, as_of, later_days, rubric
):
    counted = [r for r in rows if r.observed_on <= as_of]
    later = as_of + timedelta(days=later_days)
    assert (
        score_task(counted, later, rubric).confidence
        <= score_task(counted, as_of, rubric).confidence
    )


@PROPERTY
@given(data=st.data(), rows=row_lists, as_of=dates, rubric=any_rubric)
def test_rows_observed_after_as_of_change_nothing(data, rows, as_of, rubric):
    future = data.draw(
        st.lists(
            evidence_rows(
                observed_on=st.dates(
                    min_value=as_of + timedelta(days=1),
                    max_value=as_of + timedelta(days=3 * 365),
                )
            ),
            min_size=1,
            max_size=10,
        ),
        label="future",
    )
    for row in future:
        assert contribution(row, as_of, rubric) == 0.0
    mixed = data.draw(st.permutations([*rows, *future]), label="mixed")
    assert score_task(mixed, as_of, rubric) == score_task(rows, as_of, rubric)


# ---------------------------------------------------------------------------
# Property 6: a company lies within the range of its scored tasks
# ---------------------------------------------------------------------------

task_weights = st.floats(min_value=1e-3, max_value=1e3)


@PROPERTY
@given(
    tasks=st.lists(
        st.tuples(task_weights, st.lists(evidence_rows(), max_size=8)), min_size=1, max_size=6
    ),
    as_of=dates,
    rubric=any_rubric,
)
def test_company_lies_within_its_scored_tasks_range(tasks, as_of, rubric):
    task_scores = [(weight, score_task(rows, as_of, rubric)) for weight, rows in tasks]
    company = score_company(task_scores, as_of, rubric)
    scored = [s for _, s in task_scores if s.is_scored]
    if not scored:
        assert company.quadrant == UNSCORED
        assert (company.x, company.y, company.confidence) == (50.0, 50.0, 0.0)
        return
    # Unscored tasks (whose 50/50 is only the prior) must not pull the company.
    assert min(s.x for s in scored) <= company.x <= max(s.x for s in scored)
    assert min(s.y for s in scored) <= company.y <= max(s.y for s in scored)
    assert company.quadrant == quadrant_of(company.x, company.y, company.confidence)
    assert company.evidence_count == sum(s.evidence_count for s in scored)


@PROPERTY
@given(
    weights=st.lists(task_weights, min_size=1, max_size=6),
    rows=st.lists(evidence_rows(), min_size=1, max_size=8),
    as_of=dates,
)
def test_company_of_identical_tasks_equals_the_task(weights, rows, as_of):
    task = score_task(rows, as_of)
    company = score_company([(w, task) for w in weights], as_of)
    assert (company.x, company.y) == (task.x, task.y)
    assert company.quadrant == task.quadrant


# ---------------------------------------------------------------------------
# Property 8: the boundary never falls with time
# ---------------------------------------------------------------------------


@PROPERTY
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    later_days=st.integers(min_value=0, max_value=20 * 366),
    rubric=boundary_rubrics,
)
def test_boundary_at_later_date_is_never_lower(day, later_days, rubric):
    later = day + timedelta(days=later_days)
    assert boundary_at(later, rubric) >= boundary_at(day, rubric)


@PROPERTY
@given(day=dates, later_days=st.integers(min_value=1, max_value=20 * 366))
def test_default_boundary_rises_strictly_with_time(day, later_days):
    later = day + timedelta(days=later_days)
    assert boundary_at(later) > boundary_at(day)


# ---------------------------------------------------------------------------
# Worked examples: expected values written out from the formulas of scoring.md
# ---------------------------------------------------------------------------


def logistic_100(z: float) -> float:
    return 100 / (1 + math.exp(-z))


def test_one_verified_system_access_row_two_years_old():
    as_of = date(2026, 1, 1)
    row = EvidenceRow("system_access", 1, 5, "high", as_of - timedelta(days=730), verified=True)
    # polarity +1, stance +1, weight 1.2, k/5 = 1, c = 0.9, verified 1.0, d = 0.5^(730/730)
    expected_c = 1 * 1 * 1.2 * (5 / 5) * 0.9 * 1.0 * 0.5
    assert expected_c == pytest.approx(0.54)
    assert contribution(row, as_of) == pytest.approx(expected_c, abs=1e-12)

    score = score_task([row], as_of)
    assert score.x == 50.0
    assert score.y == pytest.approx(100 / (1 + math.exp(-0.54)), abs=1e-9)
    assert score.y == pytest.approx(63.18, abs=0.01)
    assert score.confidence == pytest.approx(1 - math.exp(-0.54 / 2.0), abs=1e-12)
    assert score.confidence == pytest.approx(0.2366, abs=1e-4)
    # x = 50 exactly and y > 50: the top-right quadrant.
    assert score.quadrant == UNTRAINABLE
    # B(2026-01-01) = 110 exactly; margin = x + 1.5 y - 110.
    expected_margin = 50 + 1.5 * (100 / (1 + math.exp(-0.54))) - 110
    assert score.margin == pytest.approx(expected_margin, abs=1e-9)
    assert score.margin == pytest.approx(34.77, abs=0.01)
    assert score.runway_years == pytest.approx(expected_margin / 8, abs=1e-9)
    assert score.evidence_count == 1


def test_unverified_public_benchmark_row_lowers_frontier_by_hand():
    as_of = date(2026, 1, 1)
    row = EvidenceRow(
        "public_benchmark", 1, 3, "medium", as_of - timedelta(days=180), verified=False
    )
    # public_benchmark: x axis, polarity -1, weight 1.0, half-life 180 days.
    # contribution = -1 * 1 * 1.0 * 3/5 * 0.6 * 0.7 (unverified) * 0.5^(180/180)
    expected_c = -1 * 1 * 1.0 * (3 / 5) * 0.6 * 0.7 * 0.5
    assert expected_c == pytest.approx(-0.126)
    assert contribution(row, as_of) == pytest.approx(expected_c, abs=1e-12)

    score = score_task([row], as_of)
    assert score.x == pytest.approx(100 / (1 + math.exp(0.126)), abs=1e-9)
    assert score.x == pytest.approx(46.854, abs=1e-3)
    assert score.y == 50.0
    assert score.confidence == pytest.approx(1 - math.exp(-0.126 / 2.0), abs=1e-12)
    # x < 50 and y exactly 50 (>= 50): Specialist models.
    assert score.quadrant == SPECIALIST_MODELS
    assert score.margin == pytest.approx(100 / (1 + math.exp(0.126)) + 1.5 * 50 - 110, abs=1e-9)
    assert score.margin > 0
    assert score.runway_years == pytest.approx(score.margin / 8, abs=1e-12)


def test_unverified_weight_scales_a_row_by_seven_tenths():
    as_of = date(2026, 6, 1)
    verified = EvidenceRow("accountability", 1, 4, "low", date(2025, 6, 1), verified=True)
    unverified = EvidenceRow("accountability", 1, 4, "low", date(2025, 6, 1), verified=False)
    age = (as_of - date(2025, 6, 1)).days
    assert age == 365
    expected_verified = 1.0 * (4 / 5) * 0.3 * 1.0 * 0.5 ** (365 / 1095)
    assert contribution(verified, as_of) == pytest.approx(expected_verified, abs=1e-12)
    assert contribution(unverified, as_of) == pytest.approx(0.7 * expected_verified, abs=1e-12)


def test_two_axes_absorbed_task_by_hand():
    as_of = date(2027, 1, 1)
    rows = [
        # x, polarity -1, weight 1.2, age 0 so d = 1: -1 * 1 * 1.2 * 1 * 0.9 * 1.0 * 1 = -1.08
        EvidenceRow("frontier_model_parity", 1, 5, "high", as_of, verified=True),
        # y, polarity -1, contradicted (s = -1), weight 0.8, half-life 365, age 365 so d = 0.5:
        # -1 * -1 * 0.8 * 2/5 * 0.3 * 0.7 * 0.5 = +0.0336
        EvidenceRow("portable_workflow", -1, 2, "low", as_of - timedelta(days=365)),
    ]
    raw_x = -1 * 1 * 1.2 * (5 / 5) * 0.9 * 1.0 * 1.0
    raw_y = -1 * -1 * 0.8 * (2 / 5) * 0.3 * 0.7 * 0.5
    assert raw_x == pytest.approx(-1.08)
    assert raw_y == pytest.approx(0.0336)
    x = 100 / (1 + math.exp(1.08))
    y = 100 / (1 + math.exp(-0.0336))
    # B(2027-01-01) = 110 + 8 * 365 / 365.25
    b = 110 + 8 * (365 / 365.25)
    margin = x + 1.5 * y - b

    score = score_task(rows, as_of)
    assert score.x == pytest.approx(x, abs=1e-9)
    assert score.x == pytest.approx(25.35, abs=0.01)
    assert score.y == pytest.approx(y, abs=1e-9)
    assert score.y == pytest.approx(50.84, abs=0.01)
    assert score.confidence == pytest.approx(1 - math.exp(-(1.08 + 0.0336) / 2.0), abs=1e-12)
    assert score.quadrant == SPECIALIST_MODELS
    assert margin < 0
    assert score.margin == pytest.approx(margin, abs=1e-9)
    assert score.margin == pytest.approx(-16.38, abs=0.01)
    # Absorbed: no runway left.
    assert score.runway_years == 0.0


def test_contradicted_user_habit_puts_task_in_lab_territory_at_x_fifty():
    as_of = date(2026, 3, 1)
    row = EvidenceRow("user_habit", -1, 5, "high", as_of, verified=True)
    # y, polarity +1, s = -1, weight 1.0, age 0: -1 * 1.0 * 1 * 0.9 * 1.0 * 1 = -0.9
    score = score_task([row], as_of)
    assert score.x == 50.0
    assert score.y == pytest.approx(100 / (1 + math.exp(0.9)), abs=1e-9)
    assert score.y < 50
    # x exactly 50 (>= 50) and y < 50: Lab territory.
    assert score.quadrant == LAB_TERRITORY


def test_rows_on_one_axis_add_up_before_the_logistic():
    as_of = date(2026, 1, 1)
    rows = [
        EvidenceRow("proprietary_data", 1, 5, "high", as_of, verified=True),
        EvidenceRow("workflow_depth", 1, 5, "high", as_of, verified=True),
        EvidenceRow("private_eval", -1, 5, "medium", as_of, verified=True),
    ]
    # 1.0*0.9 + 0.8*0.9 - 1.2*0.6 = 0.9 + 0.72 - 0.72 = 0.9; mass = 0.9 + 0.72 + 0.72 = 2.34
    score = score_task(rows, as_of)
    assert score.y == pytest.approx(100 / (1 + math.exp(-0.9)), abs=1e-9)
    assert score.confidence == pytest.approx(1 - math.exp(-2.34 / 2.0), abs=1e-12)


def test_rubric_scale_and_mass_for_confidence_are_used():
    as_of = date(2026, 1, 1)
    rubric = Rubric(scale=2.0, mass_for_confidence=4.0)
    row = EvidenceRow("proprietary_data", 1, 5, "high", as_of, verified=True)
    score = score_task([row], as_of, rubric)
    # raw 0.9; y = 100 * logistic(0.9 / 2); confidence = 1 - exp(-0.9 / 4)
    assert score.y == pytest.approx(100 / (1 + math.exp(-0.45)), abs=1e-9)
    assert score.confidence == pytest.approx(1 - math.exp(-0.225), abs=1e-12)


def test_confidence_levels_and_verified_weight_defaults():
    assert dict(CONFIDENCE_VALUES) == {"low": 0.3, "medium": 0.6, "high": 0.9}
    assert DEFAULT_RUBRIC.unverified_weight == 0.7


def test_factor_table_matches_scoring_md():
    table = {
        "public_benchmark": (X, -1, 1.0, 180),
        "cheap_verification": (X, -1, 1.0, 365),
        "public_training_data": (X, -1, 0.7, 365),
        "frontier_model_parity": (X, -1, 1.2, 180),
        "open_model_parity": (X, -1, 0.8, 180),
        "lab_first_party": (X, -1, 0.8, 270),
        "long_feedback_loop": (X, +1, 0.8, 730),
        "tacit_judgment": (X, +1, 0.7, 730),
        "proprietary_data": (Y, +1, 1.0, 730),
        "system_access": (Y, +1, 1.2, 730),
        "accountability": (Y, +1, 1.0, 1095),
        "user_habit": (Y, +1, 1.0, 365),
        "private_eval": (Y, +1, 1.2, 540),
        "outcome_pricing": (Y, +1, 0.6, 540),
        "time_in_production": (Y, +1, 0.8, 1095),
        "workflow_depth": (Y, +1, 0.8, 730),
        "portable_workflow": (Y, -1, 0.8, 365),
    }
    actual = {f.code: (f.axis, f.polarity, f.weight, f.half_life_days) for f in FACTORS}
    assert actual == table
    assert dict(DEFAULT_RUBRIC.factor_weights) == {c: v[2] for c, v in table.items()}
    assert dict(DEFAULT_RUBRIC.half_lives) == {c: v[3] for c, v in table.items()}


def test_boundary_defaults_by_hand():
    assert boundary_at(date(2026, 1, 1)) == pytest.approx(110.0, abs=1e-12)
    # 2027-01-01 is 365 days later: 110 + 8 * 365 / 365.25
    assert boundary_at(date(2027, 1, 1)) == pytest.approx(110 + 8 * 365 / 365.25, abs=1e-9)
    assert boundary_at(date(2027, 1, 1)) == pytest.approx(117.9945, abs=1e-4)
    # 2030-01-01 is 1461 days = 4 * 365.25 later: 110 + 32
    assert boundary_at(date(2030, 1, 1)) == pytest.approx(142.0, abs=1e-9)
    # Before the epoch the line is lower: 2025-01-01 is 365 days earlier.
    assert boundary_at(date(2025, 1, 1)) == pytest.approx(110 - 8 * 365 / 365.25, abs=1e-9)


def test_boundary_is_118_one_365_25_day_year_after_epoch():
    # Dates move in whole days, so 365.25 days after 2026-01-01 falls between
    # 2027-01-01 (365 days, B = 117.9945) and 2027-01-02 (366 days, B = 118.0164).
    assert boundary_at(date(2027, 1, 1)) < 118.0 < boundary_at(date(2027, 1, 2))
    assert boundary_at(date(2027, 1, 2)) == pytest.approx(110 + 8 * 366 / 365.25, abs=1e-9)
    # Four 365.25-day years are a whole number of days (1461): exactly 4 * 8 points,
    # wherever the four years start.
    for start in (date(2026, 1, 1), date(2023, 7, 14), date(2031, 2, 28)):
        rise = boundary_at(start + timedelta(days=1461)) - boundary_at(start)
        assert rise == pytest.approx(32.0, abs=1e-9)


def test_boundary_uses_rubric_parameters():
    rubric = Rubric(
        boundary_at_epoch=100.0, boundary_epoch=date(2024, 1, 1), boundary_drift_per_year=4.0
    )
    # 2028-01-01 is 1461 days after 2024-01-01: 100 + 4 * 4 = 116
    assert boundary_at(date(2028, 1, 1), rubric) == pytest.approx(116.0, abs=1e-9)


def test_margin_and_runway_by_hand():
    day = date(2026, 1, 1)  # B = 110
    # 60 + 1.5 * 40 - 110 = 10; runway 10 / 8 = 1.25 years
    assert absorption_margin(60.0, 40.0, day) == pytest.approx(10.0, abs=1e-9)
    assert runway_years(10.0) == pytest.approx(1.25, abs=1e-12)
    # 50 + 1.5 * 40 - 110 = 0: on the line counts as absorbed, runway 0
    assert absorption_margin(50.0, 40.0, day) == pytest.approx(0.0, abs=1e-9)
    assert runway_years(0.0) == 0.0
    # 30 + 1.5 * 20 - 110 = -50: absorbed, runway 0
    assert absorption_margin(30.0, 20.0, day) == pytest.approx(-50.0, abs=1e-9)
    assert runway_years(-50.0) == 0.0
    # Just below the line is absorbed too, never a negative runway.
    assert runway_years(-0.01) == 0.0
    # k and drift come from the rubric: 60 + 2 * 40 - 110 = 30; runway 30 / 5 = 6
    rubric = Rubric(proprietary_weight=2.0, boundary_drift_per_year=5.0)
    assert absorption_margin(60.0, 40.0, day, rubric) == pytest.approx(30.0, abs=1e-9)
    assert runway_years(30.0, rubric) == pytest.approx(6.0, abs=1e-12)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (50.0, 50.0, UNTRAINABLE),
        (100.0, 100.0, UNTRAINABLE),
        (50.0, 49.999, LAB_TERRITORY),
        (80.0, 0.0, LAB_TERRITORY),
        (49.999, 49.999, COMMODITY_TOKENS),
        (0.0, 0.0, COMMODITY_TOKENS),
        (49.999, 50.0, SPECIALIST_MODELS),
        (10.0, 90.0, SPECIALIST_MODELS),
    ],
)
def test_quadrant_rules_at_the_fifty_edges(x, y, expected):
    assert quadrant_of(x, y, 0.5) == expected


@pytest.mark.parametrize(("x", "y"), [(50.0, 50.0), (90.0, 90.0), (10.0, 10.0), (10.0, 90.0)])
def test_quadrant_is_unscored_without_confidence(x, y):
    assert quadrant_of(x, y, 0.0) == UNSCORED


def test_default_quadrant_labels():
    assert dict(DEFAULT_QUADRANT_LABELS) == {
        UNTRAINABLE: "Untrainable",
        LAB_TERRITORY: "Lab territory",
        COMMODITY_TOKENS: "Commodity tokens",
        SPECIALIST_MODELS: "Specialist models",
        UNSCORED: "Unscored",
    }


def test_company_is_task_weighted_mean_of_scored_tasks_only():
    day = date(2026, 1, 1)
    a = Score(60.0, 40.0, 0.5, LAB_TERRITORY, 10.0, 1.25, 3)
    b = Score(40.0, 80.0, 0.1, SPECIALIST_MODELS, 50.0, 6.25, 2)
    unscored = Score(50.0, 50.0, 0.0, UNSCORED, None, None, 0)
    company = score_company([(3.0, a), (1.0, b), (5.0, unscored)], day)
    # x = (3*60 + 1*40) / 4 = 55; y = (3*40 + 1*80) / 4 = 50; conf = (1.5 + 0.1) / 4 = 0.4
    assert company.x == pytest.approx(55.0, abs=1e-12)
    assert company.y == pytest.approx(50.0, abs=1e-12)
    assert company.confidence == pytest.approx(0.4, abs=1e-12)
    assert company.quadrant == UNTRAINABLE
    # margin 55 + 1.5 * 50 - 110 = 20; runway 20 / 8 = 2.5
    assert company.margin == pytest.approx(20.0, abs=1e-9)
    assert company.runway_years == pytest.approx(2.5, abs=1e-12)
    assert company.evidence_count == 5


def test_company_with_no_scored_task_is_unscored():
    day = date(2026, 1, 1)
    unscored = Score(50.0, 50.0, 0.0, UNSCORED, None, None, 0)
    for tasks in ([], [(1.0, unscored)], [(2.0, unscored), (3.0, unscored)]):
        company = score_company(tasks, day)
        assert company.quadrant == UNSCORED
        assert (company.x, company.y, company.confidence) == (50.0, 50.0, 0.0)
        assert company.margin is None
        assert company.runway_years is None


def test_confidence_stays_below_one_for_a_realistic_amount_of_evidence():
    as_of = date(2026, 1, 1)
    # 30 of the heaviest possible rows: mass 30 * 1.08 = 32.4, confidence 1 - e^-16.2.
    rows = [EvidenceRow("system_access", 1, 5, "high", as_of, verified=True)] * 30
    score = score_task(rows, as_of)
    assert score.confidence == pytest.approx(1 - math.exp(-32.4 / 2.0), abs=1e-12)
    assert score.confidence < 1.0


# ---------------------------------------------------------------------------
# The sample portfolio reproduces the reference score files
# ---------------------------------------------------------------------------

STANCES = {"supports": 1, "contradicts": -1}
VERIFIED = {"yes": True, "no": False}


def load_portfolio():
    """Per task: its company, its weight and its evidence rows, in file order."""
    tasks: dict[tuple[str, str, str], dict] = {}
    with (DATA / "sample-portfolio.csv").open(newline="", encoding="utf-8") as fh:
        for line in csv.DictReader(fh):
            key = (line["fund"], line["company"], line["task"])
            task = tasks.setdefault(key, {"weight": float(line["task_weight"]), "rows": []})
            assert task["weight"] == float(line["task_weight"])
            task["rows"].append(
                EvidenceRow(
                    factor=line["factor"],
                    stance=STANCES[line["stance"]],
                    strength=int(line["strength"]),
                    confidence=line["confidence"],
                    observed_on=date.fromisoformat(line["observed_on"]),
                    verified=VERIFIED[line["verified"]],
                )
            )
    return tasks


def score_portfolio(as_of: date) -> dict[tuple[str, str, str], Score]:
    """Scores keyed (fund, company, task); a company's key has task ''."""
    results: dict[tuple[str, str, str], Score] = {}
    by_company: dict[tuple[str, str], list[tuple[float, Score]]] = defaultdict(list)
    for (fund, company, task), data in load_portfolio().items():
        score = score_task(data["rows"], as_of)
        results[(fund, company, task)] = score
        by_company[(fund, company)].append((data["weight"], score))
    for (fund, company), task_scores in by_company.items():
        results[(fund, company, "")] = score_company(task_scores, as_of)
    return results


def optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


@pytest.mark.parametrize("as_of", [date(2026, 11, 25), date(2025, 6, 30)], ids=str)
def test_sample_portfolio_reproduces_reference_scores(as_of):
    with (DATA / f"sample-scores-{as_of.isoformat()}.csv").open(newline="", encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    actual = score_portfolio(as_of)
    shares_of = {
        (fund, company): scoring.value_shares(
            [
                (data["weight"], actual[(fund, company, task)])
                for (f, c, task), data in load_portfolio().items()
                if (f, c) == (fund, company)
            ],
            as_of,
        )
        for fund, company, task in actual
        if task == ""
    }

    expected_keys = {(e["fund"], e["company"], e["task"]) for e in expected}
    assert len(expected_keys) == len(expected)
    assert expected_keys == set(actual)
    assert any(key[2] == "" for key in expected_keys)  # company rows are checked too

    for e in expected:
        key = (e["fund"], e["company"], e["task"])
        score = actual[key]
        assert score.x == pytest.approx(float(e["x"]), abs=0.05), key
        assert score.y == pytest.approx(float(e["y"]), abs=0.05), key
        assert score.confidence == pytest.approx(float(e["confidence"]), abs=0.005), key
        assert DEFAULT_QUADRANT_LABELS[score.quadrant] == e["quadrant"], key
        for field in ("margin", "runway_years"):
            want = optional_float(e[field])
            got = getattr(score, field)
            if want is None:
                assert got is None, (key, field)
            else:
                assert got == pytest.approx(want, abs=0.05), (key, field)
        # A company's shares of its value absorbed and unscored, computed, to 4 decimals.
        shares = shares_of[key[:2]].as_dict() if key[2] == "" else dict.fromkeys(e, None)
        for field in scoring.VALUE_SHARE_FIELDS:
            want = e[field]
            assert want == ("" if shares[field] is None else f"{shares[field]:.4f}"), (key, field)


def test_confidence_stays_below_one_however_much_evidence_counts():
    # 1 - exp(-M/2) rounds to exactly 1.0 once M is large; the spec keeps it in [0, 1).
    assert scoring.confidence_from_mass(1000.0) < 1.0
    rows = [EvidenceRow("system_access", 1, 5, "high", date(2026, 1, 1), True)] * 200
    assert score_task(rows, date(2026, 1, 1)).confidence < 1.0


def test_a_flat_boundary_never_runs_out_of_runway():
    flat = Rubric(boundary_drift_per_year=0.0)
    assert scoring.runway_years(5.0, flat) == float("inf")
    assert scoring.runway_years(-5.0, flat) == 0.0
