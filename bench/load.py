"""`make load`: gunicorn and two Celery workers on loopback under 50 simulated users.

Starts its own Redis on a spare port, gunicorn (moatapp/gunicorn.conf.py) and two
`celery -A moatapp worker` processes against its own PostgreSQL database; 50 users
(members of two funds) run for DURATION seconds: 70 % portfolio/map views, 20 % company
views, 10 % evidence saves. Bounded and self-stopping. Prints requests, errors and
p50/p95 per kind, then checks that every saved note is present, the queue drained and
every stored score equals a from-scratch recompute. Exit status 1 on a failed check.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/moatmap_load python bench/load.py
"""

from __future__ import annotations

import http.client
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ROOT,
    build_portfolio,
    celery_worker,
    ms,
    percentile,
    prepare,
    print_table,
    redis_server,
    spare_port,
    use_broker,
)

USERS = 50
DURATION = float(os.environ.get("LOAD_SECONDS", 60))
FUNDS = 2
COMPANIES = 200
TASKS_PER_COMPANY = 10
EVIDENCE = 100_000

# Where each kind of request goes. The map page at "/" and the company page are built on
# other branches: point MAP_PATH at "/" and COMPANY_PATH at the company page once merged.
MAP_PATH = "/portfolio/"
COMPANY_PATH = "/portfolio/?fund={fund}"
# No HTTP endpoint saves evidence on this branch yet, so saves go through the service
# layer (services.evidence_create) from this process against the same database and broker.
# Replace save_evidence() with a POST once the evidence form is merged.

prepare("postgres://postgres@127.0.0.1:5432/moatmap_load")

from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, connections  # noqa: E402

from assessments import selectors, services  # noqa: E402
from assessments.models import Company, Evidence, Fund, Membership, Role, Task  # noqa: E402


def members() -> list[tuple[object, int, str]]:
    """USERS associates, half in each fund, each with a server-side session already signed in."""
    User = get_user_model()
    funds = list(Fund.objects.order_by("id"))
    result = []
    for i in range(USERS):
        fund = funds[i % len(funds)]
        user = User.objects.create(username=f"load{i}", is_active=True)
        Membership.objects.create(user=user, fund=fund, role=Role.ASSOCIATE)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        result.append((user, fund.id, session.session_key))
    return result


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.server_errors: dict[str, int] = defaultdict(int)
        self.saved_notes: list[str] = []

    def record(self, kind: str, seconds: float, status: int | None) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if status is None or status >= 400:
                self.errors[kind] += 1
            if status is None or status >= 500:
                self.server_errors[kind] += 1


def simulate(user, fund_id: int, session_key: str, port: int, deadline: float, results: Results):
    rng = random.Random(user.pk)
    tasks = list(Task.objects.filter(company__fund_id=fund_id).values_list("id", flat=True))
    # Hand the connection back to the pool between uses: 50 threads share 10 connections.
    connections.close_all()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={session_key}"}
    n = 0
    try:
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.10:
                n += 1
                note = f"load note {user.username} #{n}"
                started = time.perf_counter()
                try:
                    save_evidence(user, rng.choice(tasks), rng, note)
                    results.record("evidence save", time.perf_counter() - started, 200)
                    with results.lock:
                        results.saved_notes.append(note)
                except Exception as exc:  # counted as a server error and reported
                    print(f"save failed: {exc!r}", file=sys.stderr)
                    results.record("evidence save", time.perf_counter() - started, None)
                finally:
                    connections.close_all()
                continue
            kind, path = (
                ("map view", MAP_PATH)
                if roll < 0.80
                else ("company view", COMPANY_PATH.format(fund=fund_id))
            )
            started = time.perf_counter()
            status = None
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            results.record(kind, time.perf_counter() - started, status)
            time.sleep(rng.uniform(0.05, 0.25))  # a person reads the page
    finally:
        conn.close()
        connections.close_all()


def save_evidence(user, task_id: int, rng: random.Random, note: str) -> None:
    services.evidence_create(
        task=Task.objects.get(pk=task_id),
        author=user,
        factor=rng.choice(["system_access", "public_benchmark", "private_eval", "user_habit"]),
        stance=rng.choice([1, -1]),
        strength=rng.randint(1, 5),
        confidence=rng.choice(["low", "medium", "high"]),
        observed_on=selectors.today() - timedelta(days=rng.randint(0, 700)),
        note=note,
    )


