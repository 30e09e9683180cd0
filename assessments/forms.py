"""Every form of the app: parsing and validation only; writes go to services."""

from __future__ import annotations

import uuid
from datetime import date

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat

from . import directions, scoring, selectors, services, vocabulary
from .exports import icpack
from .models import (
    EARLIEST_OBSERVED_ON,
    MAX_TASK_WEIGHT,
    NOTE_MAX_CHARS,
    Company,
    CompanyStatus,
    Confidence,
    ICPackOrder,
    Membership,
    Quadrant,
    Role,
    RubricVersion,
    Stance,
    Task,
)
from .selectors import map as map_selectors
from .selectors import review as review_selectors
from .text import clean_text

AXIS_NAMES = vocabulary.AXIS_NAMES
# The largest id a database key holds: a larger number in a URL names nothing.
MAX_ID = 2**63 - 1


# --- The edge: every text field of every form goes through text.clean_text, as every cell
# of the CSV import does.


class OneLineField(forms.CharField):
    """A name, a source, a filter value: one line, no control characters."""

    def to_python(self, value):
        return clean_text(super().to_python(value), single_line=True)


class FreeTextField(forms.CharField):
    """A note or a description: lines and tabs kept, control characters removed."""

    def to_python(self, value):
        return clean_text(super().to_python(value))


class ObservedOnField(forms.DateField):
    """A date evidence was observed: from EARLIEST_OBSERVED_ON to today."""

    def validate(self, value):
        super().validate(value)
        if value and value < EARLIEST_OBSERVED_ON:
            raise forms.ValidationError(
                f"Evidence must be observed on or after {EARLIEST_OBSERVED_ON}.", code="too_early"
            )


class MapDateField(forms.DateField):
    """An as-of or since date of the map: a date the map can show, else ignored."""

    def validate(self, value):
        super().validate(value)
        if value and not EARLIEST_OBSERVED_ON <= value <= selectors.today():
            raise forms.ValidationError("Out of the map's range.", code="out_of_range")


