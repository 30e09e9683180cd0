"""The rubric studio's pages: drafts (start, edit every number, compare, discard), the
preview, activation with its confirmation and progress; and the company page's section."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from assessments import recompute, selectors, services
from assessments.models import ActivationState, CompanySnapshot, RubricVersion, TaskSnapshot
from tests.factories import (
    CompanyFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    make_rubric_owner,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = selectors.today()


@pytest.fixture
def partner():
    return MembershipFactory(role="partner")


@pytest.fixture
def company(partner):
    company = CompanyFactory(fund=partner.fund, name="Lexwise")
    review = TaskFactory(company=company, name="First-pass review", weight=3)
    drafting = TaskFactory(company=company, name="Drafting", weight=1)
    for task, factor, days in (
        (review, "system_access", 400),
        (review, "public_benchmark", 30),
        (drafting, "user_habit", 200),
    ):
        services.evidence_create(
            task=task,
            author=partner.user,
            factor=factor,
            stance=1,
            strength=4,
            confidence="high",
            observed_on=TODAY - timedelta(days=days),
        )
    recompute.rescore_companies(as_of=TODAY - timedelta(days=100))
    recompute.rescore_companies()
    return company


@pytest.fixture
def signed_in(client, partner):
    client.force_login(make_rubric_owner(partner.user))
    return client


def new_draft(client, **posted) -> RubricVersion:
    response = client.post(reverse("rubric"), {"name": "Heavier access", **posted})
    draft = RubricVersion.objects.get(name="Heavier access")
    assert response.status_code == 302
    assert response["Location"] == reverse("rubric_draft", args=[draft.pk])
    return draft


def editor_data(client, draft, **changes) -> dict:
    form = client.get(reverse("rubric_draft", args=[draft.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields}
    return {**data, **changes}


def test_a_draft_starts_as_a_copy_of_the_active_version(signed_in):
    draft = new_draft(signed_in)
    active = selectors.active_rubric_version()
    assert draft.is_draft and draft.number == active.number + 1
    assert draft.to_rubric().factor_weights == active.to_rubric().factor_weights
    page = signed_in.get(reverse("rubric")).content.decode()
    assert "Heavier access" in page and "draft" in page


def test_every_number_of_a_draft_is_editable_and_compared_with_the_active(signed_in):
    draft = new_draft(signed_in)
    data = editor_data(
        signed_in,
        draft,
        weight_system_access="2.5",
        half_life_frontier_model_parity="90",
        boundary_epoch="2026-07-01",
        proprietary_weight="2",
        label_untrainable="Moat",
    )
    assert signed_in.post(reverse("rubric_draft", args=[draft.pk]), data).status_code == 302
    draft.refresh_from_db()
    rubric = draft.to_rubric()
    assert rubric.factor_weights["system_access"] == 2.5
    assert rubric.half_lives["frontier_model_parity"] == 90
    assert str(draft.boundary_epoch) == "2026-07-01" and rubric.proprietary_weight == 2
    assert rubric.label("untrainable") == "Moat"
    page = signed_in.get(reverse("rubric_draft", args=[draft.pk]))
    changes = {c.label: (c.active, c.draft) for c in page.context["changes"]}
    assert changes["system access weight"] == (1.2, 2.5)
    assert changes["frontier model parity half-life, days"] == (180, 90)
    assert changes["name of Untrainable"] == ("Untrainable", "Moat")
    assert len(changes) == 5
    html = page.content.decode()
    # Each number has its meaning beside it, not only in a hover title.
    assert "runway = margin ÷ this" in html and "until the note counts half" in html


def test_a_bad_number_is_explained_and_nothing_is_saved(signed_in):
    draft = new_draft(signed_in)
    data = editor_data(signed_in, draft, weight_system_access="lots", scale="-1")
    page = signed_in.post(reverse("rubric_draft", args=[draft.pk]), data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nothing was changed" in html and "Enter a number" in html
    assert 'value="lots"' in html  # the partner's input is kept to correct
    draft.refresh_from_db()
    assert draft.to_rubric().factor_weights["system_access"] == 1.2 and draft.scale == 1.0


def test_a_version_once_active_cannot_be_edited_or_discarded(signed_in):
    active = selectors.active_rubric_version()
    data = editor_data(signed_in, active, weight_system_access="3")
    page = signed_in.post(reverse("rubric_draft", args=[active.pk]), data)
    assert page.status_code == 200 and "start a new draft" in page.content.decode()
    assert signed_in.post(reverse("rubric_draft_discard", args=[active.pk])).status_code == 302
    active.refresh_from_db()
    assert active.to_rubric().factor_weights["system_access"] == 1.2


def test_a_draft_can_be_discarded(signed_in):
    draft = new_draft(signed_in)
    response = signed_in.post(reverse("rubric_draft_discard", args=[draft.pk]), **HTMX)
    assert response["HX-Redirect"] == reverse("rubric")
    assert not RubricVersion.objects.filter(pk=draft.pk).exists()
    assert RubricVersion.history.filter(id=draft.pk, history_type="-").exists()


def test_the_preview_shows_both_maps_and_the_movers_and_writes_nothing(signed_in, company):
    draft = new_draft(signed_in, weight_system_access="3", weight_public_benchmark="0.2")
    snapshots = TaskSnapshot.objects.count(), CompanySnapshot.objects.count()
    page = signed_in.get(reverse("rubric_preview", args=[draft.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "preview-active-figure" in html and "preview-draft-figure" in html
    movers = page.context["movers"]
    assert [m.point.name for m in movers] == ["Lexwise"]
    assert movers[0].after.y > movers[0].before.y
    assert reverse("company_detail", args=[company.pk]) in html
    # A filter change answers with the region only.
    fragment = signed_in.get(
        reverse("rubric_preview", args=[draft.pk]) + "?per=task", **HTMX
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="preview-region"')
    assert "First-pass review" in fragment
    assert (TaskSnapshot.objects.count(), CompanySnapshot.objects.count()) == snapshots
    assert not draft.__class__.objects.get(pk=draft.pk).is_active


def test_activation_asks_for_a_confirmation_then_shows_its_progress(
    signed_in, company, django_capture_on_commit_callbacks
):
    draft = new_draft(signed_in, weight_system_access="3", proprietary_weight="3")
    ask = signed_in.get(reverse("rubric_activate", args=[draft.pk])).content.decode()
    assert "change quadrant" in ask and "cross the boundary" in ask
    assert "Every fund of the firm is re-scored" in ask and "restated" in ask
    assert "at 1 stored date" in ask  # the past date recorded under v1
    unconfirmed = signed_in.post(reverse("rubric_activate", args=[draft.pk]))
    assert unconfirmed.status_code == 200 and "nothing has changed yet" in unconfirmed.text
    draft.refresh_from_db()
    assert not draft.is_active
    with django_capture_on_commit_callbacks(execute=True):
        done = signed_in.post(reverse("rubric_activate", args=[draft.pk]), {"confirm": "yes"})
    assert done["Location"] == reverse("rubric_activation", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.is_active and draft.activation_state == ActivationState.DONE
    progress = signed_in.get(done["Location"]).content.decode()
    assert "Done" in progress and "restated at 1 date" in progress
    assert "every 700ms" not in progress  # polling stops once the job is done


def test_the_progress_fragment_polls_while_the_job_runs(signed_in):
    draft = new_draft(signed_in)
    RubricVersion.objects.filter(pk=draft.pk).update(
        activation_state=ActivationState.RUNNING, activation_done=2, activation_total=5
    )
    fragment = signed_in.get(reverse("rubric_activation", args=[draft.pk]), **HTMX).text
    assert fragment.lstrip().startswith('<div id="activation-progress"')
    assert "every 700ms" in fragment and 'value="40"' in fragment
    assert "date 1 of 4" in fragment


def test_the_company_section_says_why_it_moved_and_what_would_buy_runway(signed_in, company):
    since = TODAY - timedelta(days=100)
    page = signed_in.get(
        reverse("company_insight", args=[company.pk]) + f"?since={since.isoformat()}", **HTMX
    )
    assert page.status_code == 200
    line = page.context["line"]
    assert line.startswith(f"since {since.day} {since:%b %Y}: runway")
    assert "new evidence" in line and "boundary" in line
    html = page.text
    assert "First-pass review" in html and "strong, verified" in html
    tornado = json.loads(page.context["tornado"] and json.dumps(page.context["tornado"]))
    labels = tornado["data"][0]["y"]
    assert labels[0].startswith("system access weight")
    # Factors without evidence here are not drawn (they move nothing).
    assert not any(label.startswith("private eval") for label in labels)
    # The company page loads the section after the header.
    detail = signed_in.get(reverse("company_detail", args=[company.pk])).text
    assert detail.index('id="company-header"') < detail.index('id="company-insight"')
    assert detail.index('id="company-insight"') < detail.index("Score history")


def test_the_since_control_without_javascript_opens_a_whole_page(signed_in, company):
    """The since form's plain GET (no htmx) gets the section inside the site's page, with
    its styles, navigation and a way back to the company, not a bare fragment."""
    since = TODAY - timedelta(days=100)
    url = reverse("company_insight", args=[company.pk]) + f"?since={since.isoformat()}"
    page = signed_in.get(url)
    assert page.status_code == 200
    html = page.text
    assert html.lstrip().startswith("<!doctype html>") and 'class="topbar"' in html
    assert reverse("company_detail", args=[company.pk]) in html
    assert page.context["line"][1:] in html  # shown with a capital S
    # htmx still gets only the section it swaps in.
    fragment = signed_in.get(url, **HTMX).text
    assert fragment.lstrip().startswith('<section id="company-insight"')


def test_a_bad_since_date_falls_back_to_a_year_ago(signed_in, company):
    page = signed_in.get(reverse("company_insight", args=[company.pk]) + "?since=yesterday")
    assert page.status_code == 200
    assert page.context["insight"].since == TODAY.replace(year=TODAY.year - 1)


def test_history_charts_mark_the_adoption_of_a_version(
    signed_in, company, django_capture_on_commit_callbacks
):
    draft = new_draft(signed_in, weight_system_access="3")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("rubric_activate", args=[draft.pk]), {"confirm": "yes"})
    page = signed_in.get(reverse("company_detail", args=[company.pk]))
    history = page.context["history"]
    assert [a["text"] for a in history["layout"]["annotations"]] == [f"v{draft.number} adopted"]
    # The restated history is continuous: both dates, under the new version.
    assert len(history["data"][0]["x"]) == 2


def test_a_draft_started_with_a_bad_number_explains_and_starts_nothing(signed_in):
    page = signed_in.post(reverse("rubric"), {"name": "Broken", "scale": "zero"})
    assert page.status_code == 200 and "The draft was not started" in page.text
    assert not RubricVersion.objects.filter(name="Broken").exists()


def test_the_preview_and_the_company_section_read_a_fixed_number_of_queries(
    signed_in, company, partner
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    draft = new_draft(signed_in, weight_system_access="3")
    urls = [
        reverse("rubric_preview", args=[draft.pk]),
        reverse("company_insight", args=[company.pk]),
    ]

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert signed_in.get(url, **HTMX).status_code == 200
            result.append(len(queries))
        return result

    before = counts()
    more = CompanyFactory(fund=partner.fund, name="Another")
    for n in range(6):
        task = TaskFactory(company=more if n % 2 else company, name=f"Extra {n}")
        services.evidence_create(
            task=task,
            author=partner.user,
            factor="user_habit",
            stance=1,
            strength=3,
            confidence="medium",
            observed_on=TODAY - timedelta(days=10 * n),
        )
    assert counts() == before


def test_why_it_moved_counts_only_the_notes_that_count(partner, company):
    """A note sent back (until revised) or superseded counts nowhere, so not on the company
    page's decomposition either: its end is the stored score."""
    from django.utils import timezone

    from assessments.models import Evidence
    from assessments.selectors import rubric as rubric_selectors

    drafting = company.tasks.get(name="Drafting")
    note = services.evidence_create(
        task=drafting, author=partner.user, factor="frontier_model_parity", stance=1,
        strength=5, confidence="high", observed_on=TODAY - timedelta(days=10),
    )  # fmt: skip
    Evidence.objects.filter(pk=note.pk).update(sent_back_at=timezone.now())
    recompute.rescore_companies()
    company.refresh_from_db()
    move = rubric_selectors.company_insight(company).movement
    assert move.end.x == pytest.approx(company.x) and move.end.y == pytest.approx(company.y)
    assert move.end.evidence_count == company.evidence_count == 3


