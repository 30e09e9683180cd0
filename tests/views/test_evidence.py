"""Evidence a partner can stand behind: verification tied to a version of the content,
deletes of verified evidence kept for partners, the direction of a note on the form and its
effect in the table, fast entry, one note per submit, the audit trail in words."""

import re
import uuid
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import directions, scoring, selectors, services
from assessments.models import Company, Evidence, Task
from assessments.selectors import company as company_selectors
from tests.factories import EvidenceFactory, MembershipFactory, TaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def associate():
    return MembershipFactory(role="associate")


@pytest.fixture
def partner(associate):
    return MembershipFactory(role="partner", fund=associate.fund)


@pytest.fixture
def task(associate):
    return TaskFactory(company__fund=associate.fund, company__name="Lexbench", name="Review")


def note(task, author, **fields):
    data = {
        "factor": "system_access",
        "stance": 1,
        "strength": 2,
        "confidence": "low",
        "observed_on": date(2026, 3, 2),
        "source": "Call notes",
        "note": "Read access to the DMS",
    }
    return services.evidence_create(task=task, author=author, **{**data, **fields})


def pending_ids(partner) -> set[int]:
    from assessments.selectors import review

    return set(
        review.pending_evidence(partner.user, review.QueueFilters()).values_list("id", flat=True)
    )


# --- 1. Verification belongs to a version of the content -----------------------------------


def test_an_associates_edit_after_verify_clears_it_and_requeues(associate, partner, task):
    evidence = note(task, associate.user)
    evidence = services.evidence_verify(evidence=evidence, partner=partner.user)
    assert evidence.verified_version == 1 and evidence.pk not in pending_ids(partner)
    edited = services.evidence_update(
        evidence=evidence,
        editor=associate.user,
        expected_version=evidence.version,
        stance=-1,
        strength=5,
        confidence="high",
        note="Access was revoked after the pilot",
    )
    assert not edited.is_verified and edited.verified_by is None
    assert edited.content_version == 2 and edited.verified_version is None
    assert edited.pk in pending_ids(partner)


@pytest.mark.parametrize(
    "change",
    [
        {"factor": "proprietary_data"},
        {"stance": -1},
        {"strength": 4},
        {"confidence": "high"},
        {"observed_on": date(2026, 3, 3)},
        {"note": "Write access too"},
    ],
)
def test_each_content_field_is_a_new_version(associate, partner, task, change):
    evidence = services.evidence_verify(evidence=note(task, associate.user), partner=partner.user)
    edited = services.evidence_update(
        evidence=evidence, editor=associate.user, expected_version=evidence.version, **change
    )
    assert not edited.is_verified


def test_a_corrected_source_keeps_the_verification(associate, partner, task):
    evidence = services.evidence_verify(evidence=note(task, associate.user), partner=partner.user)
    edited = services.evidence_update(
        evidence=evidence,
        editor=associate.user,
        expected_version=evidence.version,
        source="Call notes, 2 March",
    )
    assert edited.is_verified and edited.verified_version == 1


def test_a_partners_own_edit_stays_verified_by_them_at_that_version(associate, partner, task):
    other_partner = MembershipFactory(role="partner", fund=associate.fund)
    evidence = services.evidence_verify(
        evidence=note(task, associate.user), partner=other_partner.user
    )
    edited = services.evidence_update(
        evidence=evidence, editor=partner.user, expected_version=evidence.version, strength=4
    )
    assert edited.is_verified and edited.verified_by == partner.user
    assert edited.verified_version == edited.content_version == 2
    assert edited.pk not in pending_ids(partner)


