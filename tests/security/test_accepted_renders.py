"""Accepted means it renders: any value the forms accept — names, sectors, notes, sources
with control characters, bidirectional marks and thousands of characters, once cleaned;
weights, sizes, strengths and dates at the ends of their ranges — is shown on every page
and in every export format (PNG, SVG, PDF, PPTX, CSV) without an error. The CSV import
accepts the same cells and stores them exactly as the form does.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date

from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from assessments import forms, imports, recompute, selectors
from assessments.models import EARLIEST_OBSERVED_ON, MAX_TASK_WEIGHT, Company, Evidence
from tests.conftest import CHROMIUM, need
from tests.security.security_world import FAST_HASHERS, PARTNER, build_world
from tests.security.test_access_matrix import MATRIX, reverse_row
from tests.security.test_fuzz import MARKS, text_with_marks

FORMATS = {
    "export_map": ("png", "svg", "pdf", "pptx", "csv"),
    "export_task_waterfall": ("png", "svg", "pdf"),
    "export_company_history": ("png", "svg", "pdf"),
}
WORST = "".join(MARKS) + "Lex\u202ebench <b>&amp;</b> ✓ 法律 " + "x" * 300

raw_text = st.one_of(text_with_marks, st.text(max_size=60), st.just(WORST))


def accepted(field, raw: str, fallback: str = "") -> str:
    """The value a form field stores for raw input (cut to the field's length first, as a
    browser's maxlength would); a required name that cleans to nothing gets the fallback."""
    limit = getattr(field, "max_length", None)
    try:
        value = field.clean(raw[:limit] if limit else raw)
    except ValidationError:  # a required name that cleans to nothing
        assert field.required, raw
        value = ""
    return value or fallback


@st.composite
def accepted_values(draw) -> dict:
    company_form = forms.CompanyForm(fund_id=0)
    task_form = forms.TaskForm(company=Company())
    evidence_form = forms.EvidenceForm()
    cf, tf, ef = company_form.fields, task_form.fields, evidence_form.fields
    return {
        "company": {
            "name": accepted(cf["name"], draw(raw_text), "Company"),
            "sector": accepted(cf["sector"], draw(raw_text)),
            "stage": accepted(cf["stage"], draw(raw_text)),
            "description": accepted(cf["description"], draw(raw_text)),
            "check_size": draw(st.sampled_from([0, 1, 10**14 - 1])),
            "arr": draw(st.sampled_from([None, 0, 10**14 - 1])),
        },
        "task": {
            "name": accepted(tf["name"], draw(raw_text), "Task"),
            "description": accepted(tf["description"], draw(raw_text)),
            "weight": draw(st.sampled_from([1e-9, 0.5, MAX_TASK_WEIGHT])),
        },
        "evidence": {
            "source": accepted(ef["source"], draw(raw_text)),
            "note": accepted(ef["note"], draw(raw_text)),
            "observed_on": draw(st.sampled_from([EARLIEST_OBSERVED_ON, selectors.today()])),
            "strength": draw(st.sampled_from([1, 5])),
        },
    }


def worst_case() -> dict:
    return {
        "company": {
            "name": forms.OneLineField().clean(WORST)[:200],
            "sector": forms.OneLineField().clean(WORST)[:100],
            "stage": forms.OneLineField().clean(WORST)[:50],
            "description": forms.FreeTextField().clean(WORST * 10),
            "check_size": 10**14 - 1,
            "arr": 10**14 - 1,
        },
        "task": {
            "name": forms.OneLineField().clean(WORST)[:200],
            "description": forms.FreeTextField().clean(WORST),
            "weight": MAX_TASK_WEIGHT,
        },
        "evidence": {
            "source": forms.OneLineField().clean(WORST)[:500],
            "note": forms.FreeTextField().clean(WORST * 50),
            "observed_on": EARLIEST_OBSERVED_ON,
            "strength": 5,
        },
    }


@override_settings(PASSWORD_HASHERS=FAST_HASHERS)
class AcceptedValuesRenderEverywhere(TestCase):
    @settings(
        max_examples=int(os.environ.get("RENDER_EXAMPLES", "2")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(values=accepted_values())
    @example(values=worst_case())
    def test_every_page_and_export(self, values):
        need(os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM} to render the exports")
        world = build_world(**values)
        # What the forms accept, the models' own validation accepts too.
        for obj in (world.company, world.task, world.evidence):
            obj.full_clean(validate_unique=False, validate_constraints=False)
        recompute.rescore_companies(company_ids=[world.company.pk])
        world.company.refresh_from_db()
        assert world.company.is_scored
        client = world.client(PARTNER)
        pages = [n for n, row in MATRIX.items() if row.expect[PARTNER][0] == 200]
        for name in pages:
            if name in FORMATS or name == "admin":
                continue
            url = reverse_row(name, world)
            response = client.get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
        as_of = values["evidence"]["observed_on"].isoformat()
        for params in ({}, {"as_of": as_of, "sector": values["company"]["sector"]}):
            assert client.get(reverse("home"), params).status_code == 200
        for name, formats in FORMATS.items():
            for fmt in formats:
                kwargs = {**reverse_row_kwargs(name, world), "fmt": fmt}
                response = client.get(reverse(name, kwargs=kwargs), {"as_of": as_of})
                assert response.status_code == 200, f"{name}.{fmt}: {response.content[:300]!r}"
                assert len(response.content) > 100, f"{name}.{fmt} is empty"

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values=accepted_values())
    @example(values=worst_case())
    def test_the_import_stores_what_the_form_stores(self, values):
        """The raw cells, imported, come out as the form's cleaned values."""
        company, task, evidence = values["company"], values["task"], values["evidence"]
        out = io.StringIO()
        writer = csv.writer(out)
        header = [*imports.REQUIRED_COLUMNS, "sector", "stage", "task_weight", "source", "note"]
        writer.writerow(header)
        writer.writerow(
            [
                "Fund A",
                company["name"],
                task["name"],
                "system_access",
                "supports",
                evidence["strength"],
                "high",
                evidence["observed_on"].isoformat(),
                company["sector"],
                company["stage"],
                repr(task["weight"]),
                evidence["source"],
                evidence["note"],
            ]
        )
        before = Evidence.objects.count()
        (line,) = imports.parse_evidence_csv(out.getvalue())
        assert (line.company, line.task, line.sector, line.stage) == (
            company["name"],
            task["name"],
            company["sector"],
            company["stage"],
        )
        assert (line.source, line.note, line.task_weight) == (
            evidence["source"],
            evidence["note"],
            task["weight"],
        )
        assert line.observed_on == evidence["observed_on"] >= date(1990, 1, 1)
        assert Evidence.objects.count() == before  # checking writes nothing


def reverse_row_kwargs(name: str, world) -> dict:
    return {
        "export_map": {},
        "export_task_waterfall": {"task_id": world.task.pk},
        "export_company_history": {"company_id": world.company.pk},
    }[name]
