"""`make load`: gunicorn and two Celery workers on loopback under 50 simulated users.

Starts its own Redis on a spare port, gunicorn (moatapp/gunicorn.conf.py) and two
`celery -A moatapp worker` processes against its own PostgreSQL database; 50 users
(associates, half in each of two funds) run for DURATION seconds over real HTTP:
70 % map views (`/` with varied filters, half of them htmx fragments), 20 % company
pages, 10 % evidence saves through the company page's form (POST to the task's
evidence URL with the page's CSRF token and the HX-Request header). Bounded and
self-stopping. Prints requests, errors and p50/p95 per kind, then checks that every
saved note is present (each note carries a unique marker), the queue drained and every
stored score equals a from-scratch recompute. Exit status 1 on a failed check.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/moatmap_load python bench/load.py
"""

from __future__ import annotations

import http.client
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    build_portfolio,
    celery_worker,
    gunicorn_server,
    ms,
    percentile,
    prepare,
    print_table,
    redis_server,
    signed_in_session,
    spare_port,
)

USERS = 50
DURATION = float(os.environ.get("LOAD_SECONDS", 60))
FUNDS = 2
COMPANIES = 200
TASKS_PER_COMPANY = 10
EVIDENCE = 100_000
SECTORS = ("Legal", "Health", "Finance", "Logistics")  # as build_portfolio names them
FACTORS = ("system_access", "public_benchmark", "private_eval", "user_habit")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MARKER = re.compile(r"\[\d+-\d+\]")
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")

prepare("postgres://postgres@127.0.0.1:5432/moatmap_load")

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.urls import reverse  # noqa: E402

from assessments import recompute, scoring_sql, selectors  # noqa: E402
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
        result.append((user, fund.id, signed_in_session(user)))
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
            # Every request here should answer 200: a redirect is an error too.
            if status != 200:
                self.errors[kind] += 1
            if status is None or status >= 500:
                self.server_errors[kind] += 1


class Browser:
    """One user's keep-alive connection with its cookies (session, then CSRF)."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.cookies = {"sessionid": session_key}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        """(status, text); status None when the connection failed."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            headers = {"Cookie": cookie, **(headers or {})}
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return None, ""
        for header in response.headers.get_all("Set-Cookie") or []:
            if found := CSRF_COOKIE.match(header):
                self.cookies["csrftoken"] = found.group(1)
        return response.status, text

    def close(self) -> None:
        self.conn.close()


def map_path(rng: random.Random, fund_id: int) -> tuple[str, dict]:
    """The map with a filter a person might pick; half of the requests as htmx fragments."""
    params = rng.choice(
        [
            {},
            {"fund": fund_id},
            {"sector": rng.choice(SECTORS)},
            {"fund": fund_id, "sector": rng.choice(SECTORS)},
            {"per": "task", "sort": "-x"},
            {"as_of": (selectors.today() - timedelta(days=rng.randint(30, 700))).isoformat()},
            {"colour": "sector", "size": "arr"},
        ]
    )
    headers = {"HX-Request": "true"} if rng.random() < 0.5 else {}
    return reverse("home") + ("?" + urlencode(params) if params else ""), headers


def simulate(user, fund_id: int, session_key: str, port: int, deadline: float, results: Results):
    rng = random.Random(user.pk)
    companies: dict[int, list[int]] = defaultdict(list)
    for task_id, company_id in Task.objects.filter(company__fund_id=fund_id).values_list(
        "id", "company_id"
    ):
        companies[company_id].append(task_id)
    company_ids = sorted(companies)
    # Hand the connection back to the pool between uses: 50 threads share 10 connections.
    connections.close_all()
    browser = Browser(port, session_key)
    n = 0
    try:
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.70:
                path, headers = map_path(rng, fund_id)
                started = time.perf_counter()
                status, _ = browser.request("GET", path, headers=headers)
                results.record("map view", time.perf_counter() - started, status)
            elif roll < 0.90:
                company_id = rng.choice(company_ids)
                started = time.perf_counter()
                status, _ = browser.request("GET", reverse("company_detail", args=[company_id]))
                results.record("company view", time.perf_counter() - started, status)
            else:
                company_id = rng.choice(company_ids)
                n += 1
                note = f"load note {user.username} #{n} [{user.pk}-{n}]"
                task_id = rng.choice(companies[company_id])
                save_evidence(browser, company_id, task_id, rng, note, results)
            time.sleep(rng.uniform(0.05, 0.25))  # a person reads the page
    finally:
        browser.close()


def save_evidence(browser: Browser, company_id: int, task_id: int, rng, note: str, results):
    """As a person does it: open the company page, fill one task's form, save (htmx)."""
    status, page = browser.request("GET", reverse("company_detail", args=[company_id]))
    token = CSRF_INPUT.search(page) if status == 200 else None
    if token is None:
        print(f"no evidence form on company {company_id}: {status}", file=sys.stderr)
        results.record("evidence save", 0.0, status if status != 200 else None)
        return
    form = {
        "csrfmiddlewaretoken": token.group(1),
        "factor": rng.choice(FACTORS),
        "stance": rng.choice([1, -1]),
        "strength": rng.randint(1, 5),
        "confidence": rng.choice(["low", "medium", "high"]),
        "observed_on": (selectors.today() - timedelta(days=rng.randint(0, 700))).isoformat(),
        "source": "load test",
        "note": note,
    }
    headers = {
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": token.group(1),
        "Referer": f"http://127.0.0.1:{browser.port}/",
    }
    started = time.perf_counter()
    status, text = browser.request(
        "POST", reverse("evidence_create", args=[task_id]), urlencode(form), headers
    )
    results.record("evidence save", time.perf_counter() - started, status)
    if status == 200 and "errorlist" not in text:
        with results.lock:
            results.saved_notes.append(note)
    else:
        print(f"save on task {task_id} answered {status}", file=sys.stderr)


def marker(note: str) -> str:
    """The unique "[user-n]" a saved note carries, however the note is stored."""
    found = MARKER.search(note)
    return found.group(0) if found else note


def queue_length(broker_url: str) -> int:
    import redis

    return redis.Redis.from_url(broker_url).llen("celery")


def check(results: Results, broker_url: str) -> list[tuple[str, bool, str]]:
    saved = {marker(note) for note in results.saved_notes}
    present = {
        marker(note)
        for note in Evidence.objects.filter(note__startswith="load note").values_list(
            "note", flat=True
        )
    }
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
    expected = scoring_sql.task_scores_as_of(None, today, rubric)
    unscored = selectors.scoring.score_task([], today, rubric)
    tasks = list(Task.objects.values_list("id", "company_id", "weight", "x", "y", "quadrant"))
    wrong = sum(
        1
        for tid, _, _, x, y, quadrant in tasks
        if quadrant != expected.get(tid, unscored).quadrant
        or (x is not None and abs(x - expected[tid].x) > 1e-6)
        or (y is not None and abs(y - expected[tid].y) > 1e-6)
    )
    company_expected = scoring_sql.company_scores(
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
    recompute.rescore_everything()
    users = members()
    port = spare_port()
    with ExitStack() as stack:
        broker_url = stack.enter_context(redis_server())
        stack.enter_context(celery_worker(broker_url, name="load1"))
        stack.enter_context(celery_worker(broker_url, name="load2"))
        stack.enter_context(gunicorn_server(port, broker_url, log_name="load-gunicorn"))
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
