"""The recompute pipeline: evidence in, stored scores, snapshots and alerts out."""

import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments import recompute, scoring, scoring_sql, selectors, services
from assessments.models import Alert, CompanySnapshot, Evidence, Task, TaskSnapshot
from tests.factories import EvidenceFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date.today()


def pure_score(task: Task) -> scoring.Score:
    rows = [e.as_scoring_row() for e in Evidence.objects.filter(task=task)]
    return scoring.score_task(
        rows, selectors.today(), selectors.active_rubric_version().to_rubric()
    )


def add(task, author, **fields):
    fields = {
        "factor": "system_access",
        "stance": 1,
        "strength": 4,
        "confidence": "high",
        "observed_on": TODAY - timedelta(days=30),
        **fields,
    }
    return services.evidence_create(task=task, author=author, **fields)


def test_saving_evidence_scores_the_task_and_company_inline(django_capture_on_commit_callbacks):
    task = TaskFactory()
    with django_capture_on_commit_callbacks(execute=True):
        add(task, UserFactory())
    task.refresh_from_db()
    task.company.refresh_from_db()
    expected = pure_score(task)
    assert task.y == pytest.approx(expected.y) and task.y > 50
    assert task.company.y == pytest.approx(task.y)
    assert task.stale_since is None and task.scored_version == task.input_version == 1
    assert TaskSnapshot.objects.filter(task=task, as_of=selectors.today()).count() == 1
    assert CompanySnapshot.objects.filter(company=task.company).count() == 1


def test_committed_save_enqueues_exactly_one_job(django_capture_on_commit_callbacks):
    task = TaskFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        add(task, UserFactory())
    assert len(callbacks) == 1


def test_rolled_back_save_enqueues_nothing(django_capture_on_commit_callbacks):
    task = TaskFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                add(task, UserFactory())
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not Evidence.objects.exists()
    task.refresh_from_db()
    assert task.input_version == 0


def test_recompute_twice_leaves_the_same_rows():
    task = TaskFactory()
    EvidenceFactory(task=task, observed_on=TODAY - timedelta(days=10))
    recompute.rescore_task(task_id=task.id)
    first = Task.objects.values("x", "y", "confidence").get(pk=task.pk)
    recompute.rescore_task(task_id=task.id)
    assert Task.objects.values("x", "y", "confidence").get(pk=task.pk) == first
    assert TaskSnapshot.objects.count() == 1 and CompanySnapshot.objects.count() == 1


def test_a_stale_result_is_not_stored_over_a_newer_version():
    task = TaskFactory()
    EvidenceFactory(task=task, observed_on=TODAY - timedelta(days=10))
    # Evidence changed (version bumped) after this recompute read version 0.
    Task.objects.filter(pk=task.pk).update(input_version=1, stale_since=timezone.now())
    rows = [(task.id, task.company_id, 1.0, 0, "unscored", None, None)]
    values = {task.id: recompute._score_values(pure_score(task), TODAY, timezone.now())}
    recompute._write_task_scores(rows, values, staged=False)
    task.refresh_from_db()
    assert task.quadrant == "unscored" and task.stale_since is not None


def test_sweeper_rescores_a_task_whose_job_was_lost():
    task = TaskFactory()
    EvidenceFactory(task=task, observed_on=TODAY - timedelta(days=10))
    long_ago = timezone.now() - timedelta(minutes=10)
    Task.objects.filter(pk=task.pk).update(input_version=1, stale_since=long_ago)
    assert recompute.sweep_stale(older_than=timedelta(seconds=60)) == 1
    task.refresh_from_db()
    assert task.stale_since is None and task.is_scored


def test_quadrant_change_records_one_alert(django_capture_on_commit_callbacks):
    task = TaskFactory()
    author = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        add(task, author, factor="tacit_judgment", strength=5)
        add(task, author, factor="system_access", strength=5)
    task.refresh_from_db()
    assert task.quadrant == "untrainable"
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            add(task, author, factor="frontier_model_parity", strength=5)
    task.refresh_from_db()
    assert task.quadrant == "specialist_models"
    alerts = Alert.objects.filter(task=task, kind="quadrant_change")
    assert alerts.count() == 1 and "Untrainable to Specialist models" in alerts.get().message
    recompute.rescore_task(task_id=task.id)
    assert Alert.objects.filter(task=task, kind="quadrant_change").count() == 1


evidence_rows = st.builds(
    dict,
    factor=st.sampled_from([f.code for f in scoring.FACTORS]),
    stance=st.sampled_from([1, -1]),
    strength=st.integers(1, 5),
    confidence=st.sampled_from(["low", "medium", "high"]),
    observed_on=st.dates(TODAY - timedelta(days=1500), TODAY),
    verified=st.booleans(),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(evidence_rows, min_size=0, max_size=12),
    as_of=st.dates(TODAY - timedelta(days=900), TODAY),
)
def test_sql_scoring_path_matches_the_pure_model(rows, as_of):
    task = TaskFactory()
    partner = UserFactory(username="verifier")
    for row in rows:
        verified = row.pop("verified")
        EvidenceFactory(
            task=task,
            verified_by=partner if verified else None,
            verified_at=timezone.now() if verified else None,
            **row,
        )
    rubric = scoring.DEFAULT_RUBRIC
    expected = scoring.score_task([e.as_scoring_row() for e in task.evidence.all()], as_of, rubric)
    got = scoring_sql.task_scores_as_of([task.id], as_of, rubric).get(task.id)
    if not expected.is_scored:
        assert got is None
        return
    assert got.x == pytest.approx(expected.x, abs=1e-9)
    assert got.y == pytest.approx(expected.y, abs=1e-9)
    assert got.confidence == pytest.approx(expected.confidence, abs=1e-9)
    assert got.evidence_count == expected.evidence_count


