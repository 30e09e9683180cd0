"""Adopting a rubric version: the preview is what activation then stores, the history is
restated at the same dates and stays continuous, the history as recorded stays readable,
and the map's SQL path agrees with the pure model's "why it moved"."""

from datetime import timedelta

import pytest

from assessments import recompute, scoring, scoring_sql, selectors, services
from assessments.models import (
    ActivationState,
    Company,
    CompanySnapshot,
    Evidence,
    RubricVersion,
    Task,
    TaskSnapshot,
)
from assessments.selectors import map as map_selectors
from assessments.selectors import rubric as rubric_selectors
from tests.factories import (
    CompanyFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    make_rubric_owner,
)

pytestmark = pytest.mark.django_db
TODAY = selectors.today()
PAST = TODAY - timedelta(days=200)
EARLIER = TODAY - timedelta(days=400)
NOTES = (
    # (task index, factor, stance, strength, confidence, days ago, verified)
    (0, "system_access", 1, 4, "high", 500, True),
    (0, "public_benchmark", 1, 3, "medium", 300, False),
    (1, "user_habit", 1, 5, "high", 100, True),
    (1, "frontier_model_parity", 1, 4, "high", 20, False),
    (2, "private_eval", 1, 3, "medium", 450, False),
    (2, "accountability", -1, 2, "low", 250, False),
    (3, "cheap_verification", 1, 5, "high", 380, True),
    (3, "tacit_judgment", 1, 4, "medium", 10, False),
)


@pytest.fixture
def portfolio():
    """A partner, two companies with two tasks each, notes over 18 months, and a history
    recorded under version 1 at two past dates and today."""
    fund = FundFactory()
    partner = make_rubric_owner(MembershipFactory(fund=fund, role="partner").user)
    tasks = []
    for c in range(2):
        company = CompanyFactory(fund=fund, name=f"Company {c}")
        tasks += [TaskFactory(company=company, name=f"Task {c}.{t}", weight=1 + t) for t in (0, 1)]
    for index, factor, stance, strength, confidence, days, verified in NOTES:
        services.evidence_create(
            task=tasks[index],
            author=partner,
            verified_by=partner if verified else None,
            factor=factor,
            stance=stance,
            strength=strength,
            confidence=confidence,
            observed_on=TODAY - timedelta(days=days),
        )
    for day in (EARLIER, PAST, TODAY):
        recompute.rescore_companies(as_of=day)
    return partner, tasks


def heavier_draft(partner) -> RubricVersion:
    return services.rubric_draft_create(
        user=partner,
        base=selectors.active_rubric_version(),
        name="Access and habit count more",
        factor_weights={"system_access": 2.0, "user_habit": 1.6, "public_benchmark": 0.4},
        half_lives={"frontier_model_parity": 90.0},
        proprietary_weight=1.8,
        boundary_drift_per_year=10.0,
        label_untrainable="Moat",
    )


def preview_scores(partner, draft, per, as_of):
    filters = map_selectors.MapFilters(per=per, as_of=as_of)
    result = rubric_selectors.preview(partner, filters, draft)
    return {p.id: p.score for p in result.draft_points}


def assert_same(stored, score: scoring.Score):
    assert stored.quadrant == score.quadrant
    for name in ("x", "y", "confidence", "margin", "runway_years"):
        expected = getattr(score, name) if score.is_scored else getattr(stored, name)
        assert getattr(stored, name) == pytest.approx(expected, abs=1e-9), name


def test_the_preview_is_what_activation_then_stores(portfolio, django_capture_on_commit_callbacks):
    partner, tasks = portfolio
    draft = heavier_draft(partner)
    previews = {
        (per, day): preview_scores(partner, draft, per, day)
        for per in (map_selectors.COMPANY, map_selectors.TASK)
        for day in (TODAY, PAST)
    }
    assert TaskSnapshot.objects.filter(rubric_version=draft).count() == 0  # nothing written
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=draft, user=partner)
    draft.refresh_from_db()
    assert draft.is_active and draft.activation_state == ActivationState.DONE
    for company in Company.objects.all():
        assert_same(company, previews[(map_selectors.COMPANY, TODAY)][company.pk])
        assert_same(
            CompanySnapshot.objects.get(company=company, as_of=PAST, rubric_version=draft),
            previews[(map_selectors.COMPANY, PAST)][company.pk],
        )
    for task in Task.objects.all():
        assert_same(task, previews[(map_selectors.TASK, TODAY)][task.pk])
        assert_same(
            TaskSnapshot.objects.get(task=task, as_of=PAST, rubric_version=draft),
            previews[(map_selectors.TASK, PAST)][task.pk],
        )
    # The draft really moves something, or the equality above would prove little.
    company = Company.objects.first()
    v1 = RubricVersion.objects.get(number=1)
    then = CompanySnapshot.objects.get(company=company, as_of=PAST, rubric_version=v1)
    assert then.y != pytest.approx(previews[(map_selectors.COMPANY, PAST)][company.pk].y)


