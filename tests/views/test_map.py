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
    make_rubric_owner,
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
    # session, user, whether a second factor is owed (decided on every request), rubric,
    # memberships, companies, filter options (3), and the navigation badge's unread alerts
    # (a partner's)
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(url, {"sector": "Legal"}, **HTMX).status_code == 200
    # a past date and a trail: tasks' weights (read once), one scoring statement for the
    # map's date, one for the trail's start (the evidence held then, scored then and aged to
    # the map's date in the same scan), and the versions' audit trail (which rubric was in
    # force then)
    with django_assert_num_queries(10):
        response = client.get(
            url, {"as_of": "2026-01-15", "since": "2025-07-01", "per": "company"}, **HTMX
        )
        assert response.status_code == 200
    with django_assert_num_queries(7):
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


def table_names(html: str) -> list[str]:
    table = html.split('id="map-table"')[1]
    return [row.split("<td>")[1].split("</td>")[0] for row in table.split("<tr data-company")[1:]]


def test_the_table_pages_in_the_chosen_order_and_the_chart_keeps_every_point(
    client, partner, monkeypatch
):
    from assessments.views import map as map_views

    monkeypatch.setattr(map_views, "TABLE_PAGE", 2)
    build_portfolio(partner.fund, 5)  # check sizes grow with the number
    client.force_login(partner.user)
    name = f"Co {partner.fund.pk}-{{}}".format
    first = client.get(reverse("home"), {"sort": "-size"}, **HTMX).content.decode()
    assert table_names(first) == [name(4), name(3)]
    assert "Rows 1–2 of 5" in first and "page 1 of 3" in first
    payload = first.split('id="map-figure" type="application/json">')[1].split("</script>")[0]
    bubbles = [
        t for t in json.loads(payload)["data"] if t.get("mode") == "markers" and "customdata" in t
    ]
    assert sum(len(t["x"]) for t in bubbles) == 5
    # The next page is a plain link that keeps the order; it works without JavaScript too.
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "sort=-size" in next_url and "page=2" in next_url
    second = client.get(reverse("home") + next_url.replace("&amp;", "&")).content.decode()
    assert "<html" in second and table_names(second) == [name(2), name(1)]
    last = client.get(reverse("home"), {"sort": "-size", "page": 3}).content.decode()
    assert table_names(last) == [name(0)] and 'rel="next"' not in last
    # A page past the end shows the last page; an unreadable one the first.
    assert table_names(
        client.get(reverse("home"), {"sort": "-size", "page": 99}).content.decode()
    ) == [name(0)]
    assert table_names(
        client.get(reverse("home"), {"sort": "-size", "page": "x"}).content.decode()
    ) == [name(4), name(3)]


def test_sort_links_start_again_at_the_first_page(client, partner, monkeypatch):
    from assessments.views import map as map_views

    monkeypatch.setattr(map_views, "TABLE_PAGE", 2)
    build_portfolio(partner.fund, 5)
    client.force_login(partner.user)
    page = client.get(reverse("home"), {"sort": "-size", "page": 2, "sector": "Legal"})
    html = page.content.decode()
    links = [
        chunk.split('"')[0] for chunk in html.split('id="map-table"')[1].split('<a href="')[1:]
    ]
    sort_links = [link for link in links if "sort=" in link and "page=" not in link]
    assert len(sort_links) == len(map_views.TABLE_COLUMNS)
    assert all("sector=Legal" in link for link in sort_links)


