"""Hostile text in every text field comes back inert on every page, fragment, chart payload
and export; and each role sees only the controls it may use.

The pages are listed per URL name; test_every_url_name_is_covered fails when a URL is
added without either a page here or a reason in NO_FUND_TEXT.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import os
import re
from datetime import date

import pytest
from django.urls import reverse

from assessments import recompute, services
from assessments.models import Alert, Evidence, EvidenceImport, ICPack, Role
from assessments.notifications.models import Webhook
from tests.conftest import CHROMIUM, need
from tests.factories import CompanyFactory, EvidenceFactory, TaskFactory, make_rubric_owner
from tests.security.hostile import PAYLOAD, assert_inert, hostile_values, hostile_world_text
from tests.security.security_world import (
    ASSOCIATE,
    FAST_HASHERS,
    OTHER,
    PARTNER,
    VIEWER,
    World,
    build_world,
    url_names,
)
from tests.security.test_access_matrix import API_MATRIX

# URL names whose responses carry no fund text (or only Django's own, escaped, admin).
NO_FUND_TEXT = {
    "healthz": "JSON of the database and broker state",
    "login": "the sign-in form",
    "logout": "a redirect",
    "password_change_done": "a fixed message",
    "password_reset": "the reset form",
    "password_reset_done": "a fixed message",
    "password_reset_confirm": "the new-password form",
    "password_reset_complete": "a fixed message",
    "fund_member_remove": "a redirect (the member list is covered)",
    "rubric_draft_discard": "a redirect (the rubric page is covered)",
    "evidence_delete": "the evidence list fragment, covered by evidence_create's",
    "evidence_verify": "a redirect or the queue row, covered by review_queue",
    "evidence_send_back": "a redirect or the queue row, covered by review_queue",
    "review_bulk": "a redirect to the queue",
    "alert_read": "a redirect to the queue",
    "alerts_read_all": "a redirect to the queue",
    "contradiction_resolve": "a redirect or the queue region, covered by review_queue's tabs",
    "ic_pack_download": "a PDF built from the same figures as the SVG exports",
    "admin": "Django's admin, which escapes by itself; staff only",
    "api_token_revoke": "a redirect to the tokens page",
    "mfa_setup": "the second-factor form and QR code: no fund text",
    "mfa_verify": "the code form, or a redirect",
    "mfa_disable": "a redirect",
    "webhook_delete": "a redirect to the webhooks page",
    "webhook_send_test": "a redirect to the delivery log",
    "webhook_resend": "a redirect to the delivery log",
    "oidc_authentication_init": "a redirect to the identity provider",
    "oidc_authentication_callback": "a redirect after sign-in",
    **dict.fromkeys(
        API_MATRIX,
        "JSON (application/json, nosniff): tests/api/test_api.py checks it carries the text as is",
    ),
    "api:api-root": "a 404",
    "api:openapi-json": "the API's schema: no fund data",
    "api:openapi-view": "the API docs page: no fund data",
}

# Fragments that answer with status only: checked for markup, not for shown text.
SHOW_NO_FUND_TEXT = {"IC pack progress", "API tokens"}


def hostile_setup() -> World:
    """The security world with hostile text in every text field, scored, with history."""
    world = build_world(**hostile_world_text())
    for role, user in world.users.items():
        user.username = f"the_{role}{PAYLOAD}"[:150]
        user.first_name = f"First{PAYLOAD}"[:150]
        user.last_name = f"Last{PAYLOAD}"[:150]
        user.email = f"{role}{PAYLOAD}"[:254]
        user.save()
    # The partner also owns the rubric: the activation page (with every fund's name) is read.
    partner = world.users[PARTNER] = make_rubric_owner(world.users[PARTNER])
    # A second evidence row still waiting for review (the world's one carries a
    # hostile send-back comment, which takes it out of the queue).
    waiting = hostile_values(Evidence)
    waiting["review_comment"] = ""
    EvidenceFactory(task=world.task, author=world.users[ASSOCIATE], **waiting)
    recompute.rescore_companies(company_ids=[world.company.pk])
    # Changes for the audit trail and the evidence history to show.
    services.membership_change(
        actor=partner, membership=world.memberships[VIEWER], role=Role.ASSOCIATE
    )
    services.membership_change(actor=partner, membership=world.memberships[VIEWER], role="viewer")
    services.evidence_update(
        evidence=world.evidence,
        editor=partner,
        expected_version=world.evidence.version,
        note="changed " + PAYLOAD,
    )
    world.evidence.refresh_from_db()
    Alert.objects.create(
        company=world.company,
        kind="quadrant_change",
        message=f"moved {PAYLOAD}",
        as_of=date(2026, 1, 1),
    )
    return world


def pages(world: World) -> dict[str, list[tuple[str, object]]]:
    """Per URL name: (label, response) of its page and each fragment, as a partner."""
    client = world.client(PARTNER)
    hx = {"HX-Request": "true"}
    fund_id, company, task, ev = world.fund.pk, world.company.pk, world.task.pk, world.evidence.pk
    pack = ICPack.objects.create(fund=world.fund, as_of=date(2026, 1, 1))
    # A refused background import names the fund and the cells it could not read.
    job = EvidenceImport.objects.create(
        fund=world.fund, status="failed", errors=[f"line 2: fund {world.fund.name!r} is not ours"]
    )
    hook = Webhook.objects.create(fund=world.fund, url="https://x.example.com/", secret="s")

    def get(name, *args, headers=None, **params):
        return client.get(reverse(name, args=args), params, headers=headers or {})

    return {
        "home": [
            ("map page", get("home")),
            ("map fragment", get("home", headers=hx, colour="sector")),
            ("map per task", get("home", per="task")),
        ],
        "portfolio": [("company list", get("portfolio"))],
        "password_change": [("password page", get("password_change"))],
        "fund_members": [("members", get("fund_members", fund_id))],
        "fund_member_role": [
            (
                "member row fragment",
                client.post(
                    reverse("fund_member_role", args=[fund_id, world.memberships[VIEWER].pk]),
                    {"role": Role.VIEWER},
                    headers=hx,
                ),
            )
        ],
        "fund_audit": [("audit trail", get("fund_audit", fund_id))],
        "evidence_import": [("import page", get("evidence_import", fund_id))],
        "evidence_import_progress": [
            ("import progress", get("evidence_import_progress", fund_id, job.pk, headers=hx))
        ],
        "rubric": [("rubric", get("rubric"))],
        "rubric_draft": [("rubric draft", get("rubric_draft", world.draft_rubric.pk))],
        "rubric_preview": [
            ("rubric preview", get("rubric_preview", world.draft_rubric.pk)),
            (
                "rubric preview per task",
                get("rubric_preview", world.draft_rubric.pk, headers=hx, per="task"),
            ),
        ],
        "rubric_activate": [("activation confirm", get("rubric_activate", world.draft_rubric.pk))],
        "rubric_activation": [
            ("activation progress", get("rubric_activation", world.draft_rubric.pk, headers=hx))
        ],
        "company_insight": [("why it moved", get("company_insight", company, headers=hx))],
        "company_detail": [("company page", get("company_detail", company))],
        "company_header": [("company header", get("company_header", company, headers=hx))],
        "company_create": [("company form", get("company_create", fund_id))],
        "company_edit": [("company edit form", get("company_edit", company))],
        "company_delete": [("company delete confirm", get("company_delete", company))],
        "task_create": [("task form", get("task_create", company))],
        "task_edit": [("task edit form", get("task_edit", task))],
        "task_delete": [("task delete confirm", get("task_delete", task))],
        "task_scores": [("task scores fragment", get("task_scores", task, headers=hx))],
        "task_evidence_history": [("task evidence history", get("task_evidence_history", task))],
        "evidence_create": [
            (
                "evidence saved fragment",
                client.post(
                    reverse("evidence_create", args=[task]),
                    {
                        "factor": "system_access",
                        "stance": 1,
                        "strength": 2,
                        "confidence": "medium",
                        "observed_on": "2026-01-02",
                        "source": PAYLOAD[:200],
                        "note": PAYLOAD,
                    },
                    headers=hx,
                ),
            )
        ],
        "evidence_row": [("evidence row", get("evidence_row", ev, headers=hx))],
        "evidence_edit": [("evidence edit row", get("evidence_edit", ev, headers=hx))],
        "evidence_history": [("evidence history", get("evidence_history", ev))],
        "review_queue": [
            ("review queue", get("review_queue")),
            *[
                (f"review queue {tab}", get("review_queue", tab=tab))
                for tab in ("alerts", "pending", "contradictions", "reunderwrite")
            ],
            ("review queue region", get("review_queue", headers={**hx, "HX-Target": "queue"})),
        ],
        "ic_pack": [("IC pack page", get("ic_pack", fund_id))],
        "ic_pack_progress": [("IC pack progress", get("ic_pack_progress", pack.pk, headers=hx))],
        "account_settings": [("settings", get("account_settings"))],
        "api_tokens": [("API tokens", get("api_tokens"))],
        "fund_webhooks": [("webhooks", get("fund_webhooks", fund_id))],
        "webhook_deliveries": [("delivery log", get("webhook_deliveries", fund_id, hook.pk))],
        "export_map": [],  # files: see the export tests below
        "export_task_waterfall": [],
        "export_company_history": [],
    }


def json_payloads(html: str) -> list[object]:
    """Every json_script payload of a page, parsed; asserts the raw text holds no tag."""
    found = []
    for match in re.finditer(r'<script id="[^"]+" type="application/json">(.*?)</script>', html):
        raw = match.group(1)
        assert "<" not in raw and ">" not in raw, "a chart payload carries a raw < or >"
        found.append(json.loads(raw))
    return found


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def assert_plotly_text_inert(payload, where: str) -> None:
    """Plotly draws <a href>, <b> and friends in its text: none may come from fund data."""
    for text in strings_in(payload):
        for marker in ("<a ", "<script", "<img", "<iframe", "<svg"):
            assert marker not in text, f"{where}: chart text carries {marker!r}: {text[:80]}"


def without_json_scripts(html: str) -> str:
    return re.sub(r'<script id="[^"]+" type="application/json">.*?</script>', "", html, flags=re.S)


def assert_only_our_scripts(html: str, where: str) -> None:
    """Every <script> on the page is one of ours: a static file, or a JSON payload."""
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, f"{where}: {tag}"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.mark.django_db
def test_hostile_text_is_inert_on_every_page_fragment_and_chart_payload():
    world = hostile_setup()
    names = {"admin" if n.startswith("admin:") else n for n in url_names()}
    rendered = pages(world)
    assert names - set(NO_FUND_TEXT) == set(rendered), "every URL name: a page or a reason"
    company_name = world.company.name
    for name, responses in rendered.items():
        for where, response in responses:
            assert response.status_code == 200, f"{name}: {where} answered {response.status_code}"
            html = response.content.decode()
            assert_inert(html, where, must_show=where not in SHOW_NO_FUND_TEXT)
            assert_only_our_scripts(html, where)
            for payload in json_payloads(html):
                assert_plotly_text_inert(payload, where)
    map_figure = json_payloads(rendered["home"][0][1].content.decode())
    # Plotly reads its text as a small HTML dialect: shown, the text is the original.
    shown = [html_lib.unescape(s) for s in strings_in(map_figure)]
    assert any(company_name in s for s in shown), "the map's hover text"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.django_db
def test_csv_export_neutralises_formulas_in_every_text_field():
    world = hostile_setup()
    formula = CompanyFactory(
        fund=world.fund, name='=HYPERLINK("http://x","y")', sector="+1+1", stage="@SUM(A1)"
    )
    EvidenceFactory(task=TaskFactory(company=formula, name="-2+3"))
    recompute.rescore_companies(company_ids=[formula.pk])
    response = world.client(PARTNER).get(reverse("export_map", args=["csv"]), {"per": "task"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        assert not cell.startswith(FORMULA_STARTS) or is_number(cell), cell
    assert '\'=HYPERLINK("http://x","y")' in cells
    # Hostile HTML is data in a CSV: it stays as typed.
    assert any(cell.startswith("Company.name<script>") for cell in cells)
    assert world.other_fund.name not in response.content.decode()


SVG_EXPORTS = (
    ("export_map", lambda w: {"fmt": "svg"}),
    ("export_task_waterfall", lambda w: {"task_id": w.task.pk, "fmt": "svg"}),
    ("export_company_history", lambda w: {"company_id": w.company.pk, "fmt": "svg"}),
)


@pytest.mark.django_db
def test_svg_exports_carry_hostile_text_only_as_escaped_text():
    need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} to render the charts")
    world = hostile_setup()
    client = world.client(PARTNER)
    for name, kwargs in SVG_EXPORTS:
        response = client.get(reverse(name, kwargs=kwargs(world)))
        assert response.status_code == 200, name
        svg = response.content.decode()
        assert "<svg" in svg, name
        assert_inert(svg, name, must_show=False)
        # Drawn as text (plotly writes &#60;), never as an element: no <a> from a name.
        assert "&#60;script&#62;alert(" in svg or "&lt;script&gt;alert(" in svg, name
        assert "<a " not in svg and "<a>" not in svg, f"{name}: fund text became a link"


@pytest.mark.django_db
def test_ic_pack_pages_draw_fund_text_as_text(monkeypatch):
    from django.template.loader import render_to_string

    from assessments.exports import icpack
    from assessments.models import ICPack

    world = hostile_setup()
    figures = []
    # The charts are captured before rendering: their text is checked as plotly payloads.
    monkeypatch.setattr(icpack, "_as_svg_uri", lambda figure: figures.append(figure) or "")
    pack = ICPack.objects.create(
        fund=world.fund, requested_by=world.users[PARTNER], as_of=date.today()
    )
    document = icpack.assemble(pack)
    assert len(figures) == 2  # the one task's waterfall, then the map
    payloads = [f if isinstance(f, dict) else f.to_plotly_json() for f in figures]
    for payload in payloads:
        assert_plotly_text_inert(payload, "IC pack chart")
    # The map (a plain dict) names the hostile company, as text.
    shown = " ".join(html_lib.unescape(s) for s in strings_in(payloads[-1]))
    assert "<script>alert(" in shown, "the hostile names are drawn, as text"
    assert_inert(render_to_string(icpack.TEMPLATE, {"pack": document}), "IC pack document")


# --- The UI offers each role only what it may do (the views refuse the rest anyway) -------


def evidence_row_html(html: str, evidence_id: int) -> str:
    match = re.search(rf'<tr id="evidence-{evidence_id}">.*?</tr>', html, flags=re.S)
    assert match, f"evidence {evidence_id} is listed"
    return match.group(0)


def controls(world: World, role: str) -> dict[str, bool]:
    """Which controls the role is offered on the company page, the company list and nav."""
    client = world.client(role)
    page = client.get(reverse("company_detail", args=[world.company.pk])).content.decode()
    companies = client.get(reverse("portfolio")).content.decode()
    own, others = world.evidence.pk, world.partners_evidence.pk
    edit = 'hx-get="{}"'
    return {
        "evidence form": f'id="task-{world.task.pk}-evidence-form"' in page,
        "edit own evidence": edit.format(reverse("evidence_edit", args=[own]))
        in evidence_row_html(page, own),
        "delete own evidence": reverse("evidence_delete", args=[own]) in page,
        "edit others' evidence": edit.format(reverse("evidence_edit", args=[others]))
        in evidence_row_html(page, others),
        "edit company": reverse("company_edit", args=[world.company.pk]) in page,
        "add task": reverse("task_create", args=[world.company.pk]) in page,
        "edit task": reverse("task_edit", args=[world.task.pk]) in page,
        "evidence history": reverse("evidence_history", args=[own]) in page,
        "review nav": f'href="{reverse("review_queue")}"' in page,
        "members link": reverse("fund_members", args=[world.fund.pk]) in companies,
        "audit link": reverse("fund_audit", args=[world.fund.pk]) in companies,
        "import link": reverse("evidence_import", args=[world.fund.pk]) in companies,
    }


OFFERED = {
    VIEWER: set(),
    ASSOCIATE: {
        "evidence form",
        "edit own evidence",
        "delete own evidence",
        "edit company",
        "add task",
        "edit task",
        "import link",
    },
    PARTNER: {
        "evidence form",
        "edit own evidence",
        "delete own evidence",
        "edit others' evidence",
        "edit company",
        "add task",
        "edit task",
        "evidence history",
        "review nav",
        "members link",
        "audit link",
        "import link",
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [VIEWER, ASSOCIATE, PARTNER])
def test_each_role_is_offered_only_what_it_may_do(role):
    world = build_world()
    world.partners_evidence = EvidenceFactory(task=world.task, author=world.users[PARTNER])
    offered = {name for name, shown in controls(world, role).items() if shown}
    assert offered == OFFERED[role]


@pytest.mark.django_db
def test_verify_buttons_are_a_partners_and_the_review_link_a_superusers_too(admin_client):
    world = build_world()
    verify = reverse("evidence_verify", args=[world.evidence.pk])
    assert verify in world.client(PARTNER).get(reverse("review_queue")).content.decode()
    for role in (VIEWER, ASSOCIATE):
        page = world.client(role).get(reverse("company_detail", args=[world.company.pk]))
        assert verify not in page.content.decode()
    home = admin_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("review_queue")}"' in home


# --- No page, fragment or export shows another fund's data --------------------------------

SECRET = "SECRETOTHERFUND"


def other_fund_secrets(world: World):
    """The other fund, with the secret in every text field, scored, with alerts and history."""
    world.other_fund.name = f"{SECRET} fund"
    world.other_fund.save()
    company = CompanyFactory(
        fund=world.other_fund,
        name=f"{SECRET} company",
        sector=f"{SECRET} sector",
        stage=f"{SECRET} stage",
        description=SECRET,
    )
    task = TaskFactory(company=company, name=f"{SECRET} task", description=SECRET)
    EvidenceFactory(task=task, author=world.users[OTHER], source=SECRET, note=f"{SECRET} note")
    recompute.rescore_companies()
    Alert.objects.create(
        company=company, kind="quadrant_change", message=SECRET, as_of=date.today()
    )
    return company


@pytest.mark.django_db
@pytest.mark.parametrize("role", [VIEWER, ASSOCIATE, PARTNER])
def test_no_page_fragment_or_export_shows_another_funds_data(role):
    world = hostile_setup()
    company = other_fund_secrets(world)
    client = world.client(role)
    other = world.other_fund.pk
    responses = (
        [
            (f"{name}: {where}", response)
            for name, shown in pages(world).items()
            for where, response in shown
        ]
        if role == PARTNER
        else []
    )
    for params in ({}, {"per": "task"}, {"colour": "sector"}, {"fund": other}, {"q": "company"}):
        responses.append((f"map {params}", client.get(reverse("home"), params)))
        responses.append(
            (f"map csv {params}", client.get(reverse("export_map", args=["csv"]), params))
        )
    responses += [
        ("company list", client.get(reverse("portfolio"))),
        ("company page", client.get(reverse("company_detail", args=[world.company.pk]))),
        ("review queue", world.client(PARTNER).get(reverse("review_queue"))),
        ("IC pack page", client.get(reverse("ic_pack", args=[world.fund.pk]))),
    ]
    for where, response in responses:
        assert SECRET not in response.content.decode(errors="replace"), where
    # Asked by id, another fund's objects do not exist.
    for name, kwargs in (
        ("company_detail", {"pk": company.pk}),
        ("task_scores", {"pk": company.tasks.get().pk}),
        ("ic_pack", {"fund_id": other}),
    ):
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
