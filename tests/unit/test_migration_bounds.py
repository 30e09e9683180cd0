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
