"""`make bench`: a synthetic portfolio on PostgreSQL, then one table of figures.

Builds 1,000 companies, 10,000 tasks and 500,000 evidence rows over three years in
bulk (INSERT ... SELECT over generate_series), then measures against the targets in
docs/quality.md, each beside the floor it is compared with in the same run:

- server time (median of REPEAT, Django test Client in this process, logged in) and
  SQL query counts of the map page `/`, its htmx fragments (filtered, per task, as of
  a past date) and the company page, beside a bare view behind the same middleware;
- the map fragment as of a past date and the full re-score (with its writes), beside
  the scoring floor (one read-only SQL statement, run raw) and as a ratio;
- evidence saved -> new score: the htmx POST of the company page's evidence form, inline
  (its response carries the new score), and with a real Celery worker (p50, p95);
- the worker's peak RSS during the full re-score;
- the size of the map region htmx swaps after a filter change (its table a first page, its
  chart every bubble);
- the map whole in Chromium after a filter change (Playwright against gunicorn on loopback
  serving this database): from the change to htmx's settle, then to the frame after Plotly's
  redraw, where the chart passes the journeys' check of a whole chart (both phases shown);
- the first chart on a cold visit (a fresh browser profile) and a warm one, with static files
  served as production serves them (collectstatic's hashed, compressed copies via WhiteNoise).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/moatmap_bench python bench/run.py
BENCH_REUSE=1 keeps the database of an earlier run of the same SCALE instead of rebuilding it.
SCALE=10 builds ten times the portfolio (10,000 companies, 100,000 tasks, 5,000,000 evidence
rows) and prints the same table; it is not run by CI. The database is dropped and rebuilt on
every run.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    build_portfolio,
    celery_worker,
    gunicorn_server,
    ms,
    peak_rss_mb,
    percentile,
    prepare,
    print_table,
    redis_server,
    signed_in_session,
    spare_port,
    use_broker,
)
from notes_bench import note_bomb_rows

SCALE = int(os.environ.get("SCALE") or 1)
FUNDS = 10
COMPANIES = 1_000 * SCALE
TASKS_PER_COMPANY = 10
EVIDENCE = 500_000 * SCALE
YEARS = 3
REPEAT = 10
LATENCY_SAMPLES = 20

HTMX = {"HTTP_HX_REQUEST": "true"}
# Pages measured as (label, URL name, URL kwargs, query string, headers, target); {fund},
# {company}, {past} and {since} are filled in from the built portfolio.
TODAY_TARGET = "target <= 150 ms"
PAGES_TO_MEASURE = [
    ("map page `/`", "home", {}, "", {}, TODAY_TARGET),
    (f"map fragment, all {COMPANIES:,}, today", "home", {}, "", HTMX, TODAY_TARGET),
    (
        "map fragment: one fund, one sector",
        "home",
        {},
        "?fund={fund}&sector=Legal",
        HTMX,
        TODAY_TARGET,
    ),
    (
        f"map fragment: per task ({COMPANIES * TASKS_PER_COMPANY:,})",
        "home",
        {},
        "?per=task&sort=-x",
        HTMX,
        "no target",
    ),
    (
        "map fragment: trails since 2 years",
        "home",
        {},
        "?since={since}",
        HTMX,
        "scores then, in SQL",
    ),
    ("portfolio page", "portfolio", {}, "", {}, "no target"),
    (
        "company page (10 tasks, ~500 notes)",
        "company_detail",
        {"pk": "{company}"},
        "",
        {},
        "no target",
    ),
]
# The time slider's fragment, compared with the scoring floor as of the same date.
PAST_FRAGMENT = ("home", "?as_of={past}")
# The region htmx swaps after a filter change: (label, query string); target at 1,000.
REGIONS = [
    (f"map region after a filter change, all {COMPANIES:,}", "?colour=sector"),
    ("map region after a filter change, one fund", "?fund={fund}&colour=sector"),
]
REGION_TARGET = 150_000
BROWSER_RUNS = 7
FIRST_CHART_TARGET = "target <= 1.5 s on loopback"


# --- Setup --------------------------------------------------------------------------------

prepare("postgres://postgres@127.0.0.1:5432/moatmap_bench")

from django.core.management import call_command  # noqa: E402

# The hashed, gzip and brotli copies WhiteNoise serves in production (kept between runs).
call_command("collectstatic", interactive=False, verbosity=0)

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.templatetags.static import static  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402

from assessments import recompute, scoring, selectors, services  # noqa: E402
from assessments.models import Company, Evidence, Fund, Task  # noqa: E402
from assessments.selectors import portfolio as portfolio_selectors  # noqa: E402
from moatapp.celery import app as celery_app  # noqa: E402


def bare(request):
    """The floor for page times: the same middleware, no work."""
    return HttpResponse("ok")


# This module is the urlconf while measuring: the app's URLs plus the bare view.
urlpatterns = [path("bench/bare/", bare, name="bench-bare"), path("", include("moatapp.urls"))]


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


def measure_page(client: Client, url: str, headers: dict | None = None) -> tuple[float, int]:
    headers = headers or {}
    client.get(url, **headers)  # warm
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
    ):
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    times = timed(lambda: client.get(url, **headers), REPEAT)
    return statistics.median(times), len(queries)


def evidence_post_times(client: Client, tasks: list[Task]) -> tuple[list[float], int]:
    """Server time of the company page's evidence form saved as htmx, one save per task;
    inline mode, so each response already carries the task's and the company's new score."""
    times, queries = [], []
    for n, task in enumerate(tasks):
        data = {
            "factor": "system_access",
            "stance": "1",
            "strength": "4",
            "confidence": "high",
            "observed_on": selectors.today().isoformat(),
            "source": "bench",
            "note": f"Bench save {n}",
        }
        url = reverse("evidence_create", kwargs={"pk": task.pk})
        with connection.execute_wrapper(
            lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
        ):
            started = time.perf_counter()
            response = client.post(url, data, **HTMX)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        assert b"errorlist" not in response.content, response.content[:500]
        task.refresh_from_db(fields=["input_version", "scored_version"])
        assert task.scored_version >= task.input_version, "inline save left the task stale"
    return times, len(queries) // len(tasks)


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


def region_rows(client: Client, values: dict) -> list[tuple[str, str, str, str]]:
    """Bytes of the htmx region after a filter change, and how much of it is the figure."""
    rows = []
    for label, query in REGIONS:
        response = client.get(reverse("home") + query.format(**values), **HTMX)
        assert response.status_code == 200, response.status_code
        html = response.content.decode()
        figure = html.split('id="map-figure" type="application/json">')[1].split("</script>")[0]
        rows_shown = html.split('id="map-table"')[1].count("<tr data-company")
        target = f"target <= {REGION_TARGET / 1000:.0f} kB at 1,000 companies"
        rows.append(
            (
                label,
                f"{len(response.content) / 1000:.0f} kB",
                f"figure {len(figure.encode()) / 1000:.0f} kB, table {rows_shown} rows",
                target if "all" in label else "",
            )
        )
    return rows


def browser_rows(user, fund_id: int) -> list[tuple[str, str, str, str]]:
    """The map redrawn in Chromium after a filter change, and the first chart of a visit,
    against gunicorn on loopback."""
    from browser import measure_first_chart, measure_redraw

    rows = []
    session = signed_in_session(user)
    with gunicorn_server(spare_port(), log_name="bench-gunicorn") as base_url:
        results = measure_redraw(base_url, session, BROWSER_RUNS, fund_id)
        first_charts = measure_first_chart(
            base_url, session, BROWSER_RUNS, static("vendor/plotly.min.js")
        )
    floor = statistics.median(first_charts[0][1])
    for label, times, extra in first_charts:
        median = statistics.median(times)
        beside = f"median of {len(times)}; {extra}"
        if "cold visit" in label:
            beside = f"floor + {(median - floor) * 1000:.0f} ms; " + beside
        rows.append(
            (label, ms(median), beside, FIRST_CHART_TARGET if "cold visit" in label else "")
        )
    for label, times, bubbles, extra, phases in results:
        rows.append(
            (
                label,
                ms(statistics.median(times)),
                f"median of {len(times)}; clock stops at the first frame after htmx's settle "
                f"and Plotly's afterplot, chart checked whole; {bubbles:,} bubbles; {extra}",
                "target <= 300 ms",
            )
        )
        for phase, (name, stops) in enumerate(
            (
                ("server + swap", "from the change to htmx's settle"),
                ("draw", "from the settle to the frame after Plotly's afterplot"),
            )
        ):
            rows.append(
                (
                    f"  {name}",
                    ms(statistics.median(run[phase] for run in phases)),
                    f"median of {len(phases)}; {stops}",
                    "",
                )
            )
    return rows


def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    if os.environ.get("BENCH_REUSE") == "1" and Company.objects.count() == COMPANIES:
        build_seconds = 0.0  # the portfolio of an earlier run of the same SCALE
    else:
        build_seconds = build_portfolio(
            funds=FUNDS,
            companies=COMPANIES,
            tasks_per_company=TASKS_PER_COMPANY,
            evidence=EVIDENCE,
            years=YEARS,
        )
    evidence_rows = Evidence.objects.count()
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
    rescore_times = timed(recompute.rescore_everything, 3)
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

    fund = Fund.objects.order_by("id").first()
    company = Company.objects.filter(fund=fund).order_by("id").first()
    values = {
        "fund": fund.id,
        "company": company.id,
        "past": past.isoformat(),
        "since": (today - timedelta(days=730)).isoformat(),
    }
    companies = list(Company.objects.order_by("id")[:LATENCY_SAMPLES])
    sample_tasks = [Task.objects.filter(company=c).order_by("id").first() for c in companies]
    celery_app.conf.task_always_eager = True
    with override_settings(ROOT_URLCONF=__name__):
        client = Client()
        client.force_login(user)
        bare_time, bare_queries = measure_page(client, reverse("bench-bare"))
        rows.append(("bare Django view (floor)", ms(bare_time), f"{bare_queries} queries", ""))
        for label, name, kwargs, query, headers, target in PAGES_TO_MEASURE:
            url = reverse(name, kwargs={k: v.format(**values) for k, v in kwargs.items()})
            page_time, page_queries = measure_page(client, url + query.format(**values), headers)
            rows.append(
                (
                    label,
                    ms(page_time),
                    f"{page_queries} queries",
                    f"{target}; bare view + {ms(page_time - bare_time)}",
                )
            )
        rows += region_rows(client, values)
        name, query = PAST_FRAGMENT
        past_time, past_queries = measure_page(client, reverse(name) + query.format(**values), HTMX)
        # The rubric preview: the map under a draft beside the active one, as an htmx fragment.
        draft = services.rubric_draft_create(
            user=user,
            base=selectors.active_rubric_version(),
            name="Bench draft",
            factor_weights={"system_access": 2.0, "public_benchmark": 1.4},
            half_lives={"frontier_model_parity": 120.0},
            proprietary_weight=1.6,
        )
        preview_url = reverse("rubric_preview", args=[draft.pk])
        preview_time, preview_queries = measure_page(client, preview_url, HTMX)
        post_times, post_queries = evidence_post_times(client, sample_tasks)

    rows.append(
        (
            "scoring floor, today (raw SQL)",
            ms(floor_today),
            "",
            f"count(*) {ms(statistics.median(count_times))}",
        )
    )
    rows.append(("scoring floor, a year ago", ms(floor_past), "", ""))
    selector_time = statistics.median(
        timed(lambda: portfolio_selectors.portfolio(user, as_of=past), REPEAT)
    )
    rows.append(
        (
            "portfolio scored as of a year ago (SQL)",
            ms(selector_time),
            f"{selector_time / floor_past:.2f}x floor",
            "the scoring inside the fragment below",
        )
    )
    rows.append(
        (
            "map fragment as of a year ago",
            ms(past_time),
            f"{past_time / floor_past:.2f}x floor, {past_queries} queries",
            f"target <= 2x floor + 50 ms = {ms(2 * floor_past + 0.05)}",
        )
    )
    rows.append(
        (
            "rubric preview, draft vs active, today",
            ms(preview_time),
            f"{preview_time / floor_today:.2f}x floor, {preview_queries} queries",
            f"target <= 2x floor + 50 ms = {ms(2 * floor_today + 0.05)}",
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

    rows.append(
        (
            "evidence save, htmx POST, inline",
            f"p50 {ms(percentile(post_times, 0.5))}",
            f"p95 {ms(percentile(post_times, 0.95))}, {post_queries} queries",
            "target <= 300 ms (the response shows the new score)",
        )
    )

    with redis_server() as broker_url, celery_worker(broker_url) as worker:
        use_broker(broker_url)
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

    rows += note_bomb_rows()
    rows += browser_rows(user, fund.id)

    print_table(
        rows,
        f"{COMPANIES:,} companies, {Task.objects.count():,} tasks, "
        f"{evidence_rows:,} evidence rows (built in {build_seconds:.1f} s); PostgreSQL "
        f"{connection.pg_version // 10000}; {os.cpu_count()} cores (load average "
        f"{os.getloadavg()[0]:.1f} at the end: other jobs share them); median of {REPEAT}",
    )


if __name__ == "__main__":
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    main()
