"""Why a score moved and who moved it, for the alerts the engine raises: the evidence (its
latest change and its author), a rubric activation (and who activated it), or time (decay,
the boundary's rise). Said in each alert's text, and passed on with it to the notifications."""

from __future__ import annotations

from dataclasses import dataclass

from .models import AlertCause, AlertKind, Evidence

Subject = tuple[int, int | None]  # (company id, task id); None for the company itself
State = tuple[str, float | None, float | None]  # quadrant, margin, runway before a change

CHANGE_WORDS = {"+": "a new note", "~": "an edited note", "-": "a deleted note"}


@dataclass(frozen=True)
class Cause:
    """What moved a score and who: said in the alert's text, e-mail, digest and payload."""

    kind: str  # AlertCause
    by_id: int | None = None
    by_name: str = ""
    detail: str = ""  # "a new note", "version 3"

    def words(self) -> str:
        """ "a new note by alice", "rubric activation (version 3) by bob", "decay of its
        evidence (daily re-score)", "the boundary's rise (daily re-score)"."""
        by = f" by {self.by_name}" if self.by_name else ""
        if self.kind == AlertCause.EVIDENCE:
            return f"{self.detail or 'a change to its evidence'}{by}"
        if self.kind == AlertCause.RUBRIC:
            return f"rubric activation ({self.detail}){by}"
        if self.kind == AlertCause.DECAY:
            return "decay of its evidence (daily re-score)"
        return "the boundary's rise (daily re-score)"

    def payload(self) -> dict:
        return {"kind": self.kind, "by": self.by_name or None, "detail": self.words()}


def rubric_cause(version) -> Cause:
    """The activation of a version, by the partner who activated it (its audit trail)."""
    record = (
        version.history.filter(is_active=True)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    user = record.history_user if record else None
    return Cause(
        AlertCause.RUBRIC,
        user.pk if user else None,
        user.get_username() if user else "",
        f"version {version.number}",
    )


def time_cause(alert_kind: str) -> Cause:
    """A re-score nobody asked for (the daily one): a quadrant moves only when its evidence
    ages, while runway and the boundary move mostly because the boundary rises."""
    if alert_kind == AlertKind.QUADRANT_CHANGE:
        return Cause(AlertCause.DECAY)
    return Cause(AlertCause.BOUNDARY)


def evidence_causes(task_ids) -> dict[int, tuple]:
    """Per task, the latest change to its evidence: (when, Cause). One query, only run when
    a re-score has alerts to explain."""
    latest: dict[int, tuple] = {}
    records = (
        Evidence.history.filter(task_id__in=list(task_ids))
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    for record in records[:500]:
        if record.task_id in latest:
            continue
        user = record.history_user
        latest[record.task_id] = (
            record.history_date,
            Cause(
                AlertCause.EVIDENCE,
                user.pk if user else None,
                user.get_username() if user else "",
                CHANGE_WORDS.get(record.history_type, ""),
            ),
        )
    return latest
