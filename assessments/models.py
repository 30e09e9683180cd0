"""The domain of Moat map: funds, companies, tasks, evidence, rubrics and scores.

Fields, choices and constraints only; the business logic lives in scoring.py
(the maths), services.py (writes) and selectors.py (reads).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from . import notes, scoring
from .text import CleanText

# Bounds shared by the forms, the CSV import and the database constraints: a value outside
# them would make the map, its as-of slider or the weighted means meaningless for everyone.
EARLIEST_OBSERVED_ON = date(1990, 1, 1)
MAX_TASK_WEIGHT = 1000.0
DESCRIPTION_MAX_CHARS = 5_000
NOTE_MAX_CHARS = 20_000
ONE_LINE = CleanText(single_line=True)
FREE_TEXT = CleanText()


def validate_task_weight(value: float) -> None:
    if not 0 < value <= MAX_TASK_WEIGHT:  # NaN fails too
        raise ValidationError(
            f"A weight must be greater than 0 and at most {MAX_TASK_WEIGHT:g}.", code="weight"
        )


class Role(models.TextChoices):
    PARTNER = "partner", "Partner"
    ASSOCIATE = "associate", "Associate"
    VIEWER = "viewer", "Viewer"


class CompanyStatus(models.TextChoices):
    PORTFOLIO = "portfolio", "Portfolio"
    PIPELINE = "pipeline", "Pipeline"
    PASSED = "passed", "Passed"


class Stance(models.IntegerChoices):
    SUPPORTS = scoring.SUPPORTS, "supports"
    CONTRADICTS = scoring.CONTRADICTS, "contradicts"


class Confidence(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Quadrant(models.TextChoices):
    UNTRAINABLE = scoring.UNTRAINABLE, "Untrainable"
    LAB_TERRITORY = scoring.LAB_TERRITORY, "Lab territory"
    COMMODITY_TOKENS = scoring.COMMODITY_TOKENS, "Commodity tokens"
    SPECIALIST_MODELS = scoring.SPECIALIST_MODELS, "Specialist models"
    UNSCORED = scoring.UNSCORED, "Unscored"


FACTOR_CHOICES = [(f.code, f.code.replace("_", " ").capitalize()) for f in scoring.FACTORS]


class Fund(models.Model):
    """The unit of confidentiality: a user sees only the funds they are a member of."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one fund."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["fund__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "fund"], name="membership_one_per_fund"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.fund} · {self.role}"


# A score's values, as stored on a company or task and on each of their snapshots.
SCORE_VALUES = ("x", "y", "confidence", "quadrant", "margin", "runway_years", "evidence_count")
# The fields a recompute writes: kept out of the audit trail (they are derived, and the
# snapshots keep their history) and read-only in the admin.
SCORE_FIELDS = (*SCORE_VALUES, "scored_as_of", "scored_at")


def score_values(score: scoring.Score) -> dict:
    """A score as its fields store it (SCORE_VALUES), for every writer and the API: an
    unscored one keeps its evidence count and confidence, and has no position, margin or
    runway. selectors.stored_score reads it back."""
    scored = score.is_scored
    return {
        "x": score.x if scored else None,
        "y": score.y if scored else None,
        "confidence": score.confidence,
        "quadrant": score.quadrant,
        "margin": score.margin if scored else None,
        "runway_years": score.runway_years if scored else None,
        "evidence_count": score.evidence_count,
    }


class ScoreFields(models.Model):
    """Current scores, kept on the scored object itself so the map reads them in one query.

    Nulls mean Unscored: an unknown is never stored as 50/50.
    """

    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(default=0.0)
    quadrant = models.CharField(max_length=20, choices=Quadrant.choices, default=Quadrant.UNSCORED)
    margin = models.FloatField(null=True, blank=True)
    runway_years = models.FloatField(null=True, blank=True)
    evidence_count = models.PositiveIntegerField(default=0)
    scored_as_of = models.DateField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_scored(self) -> bool:
        return self.quadrant != Quadrant.UNSCORED


class Company(ScoreFields):
    """A portfolio or pipeline company in one fund."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="companies")
    name = models.CharField(max_length=200, validators=[ONE_LINE])
    sector = models.CharField(max_length=100, blank=True, validators=[ONE_LINE])
    stage = models.CharField(max_length=50, blank=True, validators=[ONE_LINE])
    status = models.CharField(
        max_length=20, choices=CompanyStatus.choices, default=CompanyStatus.PORTFOLIO
    )
    lead_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_companies",
    )
    check_size = models.DecimalField(
        max_digits=14, decimal_places=0, null=True, blank=True, help_text="USD invested"
    )
    arr = models.DecimalField(
        max_digits=14,
        decimal_places=0,
        null=True,
        blank=True,
        help_text="Annual recurring revenue, USD",
    )
    description = models.TextField(
        blank=True, validators=[FREE_TEXT, MaxLengthValidator(DESCRIPTION_MAX_CHARS)]
    )
    # Optimistic lock: an edit names the version it started from.
    # The whole truth behind the mean position (scoring.value_shares), written with the
    # scores by every recompute and as derived as they are; None for a company without tasks.
    value_absorbed = models.FloatField(null=True, blank=True)
    value_absorbed_1y = models.FloatField(null=True, blank=True)
    value_absorbed_2y = models.FloatField(null=True, blank=True)
    value_unscored = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=[*SCORE_FIELDS, *scoring.VALUE_SHARE_FIELDS])

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [
            # Case-insensitive: "LEXBENCH" beside "Lexbench" would split one company in two.
            models.UniqueConstraint(
                F("fund"), Lower("name"), name="company_name_unique_in_fund_ci"
            ),
            models.CheckConstraint(
                condition=Q(check_size__isnull=True) | Q(check_size__gte=0),
                name="company_check_size_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(arr__isnull=True) | Q(arr__gte=0), name="company_arr_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CompanyStatus.values), name="company_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["fund", "quadrant"], name="company_fund_quadrant"),
            models.Index(fields=["fund", "sector"], name="company_fund_sector"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def value_shares(self) -> scoring.ValueShares | None:
        """The stored shares of its value absorbed and unscored (None without tasks)."""
        return scoring.ValueShares.stored([getattr(self, f) for f in scoring.VALUE_SHARE_FIELDS])


class Task(ScoreFields):
    """One job the company's product does for customers; weight = its share of the value."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="tasks")
    name = models.CharField(max_length=200, validators=[ONE_LINE])
    description = models.TextField(
        blank=True, validators=[FREE_TEXT, MaxLengthValidator(DESCRIPTION_MAX_CHARS)]
    )
    weight = models.FloatField(default=1.0, validators=[validate_task_weight])
    # The recompute protocol: every evidence change bumps input_version and sets
    # stale_since in the same transaction; a recompute stores its result only if
    # input_version is still the one it read, and then records scored_version.
    input_version = models.PositiveIntegerField(default=0)
    scored_version = models.PositiveIntegerField(default=0)
    stale_since = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=[*SCORE_FIELDS, "input_version", "scored_version", "stale_since"]
    )

    class Meta:
        ordering = ["company", "-weight", "name"]
        constraints = [
            models.UniqueConstraint(
                F("company"), Lower("name"), name="task_name_unique_in_company_ci"
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0) & Q(weight__lte=MAX_TASK_WEIGHT),
                name="task_weight_0_to_1000",
            ),
        ]
        indexes = [
            models.Index(fields=["stale_since"], name="task_stale_since"),
        ]

    def __str__(self) -> str:
        return self.name