def wait_for_http(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("gunicorn did not answer /healthz")


def queue_length(broker_url: str) -> int:
    import redis

    return redis.Redis.from_url(broker_url).llen("celery")


def check(results: Results, broker_url: str) -> list[tuple[str, bool, str]]:
    saved = set(results.saved_notes)
    present = set(Evidence.objects.filter(note__in=saved).values_list("note", flat=True))
    checks = [("every saved note present", present == saved, f"{len(present)}/{len(saved)}")]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stale = Task.objects.filter(stale_since__isnull=False).count()
        if queue_length(broker_url) == 0 and stale == 0:
            break
        time.sleep(0.5)
    checks.append(
        (
            "queue drained, no task stale",
            queue_length(broker_url) == 0 and stale == 0,
            f"{queue_length(broker_url)} queued, {stale} stale",
        )
    )
    rubric = selectors.active_rubric_version().to_rubric()
    today = selectors.today()
    expected = selectors.task_scores_as_of(None, today, rubric)
    unscored = selectors.scoring.score_task([], today, rubric)
    tasks = list(Task.objects.values_list("id", "company_id", "weight", "x", "y", "quadrant"))
    wrong = sum(
        1
        for tid, _, _, x, y, quadrant in tasks
        if quadrant != expected.get(tid, unscored).quadrant
        or (x is not None and abs(x - expected[tid].x) > 1e-6)
        or (y is not None and abs(y - expected[tid].y) > 1e-6)
    )
    company_expected = selectors.company_scores(
        [(tid, cid, w) for tid, cid, w, *_ in tasks], expected, today, rubric
    )
    wrong_companies = sum(
        1
        for cid, x, quadrant in Company.objects.values_list("id", "x", "quadrant")
        if quadrant != company_expected[cid].quadrant
        or (x is not None and abs(x - company_expected[cid].x) > 1e-6)
    )
    checks.append(
        (
            "every score equals a from-scratch recompute",
            wrong == 0 and wrong_companies == 0,
            f"{wrong} tasks, {wrong_companies} companies differ",
        )
    )
    return checks


def main() -> int:
    build_seconds = build_portfolio(
        funds=FUNDS, companies=COMPANIES, tasks_per_company=TASKS_PER_COMPANY, evidence=EVIDENCE
    )
    services.rescore_everything()
    users = members()
    port = spare_port()
    log = open(ROOT / "var" / "load-gunicorn.log", "w")  # noqa: SIM115 - closed below
    with ExitStack() as stack:
        broker_url = stack.enter_context(redis_server())
        stack.enter_context(celery_worker(broker_url, name="load1"))
        stack.enter_context(celery_worker(broker_url, name="load2"))
        env = {
            **os.environ,
            "CELERY_BROKER_URL": broker_url,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "moatapp.wsgi:application",
             "--config", "moatapp/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        stack.callback(lambda: (gunicorn.terminate(), gunicorn.wait(30), log.close()))
        wait_for_http(port)
        use_broker(broker_url)
        results = Results()
        deadline = time.monotonic() + DURATION
        threads = [
            threading.Thread(target=simulate, args=(*u, port, deadline, results), daemon=True)
            for u in users
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DURATION + 60)
        elapsed = time.monotonic() - started
        checks = check(results, broker_url)

    rows = []
    for kind in ("map view", "company view", "evidence save"):
        times = results.times[kind]
        rows.append(
            (
                kind,
                f"{len(times)}",
                f"{results.errors[kind]} ({results.server_errors[kind]} server)",
                f"p50 {ms(percentile(times, 0.5))}, p95 {ms(percentile(times, 0.95))}"
                if times
                else "-",
            )
        )
    total = sum(len(t) for t in results.times.values())
    server_errors = sum(results.server_errors.values())
    rows.append(("all", f"{total} ({total / elapsed:.0f}/s)", f"{server_errors} server", ""))
    print_table(
        rows,
        f"{USERS} users for {elapsed:.0f} s; gunicorn (gthread) + 2 Celery workers + Redis, "
        f"PostgreSQL {connection.pg_version // 10000}; {COMPANIES} companies, "
        f"{COMPANIES * TASKS_PER_COMPANY} tasks, {EVIDENCE:,} evidence rows "
        f"(built in {build_seconds:.1f} s); {os.cpu_count()} cores",
        headers=("kind", "requests", "errors", "latency"),
    )
    checks.insert(0, ("0 server errors", server_errors == 0, str(server_errors)))
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