def test_the_history_shows_who_verified_which_version(client, associate, partner, task):
    evidence = services.evidence_verify(evidence=note(task, associate.user), partner=partner.user)
    evidence = services.evidence_update(
        evidence=evidence, editor=associate.user, expected_version=evidence.version, strength=5
    )
    services.evidence_verify(evidence=evidence, partner=partner.user)
    client.force_login(partner.user)
    html = client.get(reverse("evidence_history", args=[evidence.pk])).content.decode()
    name = partner.user.get_username()
    assert f"Verified (version 1) by {name}" in html
    assert f"Verified (version 2) by {name}" in html
    assert f"Changed by {associate.user.get_username()}" in html
    # Fields in words, before → after.
    assert re.search(r"<td>strength</td><td>2</td><td>5</td>", html)
    assert re.search(rf"<td>verified by</td><td>{name}</td><td>–</td>", html)


def test_sent_back_evidence_does_not_count_until_revised(associate, partner, task, rescored):
    kept = rescored(note, task, associate.user, strength=3)
    doubtful = rescored(note, task, associate.user, strength=5, confidence="high")
    task.refresh_from_db()
    before = task.y
    rescored(services.evidence_send_back, evidence=doubtful, partner=partner.user, comment="?")
    task.refresh_from_db()
    assert task.y < before and task.evidence_count == 1
    only_kept = scoring.score_task([kept.as_scoring_row()], selectors.today(), scoring.Rubric())
    assert task.y == pytest.approx(only_kept.y)
    doubtful.refresh_from_db()
    assert doubtful.pk not in pending_ids(partner)
    rescored(
        services.evidence_update,
        evidence=doubtful,
        editor=associate.user,
        expected_version=doubtful.version,
        source="Signed DPA",
    )
    task.refresh_from_db()
    assert task.y == pytest.approx(before) and doubtful.pk in pending_ids(partner)


# --- 2. Deleting what partners verified needs a partner -------------------------------------


def test_associate_cannot_delete_a_task_or_company_with_verified_evidence(
    client, associate, partner, task
):
    services.evidence_verify(evidence=note(task, associate.user), partner=partner.user)
    client.force_login(associate.user)
    for url in (
        reverse("task_delete", args=[task.pk]),
        reverse("company_delete", args=[task.company_id]),
    ):
        page = client.get(url).content.decode()
        assert "Deletes" in page and "1 verified by partners" in page
        assert "only by a partner" in page and 'class="danger"' not in page
        refused = client.post(url)
        assert (
            refused.status_code == 403 and "only a partner may delete" in refused.content.decode()
        )
    assert Task.objects.filter(pk=task.pk).exists()
    assert Evidence.objects.filter(task=task).count() == 1
    client.force_login(partner.user)
    assert client.post(reverse("company_delete", args=[task.company_id])).status_code == 302
    assert not Company.objects.filter(pk=task.company_id).exists()


def test_finding4_an_associate_cannot_delete_a_note_a_partner_verified(
    client, associate, partner, task
):
    """Finding 4: the associate deleted the verified note itself, then the emptied task."""
    verified = services.evidence_verify(evidence=note(task, associate.user), partner=partner.user)
    own = note(task, associate.user, note="Still mine to delete")
    client.force_login(associate.user)
    page = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    assert reverse("evidence_delete", args=[verified.pk]) not in page
    assert reverse("evidence_delete", args=[own.pk]) in page
    refused = client.post(reverse("evidence_delete", args=[verified.pk]), **HTMX)
    assert refused.status_code == 403
    assert Evidence.objects.filter(pk=verified.pk).exists()
    with pytest.raises(services.VerifiedEvidenceError):
        services.evidence_delete(evidence=verified, user=associate.user)
    assert client.post(reverse("evidence_delete", args=[own.pk]), **HTMX).status_code == 200
    assert client.post(reverse("task_delete", args=[task.pk])).status_code == 403
    client.force_login(partner.user)
    assert client.post(reverse("evidence_delete", args=[verified.pk]), **HTMX).status_code == 200
    assert not Evidence.objects.filter(pk=verified.pk).exists()


def test_associate_still_deletes_what_nobody_verified(client, associate, task):
    note(task, associate.user)
    client.force_login(associate.user)
    assert client.post(reverse("task_delete", args=[task.pk])).status_code == 302
    assert not Task.objects.filter(pk=task.pk).exists()


