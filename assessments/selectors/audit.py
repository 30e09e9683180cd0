"""Reads for the audit trail: every audited change of a fund, newest first, sliced in SQL."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    CharField,
    Value,
)

from ..models import (
    Company,
    Evidence,
    Membership,
    Task,
)

# --- Audit trail --------------------------------------------------------------------------

AUDIT_KINDS = ("company", "task", "evidence", "membership")


def _audit_histories(fund_id: int) -> dict:
    """Each audited kind's history rows that belong to the fund, deleted objects included.

    Joined through the history tables (not the live ones), so that the trail of a
    deleted company still shows its tasks and evidence.
    """
    companies = Company.history.filter(fund_id=fund_id)
    tasks = Task.history.filter(company_id__in=companies.values("id"))
    return {
        "company": companies,
        "task": tasks,
        "evidence": Evidence.history.filter(task_id__in=tasks.values("id")),
        "membership": Membership.history.filter(fund_id=fund_id),
    }


def audit_index(fund_id: int):
    """(kind, history_id, history_date) of every audited change in the fund, newest first.

    One UNION query, so that a page is sliced in SQL whatever the mix of kinds.
    """
    parts = [
        qs.order_by()
        .annotate(kind=Value(kind, output_field=CharField()))
        .values("kind", "history_id", "history_date")
        for kind, qs in _audit_histories(fund_id).items()
    ]
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-history_date", "-history_id")


@dataclass
class AuditEntry:
    kind: str
    record: object
    subject: str
    changed: list[str]


def audit_entries(index_rows: list[dict]) -> list[AuditEntry]:
    """The history records of one page, with what changed: a constant number of queries."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for row in index_rows:
        wanted[row["kind"]].append(row["history_id"])
    models = {"company": Company, "task": Task, "evidence": Evidence, "membership": Membership}
    related = {
        "company": ["history_user"],
        "task": ["history_user"],
        "evidence": ["history_user"],
        "membership": ["history_user", "user"],
    }
    records = {}
    for kind, ids in wanted.items():
        history = models[kind].history
        rows = list(history.filter(history_id__in=ids).select_related(*related[kind]))
        previous = _previous_records(history, rows)
        for record in rows:
            records[(kind, record.history_id)] = (record, previous.get(record.history_id))
    # Evidence is named by its task: one query for the page's task names.
    task_ids = {r.task_id for (kind, _), (r, _) in records.items() if kind == "evidence"}
    task_names = dict(Task.objects.filter(pk__in=task_ids).values_list("id", "name"))
    entries = []
    for row in index_rows:
        record, before = records[(row["kind"], row["history_id"])]
        entries.append(
            AuditEntry(
                kind=row["kind"],
                record=record,
                subject=_audit_subject(row["kind"], record, task_names),
                changed=_changed_fields(record, before),
            )
        )
    return entries


def _previous_records(history, rows) -> dict:
    """For each updated record, the history record just before it, in one query."""
    updates = [r for r in rows if r.history_type == "~"]
    if not updates:
        return {}
    object_ids = {r.id for r in updates}
    earlier = history.filter(id__in=object_ids, history_id__lt=max(r.history_id for r in updates))
    by_object = defaultdict(list)
    for record in earlier.order_by("history_id"):
        by_object[record.id].append(record)
    previous = {}
    for record in updates:
        candidates = [r for r in by_object[record.id] if r.history_id < record.history_id]
        if candidates:
            previous[record.history_id] = candidates[-1]
    return previous


def _changed_fields(record, before) -> list[str]:
    if before is None:
        return []
    return [change.field for change in record.diff_against(before).changes]


def _audit_subject(kind: str, record, task_names: dict[int, str]) -> str:
    if kind == "membership":
        return f"{record.user.get_username() if record.user else 'a removed user'} ({record.role})"
    if kind == "evidence":
        task = task_names.get(record.task_id, f"deleted task #{record.task_id}")
        return f"{record.factor.replace('_', ' ')} evidence on {task}"
    return record.name