def test_the_tables_own_links_swap_only_the_table(client, partner):
    build_portfolio(partner.fund, 3)
    client.force_login(partner.user)
    response = client.get(
        reverse("home"), {"sort": "x"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="map-table"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="map-table"')
    assert 'id="map-figure"' not in html and 'id="map-region"' not in html
    assert 'name="sort" value="x"' in html  # later filter changes keep this order
    assert "HX-Target" in response["Vary"]


def test_the_boundary_is_explained_in_words_from_the_active_rubric(client, partner):
    from assessments import scoring, selectors

    build_portfolio(partner.fund, 1)
    client.force_login(partner.user)
    rubric = selectors.active_rubric_version().to_rubric()
    level = round(scoring.boundary_at(selectors.today(), rubric))
    html = client.get(reverse("home"), **HTMX).content.decode()
    words = html.split('id="boundary-words">')[1].split("</span>")[0]
    k = f"{rubric.proprietary_weight:g}"
    drift = f"{rubric.boundary_drift_per_year:g}"
    assert f"x + {k}·y = {level} today, rising {drift} a year" in words
    assert "below the line, general models do the work" in words
    past = client.get(reverse("home"), {"as_of": "2025-06-01"}, **HTMX).content.decode()
    assert "on 1 Jun 2025, rising" in past


def test_table_and_chart_show_the_same_numbers(client, partner):
    build_portfolio(partner.fund, 2)
    client.force_login(partner.user)
    page = client.get(reverse("home")).content.decode()
    payload = page.split('id="map-figure" type="application/json">')[1].split("</script>")[0]
    bubbles = [t for t in json.loads(payload)["data"] if t.get("mode") == "markers"]
    xs = sorted(f"{x:.1f}" for trace in bubbles for x in trace["x"])
    table = page.split('id="map-table"')[1]
    assert xs and all(f'<td class="num">{x}</td>' in table for x in xs)


def test_the_slider_runs_by_day_from_the_users_earliest_evidence_to_today(client, partner):
    from assessments import selectors

    mine = TaskFactory(company__fund=partner.fund)
    EvidenceFactory(task=mine, observed_on=date(2025, 11, 17))
    EvidenceFactory(task=mine, observed_on=date(2026, 2, 3))
    # Another fund's older evidence must not stretch the slider (nor reveal it exists).
    EvidenceFactory(observed_on=date(2020, 1, 1))
    assert map_selectors.first_evidence_day(partner.user) == date(2025, 11, 17)
    client.force_login(partner.user)
    html = client.get(reverse("home")).content.decode()
    slider = html.split('id="as-of-slider"')[1].split(">")[0]
    days = (selectors.today() - date(2025, 11, 17)).days
    assert f'max="{days}"' in slider and 'step="1"' in slider
    assert 'data-first="2025-11-17"' in slider


def test_a_year_ago_is_one_click(client, partner):
    from assessments import selectors

    CompanyFactory(fund=partner.fund)
    client.force_login(partner.user)
    html = client.get(reverse("home")).content.decode()
    today = selectors.today()
    year_ago = (
        today.replace(year=today.year - 1)
        if (today.month, today.day) != (2, 29)
        else today.replace(year=today.year - 1, day=28)
    )
    assert f'name="as_of" value="{year_ago.isoformat()}"' in html
    assert ">A year ago</button>" in html
    # Without JavaScript the button submits the form: its date comes after the field's, and wins.
    query = f"as_of={today.isoformat()}&as_of={year_ago.isoformat()}"
    answer = client.get(reverse("home") + "?" + query).content.decode()
    assert f"As of <strong>{year_ago.day} {year_ago:%b %Y}</strong>" in answer


def test_no_evidence_means_no_slider(client, partner):
    assert map_selectors.first_evidence_day(partner.user) is None
    CompanyFactory(fund=partner.fund)
    client.force_login(partner.user)
    assert 'id="as-of-slider"' not in client.get(reverse("home")).content.decode()


def test_static_files_are_hashed_compressed_and_cached_for_ever_once_collected(
    client, tmp_path, settings
):
    """collectstatic's copies are linked by hashed names and served gzip/brotli-compressed,
    cached immutably; before collectstatic, or once the source is edited, the plain name is
    linked and served fresh from the source."""
    from django.core.management import call_command
    from django.templatetags.static import static
    from django.test import Client

    source = tmp_path / "src"
    (source / "js").mkdir(parents=True)
    script = source / "js" / "chart.js"
    script.write_text("/* a chart */\n" + "var point = [1, 2, 3];\n" * 400)
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = [
        "django.contrib.staticfiles.finders.FileSystemFinder",
        "moatapp.staticfiles.CollectedFinder",
    ]
    settings.STATIC_ROOT = tmp_path / "collected"
    assert static("js/chart.js") == "/static/js/chart.js"  # not collected yet

    call_command("collectstatic", interactive=False, verbosity=0)
    settings.STATIC_ROOT = tmp_path / "collected"  # a fresh storage reads the new manifest
    hashed = static("js/chart.js")
    assert hashed.startswith("/static/js/chart.") and hashed != "/static/js/chart.js"
    fresh = Client()
    for encoding in ("br", "gzip"):
        response = fresh.get(hashed, HTTP_ACCEPT_ENCODING=encoding)
        assert response.status_code == 200
        assert response["Content-Encoding"] == encoding
        assert "immutable" in response["Cache-Control"]
    plain = fresh.get("/static/js/chart.js")
    assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]

    script.write_text("/* edited */\n")
    assert static("js/chart.js") == "/static/js/chart.js"


# --- Why it moved, on the map's trails -------------------------------------------------------

SINCE = date(2025, 12, 1)
NOTES = (
    # (task, factor, stance, strength, observed, verified)
    (0, "system_access", 1, 5, date(2025, 3, 1), True),
    (0, "public_benchmark", 1, 3, date(2026, 4, 1), False),
    (1, "user_habit", 1, 4, date(2025, 10, 1), False),
    (1, "frontier_model_parity", 1, 4, date(2026, 8, 20), True),
    (2, "private_eval", 1, 3, date(2025, 6, 1), False),
    (3, "cheap_verification", 1, 5, date(2025, 11, 2), True),
    (3, "tacit_judgment", 1, 4, date(2026, 2, 14), False),
)


@pytest.fixture
def moving(partner):
    """Two companies of two tasks, notes before and after SINCE (and one sent back, which
    counts nowhere), scored today."""
    from django.utils import timezone

    tasks = []
    for c in range(2):
        company = CompanyFactory(fund=partner.fund, name=f"Mover {c}")
        tasks += [TaskFactory(company=company, name=f"Task {c}.{t}", weight=1 + t) for t in (0, 1)]
    for index, factor, stance, strength, observed_on, verified in NOTES:
        EvidenceFactory(
            task=tasks[index],
            factor=factor,
            stance=stance,
            strength=strength,
            confidence="high",
            observed_on=observed_on,
            verified_by=partner.user if verified else None,
            verified_at=timezone.now() if verified else None,
        )
    EvidenceFactory(
        task=tasks[0], factor="accountability", strength=5, observed_on=date(2026, 5, 1),
        sent_back_at=timezone.now(),
    )  # fmt: skip
    recompute.rescore_companies()
    return tasks


def _pure_moves(tasks, since, as_of, per):
    """The pure model's decomposition for each company (or task), today's rubric at both
    dates, from the counted rows."""
    from assessments import scoring, selectors
    from assessments.models import Evidence

    rubric = selectors.active_rubric_version().to_rubric()
    rows = {
        t.id: [e.as_scoring_row() for e in Evidence.objects.counting().filter(task=t)]
        for t in tasks
    }
    if per == map_selectors.TASK:
        groups = {t.id: [(1.0, rows[t.id])] for t in tasks}
    else:
        groups = {}
        for t in tasks:
            groups.setdefault(t.company_id, []).append((t.weight, rows[t.id]))
    return {
        key: scoring.decompose_move(weighted, since, as_of, rubric, rubric)
        for key, weighted in groups.items()
    }


@pytest.mark.parametrize("per", [map_selectors.COMPANY, map_selectors.TASK])
@pytest.mark.parametrize("as_of", [date(2026, 9, 1), None])  # a past date, and today
def test_each_trail_says_why_it_moved_as_the_pure_model_does(partner, moving, per, as_of):
    from assessments import scoring, selectors

    filters = map_selectors.MapFilters(as_of=as_of, since=SINCE, per=per)
    view = map_selectors.map_points(partner.user, filters)
    expected = _pure_moves(moving, SINCE, as_of or selectors.today(), per)
    assert len(view.points) == len(expected) > 0
    for point in view.points:
        move, pure = point.movement, expected[point.id]
        assert move.is_decomposed and pure.is_decomposed
        assert move.start_on == SINCE and move.end_on == view.as_of
        for measure in scoring.MOVE_MEASURES:
            for part in scoring.MOVE_PARTS:
                assert move.parts[measure][part] == pytest.approx(
                    pure.parts[measure][part], abs=1e-9
                ), (point.name, measure, part)
            assert sum(move.parts[measure].values()) == pytest.approx(move.total(measure))
            assert move.total(measure) == pytest.approx(pure.total(measure), abs=1e-9)
            # Both dates under today's rubric: the map has no rubric part.
            assert move.parts[measure][scoring.RUBRIC_CHANGE] == 0
        assert point.before == move.start
    # The notes since SINCE really moved something, or the equality would prove little.
    assert any(p.movement.parts["runway_years"][scoring.NEW_EVIDENCE] != 0 for p in view.points)


def test_without_new_evidence_since_the_evidence_part_is_zero(partner, moving):
    from assessments import scoring

    # Mover 1's last note is from February 2026; the trail starts after it.
    filters = map_selectors.MapFilters(as_of=date(2026, 9, 1), since=date(2026, 3, 1))
    view = map_selectors.map_points(partner.user, filters)
    [quiet] = [p for p in view.points if p.name == "Mover 1"]
    assert all(quiet.movement.parts[m][scoring.NEW_EVIDENCE] == 0 for m in scoring.MOVE_MEASURES)
    assert quiet.movement.parts["runway_years"][scoring.DECAY] != 0
    [busy] = [p for p in view.points if p.name == "Mover 0"]
    assert busy.movement.parts["x"][scoring.NEW_EVIDENCE] < 0  # two notes lowering x since


def test_a_trail_from_the_maps_own_date_is_no_trail(partner, moving):
    for as_of, since in ((date(2026, 9, 1), date(2026, 9, 1)), (date(2026, 9, 1), None)):
        filters = map_selectors.MapFilters(as_of=as_of, since=since)
        view = map_selectors.map_points(partner.user, filters)
        assert all(p.before is None and p.movement is None for p in view.points)
        assert view.rubric_then_number is None


def _hover_text(html: str) -> str:
    payload = html.split('id="map-figure" type="application/json">')[1].split("</script>")[0]
    figure = json.loads(payload)
    bubbles = [t for t in figure["data"] if "customdata" in t]
    return " ".join(
        [t["hovertemplate"] for t in bubbles]
        + [str(v) for t in bubbles for row in t["customdata"] for v in row]
    )


def test_a_trailed_bubbles_hover_says_why_it_moved(client, partner, moving):
    from assessments import moves

    client.force_login(partner.user)
    params = {"as_of": "2026-09-01", "since": SINCE.isoformat()}
    html = client.get(reverse("home"), params, **HTMX).content.decode()
    hover = _hover_text(html)
    view = map_selectors.map_points(
        partner.user, map_selectors.MapFilters(as_of=date(2026, 9, 1), since=SINCE)
    )
    for point in view.points:
        line = moves.move_line(point.movement)
        assert line.startswith("since 1 Dec 2025: runway")
        assert "Since" + line.removeprefix("since") in hover, (line, hover)
    # No trail, no line: the figure stays as small as it was.
    plain = client.get(reverse("home"), {"as_of": "2026-09-01"}, **HTMX).content.decode()
    assert "Since 1 Dec 2025" not in _hover_text(plain) and "evidence +" not in plain
    # One rubric at both dates: nothing to say about versions.
    assert 'id="trail-rubric"' not in html


def test_a_trail_across_a_rubric_change_says_both_ends_are_under_todays(client, partner, moving):
    from assessments import services
    from assessments.models import RubricVersion

    v1 = RubricVersion.objects.get(number=1)
    draft = RubricVersion.objects.create(
        number=2, name="Heavier lock", factor_weights={**v1.factor_weights, "system_access": 2.0}
    )
    services.rubric_activate(version=draft, user=make_rubric_owner(partner.user))
    client.force_login(partner.user)
    html = client.get(reverse("home"), {"since": SINCE.isoformat()}, **HTMX).content.decode()
    note = html.split('id="trail-rubric">')[1].split("</span>")[0]
    assert "Both ends are under rubric v2, though v1 was in force then" in note