def test_finding8_a_partner_of_one_fund_cannot_rewrite_the_firms_rubric(client, partner, company):
    """Finding 8: a fund's partner set a quadrant label "SELL NOW" and boundary 120, and moved
    every other fund's scores."""
    FundFactory(name="Another fund")
    client.force_login(partner.user)
    page = client.get(reverse("rubric"))
    data = dict(page.context["form"].initial, name="Takeover", label_untrainable="SELL NOW")
    assert client.post(reverse("rubric"), data).status_code == 403
    draft = RubricVersion.objects.create(number=2, name="Takeover", boundary_at_epoch=120)
    assert (
        client.post(reverse("rubric_activate", args=[draft.pk]), {"confirm": "yes"}).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        services.rubric_activate(version=draft, user=partner.user)
    assert RubricVersion.objects.get(is_active=True).number == 1
    # A superuser names a rubric owner; the owner's activation page says which funds move.
    owner = make_rubric_owner(partner.user)
    client.force_login(owner)
    confirm = client.get(reverse("rubric_activate", args=[draft.pk])).content.decode()
    assert 'id="funds-moved"' in confirm and partner.fund.name in confirm
    # A fund the owner is not a member of is counted, not named.
    assert "Another fund" not in confirm and "1 other fund (not yours: not named)" in confirm
