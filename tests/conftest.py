"""Shared fixtures: services, the Celery app in tests, and Playwright with Debian's Chromium."""

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

# Playwright's sync API runs an event loop in the test thread; the live server's
# database access from that thread is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _broker_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a Redis database of its own (14, 15, ...): a
    worker started by one test must not take the jobs another worker's test queued."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base, _, db = url.rpartition("/")
    return f"{base}/{min(15, int(db or 0) + int(worker.removeprefix('gw') or 0))}"


TEST_BROKER_URL = _broker_of_this_worker(
    os.environ.get("TEST_BROKER_URL") or "redis://127.0.0.1:6379/14"
)


def need(available: bool, reason: str) -> None:
    """Skip a test whose service is missing; under CI=true, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no request counted against the rate limits."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def jobs_run_inline():
    """Every test runs jobs inline unless it starts a real worker itself."""
    from moatapp.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def rescored(django_capture_on_commit_callbacks):
    """Runs a write, then the re-scores it enqueued for after its commit (a test's
    transaction never commits)."""

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run


@pytest.fixture
def redis_broker():
    need(port_open(TEST_BROKER_URL, 6379), f"no Redis at {TEST_BROKER_URL}")
    return TEST_BROKER_URL


@pytest.fixture
def celery_worker(redis_broker, django_db_blocker):
    """A real Celery worker on the Redis broker, in this process (solo pool)."""
    import redis
    from celery.contrib.testing.worker import start_worker

    from moatapp.celery import app

    redis.Redis.from_url(redis_broker).flushdb()
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_broker
    app.conf.result_backend = None
    # Producers made before the broker was set would still point at the old one.
    app._pool = None
    app.amqp._producer_pool = None
    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker,
    ):
        yield worker
    app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def kaleido_server():
    """One warm Kaleido server shared by every rendering test."""
    from assessments.exports import render as rendering

    need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    yield
    rendering.stop_server()
