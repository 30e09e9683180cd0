"""The pure model's answers to "why did it move?" and "what if?" (scoring.py): the
decomposition adds up and names only causes that are present, the sensitivity of a number
with nothing to act on is zero, and the runway levers really add runway."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments import scoring
from assessments.scoring import (
    BOUNDARY_RISE,
    DECAY,
    DEFAULT_RUBRIC,
    FACTORS,
    MOVE_MEASURES,
    NEW_EVIDENCE,
    RUBRIC_CHANGE,
    EvidenceRow,
)

PROPERTY = settings(max_examples=150, deadline=None, database=None)
START = date(2025, 1, 1)
END = date(2026, 6, 30)

rows = st.builds(
    EvidenceRow,
    factor=st.sampled_from([f.code for f in FACTORS]),
    stance=st.sampled_from([1, -1]),
    strength=st.integers(1, 5),
    confidence=st.sampled_from(["low", "medium", "high"]),
    observed_on=st.dates(min_value=date(2023, 1, 1), max_value=END),
    verified=st.booleans(),
)
# Every task has at least one row observed by START, so the company is scored then.
old_row = rows.map(lambda r: replace(r, observed_on=min(r.observed_on, START)))
tasks = st.lists(
    st.tuples(
        st.floats(min_value=0.1, max_value=5.0),
        st.tuples(old_row, st.lists(rows, max_size=8)).map(lambda t: [t[0], *t[1]]),
    ),
    min_size=1,
    max_size=4,
)
other_rubrics = st.builds(
    scoring.Rubric,
    factor_weights=st.fixed_dictionaries(
        {f.code: st.floats(min_value=0.1, max_value=2.0) for f in FACTORS}
    ),
    proprietary_weight=st.floats(min_value=0.5, max_value=3.0),
    boundary_drift_per_year=st.floats(min_value=1.0, max_value=20.0),
)


def score_as_of(company_tasks, day, rubric):
    return scoring.score_company(
        [(w, scoring.score_task(r, day, rubric)) for w, r in company_tasks], day, rubric
    )


@PROPERTY
@given(company=tasks, rubric_now=other_rubrics)
def test_the_parts_add_up_to_the_total_move(company, rubric_now):
    move = scoring.decompose_move(company, START, END, DEFAULT_RUBRIC, rubric_now)
    assert move.start == score_as_of(company, START, DEFAULT_RUBRIC)
    assert move.end == score_as_of(company, END, rubric_now)
    for measure in MOVE_MEASURES:
        parts = move.parts[measure]
        assert set(parts) == {NEW_EVIDENCE, DECAY, RUBRIC_CHANGE, BOUNDARY_RISE}
        assert sum(parts.values()) == pytest.approx(move.total(measure), abs=1e-9)
    # The boundary moves neither axis.
    assert move.parts["x"][BOUNDARY_RISE] == 0 and move.parts["y"][BOUNDARY_RISE] == 0


@PROPERTY
@given(company=tasks)
def test_same_date_and_same_rubric_is_no_move_at_all(company):
    move = scoring.decompose_move(company, START, START, DEFAULT_RUBRIC, DEFAULT_RUBRIC)
    for measure in MOVE_MEASURES:
        assert move.total(measure) == 0
        assert set(move.parts[measure].values()) == {0.0}


@PROPERTY
@given(company=tasks)
def test_without_a_rubric_change_the_rubric_part_is_zero(company):
    move = scoring.decompose_move(company, START, END, DEFAULT_RUBRIC, DEFAULT_RUBRIC)
    assert all(move.parts[m][RUBRIC_CHANGE] == 0 for m in MOVE_MEASURES)


@PROPERTY
@given(company=tasks, rubric_now=other_rubrics)
def test_without_new_evidence_the_evidence_part_is_zero(company, rubric_now):
    held_then = [(w, [r for r in rs if r.observed_on <= START]) for w, rs in company]
    move = scoring.decompose_move(held_then, START, END, DEFAULT_RUBRIC, rubric_now)
    assert all(move.parts[m][NEW_EVIDENCE] == 0 for m in MOVE_MEASURES)
    # A year and a half of boundary rise, in runway years, while the company stays above it.
    if move.start.runway_years > 2 and move.end.runway_years > 0:
        years = (END - START).days / scoring.DAYS_PER_YEAR
        assert move.parts["runway_years"][BOUNDARY_RISE] == pytest.approx(-years)


@PROPERTY
@given(company=tasks)
def test_three_scores_under_one_rubric_give_the_same_movement_as_the_five_states(company):
    """The map's SQL path builds the move from the score then, the rows held then aged to
    today, and the score today (movement_under_one_rubric): the same parts as the pure
    model's five states when one rubric holds at both dates."""
    move = scoring.decompose_move(company, START, END, DEFAULT_RUBRIC, DEFAULT_RUBRIC)
    aged = scoring.company_state(
        company, rows_until=START, decay_at=END, rubric=DEFAULT_RUBRIC, boundary_on=END
    )
    end = score_as_of(company, END, DEFAULT_RUBRIC)
    again = scoring.movement_under_one_rubric(
        START, END, score_as_of(company, START, DEFAULT_RUBRIC), aged, end, DEFAULT_RUBRIC
    )
    assert again == move