def test_the_confirm_page_counts_what_goes_for_every_role(client, associate, partner, task):
    second = TaskFactory(company=task.company, name="Clauses")
    third = TaskFactory(company=task.company, name="Drafting")
    for t, n in ((task, 20), (second, 15), (third, 6)):
        for i in range(n):
            EvidenceFactory(task=t, verified_at=timezone.now() if i < 10 else None)
    for member in (associate, partner):
        client.force_login(member.user)
        page = client.get(reverse("company_delete", args=[task.company_id])).content.decode()
        assert "Deletes 3 tasks and 41 notes, 26 verified by partners." in page
        page = client.get(reverse("task_delete", args=[third.pk])).content.decode()
        assert "Deletes 6 notes, 6 verified by partners." in page


# --- 3. The direction on the form and in the table ------------------------------------------


def test_direction_words_lead_with_the_effect_on_the_moat():
    # Supporting a factor that lowers its axis is bad news for the moat: it says so first.
    assert (
        directions.direction("frontier_model_parity", scoring.SUPPORTS).text
        == "weakens the moat: general models already do this task"
    )
    assert directions.detail("frontier_model_parity", scoring.SUPPORTS) == (
        "supports the factor · lowers Frontier"
    )
    assert directions.direction("frontier_model_parity", scoring.CONTRADICTS).text.startswith(
        "strengthens the moat: general models still fall short"
    )
    assert directions.direction("system_access", scoring.SUPPORTS).text.startswith(
        "strengthens the moat"
    )
    assert directions.direction("portable_workflow", scoring.SUPPORTS).text.startswith(
        "weakens the moat"
    )
    for factor in scoring.FACTORS:
        for stance in (scoring.SUPPORTS, scoring.CONTRADICTS):
            row = scoring.EvidenceRow(factor.code, stance, 3, "medium", date(2026, 1, 1))
            positive = scoring.contribution(row, date(2026, 1, 1)) > 0
            assert directions.raises(factor.code, stance) == positive
            said = directions.direction(factor.code, stance).text
            assert said.startswith("strengthens the moat") == positive
            assert said.startswith("weakens the moat") == (not positive)
            # The form's script reads the very same words the server draws.
            entry = directions.table()[factor.code][str(stance)]
            assert f"{entry['words']}: {entry['said']}" == said


def test_the_form_says_what_the_note_does_to_the_moat(client, associate, task):
    client.force_login(associate.user)
    html = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    assert 'id="factor-directions"' in html and "data-direction-factor" in html
    # The first factor, supported: a neutral badge with an arrow, not an error-red line.
    assert '<span class="moat-effect moat-weakens" data-moat-effect>' in html
    assert "a public score already measures this task" in html
    assert 'class="direction raises"' not in html and 'class="direction lowers"' not in html
    response = client.post(
        reverse("evidence_create", args=[task.pk]),
        {"factor": "frontier_model_parity", "stance": "-1", "observed_on": "bad"},
        **HTMX,
    )
    html = response.content.decode()
    assert '<span class="moat-effect moat-strengthens" data-moat-effect>' in html
    assert "general models still fall short here" in html
    assert "contradicts the factor · raises Frontier" in html


