"""`make bench`: a synthetic portfolio on PostgreSQL, then one table of figures.

Builds 1,000 companies, 10,000 tasks and 500,000 evidence rows over three years in
bulk (INSERT ... SELECT over generate_series), then measures against the targets in
docs/quality.md, each beside the floor it is compared with in the same run:

- page server time (median of REPEAT, Django test Client, logged in) and SQL query
  counts, beside a bare view behind the same middleware;
- the portfolio scored as of a past date and the full re-score (with its writes),
  beside the scoring floor (one read-only SQL statement, run raw) and as a ratio;
- evidence saved -> new score stored, inline and with a real Celery worker (p50, p95);
- the worker's peak RSS during the full re-score.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/moatmap_bench python bench/run.py
The database is dropped and rebuilt on every run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/moatmap_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moatapp.settings")
os.environ["CELERY_BROKER_URL"] = ""  # inline until the worker section points it at Redis
os.environ["SECURE_COOKIES"] = "false"
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ.setdefault("LOG_LEVEL", "WARNING")

FUNDS = 10
COMPANIES = 1_000
TASKS_PER_COMPANY = 10
EVIDENCE = 500_000
YEARS = 3
REPEAT = 10
LATENCY_SAMPLES = 20

# Pages measured as (label, URL name, query string). The map page at "/" (URL name
# "home") is built on another branch: add ("map page", "home", "") and
# ("map fragment, one fund", "home", "?fund={fund}") here once it is merged.
PAGES_TO_MEASURE = [
    ("portfolio page", "portfolio", ""),
    ("portfolio, one fund", "portfolio", "?fund={fund}"),
]


def ensure_database(url: str) -> None:
    """Drop and create the bench database (the server's maintenance DB does the work)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server():
    """A throwaway Redis on a spare loopback port; the shared one is left alone."""
    port = spare_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def celery_worker(broker_url: str):
    """`celery -A moatapp worker` as a subprocess (prefork, one child, like production)."""
    env = {**os.environ, "CELERY_BROKER_URL": broker_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "moatapp", "worker", "--concurrency=1",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peak_rss_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM) of a process and its children, in MB."""
    peaks = []
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except FileNotFoundError:
            continue
    return max(peaks, default=0.0)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- Setup --------------------------------------------------------------------------------

url = os.environ["DATABASE_URL"]
if not url.startswith("postgres"):
    sys.exit("bench/run.py needs PostgreSQL: set DATABASE_URL=postgres://...")
ensure_database(url)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402

from assessments import scoring, selectors, services  # noqa: E402
from assessments.models import (  # noqa: E402
    Company,
    Evidence,
    Fund,
    Membership,
    Role,
    Task,
)
from moatapp.celery import app as celery_app  # noqa: E402


def bare(request):
    """The floor for page times: the same middleware, no work."""
    return HttpResponse("ok")


# This module is the urlconf while measuring: the app's URLs plus the bare view.
urlpatterns = [path("bench/bare/", bare, name="bench-bare"), path("", include("moatapp.urls"))]

call_command("migrate", verbosity=0)


def build_portfolio() -> float:
    """Funds, companies and tasks via bulk_create; evidence in one INSERT ... SELECT."""
    started = time.perf_counter()
    from django.contrib.auth import get_user_model

    funds = Fund.objects.bulk_create([Fund(name=f"Bench fund {i}") for i in range(FUNDS)])
    companies = Company.objects.bulk_create(
        [
            Company(
                fund=funds[i % FUNDS],
                name=f"Company {i:04d}",
                sector=("Legal", "Health", "Finance", "Logistics")[i % 4],
                stage="Series A",
                check_size=5_000_000,
                arr=2_000_000,
            )
            for i in range(COMPANIES)
        ],
        batch_size=1000,
    )
    Task.objects.bulk_create(
        [
            Task(company=c, name=f"Task {j}", weight=1.0 + (j % 3) * 0.5)
            for c in companies
            for j in range(TASKS_PER_COMPANY)
        ],
        batch_size=2000,
    )
    user = get_user_model().objects.create(username="bench", is_active=True)
    user.set_unusable_password()
    user.save()
    Membership.objects.bulk_create(
        [Membership(user=user, fund=f, role=Role.PARTNER) for f in funds]
    )
    codes = [f.code for f in scoring.FACTORS]
    first_day = (selectors.today() - timedelta(days=int(YEARS * 365.25))).toordinal()
    span = selectors.today().toordinal() - first_day
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            f"""
            WITH t AS (SELECT array_agg(id ORDER BY id) AS ids FROM {Task._meta.db_table}),
            rows AS (
                SELECT g, {first_day} + floor(random() * {span + 1})::int AS day,
                       random() AS r1, random() AS r2, random() AS r3, random() AS r4
                FROM generate_series(0, %s - 1) AS g
            )
            INSERT INTO {Evidence._meta.db_table}
                (task_id, factor, stance, strength, confidence, observed_on, observed_day,
                 source, note, author_id, verified_by_id, verified_at, review_comment,
                 version, created_at, updated_at)
            SELECT t.ids[1 + g %% array_length(t.ids, 1)],
                   (%s::text[])[1 + floor(r1 * %s)::int],
                   CASE WHEN r2 < 0.7 THEN 1 ELSE -1 END,
                   1 + floor(r3 * 5)::int,
                   (ARRAY['low', 'medium', 'high'])[1 + floor(r4 * 3)::int],
                   date '0001-01-01' + (day - 1), day,
                   'bench', 'Synthetic note', %s,
                   CASE WHEN r2 * 10 - floor(r2 * 10) < 0.5 THEN %s END,
                   CASE WHEN r2 * 10 - floor(r2 * 10) < 0.5 THEN now() END,
                   '', 1, now(), now()
            FROM rows, t
            """,
            [EVIDENCE, codes, len(codes), user.id, user.id],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def scoring_floor_sql(as_of: date, rubric: scoring.Rubric) -> tuple[str, list]:
    """quality.md's floor: per task and axis, the sum of decayed contributions, read-only."""
    factors = ", ".join(["(%s, %s, %s::float8, %s::float8)"] * len(scoring.FACTORS))
    confidences = ", ".join(["(%s, %s::float8)"] * len(scoring.CONFIDENCE_VALUES))
    params: list = []
    for f in scoring.FACTORS:
        params += [
            f.code,
            f.axis,
            f.polarity * rubric.factor_weights[f.code],
            rubric.half_lives[f.code],
        ]
    for level, value in scoring.CONFIDENCE_VALUES.items():
        params += [level, value]
    day = as_of.toordinal()
    sql = f"""
        SELECT e.task_id, f.axis,
               SUM(f.w * e.stance * e.strength / 5.0 * c.v
                   * CASE WHEN e.verified_at IS NULL THEN %s ELSE 1.0 END
                   * power(0.5, ({day} - e.observed_day) / f.h))
        FROM {Evidence._meta.db_table} e
        JOIN (VALUES {factors}) AS f(code, axis, w, h) ON f.code = e.factor
        JOIN (VALUES {confidences}) AS c(level, v) ON c.level = e.confidence
        WHERE e.observed_day <= {day}
        GROUP BY e.task_id, f.axis
    """
    return sql, [rubric.unverified_weight, *params]


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def measure_page(client: Client, url: str) -> tuple[float, int]:
    client.get(url)  # warm
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
    ):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = timed(lambda: client.get(url), REPEAT)
    return statistics.median(times), len(queries)


