"""Reads: what pages, exports and jobs need, in a fixed number of queries, one module per
screen (portfolio, map, company, review, audit, members). What every screen shares — today's
date, the active rubric and a stored score as the pure model sees it — lives here.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from .. import scoring
from ..models import RubricVersion


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
    return scoring.Score(
        obj.x,
        obj.y,
        obj.confidence,
        obj.quadrant,
        obj.margin,
        obj.runway_years,
        obj.evidence_count,
    )