def test_each_row_shows_its_effect_in_points_consistent_with_the_waterfall(
    client, associate, task, rescored
):
    rows = [
        rescored(note, task, associate.user, factor=f, stance=s, strength=k, confidence=c)
        for f, s, k, c in (
            ("system_access", 1, 5, "high"),
            ("private_eval", 1, 3, "medium"),
            ("frontier_model_parity", 1, 4, "high"),
            ("public_benchmark", -1, 2, "low"),
        )
    ]
    sent_back = rescored(note, task, associate.user, factor="user_habit", strength=5)
    rescored(services.evidence_send_back, evidence=sent_back, partner=associate.user, comment="?")
    client.force_login(associate.user)
    html = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    page = company_selectors.company_page(task.company)
    (tv,) = page["tasks"]
    effects = {e.pk: e.effect_points for e in tv.evidence}
    assert effects[sent_back.pk] is None
    waterfall = {
        trace["xaxis"]: [
            v
            for v, m in zip(
                trace["x" if trace.get("orientation") == "h" else "y"],
                trace["measure"],
                strict=True,
            )
            if m == "relative"
        ]
        for trace in tv.waterfall["data"]
    }
    for axis, xaxis in (("x", "x"), ("y", "x2")):
        mine = sorted(
            round(e.effect_points, 2) for e in tv.evidence if e.counts and e.effect_axis == axis
        )
        # The waterfall carries each bar's points to two decimals.
        assert mine == sorted(waterfall[xaxis])
        score = task.__class__.objects.get(pk=task.pk)
        total = sum(e.effect_points for e in tv.evidence if e.counts and e.effect_axis == axis)
        assert 50 + total == pytest.approx(getattr(score, axis))
    frontier = next(e for e in tv.evidence if e.pk == rows[2].pk)
    assert frontier.effect_points < 0
    assert f"x {frontier.effect_points:+.1f}".replace("-", "\u2212") in html
    assert "not counted" in html


# --- 4. Fast entry ---------------------------------------------------------------------------


def test_the_date_is_one_text_field_typed_as_yyyy_mm_dd(client, associate, task):
    client.force_login(associate.user)
    html = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    field = re.search(rf'<input[^>]*id="id_observed_on_{task.pk}"[^>]*>', html).group(0)
    assert 'type="text"' in field and 'placeholder="YYYY-MM-DD"' in field
    assert 'tabindex="-1"' in html.split(field, 1)[1].split("</span>", 1)[0]  # the picker
    response = client.post(
        reverse("evidence_create", args=[task.pk]),
        {
            "factor": "system_access",
            "stance": "1",
            "strength": "3",
            "confidence": "medium",
            "observed_on": "03/02/2026",
            "note": "Kept",
        },
        **HTMX,
    )
    assert "Type the date as YYYY-MM-DD" in response.content.decode()
    assert "Kept" in response.content.decode() and not Evidence.objects.exists()


def post_note(client, task, **fields):
    data = {
        "factor": "system_access",
        "stance": "1",
        "strength": "4",
        "confidence": "high",
        "observed_on": "2026-03-02",
        "source": "Call with the GC, 2 March",
        "note": "Passed the security review",
        "submission": str(uuid.uuid4()),
    }
    return client.post(reverse("evidence_create", args=[task.pk]), {**data, **fields}, **HTMX)


