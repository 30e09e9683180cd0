"""What the API reads and writes, as OpenAPI schemas (pydantic, through django-ninja).

Bounds here are the database's and the pages' own: ids fit a 64-bit column, dates stay
where the scoring model is defined, page sizes stay small. Anything outside answers 400.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated

from django.conf import settings
from ninja import Field, Schema

from .. import scoring
from ..models import AlertKind, CompanyStatus, Confidence, Quadrant

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# The scoring model's dates: decay and the boundary are defined between these.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
AsOf = Annotated[date, Field(description=f"A date from {EARLIEST} to {LATEST}.")]
Page = Annotated[int, Field(ge=1, le=1_000_000)]
PageSize = Annotated[int, Field(ge=1, le=settings.API_MAX_PAGE_SIZE)]
Money = Annotated[int, Field(ge=0, le=10**14 - 1, description="USD, whole dollars")]

StatusEnum = Enum("StatusEnum", {v: v for v in CompanyStatus.values}, type=str)
QuadrantEnum = Enum("QuadrantEnum", {v: v for v in Quadrant.values}, type=str)
FactorEnum = Enum("FactorEnum", {f.code: f.code for f in scoring.FACTORS}, type=str)
ConfidenceEnum = Enum("ConfidenceEnum", {v: v for v in Confidence.values}, type=str)
AlertKindEnum = Enum("AlertKindEnum", {v: v for v in AlertKind.values}, type=str)


class StanceEnum(StrEnum):
    supports = "supports"
    contradicts = "contradicts"


STANCE_VALUES = {"supports": scoring.SUPPORTS, "contradicts": scoring.CONTRADICTS}
STANCE_NAMES = {value: name for name, value in STANCE_VALUES.items()}


class Error(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per field, when the input was refused"
    )


class Conflict(Error):
    current_version: int = Field(description="The version saved now: re-read, then retry")


class ScoreOut(Schema):
    x: float | None = Field(description="Frontier axis, 0–100; null when unscored")
    y: float | None = Field(description="Proprietary axis, 0–100; null when unscored")
    confidence: float
    quadrant: QuadrantEnum
    margin: float | None = Field(description="Distance above the absorption boundary")
    runway_years: float | None = Field(description="Years until the boundary reaches it")
    evidence_count: int


class FundOut(Schema):
    id: int
    name: str
    description: str
    role: str | None = Field(description="Your role in this fund")


class CompanyOut(Schema):
    id: int
    fund: int
    name: str
    sector: str
    stage: str
    status: StatusEnum
    lead_partner: int | None
    check_size: int | None
    arr: int | None
    description: str
    version: int = Field(description="Send it back with an edit (optimistic locking)")
    as_of: date
    score: ScoreOut
    value_absorbed: float | None = Field(
        description="Share of its value (by task weight, over all its tasks) below the "
        "boundary on as_of, 0–1; null without tasks"
    )
    value_absorbed_1y: float | None = Field(description="Share below the boundary within a year")
    value_absorbed_2y: float | None = Field(description="Share below the boundary within two years")
    value_unscored: float | None = Field(description="Share of its value with no counting evidence")
    url: str


class CompanyIn(Schema):
    fund: Id
    name: str = Field(max_length=200)
    sector: str = Field("", max_length=100)
    stage: str = Field("", max_length=50)
    status: StatusEnum = StatusEnum.portfolio
    lead_partner: Id | None = Field(None, description="A partner of the fund (user id)")
    check_size: Money | None = None
    arr: Money | None = None
    description: str = ""


class CompanyPatch(Schema):
    version: int = Field(ge=0, le=MAX_ID, description="The version your edit started from")
    name: str | None = Field(None, max_length=200)
    sector: str | None = Field(None, max_length=100)
    stage: str | None = Field(None, max_length=50)
    status: StatusEnum | None = None
    lead_partner: Id | None = None
    check_size: Money | None = None
    arr: Money | None = None
    description: str | None = None


class TaskOut(Schema):
    id: int
    company: int
    fund: int
    name: str
    description: str
    weight: float
    version: int
    stale: bool = Field(description="A re-score is pending")
    as_of: date
    score: ScoreOut


class TaskIn(Schema):
    company: Id
    name: str = Field(max_length=200)
    weight: float = Field(1.0, gt=0, le=1_000_000, description="Its share of the company")
    description: str = ""


class TaskPatch(Schema):
    name: str | None = Field(None, max_length=200)
    weight: float | None = Field(None, gt=0, le=1_000_000)
    description: str | None = None


class EvidenceOut(Schema):
    id: int
    task: int
    company: int
    fund: int
    factor: FactorEnum
    stance: StanceEnum
    strength: int
    confidence: ConfidenceEnum
    observed_on: date
    source: str
    note: str = Field(description="Markdown")
    author: str | None
    verified: bool
    verified_by: str | None
    verified_at: datetime | None
    review_comment: str
    version: int
    created_at: datetime
    updated_at: datetime


class EvidenceIn(Schema):
    task: Id
    factor: FactorEnum
    stance: StanceEnum = StanceEnum.supports
    strength: int = Field(3, ge=1, le=5)
    confidence: ConfidenceEnum = ConfidenceEnum.medium
    observed_on: date = Field(description="Not in the future")
    source: str = Field("", max_length=500)
    note: str = Field("", description="Markdown")


class EvidencePatch(Schema):
    version: int = Field(ge=0, le=MAX_ID, description="The version your edit started from")
    factor: FactorEnum | None = None
    stance: StanceEnum | None = None
    strength: int | None = Field(None, ge=1, le=5)
    confidence: ConfidenceEnum | None = None
    observed_on: date | None = None
    source: str | None = Field(None, max_length=500)
    note: str | None = None


class AlertOut(Schema):
    id: int
    fund: int
    company: int
    task: int | None
    kind: AlertKindEnum
    message: str
    as_of: date
    created_at: datetime
    read: bool
    previous: dict | None = Field(description="Quadrant, margin and runway before the change")
    current: dict | None = Field(description="Quadrant, margin and runway after it")


def page_of(item):
    """The envelope of one page of a list."""
    return type(
        f"{item.__name__}Page",
        (Schema,),
        {
            "__annotations__": {
                "count": int,
                "page": int,
                "page_size": int,
                "items": list[item],
            }
        },
    )