class EvidenceQuerySet(models.QuerySet):
    def counting(self) -> EvidenceQuerySet:
        """The evidence that counts in the score: not sent back, not superseded."""
        return self.filter(sent_back_at__isnull=True, superseded_at__isnull=True)


class Evidence(models.Model):
    """One dated, sourced observation about a task, speaking to one factor."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="evidence")
    factor = models.CharField(max_length=40, choices=FACTOR_CHOICES)
    stance = models.SmallIntegerField(choices=Stance.choices, default=Stance.SUPPORTS)
    strength = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    confidence = models.CharField(
        max_length=10, choices=Confidence.choices, default=Confidence.MEDIUM
    )
    observed_on = models.DateField(
        validators=[
            MinValueValidator(
                EARLIEST_OBSERVED_ON,
                message=f"Evidence must be observed on or after {EARLIEST_OBSERVED_ON}.",
            )
        ]
    )
    # observed_on as a day number (date.toordinal()): lets the bulk scoring SQL
    # compute ages with plain integer arithmetic on SQLite and PostgreSQL alike.
    observed_day = models.IntegerField(editable=False)
    source = models.CharField(max_length=500, blank=True, validators=[ONE_LINE])
    note = models.TextField(
        blank=True, help_text="Markdown", validators=[FREE_TEXT, MaxLengthValidator(NOTE_MAX_CHARS)]
    )
    # The note rendered and sanitised when it was saved (notes.render_note): pages show
    # this, so that no page renders Markdown and no note can slow or break one.
    note_html = models.TextField(blank=True, default="", editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verified_evidence",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    # A verification vouches for one version of the content: the content_version it saw.
    # An edit of the content moves content_version on, and the verification no longer holds.
    content_version = models.PositiveIntegerField(default=1)
    verified_version = models.PositiveIntegerField(null=True, blank=True)
    review_comment = models.TextField(blank=True, validators=[FREE_TEXT])
    # Sent back by a partner: it stops counting until its author revises it.
    sent_back_at = models.DateTimeField(null=True, blank=True)
    # A contradiction resolved by a partner: this side superseded (it stops counting), or
    # both sides acknowledged as genuinely mixed (they keep counting and leave the queue).
    superseded_at = models.DateTimeField(null=True, blank=True)
    mixed_acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolution_comment = models.TextField(blank=True)
    # The one-time token of the form that created it: a double submit stores one note.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["observed_day", "submission_token", "note_html"])

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-observed_on", "-id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(strength__gte=1) & Q(strength__lte=5), name="evidence_strength_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(stance__in=Stance.values), name="evidence_stance_valid"
            ),
            models.CheckConstraint(
                condition=Q(confidence__in=Confidence.values), name="evidence_confidence_valid"
            ),
            models.CheckConstraint(
                condition=Q(factor__in=[code for code, _ in FACTOR_CHOICES]),
                name="evidence_factor_in_catalogue",
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | Q(verified_at__isnull=False),
                name="evidence_verified_has_time",
            ),
            models.CheckConstraint(
                condition=Q(observed_on__gte=EARLIEST_OBSERVED_ON),
                name="evidence_observed_since_1990",
            ),
        ]
        indexes = [
            models.Index(fields=["task", "observed_day"], name="evidence_task_day"),
            # The map's as-of slider starts at the earliest evidence: one index probe.
            models.Index(fields=["observed_day"], name="evidence_observed_day"),
            models.Index(
                fields=["task"], condition=Q(verified_at__isnull=True), name="evidence_unverified"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.factor} ({self.get_stance_display()}) on {self.observed_on}"

    def save(self, *args, **kwargs):
        if isinstance(self.observed_on, date):
            self.observed_day = self.observed_on.toordinal()
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "note" in update_fields:
            self.note_html = notes.render_note_or_text(self.note)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "note_html"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if isinstance(self.observed_on, date) and self.observed_on > timezone.localdate():
            raise ValidationError({"observed_on": "The date observed cannot be in the future."})

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def counts(self) -> bool:
        """Whether the note counts in the score (the rows EvidenceQuerySet.counting keeps)."""
        return self.sent_back_at is None and self.superseded_at is None

    @property
    def factor_info(self) -> scoring.Factor:
        return scoring.FACTORS_BY_CODE[self.factor]

    def as_scoring_row(self) -> scoring.EvidenceRow:
        return scoring.EvidenceRow(
            factor=self.factor,
            stance=self.stance,
            strength=self.strength,
            confidence=self.confidence,
            observed_on=self.observed_on,
            verified=self.is_verified,
        )


def _default_factor_weights() -> dict[str, float]:
    return {f.code: f.weight for f in scoring.FACTORS}


def _default_half_lives() -> dict[str, float]:
    return {f.code: f.half_life_days for f in scoring.FACTORS}


class ActivationState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RubricVersion(models.Model):
    """The firm's definition of "good": every parameter of the scoring model, versioned.

    Exactly one version is active; activating another re-scores everything and restates
    the stored history under it. A version never activated is a draft: it can be edited
    and discarded.
    """

    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=False)
    factor_weights = models.JSONField(default=_default_factor_weights)
    half_lives = models.JSONField(default=_default_half_lives)
    unverified_weight = models.FloatField(default=0.7)
    scale = models.FloatField(default=1.0)
    mass_for_confidence = models.FloatField(default=2.0)
    proprietary_weight = models.FloatField(default=1.5)
    boundary_at_epoch = models.FloatField(default=110.0)
    boundary_epoch = models.DateField(default=date(2026, 1, 1))
    boundary_drift_per_year = models.FloatField(default=8.0)
    reunderwrite_after_days = models.PositiveIntegerField(default=180)
    label_untrainable = models.CharField(max_length=60, default="Untrainable")
    label_lab_territory = models.CharField(max_length=60, default="Lab territory")
    label_commodity_tokens = models.CharField(max_length=60, default="Commodity tokens")
    label_specialist_models = models.CharField(max_length=60, default="Specialist models")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # The activation job's progress: one step for the re-score, one per history date restated.
    activation_state = models.CharField(
        max_length=10, choices=ActivationState.choices, blank=True, default=""
    )
    activation_done = models.PositiveIntegerField(default=0)
    activation_total = models.PositiveIntegerField(default=0)
    activation_error = models.TextField(blank=True)
    # How many scores its last activation's re-score moved: {"tasks": n, "companies": m}.
    activation_moved = models.JSONField(default=dict, blank=True)
    history = HistoricalRecords(
        excluded_fields=[
            "activation_state",
            "activation_done",
            "activation_total",
            "activation_error",
            "activation_moved",
        ]
    )

    class Meta:
        ordering = ["-number"]
        # The rubric is the firm's: a superuser grants this to the people who own it.
        permissions = [("own_rubric", "Can change and activate the firm's rubric")]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="rubric_one_active"
            ),
            models.CheckConstraint(
                condition=Q(unverified_weight__gte=0) & Q(unverified_weight__lte=1),
                name="rubric_unverified_weight_0_to_1",
            ),
            models.CheckConstraint(condition=Q(scale__gt=0), name="rubric_scale_positive"),
            models.CheckConstraint(
                condition=Q(mass_for_confidence__gt=0), name="rubric_mass_positive"
            ),
            models.CheckConstraint(
                condition=Q(proprietary_weight__gt=0), name="rubric_proprietary_weight_positive"
            ),
            models.CheckConstraint(
                condition=Q(boundary_drift_per_year__gt=0), name="rubric_drift_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Rubric v{self.number}" + (f" · {self.name}" if self.name else "")

    @property
    def is_draft(self) -> bool:
        """Never activated: its numbers may still change, and it may be discarded."""
        return not self.is_active and self.activated_at is None

    @property
    def is_activating(self) -> bool:
        return self.activation_state in (ActivationState.QUEUED, ActivationState.RUNNING)

    @property
    def activation_percent(self) -> int:
        if not self.activation_total:
            return 0
        return round(100 * self.activation_done / self.activation_total)

    def to_rubric(self) -> scoring.Rubric:
        """The pure model's view of this version."""
        return scoring.Rubric(
            factor_weights={**_default_factor_weights(), **self.factor_weights},
            half_lives={**_default_half_lives(), **self.half_lives},
            unverified_weight=self.unverified_weight,
            scale=self.scale,
            mass_for_confidence=self.mass_for_confidence,
            proprietary_weight=self.proprietary_weight,
            boundary_at_epoch=self.boundary_at_epoch,
            boundary_epoch=self.boundary_epoch,
            boundary_drift_per_year=self.boundary_drift_per_year,
            reunderwrite_after_days=self.reunderwrite_after_days,
            quadrant_labels={
                scoring.UNTRAINABLE: self.label_untrainable,
                scoring.LAB_TERRITORY: self.label_lab_territory,
                scoring.COMMODITY_TOKENS: self.label_commodity_tokens,
                scoring.SPECIALIST_MODELS: self.label_specialist_models,
                scoring.UNSCORED: "Unscored",
            },
        )


