"""Alerts worth reading: thresholds on the value a person sees, no alert for a move undone
within a burst of edits, and every alert naming its cause and who caused it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments import alert_causes, recompute, scoring, services
from assessments.models import Alert, RubricVersion
from assessments.notifications import alerting
from assessments.notifications.models import AlertEvent
from tests.factories import TaskFactory, UserFactory
from tests.unit.test_pipeline import add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def settling(settings):
    settings.ALERT_SETTLE_SECONDS = 120


def _score(runway: float) -> scoring.Score:
    return scoring.Score(60.0, 60.0, 0.5, scoring.UNTRAINABLE, runway * 8, runway, 4)


@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [
        (1.4, 0.967, False),  # reads 1.0 y: not under a year
        (1.4, 0.94, True),  # reads 0.9 y
        (0.96, 0.9, True),  # 0.96 read 1.0 y, so 0.9 is news
        (0.94, 0.6, False),  # it already read under a year
    ],
)
def test_runway_under_a_year_is_judged_on_the_runway_as_shown(before, after, fires):
    alerts = recompute.alerts_for_change(
        scoring.UNTRAINABLE, before * 8, before, _score(after), scoring.DEFAULT_RUBRIC
    )
    kinds = [kind for kind, _, _ in alerts]
    assert ("short_runway" in kinds) is fires
    if fires:
        assert f"runway down to {after:.1f} years" in alerts[-1][2]


def untrainable_task(author):
    task = TaskFactory(name="Contract review", company__name="Acme")
    add(task, author, factor="tacit_judgment")
    add(task, author, factor="system_access")
    recompute.rescore_task(task_id=task.pk)
    task.refresh_from_db()
    assert task.quadrant == scoring.UNTRAINABLE
    return task


def type_note(task, author, stance: int, capture) -> str:
    """One note on general models' parity, saved and re-scored as the page does."""
    with capture(execute=True):
        add(task, author, factor="frontier_model_parity", stance=stance)
    task.refresh_from_db()
    return task.quadrant


def test_ten_notes_typed_in_a_row_raise_no_alert_for_a_move_they_undo(
    django_capture_on_commit_callbacks,
):
    author = UserFactory(username="writer")
    task = untrainable_task(author)
    quadrants = [
        type_note(task, author, stance, django_capture_on_commit_callbacks)
        for stance in (1, -1) * 5
    ]
    # The task went to Specialist models and back five times...
    assert quadrants.count(scoring.SPECIALIST_MODELS) == 5
    assert quadrants[-1] == scoring.UNTRAINABLE
    # ...and ended where the burst began: nothing to read, nothing sent.
    assert not Alert.objects.exists()
    assert not AlertEvent.objects.exists()


def test_a_burst_that_ends_moved_raises_one_alert_after_it_settles(
    django_capture_on_commit_callbacks,
):
    author = UserFactory(username="writer")
    task = untrainable_task(author)
    for stance in (1, -1, 1):
        type_note(task, author, stance, django_capture_on_commit_callbacks)
    assert task.quadrant == scoring.SPECIALIST_MODELS
    alert = Alert.objects.get(task=task, kind="quadrant_change")
    assert alert.message == (
        "Task moved from Untrainable to Specialist models · cause: a new note by writer"
    )
    assert (alert.cause, alert.caused_by) == ("evidence", author)
    # Still inside the burst: nothing is sent yet.
    assert alerting.dispatch() == [] and AlertEvent.objects.get(alert=alert).dispatched_at is None
    AlertEvent.objects.update(created_at=timezone.now() - timedelta(seconds=121))
    alerting.dispatch()
    event = AlertEvent.objects.get(alert=alert)
    assert event.dispatched_at is not None
    assert event.previous["quadrant"] == scoring.UNTRAINABLE
    assert event.current["cause"] == {
        "kind": "evidence",
        "by": "writer",
        "detail": "a new note by writer",
    }


def test_a_rubric_activation_is_named_as_the_cause_with_its_partner(
    django_capture_on_commit_callbacks,
):
    author = UserFactory(username="writer")
    task = untrainable_task(author)
    partner = UserFactory(username="pat", is_superuser=True)
    # A boundary 200 points higher absorbs everything.
    version = RubricVersion.objects.create(number=7, name="Stricter", boundary_at_epoch=310.0)
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=version, user=partner)
    alert = Alert.objects.get(task=task, kind="boundary_crossing")
    assert alert.message == (
        "Task crossed below the absorption boundary · cause: rubric activation (version 7) by pat"
    )
    assert (alert.cause, alert.caused_by) == ("rubric", partner)
    version.refresh_from_db()
    assert version.activation_moved == {"tasks": 1, "companies": 1}


def test_the_daily_rescore_names_time_not_a_person():
    assert alert_causes.time_cause("quadrant_change").words() == (
        "decay of its evidence (daily re-score)"
    )
    assert alert_causes.time_cause("short_runway").words() == "the boundary's rise (daily re-score)"
    author = UserFactory(username="writer")
    task = untrainable_task(author)
    # The stored state as a day ago with a margin far above: today's re-score crosses it.
    type(task).objects.filter(pk=task.pk).update(quadrant=scoring.LAB_TERRITORY)
    recompute.rescore_everything()
    alert = Alert.objects.get(task=task, kind="quadrant_change")
    assert alert.message.endswith("· cause: decay of its evidence (daily re-score)")
    assert alert.caused_by is None
