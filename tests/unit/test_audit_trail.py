"""The audit trail misses no write: every path that changes a company, task, evidence row,
membership or rubric version leaves a history row naming who did it, and the set-based
writes (scores, the recompute's bookkeeping) touch only fields the trail leaves out."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import models
from django.urls import reverse

from assessments import demo, imports, recompute, services
from assessments.models import (
    SCORE_FIELDS,
    Company,
    CompanyStatus,
    Evidence,
    Fund,
    Membership,
    Role,
    RubricVersion,
    Task,
)
from assessments.scoring import VALUE_SHARE_FIELDS
from tests.factories import UserFactory, make_rubric_owner
from tests.security.security_world import ASSOCIATE, FAST_HASHERS, PARTNER, VIEWER, build_world

AUDITED = (Fund, Company, Task, Evidence, Membership, RubricVersion)
# What the set-based writes change: scores, and the recompute protocol's bookkeeping.
SET_BASED_WRITES = {
    Task: {*SCORE_FIELDS, "input_version", "scored_version", "stale_since"},
    Company: {*SCORE_FIELDS, *VALUE_SHARE_FIELDS},
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def tracked_fields(model) -> list[str]:
    """The live model's fields that its history records."""
    historical = {f.attname for f in model.history.model._meta.fields}
    return [f.attname for f in model._meta.concrete_fields if f.attname in historical]


def assert_history_matches_live_rows() -> None:
    """For every live row, its newest history row holds the same tracked values: no write
    changed a tracked field behind the trail's back (an update() or a bulk write would)."""
    for model in AUDITED:
        fields = tracked_fields(model)
        for row in model.objects.values("pk", *fields):
            newest = model.history.filter(id=row["pk"]).order_by("-history_date", "-history_id")
            record = newest.values(*fields).first()
            assert record is not None, f"{model.__name__} {row['pk']} has no history"
            assert record == {k: v for k, v in row.items() if k != "pk"}, (
                f"{model.__name__} {row['pk']} changed without a history row"
            )


def test_set_based_writes_touch_only_fields_the_trail_leaves_out():
    for model, written in SET_BASED_WRITES.items():
        assert not set(tracked_fields(model)) & written, model.__name__


def done(response) -> None:
    """The write was accepted: a redirect, or the htmx fragment."""
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200 and response.context:
        form = response.context.get("form") or response.context.get("evidence_form")
        assert not (form and form.errors), form.errors


def evidence_form(**extra) -> dict:
    return {
        "factor": "system_access",
        "stance": 1,
        "strength": 3,
        "confidence": "medium",
        "observed_on": "2026-01-02",
        "note": "note",
        **extra,
    }


@pytest.mark.django_db
def test_every_write_path_through_the_app_leaves_a_history_row_with_its_author():
    world = build_world()
    assoc, partner = world.client(ASSOCIATE), world.client(PARTNER)
    fund_id = world.fund.pk
    before = {model: model.history.count() for model in AUDITED}

    # Companies and tasks, through the pages.
    done(
        assoc.post(
            reverse("company_create", args=[fund_id]),
            {"name": "Newco", "status": CompanyStatus.values[0]},
        )
    )
    newco = Company.objects.get(name="Newco")
    done(
        assoc.post(
            reverse("company_edit", args=[newco.pk]),
            {"name": "Newco", "sector": "Legal", "status": newco.status, "version": newco.version},
        )
    )
    done(
        assoc.post(
            reverse("task_create", args=[newco.pk]), {"name": "Draft contracts", "weight": 1}
        )
    )
    task = Task.objects.get(name="Draft contracts")
    done(assoc.post(reverse("task_edit", args=[task.pk]), {"name": "Draft contracts", "weight": 2}))
    # Evidence: add, edit, verify, send back, delete.
    done(
        assoc.post(
            reverse("evidence_create", args=[task.pk]),
            evidence_form(),
            headers={"HX-Request": "true"},
        )
    )
    evidence = Evidence.objects.get(task=task)
    done(
        assoc.post(
            reverse("evidence_edit", args=[evidence.pk]),
            evidence_form(note="edited", version=evidence.version),
        )
    )
    done(partner.post(reverse("evidence_verify", args=[evidence.pk])))
    done(partner.post(reverse("evidence_send_back", args=[evidence.pk]), {"comment": "source?"}))
    done(partner.post(reverse("evidence_delete", args=[world.evidence.pk])))
    # Members.
    UserFactory(username="newcomer")
    done(
        partner.post(
            reverse("fund_members", args=[fund_id]), {"username": "newcomer", "role": "viewer"}
        )
    )
    newcomer = Membership.objects.get(user__username="newcomer")
    done(
        partner.post(
            reverse("fund_member_role", args=[fund_id, newcomer.pk]), {"role": "associate"}
        )
    )
    done(partner.post(reverse("fund_member_remove", args=[fund_id, newcomer.pk])))
    # Rubric: a draft, then activating it (which deactivates the old version).
    make_rubric_owner(world.users[PARTNER])
    data = dict(partner.get(reverse("rubric")).context["form"].initial, name="Heavier")
    done(partner.post(reverse("rubric"), data))
    done(
        partner.post(
            reverse("rubric_activate", args=[RubricVersion.objects.get(name="Heavier").pk]),
            {"confirm": "yes"},
        )
    )
    # Deleting a task, then a company with its tasks and evidence (a cascade).
    done(assoc.post(reverse("task_delete", args=[task.pk])))
    done(assoc.post(reverse("company_delete", args=[world.company.pk])))

    expected_changes = {
        Company: {"+", "~", "-"},
        Task: {"+", "~", "-"},
        Evidence: {"+", "~", "-"},
        Membership: {"+", "~", "-"},
        RubricVersion: {"+", "~"},
    }
    users = {world.users[ASSOCIATE].pk, world.users[PARTNER].pk}
    for model, kinds in expected_changes.items():
        new = model.history.order_by("history_id")[before[model] :]
        seen = {record.history_type for record in new}
        assert kinds <= seen, f"{model.__name__}: {seen}"
        authors = {record.history_user_id for record in new}
        assert authors <= users, f"{model.__name__} history without its author: {authors}"
    # The cascade: the company's task and evidence were deleted on the record too.
    assert Task.history.filter(id=world.task.pk, history_type="-").exists()
    # Who verified and who sent back, in that order.
    evidence_trail = list(
        Evidence.history.filter(id=evidence.pk, history_type="~").order_by("history_id")
    )
    assert [r.history_user_id for r in evidence_trail[-2:]] == [world.users[PARTNER].pk] * 2
    assert evidence_trail[-2].verified_by_id == world.users[PARTNER].pk
    assert evidence_trail[-1].review_comment == "source?"
    assert_history_matches_live_rows()