def wait_until_scored(task_id: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = Task.objects.values("input_version", "scored_version").get(pk=task_id)
        if task["scored_version"] >= task["input_version"]:
            return
        time.sleep(0.005)
    raise TimeoutError(f"task {task_id} was not re-scored within {timeout} s")


def save_to_score_latencies(user, tasks: list[Task]) -> list[float]:
    """Seconds from the start of an evidence save until its task's new score is stored."""
    latencies = []
    for task in tasks:
        started = time.perf_counter()
        services.evidence_create(
            task=task,
            author=user,
            factor="system_access",
            stance=1,
            strength=4,
            confidence="high",
            observed_on=selectors.today(),
            note="Bench latency note",
        )
        wait_until_scored(task.id)
        latencies.append(time.perf_counter() - started)
    return latencies


def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    build_seconds = build_portfolio()
    print(
        f"built {Company.objects.count():,} companies, {Task.objects.count():,} tasks, "
        f"{Evidence.objects.count():,} evidence rows in {build_seconds:.1f} s",
        file=sys.stderr,
    )
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="bench")
    rubric = selectors.active_rubric_version().to_rubric()
    today = selectors.today()
    past = today - timedelta(days=365)

    # Full re-score first: it also stores the current scores the pages show.
    rescore_times = timed(services.rescore_everything, 3)
    print(f"full re-score: {[round(t, 2) for t in rescore_times]} s", file=sys.stderr)

    # The scoring floor, run raw; today's and the past date's.
    def floor(as_of: date):
        sql, params = scoring_floor_sql(as_of, rubric)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    floor(today)
    floor_today = statistics.median(timed(lambda: floor(today), 5))
    floor_past = statistics.median(timed(lambda: floor(past), 5))
    with connection.cursor() as cursor:
        count_times = []
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute(f"SELECT count(*) FROM {Evidence._meta.db_table}")
            cursor.fetchall()
            count_times.append(time.perf_counter() - started)

    with override_settings(ROOT_URLCONF=__name__):
        client = Client()
        client.force_login(user)
        fund = Fund.objects.order_by("id").first()
        bare_time, bare_queries = measure_page(client, reverse("bench-bare"))
        rows.append(("bare Django view (floor)", ms(bare_time), f"{bare_queries} queries", ""))
        for label, name, query in PAGES_TO_MEASURE:
            page_time, page_queries = measure_page(
                client, reverse(name) + query.format(fund=fund.id)
            )
            rows.append(
                (
                    label,
                    ms(page_time),
                    f"{page_queries} queries",
                    f"target <= 150 ms; {page_time / bare_time:.0f}x bare",
                )
            )

    rows.append(
        (
            "scoring floor, today (raw SQL)",
            ms(floor_today),
            "",
            f"count(*) {ms(statistics.median(count_times))}",
        )
    )
    rows.append(("scoring floor, a year ago", ms(floor_past), "", ""))
    past_time = statistics.median(timed(lambda: selectors.portfolio(user, as_of=past), REPEAT))
    rows.append(
        (
            "portfolio scored as of a year ago",
            ms(past_time),
            f"{past_time / floor_past:.2f}x floor",
            f"target <= 2x floor + 50 ms = {ms(2 * floor_past + 0.05)}",
        )
    )
    rescore = statistics.median(rescore_times)
    rows.append(
        (
            "full re-score with writes",
            ms(rescore),
            f"{rescore / floor_today:.2f}x floor",
            f"target <= 3x floor = {ms(3 * floor_today)}",
        )
    )

    companies = list(Company.objects.order_by("id")[:LATENCY_SAMPLES])
    sample_tasks = [Task.objects.filter(company=c).order_by("id").first() for c in companies]
    celery_app.conf.task_always_eager = True
    inline = save_to_score_latencies(user, sample_tasks)
    rows.append(
        (
            "evidence saved -> score, inline",
            f"p50 {ms(percentile(inline, 0.5))}",
            f"p95 {ms(percentile(inline, 0.95))}",
            "target <= 300 ms",
        )
    )

    with redis_server() as broker_url, celery_worker(broker_url) as worker:
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = broker_url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        # Let the worker come up before timing: the first job waits for it.
        save_to_score_latencies(user, sample_tasks[:1])
        with_worker = save_to_score_latencies(user, sample_tasks)
        rows.append(
            (
                "evidence saved -> score, real worker",
                f"p50 {ms(percentile(with_worker, 0.5))}",
                f"p95 {ms(percentile(with_worker, 0.95))}",
                "target p95 <= 1 s",
            )
        )
        started_at = Company.objects.order_by("-scored_at").values_list("scored_at", flat=True)[0]
        job_started = time.perf_counter()
        celery_app.send_task("assessments.tasks.rescore_everything")
        deadline = time.monotonic() + 300
        while Company.objects.filter(scored_at__lte=started_at).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not finish the full re-score")
            time.sleep(0.05)
        worker_rescore = time.perf_counter() - job_started
        rows.append(
            (
                "worker peak RSS, full re-score",
                f"{peak_rss_mb(worker.pid):.0f} MB",
                f"job {ms(worker_rescore)}",
                "target <= 300 MB",
            )
        )

    print_table(
        rows,
        f"{COMPANIES:,} companies, {Task.objects.count():,} tasks, "
        f"{Evidence.objects.count():,} evidence rows; PostgreSQL "
        f"{connection.pg_version // 10000}; {os.cpu_count()} cores; median of {REPEAT}",
    )


def print_table(rows, caption: str) -> None:
    headers = ("measure", "value", "beside", "target / floor")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(caption)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


if __name__ == "__main__":
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    main()
