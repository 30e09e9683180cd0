"""Reads for the company page: tasks, evidence, waterfalls and histories, in a fixed
number of queries; and the history of one evidence note."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Prefetch,
)

from .. import scoring
from ..charts import screen as screen_charts
from ..models import (
    Company,
    CompanySnapshot,
    Evidence,
    Task,
    TaskSnapshot,
)
from . import active_rubric_version, today
from .rubric import adoption_marks

# --- Company pages and the review queue --------------------------------------------------


@dataclass
class TaskView:
    """A task on its company page: the task, its evidence and its charts."""

    task: Task
    evidence: list
    waterfall: dict
    history: dict
    form: object = None

    @property
    def is_pending(self) -> bool:
        return rescore_pending(self.task)

    @property
    def waterfall_id(self) -> str:
        return f"task-{self.task.pk}-waterfall"

    @property
    def history_id(self) -> str:
        return f"task-{self.task.pk}-history"


def rescore_pending(task: Task) -> bool:
    """True while a change to the task's evidence waits for its recompute."""
    return task.stale_since is not None or task.scored_version < task.input_version


def task_waterfall(task: Task, evidence: Iterable[Evidence], as_of: date, rubric) -> dict:
    """The "why it sits there" waterfall of one task from its evidence rows."""
    from html import escape

    from .. import notes

    bars = [
        screen_charts.Bar(
            label=f"#{row.pk} {row.factor.replace('_', ' ')}",
            axis=row.factor_info.axis,
            contribution=scoring.contribution(row.as_scoring_row(), as_of, rubric),
            # Plotly reads hover text as HTML: the note is escaped first.
            hover=escape(notes.first_line(row.note)),
        )
        for row in evidence
    ]
    return screen_charts.waterfall(bars, rubric)


def company_page(
    company: Company, *, as_of: date | None = None, task_id: int | None = None
) -> dict:
    """Everything the company page shows, in a fixed number of queries whatever the number
    of tasks, evidence rows and snapshots; with task_id, only that task (for its fragments)."""

    as_of = as_of or today()
    version = active_rubric_version()
    rubric = version.to_rubric()
    task_rows = company.tasks.all() if task_id is None else company.tasks.filter(pk=task_id)
    tasks = list(
        task_rows.order_by("-weight", "name").prefetch_related(
            Prefetch(
                "evidence",
                queryset=Evidence.objects.select_related("author", "verified_by").order_by(
                    "-observed_on", "-id"
                ),
            )
        )
    )
    task_history: dict[int, list] = defaultdict(list)
    snapshots = TaskSnapshot.objects.filter(task__company=company, rubric_version=version)
    if task_id is not None:
        snapshots = snapshots.filter(task_id=task_id)
    for snap in snapshots.order_by("as_of"):
        task_history[snap.task_id].append(snap)
    company_history = list(
        CompanySnapshot.objects.filter(company=company, rubric_version=version).order_by("as_of")
    )
    # The history is restated under the active version; a dotted line marks each adoption.
    marks = adoption_marks()
    views = []
    for task in tasks:
        evidence = list(task.evidence.all())
        snaps = task_history[task.id]
        dates = [s.as_of for s in snaps]
        views.append(
            TaskView(
                task=task,
                evidence=evidence,
                waterfall=task_waterfall(task, evidence, as_of, rubric),
                history=screen_charts.mark_adoptions(
                    screen_charts.score_history(
                        [
                            ("task x", dates, [s.x for s in snaps]),
                            ("task y", dates, [s.y for s in snaps]),
                            (
                                "company x",
                                [s.as_of for s in company_history],
                                [s.x for s in company_history],
                            ),
                            (
                                "company y",
                                [s.as_of for s in company_history],
                                [s.y for s in company_history],
                            ),
                        ]
                    ),
                    marks,
                ),
            )
        )
    dates = [s.as_of for s in company_history]
    return {
        "company": company,
        "tasks": views,
        "rubric": rubric,
        "as_of": as_of,
        "history": screen_charts.mark_adoptions(
            screen_charts.score_history(
                [
                    ("x (frontier)", dates, [s.x for s in company_history]),
                    ("y (proprietary)", dates, [s.y for s in company_history]),
                    ("confidence × 100", dates, [s.confidence * 100 for s in company_history]),
                ]
            ),
            marks,
        ),
    }


@dataclass(frozen=True)
class HistoryEntry:
    """One saved change of a record: who, when, what kind, and the fields before and after."""

    who: str
    when: object
    kind: str
    changes: list[tuple[str, object, object]]


HISTORY_KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def _history_entries(records) -> list[HistoryEntry]:
    """Entries for one record's saved versions (oldest first in), newest first out."""
    # Imported here: services imports this module.
    from ..models import EVIDENCE_FIELDS

    entries = []
    previous = None
    for record in records:
        if previous is None:
            changes = [(name, None, getattr(record, name)) for name in EVIDENCE_FIELDS]
        else:
            delta = record.diff_against(previous, excluded_fields=["updated_at", "version"])
            changes = [(c.field, c.old, c.new) for c in delta.changes]
        entries.append(
            HistoryEntry(
                who=record.history_user.get_username() if record.history_user else "system",
                when=record.history_date,
                kind=HISTORY_KINDS.get(record.history_type, record.history_type),
                changes=changes,
            )
        )
        previous = record
    return entries[::-1]


def evidence_history(evidence: Evidence) -> list[HistoryEntry]:
    """The evidence's saved versions, newest first, each with its diff from the one before."""
    return _history_entries(
        evidence.history.select_related("history_user").order_by("history_date", "history_id")
    )


def task_evidence_history(task: Task) -> list[tuple[int, list[HistoryEntry]]]:
    """Every change to every evidence row a task has ever had, deleted rows included:
    (evidence id, its entries), the most recently changed first. One query."""
    records = Evidence.history.filter(task_id=task.pk).select_related("history_user")
    per_row: dict[int, list] = defaultdict(list)
    for record in records.order_by("history_date", "history_id"):
        per_row[record.id].append(record)
    groups = [(evidence_id, _history_entries(rows)) for evidence_id, rows in per_row.items()]
    return sorted(groups, key=lambda group: group[1][0].when, reverse=True)