def test_source_strength_and_confidence_stay_after_a_save_and_the_note_clears(
    client, associate, task
):
    client.force_login(associate.user)
    html = post_note(client, task).content.decode()
    form = html.split(f'id="task-{task.pk}-evidence-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="Call with the GC, 2 March"' in form
    assert re.search(r'<option value="4" selected>', form)
    assert re.search(r'<option value="high" selected>', form)
    assert 'value="2026-03-02"' in form  # the same call's date
    assert "Passed the security review</textarea>" not in form
    assert re.search(rf'id="id_factor_{task.pk}"[^>]*data-autofocus', form) or re.search(
        rf'data-autofocus[^>]*id="id_factor_{task.pk}"', form
    )
    # Per user, per task page: a reload keeps them; another task and another user do not.
    page = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    own = page.split(f'id="task-{task.pk}-evidence-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="Call with the GC, 2 March"' in own
    other_task = TaskFactory(company=task.company, name="Other")
    page = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    other = page.split(f'id="task-{other_task.pk}-evidence-form"', 1)[1].split("</form>", 1)[0]
    assert "Call with the GC" not in other
    colleague = MembershipFactory(fund=associate.fund, role="associate")
    client.force_login(colleague.user)
    page = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    assert "Call with the GC" not in page.split("evidence-list", 1)[0]


def test_a_double_submit_stores_one_note(client, associate, task):
    client.force_login(associate.user)
    token = str(uuid.uuid4())
    first = post_note(client, task, submission=token)
    second = post_note(client, task, submission=token)
    assert first.status_code == second.status_code == 200
    assert Evidence.objects.filter(task=task).count() == 1
    post_note(client, task)
    assert Evidence.objects.filter(task=task).count() == 2


def test_every_rendered_form_carries_a_fresh_token(client, associate, task):
    client.force_login(associate.user)
    tokens = set()
    for _ in range(2):
        html = post_note(client, task, submission=str(uuid.uuid4())).content.decode()
        tokens.add(re.search(r'name="submission" value="([0-9a-f-]+)"', html).group(1))
    assert len(tokens) == 2


def test_a_plain_post_with_errors_returns_the_whole_page(client, associate, task):
    client.force_login(associate.user)
    response = client.post(
        reverse("evidence_create", args=[task.pk]),
        {"factor": "system_access", "stance": "1", "observed_on": "2999-01-01", "note": "Keep"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith("<!doctype html>")
    assert 'id="company-header"' in html and "cannot be observed in the future" in html
    assert "Keep</textarea>" in html


# --- The company header: how tasks combine ---------------------------------------------------


def test_the_header_says_how_tasks_combine(client, associate, task, rescored):
    task.weight = 3
    task.save()
    other = TaskFactory(company=task.company, name="Clauses", weight=1)
    TaskFactory(company=task.company, name="Unscored one", weight=2)
    rescored(note, task, associate.user)
    rescored(note, other, associate.user)
    client.force_login(associate.user)
    html = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    mix = re.search(r"<p class=\"task-mix[^>]*>(.*?)</p>", html, re.S).group(1)
    assert "weighted mean" in mix and "Review 75% (weight 3)" in mix
    assert "Clauses 25% (weight 1)" in mix and "Unscored one (weight 2, unscored, left out)" in mix


# --- 7. The audit trail in words -------------------------------------------------------------


def test_the_audit_trail_names_company_task_and_changes_in_words(client, associate, partner, task):
    evidence = note(task, associate.user)
    services.evidence_verify(evidence=evidence, partner=partner.user)
    evidence.refresh_from_db()
    services.evidence_update(
        evidence=evidence, editor=associate.user, expected_version=evidence.version, stance=-1
    )
    client.force_login(partner.user)
    html = client.get(reverse("fund_audit", args=[associate.fund_id])).content.decode()
    assert "<td>Lexbench</td>" in html and "<td>Review</td>" in html
    assert "stance:</span> supports → contradicts" in html
    assert f"verified by:</span> {partner.user.get_username()} → –" in html
    assert "Verified (version 1)" in html
    assert "verified_at" not in html and "content_version" not in html


def test_the_audit_trail_filters_by_company_and_person_and_pages(client, associate, partner):
    mine = TaskFactory(company__fund=associate.fund, company__name="Alpha")
    theirs = TaskFactory(company__fund=associate.fund, company__name="Beta")
    for n in range(60):
        note(mine, associate.user, note=f"alpha {n}")
    note(theirs, partner.user, note="beta by partner")
    client.force_login(partner.user)
    url = reverse("fund_audit", args=[associate.fund_id])
    alpha = client.get(url, {"company": mine.company_id}).content.decode()
    assert "<td>Alpha</td>" in alpha and "<td>Beta</td>" not in alpha
    assert "Page 1 of 2" in alpha and f"company={mine.company_id}&amp;page=2" in alpha
    by_partner = client.get(url, {"person": partner.user.pk}).content.decode()
    assert "<td>Beta</td>" in by_partner and "<td>Alpha</td>" not in by_partner
    nonsense = client.get(url, {"company": "x", "person": "99999999999999999999999"})
    assert nonsense.status_code == 200
