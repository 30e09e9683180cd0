"""An IC-pack build survives its worker: killed mid-build, the pack is retried and finishes.

On the real services, like tests/reliability/test_reliability.py (whose processes of our
own it reuses): a `celery worker` subprocess on its own Redis, kill -9 while it writes
the pack's progress. The pack must never stay "building".
"""

from __future__ import annotations

import io
import os
from datetime import timedelta

import psycopg
import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from assessments import jobs
from assessments.exports import icpack
from assessments.models import ICPack, ICPackStatus, Role
from tests.conftest import CHROMIUM, need
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
)
from tests.reliability.test_reliability import (  # noqa: F401 - fixtures used by name
    TODAY,
    on_postgresql,
    own_redis,
    run_concurrently,
    test_database_url,
    wait_for,
    workers,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

COMPANIES = 6


def _waits_on_a_lock(holder: psycopg.Connection) -> bool:
    with psycopg.connect(test_database_url(), autocommit=True) as probe:
        return bool(
            probe.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> %s",
                [holder.info.backend_pid],
            ).fetchone()
        )


def test_a_worker_killed_mid_build_leaves_a_pack_that_is_retried_and_finishes(
    own_redis,  # noqa: F811
    workers,  # noqa: F811
    settings,
    tmp_path,
    monkeypatch,
):
    need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} to render the pack")
    settings.MEDIA_ROOT = tmp_path
    fund = FundFactory(name="Fund Faults")
    partner = UserFactory(username="faults-partner")
    MembershipFactory(user=partner, fund=fund, role=Role.PARTNER)
    for n in range(COMPANIES):
        task = TaskFactory(company=CompanyFactory(fund=fund, name=f"Company {n}"))
        EvidenceFactory(task=task, factor="system_access", observed_on=TODAY - timedelta(30))
        EvidenceFactory(task=task, factor="public_benchmark", observed_on=TODAY - timedelta(9))
    pack, _ = icpack.request_build(
        fund=fund, user=partner, as_of=TODAY, since=TODAY - timedelta(days=91)
    )
    jobs.build_ic_pack.delay(pack.id)
    worker = workers(own_redis.url, MEDIA_ROOT=str(tmp_path))
    wait_for(lambda: ICPack.objects.get(id=pack.id).companies_done >= 1, 90, "the build to start")
    # Hold the pack's row: the job stops at its next progress write, mid-build.
    with psycopg.connect(test_database_url()) as holder:
        holder.execute("SELECT id FROM assessments_icpack WHERE id = %s FOR UPDATE", [pack.id])
        wait_for(lambda: _waits_on_a_lock(holder), 30, "the job to write its progress")
        worker.kill()
        holder.rollback()
    pack.refresh_from_db()
    assert pack.status == ICPackStatus.RUNNING and 1 <= pack.companies_done < COMPANIES

    # Its heartbeat has gone silent (the window shortened for the test): the next look at
    # the pack queues it again, once, and says so.
    monkeypatch.setattr(icpack, "STALLED_AFTER", timedelta(0))
    client = Client()
    client.force_login(partner)
    progress = client.get(reverse("ic_pack_progress", args=[pack.id]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200
    assert "second attempt: the first stopped" in progress.content.decode()
    pack.refresh_from_db()
    assert pack.status == ICPackStatus.QUEUED and pack.attempts == 2
    assert own_redis.queue_length() == 1

    monkeypatch.setattr(icpack, "STALLED_AFTER", timedelta(minutes=3))
    workers(own_redis.url, MEDIA_ROOT=str(tmp_path))
    wait_for(lambda: not ICPack.objects.get(id=pack.id).is_running, 120, "the retry to finish")
    pack.refresh_from_db()
    assert pack.status == ICPackStatus.DONE, pack.error
    assert pack.companies_done == pack.companies_total == COMPANIES
    download = client.get(reverse("ic_pack_download", args=[pack.id]))
    text = " ".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages
    )
    assert all(f"Company {n}" in text for n in range(COMPANIES))
    assert ICPack.objects.filter(status__in=icpack.BUILDING).count() == 0


def test_eight_simultaneous_requests_start_one_build_and_the_rest_follow_it():
    fund = FundFactory(name="Fund Rush")
    users = [UserFactory(username=f"rush-{n}") for n in range(8)]
    for user in users:
        MembershipFactory(user=user, fund=fund, role=Role.ASSOCIATE)
    results: list[tuple[int, bool]] = []

    def ask(n: int) -> None:
        pack, started = icpack.request_build(
            fund=fund, user=users[n], as_of=TODAY, since=TODAY - timedelta(days=91)
        )
        results.append((pack.id, started))

    assert run_concurrently(8, ask) == []
    assert ICPack.objects.filter(fund=fund).count() == 1
    assert [started for _, started in results].count(True) == 1
    assert {pack_id for pack_id, _ in results} == {ICPack.objects.get(fund=fund).id}
