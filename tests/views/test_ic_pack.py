"""The IC pack: a committee document whose every number is export_scores', built one at a
time per fund by members who work on it, downloaded by any member, never stuck building."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assessments.exports import icpack
from assessments.models import Evidence, ICPack, ICPackStatus, Role
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
    make_rubric_owner,
)

AS_OF = date(2026, 6, 30)
SINCE = date(2026, 3, 31)
LONG_NOTE = (
    "**Frontier model parity**: the lab's newest model now matches the company on the public "
    "benchmark. "
    + " ".join(
        f"Sentence number {n} adds one more detail to the diligence record." for n in range(40)
    )
)
MARKDOWN_NOTE = (
    "**Proprietary data** is the moat:\n\n"
    "- ten years of *claims* history\n"
    "- exclusive payer contracts\n\n"
    "See [the data room](https://example.com/room) and <https://example.com/raw>."
)


@pytest.fixture
def fund_members(db):
    fund = FundFactory(name="Fund Alpha")
    members = {}
    for role in (Role.PARTNER, Role.ASSOCIATE, Role.VIEWER):
        user = UserFactory(username=role, first_name=role.capitalize(), last_name="Member")
        MembershipFactory(user=user, fund=fund, role=role)
        members[role] = user
    return fund, members


@pytest.fixture
def committee_fund(fund_members):
    """Companies of every kind: two weighted tasks, absorbed, unscored, Markdown notes."""
    fund, members = fund_members
    two = CompanyFactory(fund=fund, name="Acme Legal")
    heavy = TaskFactory(company=two, name="Draft contracts", weight=3)
    light = TaskFactory(company=two, name="Answer client questions", weight=1)
    EvidenceFactory(task=heavy, factor="system_access", strength=5, observed_on=date(2026, 5, 2))
    EvidenceFactory(task=heavy, factor="proprietary_data", strength=4, note=MARKDOWN_NOTE)
    EvidenceFactory(
        task=heavy, factor="private_eval", strength=3, observed_on=date(2026, 1, 10), note=LONG_NOTE
    )
    EvidenceFactory(task=light, factor="public_benchmark", stance=-1, strength=3)
    EvidenceFactory(task=light, factor="system_access", observed_on=date(2026, 2, 1))
    # Observed after the pack's date: not counted anywhere in the pack.
    EvidenceFactory(task=light, factor="system_access", observed_on=date(2026, 9, 1))
    absorbed = TaskFactory(company=CompanyFactory(fund=fund, name="Chatterbox"), name="Chat")
    for factor in ("public_benchmark", "open_model_parity", "frontier_model_parity"):
        EvidenceFactory(task=absorbed, factor=factor, strength=5, observed_on=date(2026, 4, 1))
    TaskFactory(company=CompanyFactory(fund=fund, name="Newco"), name="Not yet looked at")
    other = TaskFactory(company=CompanyFactory(name="Secret Other Fund Co"))
    EvidenceFactory(task=other)
    return fund, members


def _build(client, fund, **data):
    post = {"as_of": AS_OF.isoformat(), "since": SINCE.isoformat(), **data}
    return client.post(reverse("ic_pack", args=[fund.id]), post, HTTP_HX_REQUEST="true")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _pack_pages(client, fund, user) -> list[str]:
    """Build the fund's pack as this member (inline: no broker) and read its pages' text."""
    client.force_login(user)
    _build(client, fund)
    pack = ICPack.objects.get(fund=fund)
    assert pack.status == ICPackStatus.DONE, pack.error
    return _pdf_text(client, pack)


def _pdf_text(client, pack) -> list[str]:
    download = client.get(reverse("ic_pack_download", args=[pack.id]))
    assert download.status_code == 200
    reader = PdfReader(io.BytesIO(b"".join(download.streaming_content)))
    return [page.extract_text() for page in reader.pages]


def _export_scores(as_of: date, fund: str) -> dict[tuple[str, str], dict]:
    out = io.StringIO()
    call_command("export_scores", as_of=as_of, fund=fund, stdout=out)
    return {(r["company"], r["task"]): r for r in csv.DictReader(io.StringIO(out.getvalue()))}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _sections(pages: list[str], names: list[str]) -> dict[str, str]:
    """Each company's section: from the page its heading opens to the next company's."""
    sections: dict[str, str] = {}
    current = None
    for page in pages[2:]:
        lines = [line for line in page.splitlines() if line.strip()]
        heading = next((n for n in names if any(line.strip() == n for line in lines[1:3])), None)
        if heading is not None:
            current = heading
        if current is not None:
            sections[current] = sections.get(current, "") + "\n" + page
    return sections


def _close(shown: str, exported: str, places: int) -> bool:
    return abs(float(shown.replace("−", "-")) - float(exported)) <= 0.5 * 10**-places + 1e-9


def _runway(row: dict) -> str:
    if row["runway_years"] == "":
        return "–"
    return "absorbed" if float(row["runway_years"]) == 0 else f"{float(row['runway_years']):.1f}"


def test_every_number_in_the_pack_equals_export_scores(kaleido_server, committee_fund, client):
    fund, members = committee_fund
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    now, then = _export_scores(AS_OF, fund.name), _export_scores(SINCE, fund.name)
    companies = sorted({company for company, _ in now})
    assert companies == ["Acme Legal", "Chatterbox", "Newco"]

    summary = _flat(pages[1])
    sections = _sections(pages, companies)
    assert set(sections) == set(companies)
    for name in companies:
        row, before = now[(name, "")], then[(name, "")]
        section = _flat(sections[name])
        if row["x"] == "":
            assert re.search(rf"{name} – – Unscored – – 0 –", summary)
            assert "Unscored: no evidence observed by 30 Jun 2026" in section
            continue
        line = re.search(
            rf"{name} (\d+\.\d) (\d+\.\d) ({row['quadrant']}) (absorbed|\d+\.\d years) "
            rf"(\d\.\d\d) (\d+) ([+−]\d+\.\d|0\.0|new)",
            summary,
        )
        assert line, f"{name} has no summary row in: {summary}"
        x, y, _, runway, confidence, count, dx = line.groups()
        assert _close(x, row["x"], 1) and _close(y, row["y"], 1)
        assert runway.removesuffix(" years") == _runway(row)
        assert _close(confidence, row["confidence"], 2)
        counted = Evidence.objects.filter(task__company__name=name, observed_on__lte=AS_OF)
        assert int(count) == counted.count()
        if before["x"] == "":
            assert dx == "new"
        else:
            assert _close(dx, str(float(row["x"]) - float(before["x"])), 1)
        headline = re.search(
            r"Frontier (\d+\.\d) · Proprietary (\d+\.\d) · (.+?) · Runway (absorbed|\d+\.\d years)"
            r" · Confidence (\d\.\d\d)",
            section,
        )
        assert headline, section
        assert _close(headline[1], row["x"], 1) and _close(headline[2], row["y"], 1)
        assert headline[3] == row["quadrant"]
        assert headline[4].removesuffix(" years") == _runway(row)
        # The company's own counts, never the fund's.
        assert f"{name}: {counted.count()} evidence note" in section
        for (company, task), task_row in now.items():
            if company != name or not task:
                continue
            caption = re.search(rf"{task} — Frontier (\d+\.\d), Proprietary (\d+\.\d)", section)
            assert caption, f"the waterfall of {task} has no caption"
            assert _close(caption[1], task_row["x"], 1) and _close(caption[2], task_row["y"], 1)
            # The waterfall's own totals agree with the caption above it; an axis with no
            # note says so in place of its chart (and stays at 50).
            for axis, column in (("Frontier", "x"), ("Proprietary", "y")):
                if f"{axis}: {float(task_row[column]):.1f}" not in section:
                    assert float(task_row[column]) == 50.0
                    assert "No evidence counted on this axis" in section
    assert "Runway absorbed" in _flat(sections["Chatterbox"])
    assert "0.0 years" not in " ".join(pages)


def test_the_pack_reads_as_a_committee_document(kaleido_server, committee_fund, client):
    fund, members = committee_fund
    # Chatterbox's strongest notes (both against the moat) carry Markdown and a long text.
    chat = Evidence.objects.filter(task__company__name="Chatterbox")
    chat.filter(factor="frontier_model_parity").update(note=MARKDOWN_NOTE)
    chat.filter(factor="public_benchmark").update(note=LONG_NOTE)
    pages = _pack_pages(client, fund, members[Role.ASSOCIATE])
    text = "\n".join(pages)
    cover = _flat(pages[0])
    assert "Fund Alpha" in cover and "As of 30 June 2026" in cover
    assert "Movement since 31 March 2026" in cover and "Rubric v1" in cover
    assert "Built by Associate Member" in cover
    assert "Summary" in pages[1] and "Since 31 Mar 2026" in pages[1]
    sections = _sections(pages, ["Acme Legal", "Chatterbox", "Newco"])
    acme = _flat(sections["Acme Legal"])
    assert (
        "Acme Legal stands at the weighted mean of its 2 scored tasks, for frontier, "
        "proprietary and confidence alike: Draft contracts counts 75% (weight 3) and "
        "Answer client questions counts 25% (weight 1)."
    ) in acme
    # Notes as formatted text: no Markdown markup, links as their text and address.
    chatterbox = _flat(sections["Chatterbox"])
    for markup in ("**", "](", "<https", "- ten years", "*claims*"):
        assert markup not in text, markup
    assert "Strongest notes against the moat" in chatterbox
    assert "▼ weakens the moat" in chatterbox
    assert "Proprietary data is the moat" in chatterbox
    assert "the data room (https://example.com/room)" in chatterbox
    assert "https://example.com/raw" in chatterbox and "(https://example.com/raw)" not in chatterbox
    # A long note ends at a sentence, continued in the app; never cut mid-word.
    continued = re.search(r"(\S+) \(continued in Moat map\)", chatterbox)
    assert continued and continued[1].endswith("."), chatterbox
    assert "…" not in chatterbox
    assert "Secret Other Fund Co" not in text


def test_control_characters_in_names_and_notes_do_not_break_the_pack(
    kaleido_server, fund_members, client
):
    fund, members = fund_members
    # PostgreSQL cannot store NUL; SQLite (and so an import there) can.
    nul = "\x00" if connection.vendor == "sqlite" else ""
    task = TaskFactory(company=CompanyFactory(fund=fund, name="Bell\x07 Co"), name="Ring\x1b")
    EvidenceFactory(task=task, note=f"Odd\x01 note{nul} with\x08 controls.", source="Src\x0c")
    text = "\n".join(_pack_pages(client, fund, members[Role.PARTNER]))
    assert "Bell Co" in text and "Odd note with controls." in text


def test_note_text_for_print_keeps_formatting_and_ends_at_a_sentence():
    html = icpack.note_html(MARKDOWN_NOTE)
    assert "<strong>Proprietary data</strong>" in html and "<li>ten years of <em>claims" in html
    assert "<a " not in html and "the data room (https://example.com/room)" in html
    long_html = icpack.note_html(LONG_NOTE)
    assert long_html.endswith(
        'detail to the diligence record. <span class="continued">(continued in Moat map)</span></p>'
    )
    # A bold sentence longer than the limit is not cut inside its markup.
    bold = "Intro sentence here. **" + "word " * 200 + "end.** Tail."
    assert "**" not in icpack.note_html(bold)
    assert icpack.note_html(bold).startswith("<p>Intro sentence here.")
    # One endless sentence ends at a word, never inside one.
    words = "alpha " * 300
    assert re.search(r"alpha … <span", icpack.note_html(words))
    assert icpack.printable("a\x00b\x07c\nd\te\x1b\x9f") == "abc\nd\te"


def test_the_page_shows_progress_and_polls_only_while_building(fund_members, client):
    fund, members = fund_members
    client.force_login(members[Role.VIEWER])
    pack, started = icpack.request_build(
        fund=fund, user=members[Role.PARTNER], as_of=AS_OF, since=SINCE
    )
    assert started
    ICPack.objects.filter(id=pack.id).update(
        status=ICPackStatus.RUNNING, companies_done=3, companies_total=7
    )
    page = client.get(reverse("ic_pack", args=[fund.id]))
    html = page.content.decode()
    assert page.status_code == 200 and '<link rel="stylesheet"' in html
    assert "Pack as of 30 Jun 2026" in html and "3 of 7 companies done" in html
    assert '<progress max="7" value="3"' in html and 'hx-trigger="every 1s"' in html
    progress = client.get(reverse("ic_pack_progress", args=[pack.id]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and 'hx-trigger="every 1s"' in progress.content.decode()
    ICPack.objects.filter(id=pack.id).update(status=ICPackStatus.DONE, companies_done=7)
    done = client.get(reverse("ic_pack_progress", args=[pack.id]), HTTP_HX_REQUEST="true")
    # 286: htmx stops polling, and swaps in the download link.
    assert done.status_code == 286
    assert (
        "every 1s" not in done.content.decode() and "Download the IC pack" in done.content.decode()
    )


def test_a_second_request_follows_the_running_build(fund_members, client):
    fund, members = fund_members
    running, _ = icpack.request_build(
        fund=fund, user=members[Role.PARTNER], as_of=AS_OF, since=SINCE
    )
    client.force_login(members[Role.ASSOCIATE])
    response = _build(client, fund, as_of="2026-05-31", since="")
    assert ICPack.objects.count() == 1
    html = response.content.decode()
    assert "already being built (as of 30 Jun 2026, asked by Partner Member)" in html
    assert reverse("ic_pack_progress", args=[running.id]) in html


def test_viewers_download_packs_but_only_associates_and_partners_build(fund_members, client):
    fund, members = fund_members
    client.force_login(members[Role.VIEWER])
    assert _build(client, fund).status_code == 403
    assert not ICPack.objects.exists()
    page = client.get(reverse("ic_pack", args=[fund.id])).content.decode()
    assert "Build the IC pack" not in page and "Associates and partners build packs" in page
    pack = ICPack.objects.create(
        fund=fund, requested_by=members[Role.PARTNER], as_of=AS_OF, status=ICPackStatus.DONE
    )
    pack.file.save("built.pdf", io.BytesIO(b"%PDF-1.4 test"))
    download = client.get(reverse("ic_pack_download", args=[pack.id]))
    assert download.status_code == 200
    assert "ic-pack-fund-alpha-2026-06-30.pdf" in download["Content-Disposition"]
    client.force_login(UserFactory(username="outsider"))
    assert client.get(reverse("ic_pack_download", args=[pack.id])).status_code == 404
    assert client.get(reverse("ic_pack", args=[fund.id])).status_code == 404


@pytest.mark.parametrize(
    ("as_of", "since", "message"),
    [
        ("9999-12-31", "", "to today"),
        ("1900-01-01", "", "to today"),
        ("2026-06-30", "2026-07-01", "before the as-of date"),
        ("not a date", "", "Enter a valid date"),
    ],
)
def test_bad_dates_get_a_message_and_start_nothing(fund_members, client, as_of, since, message):
    fund, members = fund_members
    client.force_login(members[Role.PARTNER])
    response = _build(client, fund, as_of=as_of, since=since)
    assert response.status_code == 200 and message in response.content.decode()
    full = client.post(reverse("ic_pack", args=[fund.id]), {"as_of": as_of, "since": since})
    assert full.status_code == 400 and "<!doctype html>" in full.content.decode().lower()
    assert not ICPack.objects.exists()


def test_a_silent_build_is_retried_once_then_failed_with_a_message(fund_members):
    fund, members = fund_members
    pack, _ = icpack.request_build(fund=fund, user=members[Role.PARTNER], as_of=AS_OF, since=SINCE)
    long_ago = timezone.now() - icpack.STALLED_AFTER - timedelta(seconds=1)
    ICPack.objects.filter(id=pack.id).update(status=ICPackStatus.RUNNING, heartbeat_at=long_ago)
    assert icpack.resolve_stalled() == [pack.id]
    pack.refresh_from_db()
    assert pack.status == ICPackStatus.QUEUED and pack.attempts == 2
    ICPack.objects.filter(id=pack.id).update(status=ICPackStatus.RUNNING, heartbeat_at=long_ago)
    assert icpack.resolve_stalled() == []
    pack.refresh_from_db()
    assert pack.status == ICPackStatus.FAILED and "stopped without finishing" in pack.error
    # The stale attempt's worker, if it still runs, can no longer touch the pack.
    assert icpack.build(pack.id) == ""


def test_without_a_broker_a_silent_build_fails_on_the_next_look(fund_members, client):
    fund, members = fund_members
    pack, _ = icpack.request_build(fund=fund, user=members[Role.PARTNER], as_of=AS_OF, since=SINCE)
    long_ago = timezone.now() - icpack.STALLED_AFTER - timedelta(seconds=1)
    ICPack.objects.filter(id=pack.id).update(status=ICPackStatus.RUNNING, heartbeat_at=long_ago)
    client.force_login(members[Role.VIEWER])
    progress = client.get(reverse("ic_pack_progress", args=[pack.id]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 286
    assert "The pack could not be built: The build stopped" in progress.content.decode()
    # The fund is free for a new build.
    assert icpack.request_build(fund=fund, user=members[Role.PARTNER], as_of=AS_OF, since=SINCE)[1]


def test_expired_ic_packs_are_deleted_with_their_files(fund_members, media):
    from assessments import jobs

    fund, members = fund_members
    old = ICPack.objects.create(
        fund=fund, requested_by=members[Role.PARTNER], as_of=AS_OF, status=ICPackStatus.DONE
    )
    old.file.save("old.pdf", io.BytesIO(b"%PDF"))
    ICPack.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=1, hours=1))
    fresh = ICPack.objects.create(
        fund=fund, requested_by=members[Role.PARTNER], as_of=AS_OF, status=ICPackStatus.DONE
    )
    fresh.file.save("new.pdf", io.BytesIO(b"%PDF"))
    assert jobs.sweep_ic_packs.delay().get() == 1
    assert list(ICPack.objects.values_list("id", flat=True)) == [fresh.id]
    assert not (media / old.file.name).exists() and (media / fresh.file.name).exists()


@pytest.fixture
def broker_in_environment(redis_broker, monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its configuration,
    # so the producer in this process must see the test broker there too.
    monkeypatch.setenv("CELERY_BROKER_URL", redis_broker)
    yield
    from moatapp.celery import app

    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_ic_pack_is_built_by_a_real_worker(kaleido_server, broker_in_environment, celery_worker):
    import time

    from django.test import Client

    fund = FundFactory(name="Fund Worker")
    member = UserFactory(username="worker-partner")
    MembershipFactory(user=member, fund=fund, role=Role.PARTNER)
    task = TaskFactory(company=CompanyFactory(fund=fund, name="Solo Co"))
    EvidenceFactory(task=task, factor="system_access", strength=3)
    client = Client()
    client.force_login(member)
    response = _build(client, fund)
    assert b"<progress" in response.content
    pack = ICPack.objects.get(fund=fund)
    deadline = time.monotonic() + 60
    while pack.is_running and time.monotonic() < deadline:
        time.sleep(0.2)
        pack.refresh_from_db()
    assert pack.status == ICPackStatus.DONE, pack.error
    progress = client.get(reverse("ic_pack_progress", args=[pack.id]), HTTP_HX_REQUEST="true")
    assert b"Download the IC pack" in progress.content
    pages = _pdf_text(client, pack)
    assert "Solo Co" in pages[-1] and pack.companies_done == pack.companies_total == 1


def test_a_fund_without_companies_gets_a_cover_and_an_empty_summary(
    kaleido_server, fund_members, client
):
    fund, members = fund_members
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    assert len(pages) == 2
    assert "Companies 0" in _flat(pages[0]) and "0 companies as of 30 Jun 2026" in pages[1]


def _numbers(parts: str) -> dict[str, float]:
    """ "new evidence +0.2, decay −0.1, boundary −0.4" as {name: value}."""
    found = re.findall(r"(new evidence|decay|rubric|boundary) ([+−]\d+\.\d|0\.0)", parts)
    return {name: float(value.replace("−", "-")) for name, value in found}


def test_the_pack_says_why_each_company_moved_and_the_parts_add_up(
    kaleido_server, committee_fund, client
):
    fund, members = committee_fund
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    now, then = _export_scores(AS_OF, fund.name), _export_scores(SINCE, fund.name)
    summary = _flat(pages[1])
    # Acme Legal was scored on 31 Mar 2026 and has a note observed since (2 May 2026).
    why = re.search(
        r"Acme Legal .*? (runway|margin) ([+−]\d+\.\d|0\.0)(?: y| pts)? — "
        r"((?:(?:new evidence|decay|boundary) (?:[+−]\d+\.\d)(?:, )?)+)",
        summary,
    )
    assert why, summary
    measure, total, parts = why[1], float(why[2].replace("−", "-")), _numbers(why[3])
    assert set(parts) <= {"new evidence", "decay", "boundary"} and "new evidence" in parts
    # The parts add up to the total as printed (each rounded so that they do).
    assert sum(parts.values()) == pytest.approx(total, abs=1e-9)
    # And the total is the change between export_scores at the two dates.
    column = "runway_years" if measure == "runway" else "margin"
    row, before = now[("Acme Legal", "")], then[("Acme Legal", "")]
    assert abs(total - (float(row[column]) - float(before[column]))) <= 0.05 + 2e-4
    # The company's headline says it with its date, in the same numbers.
    acme = _flat(_sections(pages, ["Acme Legal", "Chatterbox", "Newco"])["Acme Legal"])
    line = f"Since 31 Mar 2026: {measure} {why[2]}"
    assert line in acme and why[3].rstrip(", ") in acme
    # Nothing to split for a company unscored then (Chatterbox) or now (Newco).
    assert re.search(r"Chatterbox .*?new: no evidence then(?! —)", summary)
    assert "Since 31 Mar 2026:" not in _flat(_sections(pages, ["Chatterbox", "Newco"])["Newco"])
    # One rubric at both dates: no sentence about versions.
    assert "was in force on" not in summary


def test_a_rubric_change_since_the_movement_date_is_said_once(committee_fund, monkeypatch):
    """Positions at both dates are under the current version; the summary says which was in
    force then (drawn without the charts: they are not what this is about)."""
    from django.template.loader import render_to_string

    from assessments import selectors, services
    from assessments.models import RubricVersion

    fund, members = committee_fund
    partner = members[Role.PARTNER]
    v1 = selectors.active_rubric_version()
    draft = RubricVersion.objects.create(number=2, name="Heavier lock", factor_weights={
        **v1.factor_weights, "system_access": 2.0})  # fmt: skip
    services.rubric_activate(version=draft, user=make_rubric_owner(partner))
    monkeypatch.setattr(icpack, "_map", lambda *args: "")
    monkeypatch.setattr(icpack, "_waterfall", lambda *args: "")
    pack, _ = icpack.request_build(fund=fund, user=partner, as_of=AS_OF, since=SINCE)
    document = icpack.assemble(pack)
    assert document.rubric_then_number == 1
    acme = next(c for c in document.companies if c.name == "Acme Legal")
    # Today's rubric at both dates: the move starts and ends at the pack's own numbers.
    assert acme.move.start.x == pytest.approx(acme.then.x)
    assert acme.move.end.runway_years == pytest.approx(acme.score.runway_years)
    html = _flat(render_to_string(icpack.TEMPLATE, {"pack": document}))
    assert (
        "Positions at both dates are under Rubric v2 · Heavier lock, though v1 was in force on "
        "31 Mar 2026"
    ) in html


def _company_order(pages: list[str], names: list[str]) -> list[str]:
    """The companies in the order their sections open in the pack."""
    sections = _sections(pages, names)
    text = "\n".join(pages[2:])
    return sorted(sections, key=lambda name: text.index(f"\n{name}\n"))


def test_the_first_page_says_what_is_at_risk(kaleido_server, committee_fund, client):
    from assessments.charts import base
    from assessments.models import Company

    fund, members = committee_fund
    Company.objects.filter(name="Acme Legal").update(check_size=4_000_000)
    Company.objects.filter(name="Chatterbox").update(check_size=1_000_000)
    Company.objects.filter(name="Newco").update(check_size=None)
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    first = _flat(pages[0])
    assert first.index("At risk in Fund Alpha") < first.index("Fund Fund Alpha")
    now = _export_scores(AS_OF, fund.name)
    absorbed = [c for (c, t), row in now.items() if not t and row["runway_years"] == "0.0000"]
    assert absorbed == ["Chatterbox"]
    assert "1 of 3 companies are absorbed today" in first
    # Chatterbox's one task is absorbed: all of its $1M check rests on it.
    assert (
        f"Of the {base.money(5_000_000)} of check size in this pack, {base.money(1_000_000)} "
        "rests on tasks absorbed today"
    ) in first
    assert re.search(r"Chatterbox absorbed 100\s%\s100\s%\s0\s%\s\$1M", first), first
    assert "Acme Legal" not in first.split("Biggest movers")[0].split("Check size")[1]
    # The biggest movers since the movement date, with why they moved.
    movers = first.split("Biggest movers since 31 Mar 2026")[1]
    assert re.search(r"Acme Legal: runway [+−]\d+\.\d y — new evidence", movers), movers


def test_companies_come_shortest_runway_first_or_in_the_chosen_order(
    kaleido_server, committee_fund, client
):
    fund, members = committee_fund
    names = ["Acme Legal", "Chatterbox", "Newco"]
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    # Absorbed first, then by runway; a company without evidence last.
    assert _company_order(pages, names) == ["Chatterbox", "Acme Legal", "Newco"]
    assert "without evidence by the date), shortest runway first" in _flat(pages[0])
    ICPack.objects.all().delete()
    _build(client, fund, order="name")
    by_name = _pdf_text(client, ICPack.objects.get(fund=fund))
    assert _company_order(by_name, names) == names


def test_passed_companies_are_left_out_unless_chosen(kaleido_server, committee_fund, client):
    fund, members = committee_fund
    passed = TaskFactory(company=CompanyFactory(fund=fund, name="Passco", status="passed"))
    EvidenceFactory(task=passed, factor="system_access", observed_on=date(2026, 5, 1))
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    assert "Passco" not in "\n".join(pages)
    assert "shortest runway first; 1 the fund passed on left out" in _flat(pages[0])
    ICPack.objects.all().delete()
    _build(client, fund, include_passed="on")
    pack = ICPack.objects.get(fund=fund)
    assert pack.include_passed
    text = _flat(" ".join(_pdf_text(client, pack)))
    assert "Passco" in text
    assert "companies the fund passed on included" in text


def test_each_company_says_what_would_buy_runway_and_what_would_cost_it_most(
    committee_fund, monkeypatch
):
    from assessments import scoring
    from assessments.models import Task

    fund, members = committee_fund
    monkeypatch.setattr(icpack, "_map", lambda *args: "")
    monkeypatch.setattr(icpack, "_waterfall", lambda *args: "")
    pack, _ = icpack.request_build(fund=fund, user=members[Role.PARTNER], as_of=AS_OF, since=SINCE)
    document = icpack.assemble(pack)
    acme = next(c for c in document.companies if c.name == "Acme Legal")
    tasks = list(Task.objects.filter(company__name="Acme Legal").order_by("-weight", "name"))
    rows = [
        (t.weight, [e.as_scoring_row() for e in Evidence.objects.counting().filter(task=t)])
        for t in tasks
    ]
    best = scoring.runway_levers(rows, AS_OF, document.rubric, limit=3)
    assert len(acme.levers) == len(best) == 3
    first = best[0]
    assert f"{first.factor.replace('_', ' ')}" in acme.levers[0]
    assert acme.levers[0].endswith(f"runway +{first.runway_gain:.1f} y")
    # The costliest change is the sensitivity row (and side) that takes the most runway.
    worst = min(
        min(s.low["runway_years"], s.high["runway_years"])
        for s in scoring.sensitivity(rows, AS_OF, document.rubric)
    )
    assert worst < 0 and acme.costliest.endswith(f"runway −{abs(worst):.1f} y")
    # Notes on both sides of the moat, each said by its effect.
    chatterbox = next(c for c in document.companies if c.name == "Chatterbox")
    assert chatterbox.weaknesses and not chatterbox.strengths
    assert all(n.direction.effect == "weakens" for n in chatterbox.weaknesses)
    assert all(n.direction.effect == "strengthens" for n in acme.strengths)


def test_each_task_has_its_own_runway_and_no_page_carries_only_a_footer(
    kaleido_server, committee_fund, client
):
    fund, members = committee_fund
    pages = _pack_pages(client, fund, members[Role.PARTNER])
    now = _export_scores(AS_OF, fund.name)
    sections = {
        n: _flat(t) for n, t in _sections(pages, ["Acme Legal", "Chatterbox", "Newco"]).items()
    }
    for (company, task), row in now.items():
        if not task or row["x"] == "":
            continue
        shown = re.search(
            rf"{task} \d+ \d+% [\d.]+ [\d.]+ {row['quadrant']} (absorbed|\d+\.\d years)",
            sections[company],
        )
        assert shown, (task, sections[company])
        assert shown[1].removesuffix(" years") == _runway(row)
    assert "Chat 1 100% " in sections["Chatterbox"] and "absorbed" in sections["Chatterbox"]
    # A cover, the summary and one page per company: nothing spills onto a page of its own.
    assert len(pages) == 2 + 3
    footer = "Fund Alpha · IC pack as of 30 Jun 2026 · confidential"
    for page in pages:
        body = _flat(page).replace(footer, "")
        body = re.sub(r"Page \d+ of \d+", "", body).strip()
        assert len(body) > 200, page
