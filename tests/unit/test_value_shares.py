"""A company's whole truth: the shares of its value absorbed today, within one and two
years, and unscored (scoring.value_shares), the same on every path that shows them."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments import recompute, scoring
from assessments.models import Company
from assessments.selectors import map as map_selectors
from assessments.selectors import portfolio as portfolio_selectors
from tests.factories import CompanyFactory, EvidenceFactory, FundFactory, TaskFactory, UserFactory

AS_OF = date(2026, 6, 30)
RUBRIC = scoring.DEFAULT_RUBRIC


def at(margin: float) -> scoring.Score:
    """A scored task standing ``margin`` points above the boundary of AS_OF (y = 50)."""
    x = margin + scoring.boundary_at(AS_OF, RUBRIC) - RUBRIC.proprietary_weight * 50
    return scoring.Score(x, 50.0, 0.5, scoring.UNTRAINABLE, margin, margin / 8, 3)


def test_shares_count_task_weight_over_all_tasks_scored_or_not():
    # The boundary rises 8 points a year: -1 is absorbed, 4 within a year, 12 within two.
    tasks = [(2.0, at(-1.0)), (1.0, at(4.0)), (1.0, at(12.0)), (2.0, scoring.Score.unscored())]
    shares = scoring.value_shares(tasks, AS_OF, RUBRIC)
    assert shares == scoring.ValueShares(2 / 6, 3 / 6, 4 / 6, 2 / 6)
    assert shares.as_dict() == {
        "value_absorbed": 2 / 6,
        "value_absorbed_1y": 3 / 6,
        "value_absorbed_2y": 4 / 6,
        "value_unscored": 2 / 6,
    }


def test_a_healthy_mean_does_not_hide_an_absorbed_task():
    # Tensorhaus's case: the mean stands above the boundary, half its value is below it.
    tasks = [(1.0, at(-4.0)), (1.0, at(20.0))]
    company = scoring.score_company(tasks, AS_OF, RUBRIC)
    assert company.margin > 0
    assert scoring.value_shares(tasks, AS_OF, RUBRIC).absorbed == 0.5


def test_a_company_without_tasks_has_no_shares():
    assert scoring.value_shares([], AS_OF, RUBRIC) is None
    assert scoring.ValueShares.stored([0.5, None, 1.0, 0.0]) is None


@given(
    tasks=st.lists(
        st.tuples(
            st.floats(0.01, 1000),
            st.one_of(st.none(), st.floats(-40, 40)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_shares_are_fractions_that_grow_with_the_horizon(tasks):
    weighted = [(w, scoring.Score.unscored() if m is None else at(m)) for w, m in tasks]
    shares = scoring.value_shares(weighted, AS_OF, RUBRIC)
    assert 0 <= shares.absorbed <= shares.absorbed_1y <= shares.absorbed_2y <= 1
    assert 0 <= shares.unscored <= 1
    assert shares.absorbed_2y + shares.unscored == pytest.approx(
        sum(w for w, m in tasks if m is None or m < 16) / sum(w for w, _ in tasks)
    )


# --- Every path against the pure model on a generated portfolio ---------------------------

TODAY = date.today()
evidence_rows = st.fixed_dictionaries(
    {
        "factor": st.sampled_from([f.code for f in scoring.FACTORS]),
        "stance": st.sampled_from([1, -1]),
        "strength": st.integers(1, 5),
        "confidence": st.sampled_from(["low", "medium", "high"]),
        "observed_on": st.dates(TODAY - timedelta(days=900), TODAY),
    }
)
portfolios = st.lists(  # companies, each a list of (task weight, its evidence)
    st.lists(
        st.tuples(st.sampled_from([0.5, 1.0, 2.0, 3.0]), st.lists(evidence_rows, max_size=4)),
        min_size=1,
        max_size=3,
    ),
    min_size=1,
    max_size=3,
)


def _exported(as_of: date) -> dict[str, dict]:
    out = io.StringIO()
    call_command("export_scores", as_of=as_of, stdout=out)
    return {r["company"]: r for r in csv.DictReader(io.StringIO(out.getvalue())) if not r["task"]}


def _expected(portfolio, as_of: date) -> dict[str, scoring.ValueShares]:
    return {
        name: scoring.value_shares(
            [(weight, scoring.score_task(rows, as_of, RUBRIC)) for weight, rows in tasks],
            as_of,
            RUBRIC,
        )
        for name, tasks in portfolio.items()
    }


@pytest.mark.django_db
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(companies=portfolios, back=st.integers(30, 600))
def test_every_path_gives_the_pure_models_shares_today_and_at_a_past_date(companies, back):
    fund = FundFactory()
    partner = UserFactory(username="partner", is_superuser=True)
    portfolio = {}
    for tasks in companies:
        company = CompanyFactory(fund=fund)
        portfolio[company.name] = []
        for weight, rows in tasks:
            task = TaskFactory(company=company, weight=weight)
            made = [
                EvidenceFactory(task=task, verified_by=partner, verified_at=timezone.now(), **row)
                for row in rows
            ]
            portfolio[company.name].append((weight, [e.as_scoring_row() for e in made]))
    recompute.rescore_everything()
    past = TODAY - timedelta(days=back)
    for as_of in (TODAY, past):
        expected = _expected(portfolio, as_of)
        exported = _exported(as_of)
        view = map_selectors.map_points(
            partner, map_selectors.MapFilters(fund=fund.id, as_of=as_of)
        )
        on_map = {p.name: p.shares for p in view.points}
        listed = {
            r.company.name: r.shares
            for r in portfolio_selectors.portfolio(partner, fund_id=fund.id, as_of=as_of)
        }
        for name, shares in expected.items():
            for field, value in shares.as_dict().items():
                assert exported[name][field] == f"{value:.4f}", (name, field, as_of)
            assert on_map[name].as_dict() == pytest.approx(shares.as_dict()), (name, as_of)
            assert listed[name].as_dict() == pytest.approx(shares.as_dict()), (name, as_of)
    # Today's are the stored ones, written by the recompute.
    for company in Company.objects.filter(fund=fund):
        stored = company.value_shares.as_dict()
        assert stored == pytest.approx(_expected(portfolio, TODAY)[company.name].as_dict())
