"""The portfolio map page, its htmx fragment and the map's selector."""

import json
from datetime import date

import pytest
from django.urls import reverse

from assessments import recompute
from assessments.models import Company, Task
from assessments.selectors import map as map_selectors
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def build_portfolio(fund, count: int) -> None:
    """count companies, two tasks each, evidence on both axes, scored today."""
    lead = UserFactory()
    companies = Company.objects.bulk_create(
        Company(
            fund=fund,
            name=f"Co {fund.pk}-{i}",
            sector="Legal" if i % 2 else "Fintech",
            stage="Seed",
            check_size=1_000_000 + i,
            lead_partner=lead,
        )
        for i in range(count)
    )
    tasks = Task.objects.bulk_create(
        Task(company=c, name=f"Task {j}", weight=1 + j) for c in companies for j in range(2)
    )
    for task in tasks:
        EvidenceFactory(task=task, factor="system_access", observed_on=date(2025, 6, 1))
        EvidenceFactory(task=task, factor="tacit_judgment", observed_on=date(2026, 3, 1))
    recompute.rescore_companies()


@pytest.fixture
def partner():
    return MembershipFactory(role="partner")


@pytest.mark.parametrize("count", [10, 200])
def test_map_page_query_count_does_not_grow_with_the_portfolio(
    client, partner, count, django_assert_num_queries
):
    build_portfolio(partner.fund, count)
    client.force_login(partner.user)
    url = reverse("home")
    # session, user, rubric, memberships, companies, filter options (3), and the
    # navigation badge's unread alerts (a partner's)
    with django_assert_num_queries(9):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(url, {"sector": "Legal"}, **HTMX).status_code == 200
    # a past date and a trail: tasks' weights and one scoring statement per date
    with django_assert_num_queries(9):
        response = client.get(
            url, {"as_of": "2026-01-15", "since": "2025-07-01", "per": "company"}, **HTMX
        )
        assert response.status_code == 200
    with django_assert_num_queries(6):
        assert client.get(url, {"as_of": "2026-01-15", "per": "task"}, **HTMX).status_code == 200


def test_fragment_is_the_region_only(client, partner):
    CompanyFactory(fund=partner.fund, name="Fragmentco")
    client.force_login(partner.user)
    page = client.get(reverse("home")).content.decode()
    fragment = client.get(reverse("home"), **HTMX).content.decode()
    assert "<html" in page and 'id="map-filters"' in page
    assert "<html" not in fragment and 'id="map-filters"' not in fragment
    assert fragment.lstrip().startswith('<div id="map-region"')
    assert "Fragmentco" in fragment


