"""A large evidence import runs as a background job (inline here: no broker) with a
progress bar on the page and a progress line on the command line; still all or nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Evidence, EvidenceImport, ImportStatus, Role
from tests.factories import MembershipFactory, UserFactory
from tests.security.security_world import FAST_HASHERS

pytestmark = pytest.mark.django_db
HEADER = "fund,company,task,factor,stance,strength,confidence,observed_on\n"


def rows(fund: str, n: int, last: str | None = None) -> str:
    body = "".join(
        f"{fund},Company {i % 7},Task {i % 3},system_access,supports,{1 + i % 5},high,2026-01-01\n"
        for i in range(n)
    )
    return HEADER + body + (last or "")


@pytest.fixture
def associate(client, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.IMPORT_INLINE_ROWS = 20
    member = MembershipFactory(role=Role.ASSOCIATE)
    client.force_login(member.user)
    return member


def upload(client, member, text: str, on_commit):
    # The job is queued after commit; the test's transaction never commits, so the
    # callbacks are run as a real request's commit would run them.
    url = reverse("evidence_import", args=[member.fund_id])
    with on_commit(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("big.csv", text.encode())})
    assert posted.status_code == 302
    return client.get(posted["Location"])


def test_a_large_file_is_imported_by_the_job_and_the_page_says_so(
    client, associate, django_capture_on_commit_callbacks
):
    page = upload(
        client, associate, rows(associate.fund.name, 300), django_capture_on_commit_callbacks
    )
    job = EvidenceImport.objects.get()
    assert job.status == ImportStatus.DONE and job.text == ""
    assert (job.rows_total, job.rows_checked) == (300, 300)
    assert Evidence.objects.filter(task__company__fund=associate.fund).count() == 300
    assert "Imported 300 evidence rows (7 new companies, 21 new tasks)." in page.content.decode()


def test_a_bad_row_at_the_end_writes_nothing_and_is_named(
    client, associate, django_capture_on_commit_callbacks
):
    bad = f"{associate.fund.name},Company 1,Task 1,sytem_access,supports,3,high,2026-01-01\n"
    text = rows(associate.fund.name, 300, last=bad)
    page = upload(client, associate, text, django_capture_on_commit_callbacks)
    job = EvidenceImport.objects.get()
    assert job.status == ImportStatus.FAILED
    assert job.errors == ["line 302: unknown factor 'sytem_access' — did you mean system_access?"]
    assert not Evidence.objects.exists()
    assert "wrote nothing" in page.content.decode()


def test_the_progress_fragment_polls_while_the_job_runs(client, associate):
    job = EvidenceImport.objects.create(
        fund=associate.fund,
        requested_by=associate.user,
        status=ImportStatus.CHECKING,
        rows_total=100_000,
        rows_checked=40_000,
    )
    url = reverse("evidence_import_progress", args=[associate.fund_id, job.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert '<progress max="100" value="40">' in fragment
    assert "Checking row 40,000 of 100,000" in fragment
    assert f'hx-get="{url}"' in fragment and "<html" not in fragment
    EvidenceImport.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, summary="Imported.")
    assert "hx-get" not in client.get(url).content.decode()


def test_the_command_line_shows_a_progress_line(tmp_path, settings):
    UserFactory(username="operator", is_superuser=True)
    path = tmp_path / "big.csv"
    path.write_text(rows("Fund Z", 2500))
    err = io.StringIO()
    call_command("import_evidence", str(path), user="operator", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().split("\r")
    assert "Checked 1,000 of 2,500 rows" in lines
    assert "Checked 2,500 of 2,500 rows\nEvery row is right; writing 2,500 rows" in err.getvalue()
    assert Evidence.objects.count() == 2500