operations = st.lists(
    st.tuples(st.sampled_from(["add", "edit", "delete"]), evidence_rows, st.integers(0, 50)),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_stored_scores_equal_a_from_scratch_recompute_after_any_edits(
    ops, django_capture_on_commit_callbacks
):
    task = TaskFactory()
    author = UserFactory(username="writer")
    with django_capture_on_commit_callbacks(execute=True):
        for op, row, pick in ops:
            row = {k: v for k, v in row.items() if k != "verified"}
            existing = list(task.evidence.order_by("id"))
            if op == "add" or not existing:
                services.evidence_create(task=task, author=author, **row)
            elif op == "edit":
                target = existing[pick % len(existing)]
                services.evidence_update(
                    evidence=target, editor=author, expected_version=target.version, **row
                )
            else:
                services.evidence_delete(evidence=existing[pick % len(existing)], user=author)
    task.refresh_from_db()
    expected = pure_score(task)
    assert task.quadrant == expected.quadrant
    if expected.is_scored:
        assert task.x == pytest.approx(expected.x, abs=1e-9)
        assert task.y == pytest.approx(expected.y, abs=1e-9)
    assert task.scored_version == task.input_version


def test_concurrent_edit_from_the_same_version_is_refused():
    task = TaskFactory()
    author = UserFactory()
    evidence = add(task, author)
    services.evidence_update(evidence=evidence, editor=author, expected_version=1, strength=2)
    with pytest.raises(services.ConflictError) as conflict:
        services.evidence_update(evidence=evidence, editor=author, expected_version=1, strength=5)
    assert conflict.value.current.strength == 2
    evidence.refresh_from_db()
    assert evidence.strength == 2 and evidence.version == 2


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_picks_up_the_job_and_the_score_appears(celery_worker):
    task = TaskFactory()
    add(task, UserFactory())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if task.is_scored:
            break
        time.sleep(0.1)
    assert task.is_scored and task.y > 50
    assert task.stale_since is None


def test_activating_a_rubric_version_rescores_everything(django_capture_on_commit_callbacks):
    from assessments.models import RubricVersion

    task = TaskFactory()
    with django_capture_on_commit_callbacks(execute=True):
        add(task, UserFactory())
    task.refresh_from_db()
    before = task.y
    doubled = RubricVersion.objects.create(
        number=2,
        name="Access counts double",
        factor_weights={"system_access": 2.4},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=doubled)
    task.refresh_from_db()
    assert RubricVersion.objects.get(is_active=True) == doubled
    assert task.y > before
    assert task.y == pytest.approx(pure_score(task).y)
    assert TaskSnapshot.objects.filter(task=task, rubric_version=doubled).exists()


def test_evidence_from_the_future_is_refused():
    from django.core.exceptions import ValidationError

    task = TaskFactory()
    with pytest.raises(ValidationError, match="cannot be in the future"):
        add(task, UserFactory(), observed_on=TODAY + timedelta(days=1))
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_scoring_the_tasks_of_no_company_is_empty_not_an_error():
    from assessments.models import Task

    none = Task.objects.filter(company_id__in=[])
    assert scoring_sql.task_sums_as_of(none, date(2026, 1, 1), scoring.DEFAULT_RUBRIC) == {}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tasks=st.lists(st.lists(evidence_rows, min_size=0, max_size=8), min_size=1, max_size=3),
    as_of=st.dates(TODAY - timedelta(days=600), TODAY),
    back=st.integers(0, 700),
)
def test_sql_scores_then_and_aged_are_the_pure_models_in_one_statement(tasks, as_of, back):
    """The start and "decay" states of why it moved, on the SQL path and from one scan: the
    score as of since, and the rows observed by since decayed to as_of, as the pure model
    scores them."""
    since = as_of - timedelta(days=back)
    partner = UserFactory(username="verifier")
    rubric = scoring.DEFAULT_RUBRIC
    ids, then, aged = [], {}, {}
    for rows in tasks:
        task = TaskFactory()
        for row in rows:
            row = dict(row)
            verified = row.pop("verified")
            EvidenceFactory(
                task=task,
                verified_by=partner if verified else None,
                verified_at=timezone.now() if verified else None,
                **row,
            )
        scoring_rows = [e.as_scoring_row() for e in task.evidence.all()]
        ids.append(task.id)
        aged[task.id] = scoring.company_state(
            [(1.0, scoring_rows)],
            rows_until=since,
            decay_at=as_of,
            rubric=rubric,
            boundary_on=as_of,
        )
        held = [r for r in scoring_rows if r.observed_on <= since]
        assert aged[task.id] == scoring.score_task(held, as_of, rubric)
        then[task.id] = scoring.score_task(held, since, rubric)
    with CaptureQueriesContext(connection) as queries:
        got_then, got_aged = scoring_sql.task_scores_then_and_aged(ids, since, as_of, rubric)
    assert len(queries) == 1
    # The start is the score as of since, as the past-date map computes it.
    assert got_then == scoring_sql.task_scores_as_of(ids, since, rubric)
    for expected_of, got in ((then, got_then), (aged, got_aged)):
        for task_id, expected in expected_of.items():
            if not expected.is_scored:
                assert task_id not in got
                continue
            sql = got[task_id]
            assert sql.x == pytest.approx(expected.x, abs=1e-9)
            assert sql.y == pytest.approx(expected.y, abs=1e-9)
            assert sql.confidence == pytest.approx(expected.confidence, abs=1e-9)
            assert sql.margin == pytest.approx(expected.margin, abs=1e-9)
            assert sql.evidence_count == expected.evidence_count