def test_history_restore_gets_the_full_page(client, partner):
    client.force_login(partner.user)
    response = client.get(
        reverse("home"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_empty_states_say_what_to_do(client, partner):
    client.force_login(partner.user)
    assert "No companies yet" in client.get(reverse("home")).content.decode()
    CompanyFactory(fund=partner.fund, sector="Legal")
    filtered = client.get(reverse("home"), {"sector": "Energy"}).content.decode()
    assert "No companies match" in filtered


def test_filters_narrow_the_rows(client, partner):
    CompanyFactory(fund=partner.fund, name="Legalco", sector="Legal")
    CompanyFactory(fund=partner.fund, name="Payco", sector="Fintech", stage="Seed")
    client.force_login(partner.user)
    legal = client.get(reverse("home"), {"sector": "Legal"}, **HTMX).content.decode()
    assert "Legalco" in legal and "Payco" not in legal
    seed = client.get(reverse("home"), {"stage": "Seed"}, **HTMX).content.decode()
    assert "Payco" in seed and "Legalco" not in seed


def test_quadrant_filter_keeps_only_that_quadrant(partner):
    build_portfolio(partner.fund, 3)
    CompanyFactory(fund=partner.fund, name="Nothing yet")
    data = map_selectors.map_points(partner.user, map_selectors.MapFilters(quadrant="unscored"))
    assert [p.name for p in data.points] == ["Nothing yet"]


def test_as_of_date_changes_the_numbers(partner):
    task = TaskFactory(company__fund=partner.fund)
    EvidenceFactory(task=task, factor="system_access", observed_on=date(2025, 1, 1))
    EvidenceFactory(task=task, factor="private_eval", observed_on=date(2026, 6, 1))
    recompute.rescore_companies()
    early = map_selectors.map_points(partner.user, map_selectors.MapFilters(as_of=date(2025, 2, 1)))
    late = map_selectors.map_points(partner.user, map_selectors.MapFilters(as_of=date(2026, 7, 1)))
    before = map_selectors.map_points(
        partner.user, map_selectors.MapFilters(as_of=date(2024, 1, 1))
    )
    assert early.points[0].score.y < late.points[0].score.y
    assert early.points[0].score.evidence_count == 1 and late.points[0].score.evidence_count == 2
    assert not before.points[0].score.is_scored


def test_as_of_date_changes_the_page(client, partner):
    task = TaskFactory(company__fund=partner.fund, company__name="Timeco")
    EvidenceFactory(task=task, factor="system_access", observed_on=date(2025, 1, 1))
    client.force_login(partner.user)
    earlier = client.get(reverse("home"), {"as_of": "2024-06-01"}, **HTMX).content.decode()
    later = client.get(reverse("home"), {"as_of": "2025-06-01"}, **HTMX).content.decode()
    assert "1 unscored" in earlier and "1 on the map" in later
    assert "1 Jun 2025" in later


def test_trails_start_where_the_company_stood_then(partner):
    task = TaskFactory(company__fund=partner.fund)
    EvidenceFactory(task=task, factor="system_access", observed_on=date(2025, 1, 1))
    EvidenceFactory(task=task, factor="private_eval", observed_on=date(2026, 6, 1))
    filters = map_selectors.MapFilters(as_of=date(2026, 7, 1), since=date(2025, 2, 1))
    point = map_selectors.map_points(partner.user, filters).points[0]
    then = map_selectors.map_points(partner.user, map_selectors.MapFilters(as_of=date(2025, 2, 1)))
    assert point.before == then.points[0].score


def test_another_funds_companies_never_appear(client, partner):
    CompanyFactory(fund=partner.fund, name="Ours")
    other = FundFactory(name="Other fund")
    theirs = CompanyFactory(fund=other, name="Secretco", sector="Secret sector")
    client.force_login(partner.user)
    for params in ({}, {"fund": other.pk}, {"per": "task"}, {"as_of": "2025-01-01"}):
        page = client.get(reverse("home"), params).content.decode()
        assert "Secretco" not in page and "Secret sector" not in page and "Other fund" not in page
    assert client.get(reverse("company_detail", kwargs={"pk": theirs.pk})).status_code == 404


def test_hostile_names_are_escaped_in_the_chart_payload(client, partner):
    task = TaskFactory(
        company__fund=partner.fund, company__name="</script><script>alert(1)</script>"
    )
    EvidenceFactory(task=task)
    recompute.rescore_companies()
    client.force_login(partner.user)
    page = client.get(reverse("home")).content.decode()
    assert "<script>alert(1)" not in page
    payload = page.split('id="map-figure" type="application/json">')[1].split("</script>")[0]
    figure = json.loads(payload)
    names = [row[1] for t in figure["data"] for row in t.get("customdata", [])]
    # plotly.js turns the entities back into the literal characters, as text.
    assert names == ["&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"]


def test_table_sorts_by_any_column(client, partner):
    build_portfolio(partner.fund, 3)
    client.force_login(partner.user)
    descending = client.get(reverse("home"), {"sort": "-size"}).content.decode()
    ascending = client.get(reverse("home"), {"sort": "size"}).content.decode()
    first = descending.index(f"Co {partner.fund.pk}-2")
    assert first < descending.index(f"Co {partner.fund.pk}-0")
    assert ascending.index(f"Co {partner.fund.pk}-0") < ascending.index(f"Co {partner.fund.pk}-2")
    assert "?sort=size" in descending  # the active column's link flips the direction


def test_unreadable_query_values_fall_back_to_defaults(client, partner):
    client.force_login(partner.user)
    response = client.get(reverse("home"), {"as_of": "yesterday", "fund": "x", "sort": "evil"})
    assert response.status_code == 200


def test_portfolio_url_still_lists_companies(client, partner):
    CompanyFactory(fund=partner.fund, name="Listed")
    client.force_login(partner.user)
    assert "Listed" in client.get(reverse("portfolio")).content.decode()


def test_a_long_table_is_cut_and_says_so(client, partner, monkeypatch):
    from assessments.views import map as map_views

    monkeypatch.setattr(map_views, "TABLE_LIMIT", 2)
    build_portfolio(partner.fund, 3)
    client.force_login(partner.user)
    page = client.get(reverse("home"), {"sort": "-size"}, **HTMX).content.decode()
    assert "first 2 of 3 rows" in page
    assert f"Co {partner.fund.pk}-0" not in page.split("map-table")[1]


def test_table_and_chart_show_the_same_numbers(client, partner):
    build_portfolio(partner.fund, 2)
    client.force_login(partner.user)
    page = client.get(reverse("home")).content.decode()
    payload = page.split('id="map-figure" type="application/json">')[1].split("</script>")[0]
    bubbles = [t for t in json.loads(payload)["data"] if t.get("mode") == "markers"]
    xs = sorted(f"{x:.1f}" for trace in bubbles for x in trace["x"])
    table = page.split('id="map-table"')[1]
    assert xs and all(f'<td class="num">{x}</td>' in table for x in xs)


def test_slider_months_run_from_the_users_earliest_evidence_to_today(partner):
    mine = TaskFactory(company__fund=partner.fund)
    EvidenceFactory(task=mine, observed_on=date(2025, 11, 17))
    EvidenceFactory(task=mine, observed_on=date(2026, 2, 3))
    # Another fund's older evidence must not stretch the slider (nor reveal it exists).
    EvidenceFactory(observed_on=date(2020, 1, 1))
    months = map_selectors.evidence_months(partner.user)
    assert months[0] == date(2025, 11, 1)
    assert months[-1] == map_selectors.selectors.today().replace(day=1)
    assert len(months) == len(set(months)) and months == sorted(months)


def test_no_evidence_means_no_slider_months(partner):
    assert map_selectors.evidence_months(partner.user) == []
