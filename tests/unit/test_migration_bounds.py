"""Rows written before the hardening migration are brought within its bounds, so that the
constraints can be added and every export renders them."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("assessments", "0005_map_evidence_day_index")]
AFTER = [("assessments", "0006_hardening_constraints")]


@pytest.mark.django_db(transaction=True)
def test_old_rows_are_cleaned_clamped_and_deduplicated():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Fund, Company = apps.get_model("assessments", "Fund"), apps.get_model("assessments", "Company")
    Task, Evidence = (
        apps.get_model("assessments", "Task"),
        apps.get_model("assessments", "Evidence"),
    )
    fund = Fund.objects.create(name="F")
    first = Company.objects.create(fund=fund, name="Lex\x07bench")
    second = Company.objects.create(fund=fund, name="LEXBENCH")
    task = Task.objects.create(company=first, name="Review\nclauses", weight=1e308)
    old = date(1, 1, 1)
    note = Evidence.objects.create(
        task=task, factor="system_access", stance=1, strength=3, confidence="high",
        observed_on=old, observed_day=old.toordinal(), note="a\x01b",
    )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Company, Task = apps.get_model("assessments", "Company"), apps.get_model("assessments", "Task")
    Evidence = apps.get_model("assessments", "Evidence")
    assert Company.objects.get(pk=first.pk).name == "Lexbench"
    assert Company.objects.get(pk=second.pk).name == "LEXBENCH (2)"
    task = Task.objects.get(pk=task.pk)
    assert (task.name, task.weight) == ("Review clauses", 1000)
    note = Evidence.objects.get(pk=note.pk)
    assert (note.note, note.observed_on) == ("ab", date(1990, 1, 1))
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_value_shares_are_filled_from_stored_scores_and_nothing_else_changes():
    from assessments import scoring

    before = [("assessments", "0010_integrations")]
    after = [("assessments", "0012_value_shares_and_alert_causes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Fund, Company = apps.get_model("assessments", "Fund"), apps.get_model("assessments", "Company")
    Task = apps.get_model("assessments", "Task")
    day = date(2026, 6, 30)
    company = Company.objects.create(
        fund=Fund.objects.create(name="F"), name="Tensorhaus", x=40.0, y=60.0, confidence=0.5,
        quadrant="specialist_models", margin=10.0, runway_years=1.25, scored_as_of=day,
    )  # fmt: skip
    # Below the boundary (x + 1.5·y = 80 < B ≈ 114), well above it, and unscored.
    Task.objects.create(
        company=company, name="Serve tokens", weight=2.0, x=20.0, y=40.0, confidence=0.5,
        quadrant="commodity_tokens", margin=-34.0, runway_years=0.0,
    )  # fmt: skip
    Task.objects.create(
        company=company, name="Run the desk", weight=1.0, x=60.0, y=90.0, confidence=0.5,
        quadrant="untrainable", margin=81.0, runway_years=10.0,
    )  # fmt: skip
    Task.objects.create(company=company, name="Draft the pack", weight=1.0)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    stored = apps.get_model("assessments", "Company").objects.get(pk=company.pk)
    shares = [getattr(stored, name) for name in scoring.VALUE_SHARE_FIELDS]
    assert shares == [0.5, 0.5, 0.5, 0.25]
    assert (stored.x, stored.y, stored.margin, stored.runway_years) == (40.0, 60.0, 10.0, 1.25)
    tasks = apps.get_model("assessments", "Task").objects.filter(company_id=company.pk)
    assert sorted(t.margin for t in tasks if t.margin is not None) == [-34.0, 81.0]
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
