"""Exports: every file is opened and checked, labels never collide, scoping holds."""

import csv
import io
import random
import struct
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from pptx import Presentation
from pypdf import PdfReader

from assessments import moves, recompute, scoring
from assessments.charts import base, labels, memo
from assessments.exports import csv as score_csv
from assessments.exports import render as rendering
from assessments.models import Role
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
)

AS_OF = "2026-06-30"


@pytest.fixture
def portfolio(db, client):
    fund = FundFactory(name="Fund Alpha")
    member = UserFactory(username="partner")
    MembershipFactory(user=member, fund=fund, role=Role.PARTNER)
    names = ["Acme Legal", "=HYPERLINK(evil)", "Beacon Health"]
    for n, name in enumerate(names):
        task = TaskFactory(company=CompanyFactory(fund=fund, name=name), name=f"Review {n}")
        EvidenceFactory(task=task, factor="system_access", strength=2 + n)
        EvidenceFactory(task=task, factor="public_benchmark", stance=-1, strength=4)
    secret = TaskFactory(company=CompanyFactory(name="Secret Other Fund Co"))
    EvidenceFactory(task=secret)
    client.force_login(member)
    return {"fund": fund, "names": names, "client": client, "user": member}


def _map_url(fmt, fund, **params):
    query = "&".join(f"{k}={v}" for k, v in {"fund": fund.id, "as_of": AS_OF, **params}.items())
    return reverse("export_map", args=[fmt]) + "?" + query


def test_labels_in_a_dense_cluster_never_overlap_each_other_or_any_bubble():
    rng = random.Random(7)
    frame = labels.Frame(468, 324, 51, 11, 44, 90)
    bubbles = []
    for n in range(30):
        cx, cy = frame.to_px(rng.uniform(55, 65), rng.uniform(55, 65))
        bubbles.append(labels.Bubble(cx, cy, rng.uniform(3, 10), f"Company {n}"))
    placements = [p for p in labels.place_labels(bubbles, frame, font_size=7) if p.clear]
    boxes = [p.box for p in placements]
    # 30 bubbles in 40 x 26 px: the inner ones are walled in by their neighbours, so no
    # leader could leave them without crossing another bubble. Those labels are left out
    # (and named elsewhere), not squeezed in; the outer ring is labelled.
    assert len(placements) >= 6
    for i, box in enumerate(boxes):
        assert box.inside(frame.plot)
        assert not any(box.intersects(other) for other in boxes[i + 1 :])
        assert not any(box.covers_circle(b.cx, b.cy, b.radius) for b in bubbles)
    assert any(p.moved for p in placements), "a dense cluster needs leader lines"


def test_a_lone_label_sits_beside_its_bubble_without_a_leader_line():
    frame = labels.Frame(468, 324, 51, 11, 44, 90)
    cx, cy = frame.to_px(50, 50)
    [placement] = labels.place_labels([labels.Bubble(cx, cy, 6, "Acme")], frame, 7)
    assert not placement.moved


def test_waterfall_steps_add_up_from_50_to_the_final_score():
    contributions = [base.Contribution(f"n{i}", "x", r) for i, r in enumerate([0.4, -1.2, 0.3])]
    steps = base.waterfall_steps(contributions)
    assert [s.contribution.label for s in steps["x"]] == ["n1", "n0", "n2"]
    assert base.final_score(steps["x"]) == pytest.approx(scoring.axis_score(-0.5))


@pytest.mark.parametrize(
    ("size", "pixels"), [("memo", (1950, 1350)), ("slide", (3999, 2250)), ("square", (1800, 1800))]
)
def test_map_png_is_300_dpi_at_each_preset(kaleido_server, portfolio, size, pixels):
    response = portfolio["client"].get(_map_url("png", portfolio["fund"], preset=size))
    assert response.status_code == 200
    png = response.content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == pixels
    assert b"pHYs" in png[:80]


