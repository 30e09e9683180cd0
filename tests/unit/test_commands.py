"""The command line: import, export, rescore and the demo."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.models import Company, Evidence, Fund, Task
from tests.factories import MembershipFactory, UserFactory

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.django_db


def export(*args) -> list[dict]:
    out = io.StringIO()
    call_command("export_scores", *args, stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.fixture
def operator():
    return UserFactory(username="operator", is_superuser=True, is_staff=True)


@pytest.mark.parametrize("as_of", ["2026-11-25", "2025-06-30"])
def test_imported_sample_portfolio_exports_the_expected_scores(operator, as_of):
    call_command(
        "import_evidence", str(DATA / "sample-portfolio.csv"), user="operator", stdout=io.StringIO()
    )
    got = {(r["fund"], r["company"], r["task"]): r for r in export("--as-of", as_of)}
    with open(DATA / f"sample-scores-{as_of}.csv") as f:
        expected = list(csv.DictReader(f))
    assert len(got) == len(expected)
    for row in expected:
        mine = got[(row["fund"], row["company"], row["task"])]
        assert mine["quadrant"] == row["quadrant"]
        for column in ("x", "y", "margin", "runway_years"):
            assert float(mine[column]) == pytest.approx(float(row[column]), abs=0.05), column
        assert float(mine["confidence"]) == pytest.approx(float(row["confidence"]), abs=0.005)
        # A company's shares of value absorbed and unscored; empty on a task's row.
        for column in ("value_absorbed", "value_absorbed_1y", "value_absorbed_2y"):
            assert mine[column] == row[column], (row["company"], row["task"], column)
        assert mine["value_unscored"] == row["value_unscored"]


def test_export_header_and_unscored_rows(operator):
    fund = Fund.objects.create(name="=Fund")
    company = Company.objects.create(fund=fund, name="Empty Co")
    Task.objects.create(company=company, name="+task")
    rows = export()
    assert list(rows[0]) == [
        "fund",
        "company",
        "task",
        "x",
        "y",
        "confidence",
        "quadrant",
        "margin",
        "runway_years",
        "value_absorbed",
        "value_absorbed_1y",
        "value_absorbed_2y",
        "value_unscored",
    ]
    task_row, company_row = rows
    assert task_row["quadrant"] == company_row["quadrant"] == "Unscored"
    assert task_row["x"] == task_row["y"] == task_row["runway_years"] == ""
    assert task_row["value_absorbed"] == task_row["value_unscored"] == ""
    # Its one task has no evidence: all of its value is unscored, none absorbed.
    assert company_row["value_unscored"] == "1.0000"
    assert company_row["value_absorbed_2y"] == "0.0000"
    assert task_row["fund"] == "'=Fund" and task_row["task"] == "'+task"


def test_bad_row_imports_nothing_and_names_the_line(operator, tmp_path):
    lines = (DATA / "sample-portfolio.csv").read_text().splitlines()
    bad = lines[5].split(",")
    bad[9] = "certain"  # confidence
    lines[5] = ",".join(bad)
    lines[8] = lines[8].replace("2024-", "2024/", 1)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "import_evidence", str(path), user="operator", stderr=err, stdout=io.StringIO()
        )
    assert "line 6: confidence must be low, medium or high, not 'certain'" in err.getvalue()
    assert "line 9: observed_on must be a date" in err.getvalue()
    assert not Evidence.objects.exists() and not Fund.objects.exists()


def test_import_columns_in_any_order_with_defaults(operator, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(
        "observed_on,factor,stance,strength,confidence,task,company,fund\n"
        "2026-01-05,system_access,supports,4,high,Reconcile,Bank Co,Fund Z\n"
    )
    call_command("import_evidence", str(path), user="operator", stdout=io.StringIO())
    task = Task.objects.get(name="Reconcile")
    assert task.weight == 1.0
    evidence = Evidence.objects.get()
    assert evidence.verified_at is None and evidence.author.username == "operator"
    # No frontier evidence leaves x at 50, which the quadrant rule counts as frontier.
    assert task.x == 50 and task.y > 50 and task.quadrant == "untrainable"


def test_verified_rows_need_a_partner(tmp_path):
    member = MembershipFactory(role="associate", fund__name="Fund Q").user
    path = tmp_path / "v.csv"
    path.write_text(
        "fund,company,task,factor,stance,strength,confidence,observed_on,verified\n"
        "Fund Q,Co,T,system_access,supports,4,high,2026-01-05,yes\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_evidence", str(path), user=member.username, stderr=err, stdout=io.StringIO()
        )
    assert "line 2: marked verified, but only a partner" in err.getvalue()
    assert not Evidence.objects.exists()


def test_import_refuses_unknown_user_and_missing_file(operator, tmp_path):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("import_evidence", str(DATA / "sample-portfolio.csv"), user="nobody")
    with pytest.raises(CommandError, match="is not a file"):
        call_command("import_evidence", str(tmp_path / "missing.csv"), user="operator")


def test_export_refuses_bad_date_and_unknown_fund():
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_scores", "--as-of", "yesterday")
    with pytest.raises(CommandError, match="No fund named"):
        call_command("export_scores", "--fund", "Nope")


def test_load_demo_is_idempotent_and_has_two_years_of_evidence():
    call_command("load_demo", stdout=io.StringIO())
    counts = (Fund.objects.count(), Company.objects.count(), Evidence.objects.count())
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert (Fund.objects.count(), Company.objects.count(), Evidence.objects.count()) == counts
    assert counts[0] >= 2 and counts[1] >= 10
    days = Evidence.objects.values_list("observed_on", flat=True)
    assert (max(days) - min(days)).days >= 2 * 365
    assert "partner" in out.getvalue() and "associate" in out.getvalue()
    assert Company.objects.exclude(quadrant="unscored").count() == counts[1]


def test_rescore_command_reports_and_writes(operator):
    call_command(
        "import_evidence", str(DATA / "sample-portfolio.csv"), user="operator", stdout=io.StringIO()
    )
    Task.objects.update(x=None, y=None, quadrant="unscored")
    out = io.StringIO()
    call_command("rescore", stdout=out)
    assert "Re-scored 7 tasks" in out.getvalue()
    assert not Task.objects.filter(quadrant="unscored").exists()


@pytest.mark.parametrize("command", ["load_demo", "import_evidence", "export_scores", "rescore"])
def test_every_command_has_help(command):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command(command, "--help", stdout=out)
    assert exit_.value.code == 0
