"""Benchmark of the portfolio map: server time of the page and of a filtered fragment.

Builds a portfolio of 1,000 companies, 10,000 tasks and 30,000 evidence rows (bulk_create)
in a throw-away database made next to the configured one (``bench_<name>`` on PostgreSQL,
``var/bench.sqlite3`` on SQLite; dropped at the end), scores it, then times, with Django's
test Client in this process (so: server time, no network), the median of 15 requests of:

- the full map page today (stored scores);
- an htmx fragment filtered by sector, as of a past date, with trails (the SQL scoring path);
- an htmx fragment per task, today.

Run from the project folder:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/moatmap python bench/map_bench.py

(without DATABASE_URL it runs on SQLite). Prints one line per request kind: median and
fastest time in milliseconds, the number of SQL queries and the response size.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moatapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ["CELERY_BROKER_URL"] = ""

COMPANIES = 1_000
TASKS_PER_COMPANY = 10
EVIDENCE_PER_TASK = 3
RUNS = 15
SECTORS = ("Legal", "Fintech", "Healthcare", "Insurance", "Energy", "HR", "Dev tools", "Retail")
FACTORS = ("system_access", "private_eval", "frontier_model_parity", "public_benchmark")


def build(today: date):
    from django.contrib.auth import get_user_model

    from assessments import services
    from assessments.models import Company, Evidence, Fund, Membership, Role, Task

    user = get_user_model().objects.create_user("bench-partner", password="bench-only-password")
    fund = Fund.objects.create(name="Bench fund")
    Membership.objects.create(user=user, fund=fund, role=Role.PARTNER)
    companies = Company.objects.bulk_create(
        Company(
            fund=fund,
            name=f"Company {i:04d}",
            sector=SECTORS[i % len(SECTORS)],
            stage=("Seed", "Series A", "Series B")[i % 3],
            check_size=1_000_000 + 37_000 * i,
            arr=500_000 + 11_000 * i,
            lead_partner=user,
        )
        for i in range(COMPANIES)
    )
    tasks = Task.objects.bulk_create(
        Task(company=c, name=f"Task {j}", weight=1 + j % 3)
        for c in companies
        for j in range(TASKS_PER_COMPANY)
    )
    evidence = []
    for n, task in enumerate(tasks):
        for k in range(EVIDENCE_PER_TASK):
            observed = today - timedelta(days=(n * 7 + k * 113) % 700)
            evidence.append(
                Evidence(
                    task=task,
                    factor=FACTORS[(n + k) % len(FACTORS)],
                    stance=1 if (n + k) % 3 else -1,
                    strength=1 + (n + k) % 5,
                    confidence=("low", "medium", "high")[k % 3],
                    observed_on=observed,
                    observed_day=observed.toordinal(),
                )
            )
    Evidence.objects.bulk_create(evidence, batch_size=5_000)
    services.rescore_companies()
    return user


def timed(client, url: str, params: dict, headers: dict) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url, params, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), min(times), len(queries), len(response.content)


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from assessments import selectors

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        bench_name = str(ROOT / "var" / "bench.sqlite3")
    else:
        bench_name = f"bench_{database['NAME']}"
    database.setdefault("TEST", {})["NAME"] = bench_name
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        today = selectors.today()
        started = time.perf_counter()
        user = build(today)
        print(
            f"{connection.vendor}: built {COMPANIES} companies, {COMPANIES * TASKS_PER_COMPANY} "
            f"tasks, {COMPANIES * TASKS_PER_COMPANY * EVIDENCE_PER_TASK} evidence rows and "
            f"scored them in {time.perf_counter() - started:.1f} s; median of {RUNS} requests:"
        )
        client = Client()
        client.force_login(user)
        htmx = {"HX-Request": "true"}
        past = (today - timedelta(days=180)).isoformat()
        since = (today - timedelta(days=540)).isoformat()
        cases = (
            ("map page, today", {}, {}),
            (
                "fragment: sector, as of 180 days ago, trails",
                {"sector": "Legal", "as_of": past, "since": since},
                htmx,
            ),
            ("fragment: per task, today", {"per": "task", "sort": "-x"}, htmx),
        )
        for label, params, headers in cases:
            median, fastest, queries, size = timed(client, "/", params, headers)
            print(
                f"  {label:<46} median {median:7.1f} ms  fastest {fastest:7.1f} ms  "
                f"{queries} queries  {size / 1024:7.0f} KiB"
            )
    finally:
        connection.creation.destroy_test_db(bench_name, verbosity=0)


if __name__ == "__main__":
    main()
