"""What bench/run.py and bench/load.py share: a fresh PostgreSQL database, a synthetic
portfolio loaded in bulk, and throwaway Redis and Celery worker processes on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def prepare(default_database_url: str) -> str:
    """Settings for a script run, a dropped-and-created database, Django set up, migrated."""
    os.environ.setdefault("DATABASE_URL", default_database_url)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moatapp.settings")
    os.environ["CELERY_BROKER_URL"] = ""  # inline until a script points it at its Redis
    os.environ["SECURE_COOKIES"] = "false"
    # Plain HTTP on loopback: with production's default every page answers a 301 to https.
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    (ROOT / "var" / "static").mkdir(parents=True, exist_ok=True)
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("this script needs PostgreSQL: set DATABASE_URL=postgres://...")
    if os.environ.get("BENCH_REUSE") != "1":
        ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


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
def celery_worker(broker_url: str, name: str = "bench"):
    """`celery -A moatapp worker` as a subprocess (prefork, one child, like production)."""
    env = {**os.environ, "CELERY_BROKER_URL": broker_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "moatapp", "worker", "--concurrency=1",
         "-n", f"{name}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


def signed_in_session(user) -> str:
    """A server-side session already signed in as user: its key, for a sessionid cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def wait_for_http(port: int, timeout: float = 30) -> None:
    import http.client

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


@contextmanager
def gunicorn_server(port: int, broker_url: str = "", log_name: str = "gunicorn"):
    """gunicorn (moatapp/gunicorn.conf.py) on a loopback port, answering /healthz."""
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    (ROOT / "var").mkdir(exist_ok=True)
    with open(ROOT / "var" / f"{log_name}.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "moatapp.wsgi:application",
             "--config", "moatapp/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            wait_for_http(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(30)


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
    return f"{seconds * 1000:.1f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_portfolio(
    *, funds: int, companies: int, tasks_per_company: int, evidence: int, years: int = 3
) -> float:
    """Funds, companies and tasks via bulk_create; evidence in one INSERT ... SELECT."""
    started = time.perf_counter()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection

    from assessments import scoring, selectors
    from assessments.models import Company, Evidence, Fund, Membership, Role, Task

    FUNDS, COMPANIES, TASKS_PER_COMPANY, EVIDENCE, YEARS = (
        funds,
        companies,
        tasks_per_company,
        evidence,
        years,
    )

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
    # The bench drafts a rubric to time its preview: only a rubric owner may.
    user.user_permissions.add(
        Permission.objects.get(codename="own_rubric", content_type__app_label="assessments")
    )
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
                 source, note, note_html, author_id, verified_by_id, verified_at, content_version,
                 verified_version, review_comment, resolution_comment, version, created_at,
                 updated_at)
            SELECT t.ids[1 + g %% array_length(t.ids, 1)],
                   (%s::text[])[1 + floor(r1 * %s)::int],
                   CASE WHEN r2 < 0.7 THEN 1 ELSE -1 END,
                   1 + floor(r3 * 5)::int,
                   (ARRAY['low', 'medium', 'high'])[1 + floor(r4 * 3)::int],
                   date '0001-01-01' + (day - 1), day,
                   'bench', 'Synthetic note', '<p>Synthetic note</p>', %s,
                   CASE WHEN r2 * 10 - floor(r2 * 10) < 0.5 THEN %s END,
                   CASE WHEN r2 * 10 - floor(r2 * 10) < 0.5 THEN now() END,
                   1, CASE WHEN r2 * 10 - floor(r2 * 10) < 0.5 THEN 1 END,
                   '', '', 1, now(), now()
            FROM rows, t
            """,
            [EVIDENCE, codes, len(codes), user.id, user.id],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def use_broker(url: str) -> None:
    """Send jobs from this process to the broker at url instead of running them inline."""
    from moatapp.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = url
    os.environ["CELERY_BROKER_URL"] = url  # Celery reads it before its configuration
    app._pool = None
    app.amqp._producer_pool = None


def print_table(rows, caption: str, headers=("measure", "value", "beside", "target / floor")):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(caption)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
