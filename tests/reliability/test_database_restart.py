"""PostgreSQL restarted while an associate saves notes: the saves during the outage get a
clear 503 page, none is half-written, and the connection pool reconnects by itself.

The test starts a PostgreSQL of its own (initdb in a temp dir, a spare loopback port, run
as the postgres user) and a gunicorn on it, so the shared server the rest of the suite uses
is never restarted. Notes are posted one after another, as the evidence form does (htmx);
the server is stopped for OUTAGE_SECONDS in the middle and started again.
"""

from __future__ import annotations

import glob
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import need
from tests.reliability.test_reliability import spare_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 3
pytestmark = pytest.mark.services


def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    runuser = shutil.which("runuser")
    prefix = [runuser, "-u", "postgres", "--"] if os.geteuid() == 0 and runuser else []
    return subprocess.run(
        [*prefix, *command], check=True, capture_output=True, text=True, timeout=60, **kwargs
    )


class OwnPostgres:
    """A throwaway PostgreSQL cluster on a spare port."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = spare_port()
        self.dir = Path(tempfile.mkdtemp(prefix="moat-pg-"))
        shutil.chown(self.dir, "postgres", "postgres") if os.geteuid() == 0 else None
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/moatmap"

    def init(self) -> None:
        as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        as_postgres(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "moatmap")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l",
            str(self.dir / "log"), "start",
        )  # fmt: skip

    def stop(self) -> None:
        as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with_data = (self.data / "postmaster.pid").exists()
        if with_data:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture
def own_postgres():
    bin_dir = postgres_binaries()
    need(bin_dir is not None, "no PostgreSQL server binaries under /usr/lib/postgresql")
    need(os.geteuid() != 0 or shutil.which("runuser"), "runuser is needed to run PostgreSQL")
    server = OwnPostgres(bin_dir)
    server.init()
    yield server
    server.remove()


def app_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATABASE_POOL_TIMEOUT": "2",
        "CELERY_BROKER_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "reliability-test-secret-key-0123456789-abcdefghij",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
    }


@pytest.fixture
def app_on_own_postgres(own_postgres):
    env = app_env(own_postgres.url)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT, timeout=300)
    subprocess.run([*manage, "load_demo"], env=env, check=True, cwd=ROOT, timeout=300)
    port = spare_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "moatapp.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", "1", "--threads", "4", "--timeout", "60"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
        except (OSError, urllib.error.HTTPError):
            return False

    wait_for(healthy, 60, "gunicorn to start")
    yield base, own_postgres
    server.terminate()
    server.wait(20)


class Browser:
    """Just enough of a browser: cookies, the CSRF token, htmx's header."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def post(self, path: str, data: dict, htmx: bool = False) -> tuple[int, str]:
        headers = {"X-CSRFToken": self.csrf(), "Referer": self.base + "/"}
        if htmx:
            headers["HX-Request"] = "true"
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, body, headers)
        try:
            response = self.opener.open(request, timeout=30)
            return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def test_notes_saved_across_a_database_restart(app_on_own_postgres):
    from assessments.demo import DEMO_PASSWORD

    base, postgres = app_on_own_postgres
    browser = Browser(base)
    browser.get("/accounts/login/")
    status, _ = browser.post(
        "/accounts/login/", {"username": "associate", "password": DEMO_PASSWORD}
    )
    assert status == 200  # the redirect to the map, followed
    ((task_id, company_id),) = postgres.query(
        "SELECT t.id, t.company_id FROM assessments_task t JOIN assessments_company c "
        "ON c.id = t.company_id ORDER BY c.name, t.id LIMIT 1"
    )
    page = browser.get(f"/companies/{company_id}/")
    form = re.search(rf'<form id="task-{task_id}-evidence-form".*?</form>', page, re.S).group(0)
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    results: list[tuple[str, int, str, float]] = []
    stop = threading.Event()

    def save_notes() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            note = f"Restart note {n}"
            fields = {
                **hidden,
                # Each save answers with a fresh form, and so a fresh one-time token.
                "submission": str(uuid.uuid4()),
                "factor": "system_access",
                "stance": "1",
                "strength": "3",
                "confidence": "medium",
                "observed_on": date.today().isoformat(),
                "source": "Call notes",
                "note": note,
            }
            began = time.monotonic()
            status, body = browser.post(f"/tasks/{task_id}/evidence/new/", fields, htmx=True)
            results.append((note, status, body, time.monotonic() - began))
            time.sleep(0.1)

    saver = threading.Thread(target=save_notes)
    saver.start()
    try:
        wait_for(lambda: sum(r[1] == 200 for r in results) >= 5, 60, "saves before the outage")
        postgres.stop()
        outage_began = len(results)
        time.sleep(OUTAGE_SECONDS)
        postgres.start()
        restarted = len(results)
        wait_for(
            lambda: sum(r[1] == 200 for r in results[restarted:]) >= 5, 60, "saves after restart"
        )
    finally:
        stop.set()
        saver.join(60)

    statuses = [status for _, status, _, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    refused = [r for r in results if r[1] == 503]
    # A save sent during the outage either waits for the pool and gets 503, or (sent just
    # before the start) waits long enough to be stored: never a 500.
    assert refused, f"no save fell into the {OUTAGE_SECONDS} s outage: {statuses}"
    assert 503 in statuses[outage_began : restarted + 1], statuses
    for _, _, body, _ in refused:
        assert "nothing was saved" in body
    # After the restart the pool reconnects: the first save after it goes through or, if it
    # raced the server's start, the next one does.
    after = [r[1] for r in results[restarted:]]
    assert 200 in after[:3], after
    saved = {note for note, status, _, _ in results if status == 200}
    stored = postgres.query(
        f"SELECT e.note, count(h.history_id) FROM assessments_evidence e "
        f"LEFT JOIN assessments_historicalevidence h ON h.id = e.id "
        f"WHERE e.task_id = {task_id} AND e.note LIKE 'Restart note %' GROUP BY e.note"
    )
    assert {note for note, _ in stored} == saved  # every 200 stored once, no 503 stored
    assert all(history == 1 for _, history in stored)  # each with its audit row
    (stale,) = postgres.query(
        f"SELECT input_version >= {len(saved)} FROM assessments_task WHERE id = {task_id}"
    )
    assert stale == (True,)
    slowest = max(seconds for _, status, _, seconds in refused)
    print(
        f"\n{len(results)} saves: {len(saved)} stored, {len(refused)} answered 503 during a "
        f"{OUTAGE_SECONDS} s outage (slowest refusal {slowest:.1f} s); first save after the "
        f"restart: {after[0]}"
    )