class Snapshot(models.Model):
    """Scores as of one date under one rubric version: what lets the map show any past date."""

    as_of = models.DateField()
    rubric_version = models.ForeignKey(RubricVersion, on_delete=models.PROTECT, related_name="+")
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(default=0.0)
    quadrant = models.CharField(max_length=20, choices=Quadrant.choices)
    margin = models.FloatField(null=True, blank=True)
    runway_years = models.FloatField(null=True, blank=True)
    evidence_count = models.PositiveIntegerField(default=0)
    recorded_at = models.DateTimeField(auto_now=True)
    # True for a row computed when a later rubric version was activated, at a date that was
    # recorded under another version; False for a row recorded by a re-score on its date.
    # Restating never overwrites a recorded row, so the history as recorded stays readable.
    restated = models.BooleanField(default=False)

    class Meta:
        abstract = True
        ordering = ["as_of"]


class TaskSnapshot(Snapshot):
    """A task's dated scores."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="snapshots")

    class Meta(Snapshot.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["task", "as_of", "rubric_version"], name="task_snapshot_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} as of {self.as_of}"


class CompanySnapshot(Snapshot):
    """A company's dated scores."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="snapshots")

    class Meta(Snapshot.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["company", "as_of", "rubric_version"], name="company_snapshot_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company} as of {self.as_of}"


class AlertKind(models.TextChoices):
    QUADRANT_CHANGE = "quadrant_change", "Quadrant change"
    BOUNDARY_CROSSING = "boundary_crossing", "Boundary crossing"
    SHORT_RUNWAY = "short_runway", "Runway under a year"


class AlertCause(models.TextChoices):
    """What made the score move: a person's change to the evidence or the rubric, or time
    (old evidence decaying, the boundary rising) on the daily re-score."""

    EVIDENCE = "evidence", "Evidence"
    RUBRIC = "rubric", "Rubric activation"
    DECAY = "decay", "Decay"
    BOUNDARY = "boundary", "The boundary"


class Alert(models.Model):
    """Something a recompute noticed that a partner should look at."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="alerts")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    message = models.CharField(max_length=300)
    as_of = models.DateField()
    # The state the alert is about, so that a repeated recompute does not repeat it.
    to_state = models.CharField(max_length=40, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Why it moved and who moved it (nobody for decay and the boundary); the message says
    # both in words.
    cause = models.CharField(max_length=20, choices=AlertCause.choices, blank=True, default="")
    caused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "as_of", "to_state"],
                condition=Q(task__isnull=False),
                name="alert_task_once_per_change",
            ),
            models.UniqueConstraint(
                fields=["company", "kind", "as_of", "to_state"],
                condition=Q(task__isnull=True),
                name="alert_company_once_per_change",
            ),
        ]
        indexes = [
            models.Index(fields=["company"], condition=Q(read_at__isnull=True), name="alert_unread")
        ]

    def __str__(self) -> str:
        return self.message


class ICPackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ICPackOrder(models.TextChoices):
    RUNWAY = "runway", "Shortest runway first"
    NAME = "name", "By name"
    CHECK_SIZE = "check_size", "Largest check first"


class ICPack(models.Model):
    """An IC pack being built or ready: one PDF for a fund as of a date, kept for a day.

    At most one build per fund runs at a time (a partial unique constraint); the job
    records its progress and a heartbeat, so a build whose worker died is noticed and
    retried once, then failed with a message, never left "building".
    """

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="ic_packs")
    # The member who asked: the job reads the fund as this member does.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    as_of = models.DateField()
    # Movement in the summary is measured from this date.
    since = models.DateField(null=True, blank=True)
    # The companies' order (shortest runway first unless chosen), and whether companies the
    # fund passed on are in it (left out unless chosen).
    order = models.CharField(max_length=12, choices=ICPackOrder.choices, default=ICPackOrder.RUNWAY)
    include_passed = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ICPackStatus.choices, default=ICPackStatus.QUEUED
    )
    companies_done = models.PositiveIntegerField(default=0)
    companies_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="packs/", max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="icpack_created_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["fund"],
                condition=Q(status__in=[ICPackStatus.QUEUED, ICPackStatus.RUNNING]),
                name="icpack_one_build_per_fund",
            )
        ]

    def __str__(self) -> str:
        return f"IC pack {self.fund} as of {self.as_of}"

    @property
    def is_running(self) -> bool:
        return self.status in (ICPackStatus.QUEUED, ICPackStatus.RUNNING)

    @property
    def requested_by_name(self) -> str:
        user = self.requested_by
        if user is None:
            return "a former member"
        return user.get_full_name().strip() or user.get_username()

    @property
    def percent(self) -> int:
        if not self.companies_total:
            return 0
        return round(100 * self.companies_done / self.companies_total)


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    CHECKING = "checking", "Checking"
    WRITING = "writing", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class EvidenceImport(models.Model):
    """A large evidence CSV being imported by a background job: its progress and outcome.
    The file's text is kept only until the job has read it."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="imports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    text = models.TextField(blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import into {self.fund} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.WRITING)

    @property
    def percent(self) -> int:
        return round(100 * self.rows_checked / self.rows_total) if self.rows_total else 0


# The fields of an evidence note that a person writes (form, import, history, services).
EVIDENCE_FIELDS = (
    "factor",
    "stance",
    "strength",
    "confidence",
    "observed_on",
    "source",
    "note",
)

# The fields whose change is a new version of the content: a verification covers one
# version, so changing any of these needs a partner's verification again (a corrected
# source does not change what the note claims).
EVIDENCE_CONTENT_FIELDS = ("factor", "stance", "strength", "confidence", "observed_on", "note")
