"""Reads for the company page: tasks, evidence, waterfalls and histories, in a fixed
number of queries; and the history of one evidence note."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q

from .. import directions, notes, scoring
from ..charts import base
from ..charts import screen as screen_charts
from ..models import (
    Company,
    CompanySnapshot,
    Evidence,
    Task,
    TaskSnapshot,
)
from . import active_rubric_version, audit, today
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


def task_contributions(
    evidence: Iterable[Evidence], as_of: date, rubric: scoring.Rubric
) -> list[base.Contribution]:
    """Each evidence note's signed raw contribution as of a date, labelled "factor · observed
    date", with the note's first line and the evidence id (the waterfall's bars link to it).
    The screen's waterfall and the exported ones are built from these: only notes that
    count (neither sent back nor superseded) and were observed by then."""
    return [
        base.Contribution(
            f"{row.factor.replace('_', ' ')} · {row.observed_on:%-d %b %Y}",
            scoring.FACTORS_BY_CODE[row.factor].axis,
            scoring.contribution(row.as_scoring_row(), as_of, rubric),
            note=notes.first_line(row.note),
            evidence_id=row.pk,
        )
        for row in evidence
        if row.observed_on <= as_of and row.counts
    ]


def task_waterfall(task: Task, evidence: Iterable[Evidence], as_of: date, rubric) -> dict:
    """The "why it sits there" waterfall of one task from its evidence rows."""
    return screen_charts.waterfall(task_contributions(evidence, as_of, rubric), rubric)


def history_series(snapshots, names: tuple[str, str, str]) -> list[base.HistorySeries]:
    """The x, y and runway lines of a task's or company's snapshots."""
    dates = [s.as_of for s in snapshots]
    return [
        base.HistorySeries(names[0], dates, [s.x for s in snapshots]),
        base.HistorySeries(names[1], dates, [s.y for s in snapshots]),
        base.runway_series(names[2], snapshots),
    ]


def annotate_effects(evidence: list[Evidence], as_of: date, rubric) -> list[Evidence]:
    """Give each note its effect now in score points on its axis (effect_points, None when it
    does not count) and which way it pushes in words (direction).

    The same arithmetic as the waterfall: per axis, rows are added largest contribution
    first on the raw scale, and each row's effect is the change in points it makes; the
    effects of a task's rows add up to its score minus 50.
    """
    contributions = {
        e.pk: scoring.contribution(e.as_scoring_row(), as_of, rubric) for e in evidence if e.counts
    }
    for e in evidence:
        e.effect_points = None
        e.effect_axis = e.factor_info.axis
        e.direction = directions.direction(e.factor, e.stance)
    for axis in scoring.AXES:
        rows = sorted(
            (e for e in evidence if e.counts and e.factor_info.axis == axis),
            key=lambda e: (-abs(contributions[e.pk]), e.pk),
        )
        raw = 0.0
        for e in rows:
            before = scoring.axis_score(raw, rubric)
            raw += contributions[e.pk]
            e.effect_points = scoring.axis_score(raw, rubric) - before
    return evidence


@dataclass(frozen=True)
class TaskShare:
    name: str
    weight: float
    share: float | None  # of the scored tasks' total weight; None while Unscored


def task_mix(tasks: Iterable[Task]) -> list[TaskShare]:
    """How the company's tasks combine into its position: the weighted mean of its scored
    tasks (scoring.score_company), each with its weight and share."""
    tasks = list(tasks)
    total = sum(t.weight for t in tasks if t.is_scored)
    return [
        TaskShare(t.name, t.weight, t.weight / total if t.is_scored and total > 0 else None)
        for t in sorted(tasks, key=lambda t: (-t.weight, t.name))
    ]


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
    company_lines = history_series(company_history, ("company x", "company y", "company runway"))
    views = []
    for task in tasks:
        evidence = annotate_effects(list(task.evidence.all()), as_of, rubric)
        task_lines = history_series(task_history[task.id], ("task x", "task y", "task runway"))
        views.append(
            TaskView(
                task=task,
                evidence=evidence,
                # Sent-back and superseded notes do not count, so they have no bar.
                waterfall=task_waterfall(task, evidence, as_of, rubric),
                history=screen_charts.score_history([*task_lines, *company_lines], marks),
            )
        )
    dates = [s.as_of for s in company_history]
    confidence = base.HistorySeries(
        "confidence × 100", dates, [s.confidence * 100 for s in company_history]
    )
    return {
        "company": company,
        "task_mix": task_mix(t.task for t in views) if task_id is None else None,
        "tasks": views,
        "rubric": rubric,
        "as_of": as_of,
        "history": screen_charts.score_history(
            [
                *history_series(company_history, ("x (frontier)", "y (proprietary)", "runway")),
                confidence,
            ],
            marks,
        ),
    }


@dataclass(frozen=True)
class HistoryEntry:
    """One saved change of a record: who, when, what kind, and the fields before and after
    in words."""

    who: str
    when: object
    kind: str
    changes: list[audit.Change]


def _history_entries(records) -> list[HistoryEntry]:
    """Entries for one record's saved versions (oldest first in), newest first out. A
    verification says which version of the content it covers."""
    from ..models import EVIDENCE_FIELDS

    records = list(records)
    raw = []
    previous = None
    for record in records:
        if previous is None:
            raw.append([(name, None, getattr(record, name)) for name in EVIDENCE_FIELDS])
        else:
            raw.append(audit._raw_changes(record, previous))
        previous = record
    users = audit.user_names(
        v
        for changes in raw
        for name, old, new in changes
        if name in audit.USER_FIELDS
        for v in (old, new)
    )
    entries = [
        HistoryEntry(
            who=record.history_user.get_username() if record.history_user else "system",
            when=record.history_date,
            kind=audit._action("evidence", record, changes),
            changes=audit.changes_in_words(changes, users, limit=None),
        )
        for record, changes in zip(records, raw, strict=True)
    ]
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


@dataclass(frozen=True)
class DeletionSummary:
    """What a delete takes with it, for the confirm page (every role sees it)."""

    tasks: int
    notes: int
    verified: int

    def sentence(self, kind: str) -> str:
        """'Deletes 3 tasks and 41 notes, 30 verified by partners.'"""

        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        parts = [n(self.tasks, "task")] if kind == "company" else []
        parts.append(n(self.notes, "note"))
        verified = f", {self.verified} verified by partners" if self.verified else ""
        return f"Deletes {' and '.join(parts)}{verified}."


def deletion_summary(*, company: Company | None = None, task: Task | None = None):
    """Counts of what deleting a company or a task removes: two queries."""
    if company is not None:
        evidence = Evidence.objects.filter(task__company=company)
        tasks = company.tasks.count()
    else:
        evidence = Evidence.objects.filter(task=task)
        tasks = 1
    counts = evidence.aggregate(
        notes=Count("id"), verified=Count("id", filter=Q(verified_at__isnull=False))
    )
    return DeletionSummary(tasks, counts["notes"], counts["verified"])