def test_another_days_boundary_changes_only_margin_and_runway():
    score = score_as_of([(1.0, [EvidenceRow("system_access", 1, 4, "high", START)])], END,
                        DEFAULT_RUBRIC)  # fmt: skip
    earlier = scoring.on_boundary(score, START)
    assert (earlier.x, earlier.y, earlier.confidence, earlier.quadrant) == (
        score.x, score.y, score.confidence, score.quadrant
    )  # fmt: skip
    assert earlier.margin - score.margin == pytest.approx(
        scoring.boundary_at(END) - scoring.boundary_at(START)
    )
    assert scoring.on_boundary(scoring.Score.unscored(), START) == scoring.Score.unscored()


def test_a_company_unscored_at_the_start_has_no_parts():
    company = [(1.0, [EvidenceRow("system_access", 1, 4, "high", END)])]
    move = scoring.decompose_move(company, START, END, DEFAULT_RUBRIC, DEFAULT_RUBRIC)
    assert not move.is_decomposed and not move.start.is_scored and move.end.is_scored


def test_a_new_note_is_new_evidence_and_time_alone_is_decay_and_boundary():
    old = EvidenceRow("system_access", 1, 4, "high", START, verified=True)
    new = EvidenceRow("user_habit", 1, 3, "medium", END - timedelta(days=10))
    move = scoring.decompose_move([(1.0, [old, new])], START, END, DEFAULT_RUBRIC, DEFAULT_RUBRIC)
    assert move.parts["y"][NEW_EVIDENCE] > 0  # a supporting note raised y
    assert move.parts["y"][DECAY] < 0  # the old note counts less 18 months on
    assert move.parts["margin"][BOUNDARY_RISE] == pytest.approx(
        -(scoring.boundary_at(END) - scoring.boundary_at(START))
    )


@pytest.mark.parametrize(
    ("total", "parts"),
    [(-1.3, [0.64, -0.93, -1.01]), (0.08, [0.04, 0.04]), (2.0, [0.666, 0.666, 0.668])],
)
def test_rounded_parts_still_add_up(total, parts):
    rounded = scoring.rounded_parts(total, parts)
    assert sum(rounded) == pytest.approx(round(total, 1))
    assert all(abs(r - p) < 0.1 + 1e-9 for r, p in zip(rounded, parts, strict=True))


@PROPERTY
@given(company=tasks)
def test_a_number_with_no_evidence_on_its_factor_moves_nothing(company):
    present = {r.factor for _, rs in company for r in rs if r.observed_on <= END}
    for s in scoring.sensitivity(company, END, DEFAULT_RUBRIC):
        if s.factor not in present:
            assert set(s.low.values()) == {0.0} and set(s.high.values()) == {0.0}


def test_sensitivity_ranks_the_weight_that_carries_the_position_first():
    row = EvidenceRow("system_access", 1, 5, "high", END, verified=True)
    ranked = scoring.sensitivity([(1.0, [row])], END, DEFAULT_RUBRIC)
    assert len(ranked) == 2 * len(FACTORS)
    top = ranked[0]
    assert (top.kind, top.factor) == (scoring.WEIGHT, "system_access")
    # More weight on a supporting note of a +1 factor raises y; less lowers it.
    assert top.high["y"] > 0 > top.low["y"] and top.low["x"] == 0
    # Observed today, its half-life does not matter yet.
    half_life = next(
        s for s in ranked if (s.kind, s.factor) == (scoring.HALF_LIFE, "system_access")
    )
    assert half_life.swing("y") == 0


def test_the_levers_add_runway_and_the_best_comes_first():
    company = [
        (3.0, [EvidenceRow("public_benchmark", 1, 3, "medium", START)]),
        (1.0, [EvidenceRow("system_access", 1, 2, "low", START)]),
    ]
    base = score_as_of(company, END, DEFAULT_RUBRIC)
    levers = scoring.runway_levers(company, END, DEFAULT_RUBRIC, limit=5)
    assert len(levers) == 5
    gains = [lv.margin_gain for lv in levers]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    for lever in levers:
        rows = [list(rs) for _, rs in company]
        rows[lever.task_index].append(
            EvidenceRow(lever.factor, lever.stance, 5, "high", END, verified=True)
        )
        after = score_as_of(
            [(w, r) for (w, _), r in zip(company, rows, strict=True)], END, DEFAULT_RUBRIC
        )
        assert after.margin - base.margin == pytest.approx(lever.margin_gain)
    # The heavier task gains more from the same note; a −1 factor's lever contradicts it.
    assert levers[0].task_index == 0
    benchmark = [
        lv
        for lv in scoring.runway_levers(company, END, DEFAULT_RUBRIC, limit=40)
        if lv.factor == "public_benchmark"
    ]
    assert benchmark and all(lv.stance == -1 for lv in benchmark)


@settings(max_examples=40, deadline=None, database=None)
@given(company=tasks)
def test_sensitivity_equals_re_scoring_the_whole_company(company):
    """Its shortcut (re-scoring only the tasks with evidence on the factor) changes nothing."""

    def company_score(rubric):
        return scoring.company_state(
            company, rows_until=END, decay_at=END, rubric=rubric, boundary_on=END
        )

    base = company_score(DEFAULT_RUBRIC)
    for s in scoring.sensitivity(company, END, DEFAULT_RUBRIC)[:6]:
        mapping = "factor_weights" if s.kind == scoring.WEIGHT else "half_lives"
        numbers = {**getattr(DEFAULT_RUBRIC, mapping), s.factor: s.value * 1.2}
        after = company_score(replace(DEFAULT_RUBRIC, **{mapping: numbers}))
        assert s.high["y"] == pytest.approx(after.y - base.y, abs=1e-12)
        assert s.high["runway_years"] == pytest.approx(
            after.runway_years - base.runway_years, abs=1e-12
        )
