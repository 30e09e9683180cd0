"""The product's words, said once: every page, chart and export writes money, runway,
changes, shares and dates through vocabulary.py."""

from datetime import date

import pytest

from assessments import scoring, vocabulary
from assessments.charts import base
from assessments.templatetags import moat

FILTERS = moat.register.filters


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        (None, "–"),
        (0, "–"),
        (950, "$950"),
        (12_000, "$12k"),
        (12_500, "$12.5k"),
        (800_000, "$800k"),
        (1_250_000, "$1.25M"),
        (12_500_000, "$12.5M"),
        (2_000_000_000, "$2B"),
        (-3_000_000, "\u2212$3M"),
    ],
)
def test_money_reads_the_same_in_the_table_and_on_the_chart(amount, said):
    assert vocabulary.money(amount) == said
    assert FILTERS["money"](amount) == said, "the template filter says what the chart says"
    assert base.money(amount) == said


@pytest.mark.parametrize(
    ("years", "said"), [(None, "–"), (-0.4, "absorbed"), (0, "absorbed"), (1.84, "1.8 y")]
)
def test_runway_is_years_or_absorbed(years, said):
    assert vocabulary.runway_years(years) == said


def test_a_score_s_runway_is_said_the_same_by_filter_and_chart():
    score = scoring.Score(60.0, 40.0, 0.5, scoring.SPECIALIST_MODELS, 4.0, 0.967, 3)
    assert FILTERS["runway"](score) == base.runway_text(score) == "1.0 y"
    assert FILTERS["runway"](None) == "–"


@pytest.mark.parametrize(
    ("change", "said"), [(2.44, "+2.4"), (-3.06, "\u22123.1"), (0.04, "0.0"), (-0.04, "0.0")]
)
def test_a_change_carries_its_sign_and_a_true_minus_unless_it_rounds_to_nothing(change, said):
    assert vocabulary.signed(change) == said


def test_shares_dates_and_counts():
    assert vocabulary.share(0.3125) == "31\u00a0%", "a share never breaks from its sign"
    assert vocabulary.share(None) == "–"
    assert vocabulary.day(date(2026, 12, 3)) == "3 Dec 2026"
    assert vocabulary.since(date(2025, 6, 1)) == "since 1 Jun 2025"
    assert vocabulary.count(1, "company", "companies") == "1 company"
    assert vocabulary.count(1200, "note") == "1,200 notes"


def test_quadrants_are_named_by_the_rubric():
    assert vocabulary.quadrant(scoring.UNTRAINABLE) == scoring.DEFAULT_RUBRIC.label(
        scoring.UNTRAINABLE
    )
    assert vocabulary.quadrant(None) == scoring.DEFAULT_RUBRIC.label(scoring.UNSCORED)