def test_map_svg_parses_and_names_every_company(kaleido_server, portfolio):
    response = portfolio["client"].get(_map_url("svg", portfolio["fund"], sector="Legal"))
    root = ET.fromstring(response.content)
    assert root.get("width") == "6.5in"
    texts = {"".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")}
    for name in portfolio["names"]:
        # Beside its bubble, or named in the "also plotted" line when it had no clear spot.
        assert any(name in text for text in texts)
    assert any("Fund Alpha" in t and "sector Legal" in t for t in texts)
    assert "Secret Other Fund Co" not in texts


def test_map_pdf_has_one_page_the_size_of_the_preset(kaleido_server, portfolio):
    response = portfolio["client"].get(_map_url("pdf", portfolio["fund"], preset="square"))
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((432, 432), abs=0.5)


def test_map_slide_has_the_chart_picture_and_real_text_boxes(kaleido_server, portfolio):
    response = portfolio["client"].get(_map_url("pptx", portfolio["fund"]))
    deck = Presentation(io.BytesIO(response.content))
    assert deck.slide_width * 9 == deck.slide_height * 16
    shapes = {shape.name: shape for shape in deck.slides[0].shapes}
    assert shapes["Chart"].shape_type == 13  # picture
    assert "Fund Alpha" in shapes["Title"].text_frame.text
    assert "As of 30 Jun 2026" in shapes["Footnote"].text_frame.text
    # The chart fills the body between title and footnote, drawn at that size (not scaled
    # down), so its text keeps the slide's point sizes; the text boxes are 12 pt or more.
    emu = 914400
    chart = shapes["Chart"]
    assert chart.width / emu == pytest.approx(memo.SLIDE_BODY.width_in, abs=0.02)
    assert chart.height / emu == pytest.approx(memo.SLIDE_BODY.height_in, abs=0.02)
    assert chart.top >= shapes["Title"].top + shapes["Title"].height - emu * 0.05
    assert chart.top + chart.height <= shapes["Footnote"].top + emu * 0.05
    sizes = [
        run.font.size.pt
        for name in ("Title", "Footnote")
        for paragraph in shapes[name].text_frame.paragraphs
        for run in paragraph.runs
    ]
    assert sizes and min(sizes) >= 12


def _font_sizes(svg: bytes) -> list[float]:
    """Every text's font size in an exported SVG (its units are points)."""
    import re

    return [float(size) for size in re.findall(rb"font-size: ?([0-9.]+)px", svg)]


@pytest.mark.parametrize(("preset", "smallest"), [("memo", 7), ("square", 7), ("slide", 12)])
def test_no_text_is_smaller_than_the_preset_allows(kaleido_server, portfolio, preset, smallest):
    since = "&since=2026-01-01"
    for per in ("company", "task"):
        url = _map_url("svg", portfolio["fund"], preset=preset, per=per) + since
        sizes = _font_sizes(portfolio["client"].get(url).content)
        assert sizes and min(sizes) >= smallest - 0.01, (per, min(sizes))
    task = _task_of(portfolio)
    url = reverse("export_task_waterfall", args=[task.id, "svg"]) + f"?preset={preset}"
    assert min(_font_sizes(portfolio["client"].get(url).content)) >= smallest - 0.01


def test_each_preset_downloads_under_its_own_name(kaleido_server, portfolio):
    client, fund = portfolio["client"], portfolio["fund"]
    names = {
        client.get(_map_url(fmt, fund, preset=preset))["Content-Disposition"]
        for fmt, preset in (("pdf", "memo"), ("png", "slide"), ("svg", "square"), ("pdf", "slide"))
    }
    assert names == {
        f'attachment; filename="moat-map-fund-alpha-per-company-2026-06-30-{end}"'
        for end in ("memo.pdf", "slide.png", "square.svg", "slide.pdf")
    }
    pptx = client.get(_map_url("pptx", fund))["Content-Disposition"]
    assert pptx.endswith('-slide.pptx"')


def test_the_file_name_says_the_mode_the_date_and_the_trails(kaleido_server, portfolio):
    client, fund = portfolio["client"], portfolio["fund"]
    per_task = client.get(_map_url("svg", fund, preset="memo", per="task"))
    assert per_task["Content-Disposition"] == (
        'attachment; filename="moat-map-fund-alpha-per-task-2026-06-30-memo.svg"'
    )
    trails = client.get(_map_url("csv", fund) + "&since=2026-01-01")
    assert trails["Content-Disposition"] == (
        'attachment; filename="moat-map-fund-alpha-per-company-2026-06-30'
        '-trails-from-2026-01-01.csv"'
    )


def test_map_csv_neutralises_formulas_and_matches_export_scores(portfolio):
    response = portfolio["client"].get(_map_url("csv", portfolio["fund"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["fund", "company", "task"]
    assert "'=HYPERLINK(evil)" in {row[1] for row in rows}
    out = io.StringIO()
    call_command("export_scores", as_of=date(2026, 6, 30), fund="Fund Alpha", stdout=out)
    command_rows = [r for r in csv.reader(io.StringIO(out.getvalue())) if r[2] == ""]
    width = len(score_csv.SCORE_HEADER)
    assert sorted(row[:width] for row in rows[1:]) == sorted(command_rows)


@pytest.mark.parametrize("per", ["company", "task"])
def test_map_csv_carries_every_column_of_the_table(portfolio, per):
    from assessments.views.map import TABLE_COLUMNS

    client, fund = portfolio["client"], portfolio["fund"]
    page = client.get(reverse("home") + f"?fund={fund.id}&per={per}").content.decode()
    header = next(
        csv.reader(io.StringIO(client.get(_map_url("csv", fund, per=per)).content.decode()))
    )
    keys = [key for key, _ in TABLE_COLUMNS]
    assert all(score_csv.TABLE_TO_CSV[key] in header for key in keys)
    rows = list(
        csv.DictReader(io.StringIO(client.get(_map_url("csv", fund, per=per)).content.decode()))
    )
    acme = next(r for r in rows if r["company"] == "Acme Legal")
    for column in ("sector", "stage", "status", "evidence_count", "size_usd"):
        assert acme[column] != "" or column == "size_usd"
    assert acme["sector"] in page and acme["status"] in page


def test_another_funds_data_is_never_exported(portfolio):
    client = portfolio["client"]
    other = CompanyFactory(name="Elsewhere").fund
    assert client.get(_map_url("csv", other)).status_code == 404
    everything = client.get(reverse("export_map", args=["csv"]) + f"?as_of={AS_OF}")
    assert b"Secret Other Fund Co" not in everything.content
    task = TaskFactory(company__fund=other)
    url = reverse("export_task_waterfall", args=[task.id, "png"])
    assert client.get(url).status_code == 404


def test_without_chromium_the_export_says_what_to_install(portfolio, monkeypatch):
    monkeypatch.setattr(rendering, "browser_path", lambda: None)
    monkeypatch.setattr(rendering, "_server_alive", lambda kaleido: False)
    response = portfolio["client"].get(_map_url("png", portfolio["fund"]))
    assert response.status_code == 503
    assert b"apt-get install chromium" in response.content


def test_unknown_format_is_not_found(portfolio):
    assert portfolio["client"].get(_map_url("gif", portfolio["fund"])).status_code == 404


def _task_of(portfolio):
    from assessments.models import Task

    return Task.objects.get(company__name="Acme Legal")


def test_task_waterfall_exports_as_svg_png_and_pdf(kaleido_server, portfolio):
    task = _task_of(portfolio)
    client = portfolio["client"]
    url = reverse("export_task_waterfall", args=[task.id, "svg"]) + f"?as_of={AS_OF}"
    response = client.get(url)
    assert response.status_code == 200
    assert "acme-legal-review-0-waterfall-memo.svg" in response["Content-Disposition"]
    texts = " ".join("".join(el.itertext()) for el in ET.fromstring(response.content).iter())
    assert "Acme Legal: Review 0" in texts and "Frontier (x)" in texts
    png = client.get(reverse("export_task_waterfall", args=[task.id, "png"]) + "?preset=square")
    assert struct.unpack(">II", png.content[16:24]) == (1800, 1800)
    pdf = client.get(reverse("export_task_waterfall", args=[task.id, "pdf"]) + "?preset=slide")
    page = PdfReader(io.BytesIO(pdf.content)).pages[0]
    assert float(page.mediabox.width) == pytest.approx(13.33 * 72, abs=1)


def test_company_history_exports_with_its_title(kaleido_server, portfolio):
    from assessments.models import Company

    recompute.rescore_companies(
        company_ids=[c.id for c in Company.objects.filter(fund=portfolio["fund"])]
    )
    company = Company.objects.get(name="Beacon Health")
    response = portfolio["client"].get(reverse("export_company_history", args=[company.id, "svg"]))
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.get("width") == "6.5in"
    assert any("Beacon Health: score history" in "".join(el.itertext()) for el in root.iter())
    pdf = portfolio["client"].get(reverse("export_company_history", args=[company.id, "pdf"]))
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 1


def test_export_menus_carry_the_map_query_and_sit_beside_each_chart(portfolio):
    client, fund = portfolio["client"], portfolio["fund"]
    page = client.get(reverse("home") + f"?fund={fund.id}&sector=Legal", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert 'class="export-menu"' in html
    assert f"/exports/map.svg?fund={fund.id}&amp;sector=Legal&amp;preset=memo" in html
    assert "map.pptx?" in html and "map.csv?" in html
    full = client.get(reverse("home")).content.decode()
    assert reverse("ic_pack", args=[fund.id]) in full
    company = _task_of(portfolio).company
    detail = client.get(reverse("company_detail", args=[company.id])).content.decode()
    assert reverse("export_company_history", args=[company.id, "png"]) in detail
    assert reverse("export_task_waterfall", args=[_task_of(portfolio).id, "pdf"]) in detail


def test_without_chromium_the_menu_says_what_to_install(portfolio, monkeypatch):
    monkeypatch.setattr(rendering, "browser_path", lambda: None)
    html = portfolio["client"].get(reverse("home")).content.decode()
    assert "apt-get install chromium" in html
    assert "/exports/map.png" not in html and "/exports/map.csv" in html


def test_exported_waterfalls_leave_out_what_does_not_count_and_end_at_the_stored_score(
    portfolio, rescored
):
    from assessments import selectors, services
    from assessments.exports import data as export_data
    from assessments.models import Task

    task = Task.objects.filter(company__fund=portfolio["fund"]).first()
    kept, sent_back = task.evidence.order_by("id")[:2]
    rescored(
        services.evidence_send_back,
        evidence=sent_back,
        partner=portfolio["user"],
        comment="Where is this from?",
    )
    task.refresh_from_db()
    rubric = selectors.active_rubric_version().to_rubric()
    as_of = selectors.today()
    bars = export_data.task_contributions(list(task.evidence.all()), as_of, rubric)
    assert [b.evidence_id for b in bars] == [kept.pk]
    steps = base.waterfall_steps(bars, rubric)
    for axis, value in (("x", task.x), ("y", task.y)):
        assert 50 + sum(s.points for s in steps[axis]) == pytest.approx(value)


def test_waterfall_bars_carry_their_values_in_every_medium(kaleido_server, portfolio):
    task = _task_of(portfolio)
    client = portfolio["client"]
    figure, _ = export_waterfall(portfolio, task)
    # Every bar and the total carry their value as text (what the PNG and PDF draw too).
    for trace in figure.data:
        steps = [round(x, 1) for x in trace.x[:-1]]
        assert list(trace.text[:-1]) == [moves.signed(v) for v in steps]
        assert trace.text[-1] == trace.y[-1].split(": ")[1]
        assert trace.textposition == "outside"
    svg = client.get(reverse("export_task_waterfall", args=[task.id, "svg"]) + f"?as_of={AS_OF}")
    texts = {"".join(el.itertext()).strip() for el in ET.fromstring(svg.content).iter()}
    assert set(figure.data[0].text) <= texts and set(figure.data[1].text) <= texts
    pdf = client.get(reverse("export_task_waterfall", args=[task.id, "pdf"]) + f"?as_of={AS_OF}")
    words = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert all(value in words for value in figure.data[0].text)


def export_waterfall(portfolio, task):
    from assessments.exports import data as export_data

    return export_data.waterfall_figure(portfolio["user"], task.id, date.fromisoformat(AS_OF))


def test_an_axis_without_notes_says_why_instead_of_a_blank_chart(kaleido_server, portfolio):
    task = _task_of(portfolio)
    task.evidence.filter(factor="system_access").delete()  # the only note on y
    figure, _ = export_waterfall(portfolio, task)
    assert figure.layout.meta["empty_axes"] == ["y"]
    assert [t.xaxis for t in figure.data] == ["x"]  # one chart, for frontier
    said = [a.text for a in figure.layout.annotations if "No evidence counted" in a.text]
    assert said == ["No evidence counted on this axis,<br>so it stays at 50 (no bars to draw)."]
    titles = {a.text for a in figure.layout.annotations}
    assert {"Frontier (x)", "Proprietary (y)"} <= titles


def test_a_one_note_panel_is_drawn_wide_enough_to_read():
    tiny = [base.Contribution("public benchmark · 1 Jan 2026", "x", -0.02)]
    figure = memo.waterfall_figure(
        tiny, rubric=scoring.DEFAULT_RUBRIC, text=memo.ChartText("One note")
    )
    low, high = figure.layout.xaxis.range
    step = figure.data[0].x[0]
    assert high - low >= 16 and low <= 50 + step and high >= 50
    # Three times the length it had on the whole 0–100 axis, and its value written beside it.
    assert abs(step) / (high - low) > 3 * abs(step) / 100
    assert figure.data[0].text[0] == "−0.5"


def test_per_task_bubbles_are_sized_by_the_tasks_share_of_the_company(portfolio):
    from assessments.selectors import map as map_selectors

    company = _task_of(portfolio).company
    company.check_size = 4_000_000
    company.save()
    TaskFactory(company=company, name="Second job", weight=3.0)
    view = map_selectors.map_points(
        portfolio["user"], map_selectors.MapFilters(fund=portfolio["fund"].id, per="task")
    )
    sizes = {p.name: p.size for p in view.points if p.company == "Acme Legal"}
    assert sizes == {"Review 0": pytest.approx(1_000_000), "Second job": pytest.approx(3_000_000)}
    per_company = map_selectors.map_points(
        portfolio["user"], map_selectors.MapFilters(fund=portfolio["fund"].id)
    )
    assert {p.name: p.size for p in per_company.points}["Acme Legal"] == 4_000_000


def test_every_per_task_bubble_is_named_or_numbered_in_the_key(kaleido_server, portfolio):
    from assessments.exports import data as export_data
    from assessments.selectors import map as map_selectors

    company = _task_of(portfolio).company
    for n in range(14):
        task = TaskFactory(company=company, name=f"Handle a long and winding job number {n}")
        EvidenceFactory(task=task, factor="system_access", strength=1 + n % 5)
    recompute.rescore_companies(company_ids=[company.id])
    filters = map_selectors.MapFilters(fund=portfolio["fund"].id, per="task")
    data = export_data.map_data(portfolio["user"], filters)
    figure = export_data.map_chart(data, "memo")
    numbered = figure["layout"]["meta"]["numbered"]
    named = [
        a["text"]
        for a in figure["layout"]["annotations"]
        if a.get("name", "").startswith("label") and not a["text"].isdigit()
    ]
    assert numbered, "17 tasks in one corner cannot all be named"
    assert len(named) + len(numbered) == len(data.view.scored)
    # A name is shortened at a word, never mid-word.
    for text in named:
        assert not text.endswith("…") or text[-2] != " "
        full = next(
            p.label
            for p in export_data.plot_points(data.view)
            if p.label.startswith(text.rstrip("…"))
        )
        assert full.startswith(text.rstrip("…"))
    footnote = figure["layout"]["annotations"][-1]["text"].replace("<br>", " ")
    for k, _name in numbered:
        assert f"; {k} " in footnote or f"Numbered: {k} " in footnote
