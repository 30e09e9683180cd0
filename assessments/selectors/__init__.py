"""Reads: what pages, exports and jobs need, in a fixed number of queries, one module per
screen (portfolio, map, company, review, audit, members). What every screen shares — today's
date, the active rubric, when each version was adopted and a stored score as the pure model
sees it — lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from .. import scoring
from ..models import SCORE_VALUES, RubricVersion


def today() -> date:
    return timezone.localdate()


def active_rubric_version() -> RubricVersion:
    """The active rubric version; the defaults of scoring.md become version 1 if none exists."""
    version = RubricVersion.objects.filter(is_active=True).first()
    if version is None:
        version, _ = RubricVersion.objects.get_or_create(
            number=1,
            defaults={"name": "Defaults", "is_active": True, "activated_at": timezone.now()},
        )
    return version


def stored_score(obj) -> scoring.Score:
    """The pure model's view of a company's or task's stored current scores."""
    if not obj.is_scored:
        return scoring.Score.unscored(obj.evidence_count)
    return scoring.Score(**{name: getattr(obj, name) for name in SCORE_VALUES})


@dataclass(frozen=True)
class Adoption:
    """A version became the active one on a day."""

    day: date
    version_id: int
    number: int


def adoptions() -> list[Adoption]:
    """Every activation of every version, oldest first, from the versions' audit trail
    (one query): a history row that is active where the one before it was not."""
    adopted: list[Adoption] = []
    was_active: dict[int, bool] = {}
    for record in RubricVersion.history.order_by("history_date", "history_id").only(
        "id", "number", "is_active", "history_date"
    ):
        if record.is_active and not was_active.get(record.id, False):
            adopted.append(Adoption(record.history_date.date(), record.id, record.number))
        was_active[record.id] = record.is_active
    return adopted


def adoption_on(day: date, adopted: list[Adoption]) -> Adoption | None:
    """The adoption in force on a day: the last by then, else the first ever (the firm's
    first version stands for the time before anything was adopted)."""
    in_force = [a for a in adopted if a.day <= day] or adopted[:1]
    return in_force[-1] if in_force else None