def record_id(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def record_ids(values: list[str]) -> list[int]:
    """The ids among posted values (bulk actions); anything else names no record."""
    field = record_id()
    ids = []
    for value in values:
        try:
            ids.append(field.clean(value))
        except forms.ValidationError:
            continue
    return ids


# The text fields of the model forms, cleaned at the edge like every other form's.
NAME_FIELDS = {"name": OneLineField, "sector": OneLineField, "stage": OneLineField}
TEXT_FIELDS = {"description": FreeTextField}


def factor_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Factors grouped by axis (one optgroup each), each with its one-line meaning."""
    return [
        (
            AXIS_NAMES[axis],
            [
                (f.code, f"{f.code.replace('_', ' ')} — {f.meaning}")
                for f in scoring.FACTORS
                if f.axis == axis
            ],
        )
        for axis in scoring.AXES
    ]


class CompanyForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Company
        fields = list(services.COMPANY_FIELDS)
        field_classes = {**NAME_FIELDS, **TEXT_FIELDS}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, fund_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund_id = fund_id
        # A lead partner must be a partner of this fund.
        self.fields["lead_partner"].queryset = get_user_model().objects.filter(
            pk__in=Membership.objects.filter(fund_id=fund_id, role=Role.PARTNER).values("user_id")
        )
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Company.objects.filter(fund_id=self.fund_id, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("This fund already has a company of that name.")
        return name

    def validate_unique(self) -> None:
        # The fund is not a form field; clean_name checks the name within the fund.
        pass


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["name", "weight", "description"]
        field_classes = {**NAME_FIELDS, **TEXT_FIELDS}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "weight": f"The task's share of the company's value: above 0, at most "
            f"{MAX_TASK_WEIGHT:g}."
        }

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_weight(self) -> float:
        weight = self.cleaned_data["weight"]
        if weight is None or not 0 < weight <= MAX_TASK_WEIGHT:
            raise forms.ValidationError(
                f"A weight must be greater than 0 and at most {MAX_TASK_WEIGHT:g}."
            )
        return weight

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Task.objects.filter(company=self.company, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("This company already has a task of that name.")
        return name

    def validate_unique(self) -> None:
        pass


class EvidenceForm(forms.Form):
    factor = forms.ChoiceField(choices=factor_choices)
    stance = forms.TypedChoiceField(
        choices=Stance.choices, coerce=int, initial=Stance.SUPPORTS, widget=forms.RadioSelect
    )
    strength = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        initial=3,
        help_text="1 says little, 5 says a lot",
    )
    confidence = forms.ChoiceField(choices=Confidence.choices, initial=Confidence.MEDIUM)
    # One text field, one tab stop: typed as YYYY-MM-DD (the page adds a picker button
    # outside the tab order). A date input would take a stop per part of the date.
    observed_on = ObservedOnField(
        input_formats=["%Y-%m-%d"],
        widget=forms.TextInput(
            attrs={
                "placeholder": "YYYY-MM-DD",
                "inputmode": "numeric",
                "pattern": r"\d{4}-\d{2}-\d{2}",
                "autocomplete": "off",
                "size": "10",
                "data-date-text": "true",
            }
        ),
        error_messages={"invalid": "Type the date as YYYY-MM-DD, for example 2026-03-14."},
    )
    source = OneLineField(max_length=500, required=False)
    note = FreeTextField(
        max_length=NOTE_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown. Ctrl+Enter saves.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # A one-time token per rendered form: a double click or a retried request stores one note.
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)

    # What stays as last chosen after a save, per user and task page (the rest of a call's
    # notes usually share them); the note clears.
    STICKY_FIELDS = ("source", "strength", "confidence")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["observed_on"].initial = selectors.today()
        self.fields["submission"].initial = uuid.uuid4()
        self.fields["factor"].widget.attrs["data-direction-factor"] = "true"
        self.fields["stance"].widget.attrs["data-direction-stance"] = "true"

    def direction(self) -> directions.Direction | None:
        """What the note as filled in does to the moat (the script keeps it current)."""
        factor = self["factor"].value() or scoring.FACTORS[0].code
        try:
            stance = int(self["stance"].value() or scoring.SUPPORTS)
        except (TypeError, ValueError):
            stance = scoring.SUPPORTS
        if factor not in scoring.FACTORS_BY_CODE or stance not in (-1, 1):
            return None
        return directions.direction(factor, stance)

    def sticky(self) -> dict:
        """The values a saved form hands to the next one."""
        return {name: self.cleaned_data[name] for name in self.STICKY_FIELDS}

    def clean_observed_on(self):
        observed_on = self.cleaned_data["observed_on"]
        if observed_on > selectors.today():
            raise forms.ValidationError("Evidence cannot be observed in the future.")
        return observed_on

    def evidence_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version", "submission")}


class SendBackForm(forms.Form):
    comment = FreeTextField(max_length=2000, required=False)


class ContradictionForm(forms.Form):
    """A partner's answer to a contradiction: which side is superseded, or both mixed."""

    task = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    factor = forms.ChoiceField(choices=[(f.code, f.code) for f in scoring.FACTORS])
    resolution = forms.ChoiceField(
        choices=[
            (services.SUPERSEDE_SUPPORTS, "The supporting notes are superseded"),
            (services.SUPERSEDE_CONTRADICTS, "The contradicting notes are superseded"),
            (services.MIXED, "Genuinely mixed: both stand"),
        ]
    )
    comment = forms.CharField(max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        superseding = data.get("resolution") in (
            services.SUPERSEDE_SUPPORTS,
            services.SUPERSEDE_CONTRADICTS,
        )
        if superseding and not (data.get("comment") or "").strip():
            self.add_error("comment", "Say why that side is superseded: the comment stays with it.")
        return data


class ReviewQueueForm(forms.Form):
    """The review queue's query string; anything unreadable falls back to the default."""

    tab = forms.ChoiceField(required=False, choices=review_selectors.TABS)
    fund = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    company = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    sort = forms.ChoiceField(required=False, choices=review_selectors.SORTS)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9)


def parse_review_filters(query: QueryDict) -> review_selectors.QueueFilters:
    form = ReviewQueueForm(query)
    form.is_valid()
    data = form.cleaned_data
    return review_selectors.QueueFilters(
        tab=data.get("tab") or None,
        fund=data.get("fund"),
        company=data.get("company"),
        sort=data.get("sort") or review_selectors.BY_IMPACT,
        page=data.get("page") or 1,
    )


class AuditFilterForm(forms.Form):
    """The audit trail's query string; anything unreadable is ignored."""

    company = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    person = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    @classmethod
    def parse(cls, query: QueryDict) -> dict:
        form = cls(query)
        form.is_valid()
        return {name: form.cleaned_data.get(name) for name in cls.base_fields}


def evidence_form_for(task_id: int, data=None, *, focus: bool = False, **kwargs) -> EvidenceForm:
    """The evidence form of one task: ids unique on a page with many tasks. With focus, the
    page's script puts the cursor on the first field in error, or on the factor after a save,
    so that notes can be entered one after another from the keyboard."""
    form = EvidenceForm(data, auto_id=f"id_%s_{task_id}", **kwargs)
    if focus:
        target = next(iter(form.errors), "factor") if data is not None else "factor"
        if target not in form.fields or target == "version":
            target = "factor"
        form.fields[target].widget.attrs["data-autofocus"] = "true"
    return form


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label="Evidence CSV")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the largest accepted is "
                f"{filesizeformat(settings.MAX_UPLOAD_BYTES)}. Split it and upload the parts."
            )
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as bad:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save it as CSV UTF-8."
            ) from bad


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