@pytest.mark.django_db
def test_services_outside_a_request_name_the_user_too():
    """The command line and jobs call services with no request: the user still shows."""
    world = build_world()
    partner = world.users[PARTNER]
    lines = [
        imports.EvidenceLine(
            line=2,
            fund=world.fund.name,
            company=name,
            task="Review contracts",
            factor="system_access",
            stance=1,
            strength=3,
            confidence="medium",
            observed_on=date(2026, 1, 1),
            verified=True,
            task_weight=2.0,
        )
        for name in ("Imported Co", world.company.name)
    ]
    before = {model: model.history.count() for model in AUDITED}
    imports.import_evidence(lines, user=partner)
    services.membership_change(
        actor=partner, membership=world.memberships[VIEWER], role=Role.ASSOCIATE
    )
    services.company_delete(company=world.company, user=partner)
    for model in (Company, Task, Evidence, Membership):
        new = list(model.history.order_by("history_id")[before[model] :])
        assert new, f"{model.__name__}: the import or service wrote no history"
        assert {r.history_user_id for r in new} == {partner.pk}, model.__name__
    assert_history_matches_live_rows()


@pytest.mark.django_db
def test_demo_load_and_recomputes_keep_the_trail_in_step():
    demo.load_demo()
    recompute.rescore_everything()
    recompute.sweep_stale(older_than=demo.timedelta(0))
    assert_history_matches_live_rows()
    assert Evidence.history.count() >= Evidence.objects.count()


def test_every_audited_model_keeps_history():
    for model in AUDITED:
        assert isinstance(getattr(model, "history", None), models.Manager), model.__name__


@pytest.mark.django_db
def test_a_rubric_activation_is_in_every_funds_trail_with_how_many_scores_moved(
    client, django_capture_on_commit_callbacks
):
    world = build_world()
    task = Task.objects.filter(company__fund=world.fund).first()
    services.evidence_create(
        task=task,
        author=world.users[PARTNER],
        factor="system_access",
        stance=1,
        strength=5,
        confidence="high",
        observed_on=date(2026, 1, 2),
    )
    recompute.rescore_everything()
    # A boundary 200 points higher absorbs every scored task and company.
    version = RubricVersion.objects.create(number=9, name="Stricter", boundary_at_epoch=310.0)
    partner = make_rubric_owner(world.users[PARTNER])
    with django_capture_on_commit_callbacks(execute=True):
        services.rubric_activate(version=version, user=partner)
    client.force_login(partner)
    html = client.get(reverse("fund_audit", args=[world.fund.pk])).content.decode()
    before, after = html.split("Activated</span> rubric version 9 (Stricter)")
    row = before.rsplit("<tr>", 1)[1] + after.split("</tr>", 1)[0]
    assert f"<td>{partner.get_username()}</td>" in row
    version.refresh_from_db()
    moved = version.activation_moved
    assert moved["tasks"] >= 1 and moved["companies"] >= 1
    tasks = f"{moved['tasks']} task{'s' if moved['tasks'] != 1 else ''}"
    companies = f"{moved['companies']} compan{'ies' if moved['companies'] != 1 else 'y'}"
    assert f"scores moved:</span> {tasks}, {companies} (every fund)</li>" in row
