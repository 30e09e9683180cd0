"""The evidence import checks what the forms check: the same cleaning, the models' own
validation, the same case-insensitive names; and it explains each refusal by its line or
column."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments import imports
from assessments.models import Company, Evidence, Role, Task
from tests.factories import CompanyFactory, MembershipFactory, TaskFactory, UserFactory
from tests.security.security_world import FAST_HASHERS

pytestmark = pytest.mark.django_db
HEADER = "fund,company,task,factor,stance,strength,confidence,observed_on"
TODAY = date(2026, 11, 30)


def parse(text: str):
    return imports.parse_evidence_csv(text, today=TODAY)


def refused(text: str) -> list[str]:
    with pytest.raises(imports.ImportRejected) as rejected:
        parse(text)
    return rejected.value.errors


def test_a_column_given_twice_is_named():
    errors = refused(f"{HEADER},note,Note\nF,C,T,system_access,supports,3,high,2026-01-01,a,b\n")
    assert errors == ["line 1: column(s) given more than once: note"]


def test_an_oversized_cell_is_reported_with_its_line():
    big = "x" * 200_000
    errors = refused(
        f"{HEADER},note\nF,C,T,system_access,supports,3,high,2026-01-01,ok\n"
        f'F,C,T,system_access,supports,3,high,2026-01-01,"{big}"\n'
    )
    assert len(errors) == 1 and errors[0].startswith("line 3: a cell is longer than")


def test_a_long_note_is_refused_by_the_models_own_limit():
    errors = refused(
        f"{HEADER},note\nF,C,T,system_access,supports,3,high,2026-01-01,{'x' * 20_001}\n"
    )
    assert "line 2: note: Ensure this value has at most 20000 characters" in errors[0]


def test_control_characters_are_removed_as_the_forms_remove_them():
    (line,) = parse(
        f'{HEADER},source,note\nF,"Lex\x07bench",T\x00,system_access,supports,3,'
        f'high,2026-01-01,Call\x1b notes,"two\x01\nlines"\n'
    )
    assert (line.company, line.task, line.source, line.note) == (
        "Lexbench",
        "T",
        "Call notes",
        "two\nlines",
    )


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("1989-12-31", "observed_on: Evidence must be observed on or after 1990-01-01."),
        ("2026-01-01,1e308", "task_weight: A weight must be greater than 0 and at most 1000."),
        ("2026-01-01,0", "task_weight: A weight must be greater than 0 and at most 1000."),
    ],
)
def test_bounds_are_the_forms_and_the_databases(cells, message):
    errors = refused(f"{HEADER},task_weight\nF,C,T,system_access,supports,3,high,{cells}\n")
    assert message in errors[0]


@pytest.mark.parametrize(
    ("typed", "meant"), [("private eval", "private_eval"), ("system_acess", "system_access")]
)
def test_a_near_miss_factor_gets_a_suggestion(typed, meant):
    errors = refused(f"{HEADER}\nF,C,T,{typed},supports,3,high,2026-01-01\n")
    assert f"did you mean {meant}?" in errors[0]


def test_names_match_case_insensitively_in_the_database_and_the_file():
    importer = UserFactory(is_superuser=True)
    company = CompanyFactory(name="Lexbench")
    task = TaskFactory(company=company, name="Contract review")
    fund = company.fund.name
    lines = parse(
        f"{HEADER}\n"
        f"{fund.upper()},LEXBENCH,contract REVIEW,system_access,supports,3,high,2026-01-01\n"
        f"{fund},lexbench,New task,system_access,supports,3,high,2026-01-01\n"
        f"{fund},LexBench,NEW TASK,system_access,supports,3,high,2026-01-01\n"
    )
    result = imports.import_evidence(lines, user=importer)
    assert result.companies == [] and result.funds == []
    assert Company.objects.filter(fund=company.fund).count() == 1
    assert list(
        Task.objects.filter(company=company).order_by("name").values_list("name", flat=True)
    ) == ["Contract review", "New task"]
    assert Evidence.objects.filter(task=task).count() == 1


def test_upload_of_an_oversized_cell_answers_with_the_line(client, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    member = MembershipFactory(role=Role.ASSOCIATE)
    client.force_login(member.user)
    row = f'{member.fund.name},C,T,system_access,supports,3,high,2026-01-01,"{"y" * 140_000}"'
    text = f"{HEADER},note\n{row}\n"
    response = client.post(
        reverse("evidence_import", args=[member.fund_id]),
        {"file": SimpleUploadedFile("big.csv", text.encode(), "text/csv")},
    )
    assert response.status_code == 400
    assert "line 2: a cell is longer than" in response.content.decode()
    assert not Evidence.objects.exists()