# What each number of the rubric means, in plain words, shown beside its field.
RUBRIC_HELP = {
    "unverified_weight": "How much a note counts until a partner verifies it: 1 counts it in "
    "full, 0 not at all.",
    "scale": "How far evidence pushes a score from 50: the larger the scale, the more evidence "
    "the same move takes.",
    "mass_for_confidence": "How much evidence makes a score about two-thirds sure "
    "(confidence = 1 − e^(−evidence mass ÷ this)).",
    "proprietary_weight": "k: how many frontier points one proprietary point is worth against "
    "the boundary (a company is absorbed when x + k·y falls below it).",
    "boundary_at_epoch": "Where the absorption boundary stands, in x + k·y, on the epoch date.",
    "boundary_epoch": "The date the boundary level above refers to.",
    "boundary_drift_per_year": "How many points a year the boundary rises, i.e. how fast general "
    "models absorb work; runway = margin ÷ this.",
    "reunderwrite_after_days": "A task with no note newer than this many days is due for "
    "re-underwriting in the review queue.",
    "label_untrainable": "Name of the top-right quadrant (x ≥ 50, y ≥ 50).",
    "label_lab_territory": "Name of the bottom-right quadrant (x ≥ 50, y < 50).",
    "label_commodity_tokens": "Name of the bottom-left quadrant (x < 50, y < 50).",
    "label_specialist_models": "Name of the top-left quadrant (x < 50, y ≥ 50).",
}
WEIGHT_HELP = "How much one note on this factor moves its axis."


def _plain(value):
    """180.0 shown as 180: a whole number reads as one in the editor."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


HALF_LIFE_HELP = "Days after which a note on this factor counts half."


class RubricDraftForm(forms.Form):
    """Every number of a rubric version, with its meaning beside it: the draft's own values
    (the active version's for a new draft), with the partner's edits."""

    name = OneLineField(max_length=200, required=False)
    unverified_weight = forms.FloatField(min_value=0, max_value=1, label="Unverified weight")
    scale = forms.FloatField(min_value=0.01, max_value=100, label="Scale")
    mass_for_confidence = forms.FloatField(
        min_value=0.01, max_value=100, label="Mass for confidence"
    )
    proprietary_weight = forms.FloatField(
        min_value=0.01, max_value=10, label="Proprietary weight k"
    )
    boundary_at_epoch = forms.FloatField(
        min_value=-500, max_value=500, label="Boundary level at the epoch"
    )
    boundary_epoch = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Boundary epoch"
    )
    boundary_drift_per_year = forms.FloatField(
        min_value=0.01, max_value=100, label="Boundary rise per year"
    )
    reunderwrite_after_days = forms.IntegerField(
        min_value=1, max_value=3650, label="Re-underwrite after (days)"
    )
    label_untrainable = OneLineField(max_length=60)
    label_lab_territory = OneLineField(max_length=60)
    label_commodity_tokens = OneLineField(max_length=60)
    label_specialist_models = OneLineField(max_length=60)

    def __init__(self, *args, base: RubricVersion, **kwargs):
        rubric = base.to_rubric()
        initial = {name: _plain(getattr(base, name)) for name in services.RUBRIC_FIELDS}
        for factor in scoring.FACTORS:
            initial[f"weight_{factor.code}"] = _plain(rubric.factor_weights[factor.code])
            initial[f"half_life_{factor.code}"] = _plain(rubric.half_lives[factor.code])
        super().__init__(*args, initial=initial, **kwargs)
        for name, help_text in RUBRIC_HELP.items():
            self.fields[name].help_text = help_text
        for factor in scoring.FACTORS:
            self.fields[f"weight_{factor.code}"] = forms.FloatField(
                min_value=0,
                max_value=10,
                label=f"{factor.code.replace('_', ' ')} weight",
                help_text=WEIGHT_HELP,
            )
            self.fields[f"half_life_{factor.code}"] = forms.FloatField(
                min_value=1,
                max_value=36500,
                label=f"{factor.code.replace('_', ' ')} half-life (days)",
                help_text=HALF_LIFE_HELP,
            )

    def factor_rows(self):
        """(factor, weight field, half-life field) for each factor, in the catalogue's order."""
        return [(f, self[f"weight_{f.code}"], self[f"half_life_{f.code}"]) for f in scoring.FACTORS]

    def weight_fields(self):
        return [self[f"weight_{factor.code}"] for factor in scoring.FACTORS]

    def parameter_fields(self):
        return [self[name] for name in services.RUBRIC_PARAMETERS]

    def label_fields(self):
        return [self[name] for name in services.RUBRIC_LABELS]

    def factor_weights(self) -> dict[str, float]:
        return {f.code: self.cleaned_data[f"weight_{f.code}"] for f in scoring.FACTORS}

    def half_lives(self) -> dict[str, float]:
        return {f.code: self.cleaned_data[f"half_life_{f.code}"] for f in scoring.FACTORS}

    def changes(self) -> dict:
        """What a service needs: the weights, the half-lives and every other field."""
        return {
            "factor_weights": self.factor_weights(),
            "half_lives": self.half_lives(),
            **{name: self.cleaned_data[name] for name in services.RUBRIC_FIELDS},
        }


# --- The map's query string: one parser for the map page and its exports, so an export
# is exactly the view it was asked from.


class MapFilterForm(forms.Form):
    """The query string of the map; anything unreadable falls back to the default."""

    fund = record_id(required=False)
    sector = OneLineField(required=False, max_length=100)
    stage = OneLineField(required=False, max_length=50)
    status = forms.ChoiceField(required=False, choices=[("", "")] + CompanyStatus.choices)
    lead = record_id(required=False)
    quadrant = forms.ChoiceField(required=False, choices=[("", "")] + Quadrant.choices)
    as_of = MapDateField(required=False)
    since = MapDateField(required=False)
    per = forms.ChoiceField(
        required=False, choices=[(map_selectors.COMPANY, ""), (map_selectors.TASK, "")]
    )
    size = forms.ChoiceField(
        required=False, choices=[(map_selectors.CHECK_SIZE, ""), (map_selectors.ARR, "")]
    )
    colour = forms.ChoiceField(
        required=False, choices=[(map_selectors.BY_QUADRANT, ""), (map_selectors.BY_SECTOR, "")]
    )
    sort = forms.CharField(required=False, max_length=20)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)


