"""A company tells its whole truth wherever its score appears: the share of its value
absorbed today, within one and two years and unscored, beside the mean position, on the
company page, the Companies page, the map's table and hover, the map CSV and the API."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import recompute, selectors
from assessments.identity import tokens
from assessments.identity.models import TokenScope
from assessments.models import Company
from tests.factories import EvidenceFactory, MembershipFactory, TaskFactory

pytestmark = pytest.mark.django_db
THIRD = "0.3333"


@pytest.fixture
def partner():
    return MembershipFactory(role="partner")


@pytest.fixture
def company(partner):
    """Three tasks of equal weight: one general models already do (absorbed), one locked in
    (healthy), one with no evidence at all."""
    day = selectors.today() - timedelta(days=10)
    verified = {"verified_by": partner.user, "verified_at": timezone.now(), "observed_on": day}
    absorbed = TaskFactory(
        company__fund=partner.fund,
        company__name="Tensorhaus",
        name="Serve open-weight models by the token",
    )
    for factor in ("frontier_model_parity", "open_model_parity", "public_benchmark"):
        EvidenceFactory(task=absorbed, factor=factor, strength=5, confidence="high", **verified)
    healthy = TaskFactory(company=absorbed.company, name="Run the bank's fraud desk")
    for factor in ("system_access", "private_eval", "accountability", "proprietary_data"):
        EvidenceFactory(task=healthy, factor=factor, strength=5, confidence="high", **verified)
    TaskFactory(company=absorbed.company, name="Draft the board pack")
    recompute.rescore_companies(company_ids=[absorbed.company_id])
    company = Company.objects.get(pk=absorbed.company_id)
    assert company.margin > 0  # the mean stands above the boundary...
    return company


def test_company_page_says_what_its_mean_hides(client, partner, company):
    client.force_login(partner.user)
    html = client.get(reverse("company_detail", args=[company.pk])).content.decode()
    # ...but a third of its value is already below it, and a third rests on nothing.
    assert "A third of value absorbed today · a third has no evidence." in html
    assert "· a third of its value has no evidence</span>" in html
    # Each task block says its own runway, or that it is absorbed.
    blocks = html.split('data-score="task-runway"')[1:]
    assert len(blocks) == 3
    assert sum(b.startswith(' class="absorbed">absorbed</dd>') for b in blocks) == 1
    assert any(b.startswith(">–</dd>") for b in blocks)  # the unscored task


def test_header_fragment_carries_the_shares_after_a_change(client, partner, company):
    client.force_login(partner.user)
    html = client.get(
        reverse("company_header", args=[company.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "data-value-truth" in html and "a third has no evidence" in html


def test_companies_page_lists_the_shares(client, partner, company):
    client.force_login(partner.user)
    html = client.get(reverse("portfolio")).content.decode()
    assert "Absorbed now · 1 y · 2 y" in html
    assert ">33\u00a0% · 33\u00a0% · 33\u00a0%</td>" in html
    assert 'title="a third of value absorbed today · a third has no evidence"' in html


def _figure(html: str) -> dict:
    start = html.index('<script id="map-figure" type="application/json">')
    text = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(text)


def test_map_table_and_hover_carry_the_shares(client, partner, company):
    client.force_login(partner.user)
    page = client.get(reverse("home") + f"?fund={partner.fund_id}").content.decode()
    assert ">33\u00a0% · 33\u00a0% · 33\u00a0%</td>" in page
    hover = json.dumps(_figure(page)["data"], ensure_ascii=False)
    assert "a third of value absorbed today · a third has no evidence" in hover


def test_map_csv_has_the_company_columns_and_trail_movement(client, partner, company):
    client.force_login(partner.user)
    since = (selectors.today() - timedelta(days=5)).isoformat()
    url = reverse("export_map", args=["csv"]) + f"?fund={partner.fund_id}"
    rows = list(csv.DictReader(io.StringIO(client.get(url).content.decode())))
    (row,) = rows
    assert [row[f] for f in ("value_absorbed", "value_absorbed_1y", "value_unscored")] == [
        THIRD,
        THIRD,
        THIRD,
    ]
    assert "start_x" not in row  # no trail, no movement columns
    tasks = list(csv.DictReader(io.StringIO(client.get(url + "&per=task").content.decode())))
    assert {r["value_absorbed"] for r in tasks} == {""}
    trail = list(csv.DictReader(io.StringIO(client.get(url + f"&since={since}").content.decode())))
    (moved,) = trail
    assert moved["since"] == since
    # Nothing was observed since: no new evidence, and the parts add up to the total.
    assert float(moved["runway_new_evidence"]) == 0
    parts = sum(
        float(moved[f"runway_{p}"]) for p in ("new_evidence", "decay", "rubric", "boundary")
    )
    assert parts == pytest.approx(float(moved["runway_change"]), abs=1e-3)
    assert float(moved["start_runway_years"]) == pytest.approx(
        float(moved["runway_years"]) - float(moved["runway_change"]), abs=1e-3
    )
    assert moved["why_it_moved"].startswith("runway ")


def test_api_carries_the_same_names(client, partner, company):
    _, key = tokens.token_create(user=partner.user, name="read", scope=TokenScope.READ)
    api = type(client)(headers={"Authorization": f"Bearer {key}"})
    one = api.get(f"/api/v1/companies/{company.pk}").json()
    assert one["value_absorbed"] == pytest.approx(1 / 3)
    assert one["value_absorbed_2y"] == pytest.approx(1 / 3)
    assert one["value_unscored"] == pytest.approx(1 / 3)
    past = (selectors.today() - timedelta(days=30)).isoformat()
    listed = api.get(f"/api/v1/companies?as_of={past}").json()
    (then,) = listed["items"]
    # Thirty days ago no note had been observed: all of its value was unscored.
    assert then["value_unscored"] == 1.0 and then["value_absorbed"] == 0.0


def test_company_and_task_histories_carry_a_runway_line(client, partner, company):
    client.force_login(partner.user)
    html = client.get(reverse("company_detail", args=[company.pk])).content.decode()

    def figure(element_id: str) -> dict:
        start = html.index(f'<script id="{element_id}" type="application/json">')
        return json.loads(html[start:].split(">", 1)[1].split("</script>", 1)[0])

    runway = next(t for t in figure("company-history")["data"] if t["name"] == "runway")
    assert runway["yaxis"] == "y2" and runway["y"] == [round(company.runway_years, 2)]
    task = company.tasks.get(name="Serve open-weight models by the token")
    names = {t["name"]: t for t in figure(f"task-{task.pk}-history")["data"]}
    assert names["task runway"]["y"] == [0]  # absorbed
    assert "company runway" in names
