"""The reliability tests of docs/quality.md, on the real PostgreSQL and Redis.

The database is the truth and a queue message only a hint: these tests lose
messages on purpose (a worker killed mid-job, Redis stopped) and check that
every score still ends equal to a from-scratch recompute. Each test that stops
or kills a service starts its own Redis and worker processes on spare loopback
ports; the shared ones are left alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from assessments import imports, recompute, scoring, scoring_sql, selectors, services
from assessments.models import (
    Alert,
    Company,
    CompanySnapshot,
    Evidence,
    Fund,
    Task,
    TaskSnapshot,
)
from moatapp.celery import app as celery_app
from tests.conftest import need
from tests.factories import CompanyFactory, EvidenceFactory, TaskFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
TODAY = date.today()

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def on_postgresql():
    need(
        connection.vendor == "postgresql",
        "the reliability tests need PostgreSQL (set DATABASE_URL=postgres://...)",
    )


# --- Processes of our own -----------------------------------------------------------------


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class OwnRedis:
    """A redis-server on a spare loopback port that a test may stop and start again."""

    def __init__(self) -> None:
        self.port = spare_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="moat-redis-")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, 10, "Redis to start")

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def queue_length(self) -> int:
        import redis

        return redis.Redis.from_url(self.url).llen("celery")


@pytest.fixture
def own_redis():
    need(shutil.which("redis-server") is not None, "no redis-server binary on PATH")
    server = OwnRedis()
    server.start()
    previous = os.environ.get("CELERY_BROKER_URL")
    use_broker(server.url)
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)
    if previous is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = previous
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.task_always_eager = True


def use_broker(url: str) -> None:
    """Send jobs to this broker from the test process (instead of running them inline)."""
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    # Producers made for an earlier broker would still point at it.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class Worker:
    """`celery -A moatapp worker` as a subprocess on the test database, in its own session."""

    def __init__(self, broker_url: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "moatapp", "worker", "--concurrency=1",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": test_database_url(),
                 "CELERY_BROKER_URL": broker_url, **env},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def kill(self) -> None:
        """kill -9 the worker and its pool children."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers():
    started: list[Worker] = []

    def start(broker_url: str, **env: str) -> Worker:
        worker = Worker(broker_url, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# --- Checks -------------------------------------------------------------------------------


def assert_scores_equal_a_recompute_from_scratch() -> None:
    """Every stored task and company score equals the pure model's from-scratch result."""
    rubric = selectors.active_rubric_version().to_rubric()
    unscored = scoring.score_task([], TODAY, rubric)
    evidence: dict[int, list] = {}
    for row in Evidence.objects.all():
        evidence.setdefault(row.task_id, []).append(row.as_scoring_row())
    tasks = list(Task.objects.all())
    expected_tasks = {
        t.id: scoring.score_task(evidence.get(t.id, []), TODAY, rubric) for t in tasks
    }
    for task in tasks:
        expected = expected_tasks[task.id]
        assert task.stale_since is None and task.scored_version == task.input_version, task
        assert task.evidence_count == expected.evidence_count, task
        assert task.quadrant == expected.quadrant, task
        if expected.is_scored:
            assert task.x == pytest.approx(expected.x, abs=1e-9)
            assert task.y == pytest.approx(expected.y, abs=1e-9)
    per_company: dict[int, list] = {}
    for task in tasks:
        per_company.setdefault(task.company_id, []).append(
            (task.weight, expected_tasks.get(task.id, unscored))
        )
    for company in Company.objects.filter(pk__in=per_company):
        expected = scoring.score_company(per_company[company.id], TODAY, rubric)
        assert company.quadrant == expected.quadrant, company
        if expected.is_scored:
            assert company.x == pytest.approx(expected.x, abs=1e-9)
            assert company.y == pytest.approx(expected.y, abs=1e-9)


def add_note(task: Task, user, **fields) -> Evidence:
    values = {
        "factor": "system_access",
        "stance": 1,
        "strength": 4,
        "confidence": "high",
        "observed_on": TODAY - timedelta(days=3),
        "note": "A diligence note",
        **fields,
    }
    return services.evidence_create(task=task, author=user, **values)


def run_concurrently(count: int, work) -> list[BaseException]:
    """Run work(i) in count threads released at once; returns the exceptions raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # every failure is reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


# --- 1. Enqueue after commit --------------------------------------------------------------


def test_rolled_back_save_enqueues_nothing_and_a_committed_one_exactly_one_job(own_redis):
    task = TaskFactory()
    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        add_note(task, user)
        raise RuntimeError("the surrounding request failed")
    assert own_redis.queue_length() == 0 and not Evidence.objects.exists()
    add_note(task, user)
    assert own_redis.queue_length() == 1 and Evidence.objects.count() == 1


# --- 2. Idempotent, race-safe recompute ---------------------------------------------------


def test_recompute_twice_and_eight_times_concurrently_leaves_the_from_scratch_scores():
    company = CompanyFactory()
    tasks = [TaskFactory(company=company) for _ in range(3)]
    for i, task in enumerate(tasks):
        EvidenceFactory(task=task, factor="public_benchmark", observed_on=TODAY - timedelta(i))
        EvidenceFactory(task=task, factor="private_eval", strength=5)
        recompute.task_mark_stale(task_id=task.id)
    recompute.rescore_task(task_id=tasks[0].id)
    recompute.rescore_task(task_id=tasks[0].id)
    assert_scores_equal_a_recompute_from_scratch()
    errors = run_concurrently(8, lambda i: recompute.rescore_task(task_id=tasks[i % 3].id))
    assert errors == []
    assert_scores_equal_a_recompute_from_scratch()
    assert TaskSnapshot.objects.count() == 3 and CompanySnapshot.objects.count() == 1
    assert Alert.objects.count() == len(set(Alert.objects.values_list("kind", "task", "company")))


def test_concurrent_full_rescores_on_the_bulk_path_leave_the_from_scratch_scores():
    """Above the bulk threshold the writes are set-based: still guarded, still idempotent."""
    companies = [CompanyFactory() for _ in range(3)]
    tasks = Task.objects.bulk_create(
        [
            Task(company=companies[i % 3], name=f"Task {i}")
            for i in range(recompute.BULK_WRITE_THRESHOLD + 10)
        ]
    )
    for i, task in enumerate(tasks):
        EvidenceFactory(task=task, strength=1 + i % 5, observed_on=TODAY - timedelta(i % 400))
    Task.objects.update(input_version=1)
    errors = run_concurrently(4, lambda i: recompute.rescore_everything())
    assert errors == []
    recompute.rescore_everything()
    assert_scores_equal_a_recompute_from_scratch()
    assert TaskSnapshot.objects.count() == len(tasks)
    assert CompanySnapshot.objects.count() == 3


def test_a_bulk_recompute_does_not_store_over_a_newer_version():
    company = CompanyFactory()
    tasks = Task.objects.bulk_create(
        [Task(company=company, name=f"T{i}") for i in range(recompute.BULK_WRITE_THRESHOLD + 1)]
    )
    for task in tasks:
        EvidenceFactory(task=task)
    task_rows = [(t.id, company.id, 1.0, 0, "unscored", None, None) for t in tasks]
    # Evidence on the first task changed after these versions were read.
    Task.objects.filter(pk=tasks[0].pk).update(input_version=1, stale_since=timezone.now())
    rubric = selectors.active_rubric_version().to_rubric()
    scores = scoring_sql.task_scores_as_of(None, TODAY, rubric)
    values = {t.id: recompute._score_values(scores[t.id], TODAY, timezone.now()) for t in tasks}
    with transaction.atomic():
        recompute._stage_scores(task_rows, values, {})
        written = recompute._write_task_scores(task_rows, values, staged=True)
    assert tasks[0].id not in written and len(written) == len(tasks) - 1
    first = Task.objects.get(pk=tasks[0].pk)
    assert first.quadrant == "unscored" and first.stale_since is not None


# --- 3. A worker killed mid-job -----------------------------------------------------------


def test_a_worker_killed_mid_job_loses_nothing_once_the_sweeper_has_run(own_redis, workers):
    import psycopg

    company = CompanyFactory()
    tasks = [TaskFactory(company=company) for _ in range(3)]
    user = UserFactory()
    for task in tasks:
        add_note(task, user)
    assert own_redis.queue_length() == 3
    # Hold the task rows so that the worker's job stops at its write, after its reads.
    with psycopg.connect(test_database_url()) as holder:
        holder.execute(
            "SELECT id FROM assessments_task WHERE company_id = %s FOR UPDATE", [company.id]
        )
        worker = workers(own_redis.url)

        def job_blocked() -> bool:
            with psycopg.connect(test_database_url(), autocommit=True) as probe:
                return bool(
                    probe.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> %s",
                        [holder.info.backend_pid],
                    ).fetchone()
                )

        wait_for(job_blocked, 30, "the worker's job to reach its write", interval=0.1)
        worker.kill()
        holder.rollback()
    assert Task.objects.filter(stale_since__isnull=False).count() == 3
    # The sweeper's period has passed: it re-scores whatever the lost job left stale.
    wait_for(lambda: recompute.sweep_stale(older_than=timedelta(0)) == 0, 30, "a clean sweep")
    assert_scores_equal_a_recompute_from_scratch()
    assert Evidence.objects.count() == 3


# --- 4. Redis stopped while notes are saved -----------------------------------------------


def test_redis_stopped_while_100_notes_are_saved_loses_none_and_scores_converge(own_redis, workers):
    companies = [CompanyFactory() for _ in range(4)]
    tasks = [TaskFactory(company=companies[i % 4]) for i in range(10)]
    user = UserFactory()
    own_redis.stop()
    durations = []
    for i in range(100):
        started = time.perf_counter()
        add_note(tasks[i % 10], user, strength=1 + i % 5, note=f"Saved while Redis was down {i}")
        durations.append(time.perf_counter() - started)
    # A behavioural promise, not a benchmark: a save never hangs on the broker.
    assert max(durations) < 2.0, f"slowest save took {max(durations):.2f} s"
    assert Evidence.objects.count() == 100
    assert Task.objects.filter(stale_since__isnull=False).count() == 10

    own_redis.start()
    use_broker(own_redis.url)
    workers(own_redis.url, STALE_AFTER_SECONDS="0")
    from assessments import jobs

    jobs.sweep_stale.delay()
    wait_for(
        lambda: not Task.objects.filter(stale_since__isnull=False).exists(),
        60,
        "the sweeper to re-score every task",
        interval=0.2,
    )
    assert_scores_equal_a_recompute_from_scratch()


# --- 5. Optimistic locking ----------------------------------------------------------------


def test_two_saves_from_the_same_version_one_wins_and_the_other_gets_a_conflict():
    evidence = add_note(TaskFactory(), UserFactory(), note="original")
    editors = [UserFactory(), UserFactory()]
    conflicts = []

    def save(i: int) -> None:
        try:
            services.evidence_update(
                evidence=evidence, editor=editors[i], expected_version=1, note=f"edit {i}"
            )
        except services.ConflictError:
            conflicts.append(i)

    assert run_concurrently(2, save) == []
    assert len(conflicts) == 1
    stored = Evidence.objects.get(pk=evidence.pk)
    assert stored.version == 2 and stored.note == f"edit {1 - conflicts[0]}"


# --- 6. Concurrent saves on one company ---------------------------------------------------


def test_50_concurrent_saves_on_one_company_all_land_with_the_right_score():
    company = CompanyFactory()
    tasks = [TaskFactory(company=company) for _ in range(5)]
    user = UserFactory()
    errors = run_concurrently(
        50,
        lambda i: add_note(
            tasks[i % 5], user, factor=("system_access", "public_benchmark")[i % 2], note=str(i)
        ),
    )
    assert errors == []
    assert Evidence.objects.filter(task__company=company).count() == 50
    assert sorted(Evidence.objects.values_list("note", flat=True)) == sorted(map(str, range(50)))
    assert_scores_equal_a_recompute_from_scratch()


# --- 7. All-or-nothing import -------------------------------------------------------------


def test_a_csv_with_one_bad_row_writes_nothing():
    user = UserFactory(is_superuser=True)
    text = (
        "fund,company,task,factor,stance,strength,confidence,observed_on\n"
        "Fund A,Acme,Review,system_access,supports,4,high,2026-01-05\n"
        "Fund A,Acme,Draft,private_eval,supports,9,high,2026-01-05\n"
    )
    with pytest.raises(imports.ImportRejected) as rejected:
        imports.import_evidence(imports.parse_evidence_csv(text), user=user)
    assert "3" in str(rejected.value)
    assert not Fund.objects.exists() and not Company.objects.exists()
    assert not Task.objects.exists() and not Evidence.objects.exists()