def parse_filters(query: QueryDict) -> map_selectors.MapFilters:
    form = MapFilterForm(query)
    form.is_valid()
    data = {name: form.cleaned_data.get(name) for name in form.fields if name in form.cleaned_data}
    sort = data.get("sort") or "name"
    return map_selectors.MapFilters(
        fund=data.get("fund"),
        sector=data.get("sector") or "",
        stage=data.get("stage") or "",
        status=data.get("status") or "",
        lead=data.get("lead"),
        quadrant=data.get("quadrant") or "",
        as_of=data.get("as_of"),
        since=data.get("since"),
        per=data.get("per") or map_selectors.COMPANY,
        size_by=data.get("size") or map_selectors.CHECK_SIZE,
        colour_by=data.get("colour") or map_selectors.BY_QUADRANT,
        sort=sort if sort.lstrip("-") in map_selectors.SORT_KEYS else "name",
        page=data.get("page") or 1,
    )


# The earliest date an IC pack may be built for: no evidence predates it (docs/scoring.md).
IC_PACK_EARLIEST = date(1990, 1, 1)


class ICPackForm(forms.Form):
    """An IC pack's dates: as of a day up to today, movement measured since an earlier day."""

    as_of = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    since = forms.DateField(
        required=False,
        label="Movement since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    order = forms.ChoiceField(
        required=False, choices=ICPackOrder.choices, initial=ICPackOrder.RUNWAY, label="Order"
    )
    include_passed = forms.BooleanField(required=False, label="Include companies we passed on")

    def clean_order(self) -> str:
        return self.cleaned_data.get("order") or ICPackOrder.RUNWAY

    def clean_as_of(self) -> date:
        as_of = self.cleaned_data.get("as_of") or selectors.today()
        if not IC_PACK_EARLIEST <= as_of <= selectors.today():
            raise forms.ValidationError(
                f"Choose a date from {IC_PACK_EARLIEST.day} {IC_PACK_EARLIEST:%b %Y} to today: "
                "a pack shows the evidence observed by then."
            )
        return as_of

    def clean(self):
        data = super().clean()
        as_of = data.get("as_of")
        if as_of is None:
            return data
        since = data.get("since") or as_of - icpack.DEFAULT_MOVEMENT
        if since >= as_of:
            self.add_error("since", "Movement is measured from a date before the as-of date.")
        elif since < IC_PACK_EARLIEST:
            self.add_error(
                "since", f"Choose a date after {IC_PACK_EARLIEST.day} {IC_PACK_EARLIEST:%b %Y}."
            )
        data["since"] = since
        return data