def test_history_is_continuous_after_activation_and_the_record_stays_readable(
    portfolio, django_capture_on_commit_callbacks
):
    partner, tasks = portfolio
    v1 = RubricVersion.objects.get(number=1)
    recorded = {
        (s.company_id, s.as_of): s.y for s in CompanySnapshot.objects.filter(rubric_version=v1)
    }
    draft = heavier_draft(partner)
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=draft, user=partner)
    for company_id, _ in recorded:
        dates = set(
            CompanySnapshot.objects.filter(company_id=company_id, rubric_version=draft).values_list(
                "as_of", flat=True
            )
        )
        assert dates == {EARLIER, PAST, TODAY}  # the same dates as before: no gap
    restated = CompanySnapshot.objects.filter(rubric_version=draft, restated=True)
    assert set(restated.values_list("as_of", flat=True)) == {EARLIER, PAST}
    # The record under v1 is untouched, and it is what the company page's audit table reads.
    for (company_id, day), y in recorded.items():
        snap = CompanySnapshot.objects.get(company_id=company_id, as_of=day, rubric_version=v1)
        assert snap.y == y and not snap.restated
    insight = rubric_selectors.company_insight(Company.objects.get(pk=company_id))
    assert {(s.as_of, s.rubric_version_id) for s in insight.recorded} == {
        (EARLIER, v1.pk),
        (PAST, v1.pk),
        (TODAY, v1.pk),
        (TODAY, draft.pk),
    }
    # Back to v1: its recorded rows stay as recorded; nothing is missing either.
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=v1, user=partner)
    for (company_id, day), y in recorded.items():
        if day != TODAY:  # today's row is re-scored, as every day's is
            assert (
                CompanySnapshot.objects.get(company_id=company_id, as_of=day, rubric_version=v1).y
                == y
            )


def test_restating_twice_writes_the_same_rows(portfolio):
    partner, _ = portfolio
    draft = heavier_draft(partner)
    first = recompute.restate_history(version=draft, day=PAST)
    rows = sorted(
        TaskSnapshot.objects.filter(rubric_version=draft).values_list("task_id", "as_of", "y")
    )
    assert recompute.restate_history(version=draft, day=PAST) == first
    again = sorted(
        TaskSnapshot.objects.filter(rubric_version=draft).values_list("task_id", "as_of", "y")
    )
    assert again == rows and len(rows) == 4


def test_the_map_sql_path_agrees_with_the_decomposition(
    portfolio, django_capture_on_commit_callbacks
):
    """The trail of the map (scoring_sql, as of two dates) starts and ends where the pure
    model's decomposition does, across a rubric change."""
    partner, _ = portfolio
    draft = heavier_draft(partner)
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=draft, user=partner)
    v1 = RubricVersion.objects.get(number=1).to_rubric()
    now = draft.to_rubric()
    for company in Company.objects.all():
        tasks = list(company.tasks.all())
        weighted = [
            (t.weight, [e.as_scoring_row() for e in Evidence.objects.filter(task=t)]) for t in tasks
        ]
        move = scoring.decompose_move(weighted, PAST, TODAY, v1, now)
        triples = [(t.id, company.id, t.weight) for t in tasks]
        for day, rubric, expected in ((PAST, v1, move.start), (TODAY, now, move.end)):
            sql = scoring_sql.company_scores(
                triples,
                scoring_sql.task_scores_as_of([t.id for t in tasks], day, rubric),
                day,
                rubric,
            )[company.id]
            assert sql.x == pytest.approx(expected.x) and sql.y == pytest.approx(expected.y)
            assert sql.runway_years == pytest.approx(expected.runway_years)
        # And the selector finds the rubric that was in force at the earlier date.
        insight = rubric_selectors.company_insight(company, since=PAST)
        assert insight.rubric_then.number == 1 and insight.rubric_now == draft
        assert insight.movement.parts["margin"][scoring.RUBRIC_CHANGE] != 0  # k changed
        assert sum(insight.movement.parts["runway_years"].values()) == pytest.approx(
            insight.movement.total("runway_years")
        )
