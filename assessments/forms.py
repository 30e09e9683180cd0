"""Every form of the app: parsing and validation only; writes go to services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat

from . import scoring, selectors, services
from .models import (
    AlertEmail,
    Company,
    CompanyStatus,
    Confidence,
    Membership,
    Quadrant,
    Role,
    RubricVersion,
    Stance,
    Task,
    TokenScope,
)
from .selectors import map as map_selectors

AXIS_NAMES = {scoring.X: "Frontier (x)", scoring.Y: "Proprietary (y)"}


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
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"weight": "The task's share of the company's value; any positive number."}

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_weight(self) -> float:
        weight = self.cleaned_data["weight"]
        if weight is None or weight <= 0:
            raise forms.ValidationError("A weight must be greater than 0.")
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
    observed_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.CharField(max_length=500, required=False)
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown. Ctrl+Enter saves.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["observed_on"].initial = selectors.today()
        self.fields["observed_on"].widget.attrs["max"] = selectors.today().isoformat()

    def clean_observed_on(self):
        observed_on = self.cleaned_data["observed_on"]
        if observed_on > selectors.today():
            raise forms.ValidationError("Evidence cannot be observed in the future.")
        return observed_on

    def evidence_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class SendBackForm(forms.Form):
    comment = forms.CharField(max_length=2000, required=False)


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


class RubricDraftForm(forms.Form):
    """A new version: the active one's values, with the partner's edits."""

    name = forms.CharField(max_length=200, required=False)
    unverified_weight = forms.FloatField(min_value=0, max_value=1)
    scale = forms.FloatField(min_value=0.01)
    mass_for_confidence = forms.FloatField(min_value=0.01)
    proprietary_weight = forms.FloatField(min_value=0.01)
    boundary_at_epoch = forms.FloatField()
    boundary_drift_per_year = forms.FloatField(min_value=0.01)
    reunderwrite_after_days = forms.IntegerField(min_value=1)

    def __init__(self, *args, base: RubricVersion, **kwargs):
        initial = {name: getattr(base, name) for name in services.RUBRIC_PARAMETERS}
        weights = base.to_rubric().factor_weights
        for factor in scoring.FACTORS:
            initial[f"weight_{factor.code}"] = weights[factor.code]
        super().__init__(*args, initial=initial, **kwargs)
        for factor in scoring.FACTORS:
            self.fields[f"weight_{factor.code}"] = forms.FloatField(
                min_value=0,
                max_value=10,
                label=factor.code.replace("_", " "),
                help_text=factor.meaning,
            )

    def weight_fields(self):
        return [self[f"weight_{factor.code}"] for factor in scoring.FACTORS]

    def parameter_fields(self):
        return [self[name] for name in services.RUBRIC_PARAMETERS]

    def factor_weights(self) -> dict[str, float]:
        return {f.code: self.cleaned_data[f"weight_{f.code}"] for f in scoring.FACTORS}


# --- The map's query string: one parser for the map page and its exports, so an export
# is exactly the view it was asked from.


class MapFilterForm(forms.Form):
    """The query string of the map; anything unreadable falls back to the default."""

    fund = forms.IntegerField(required=False)
    sector = forms.CharField(required=False)
    stage = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "")] + CompanyStatus.choices)
    lead = forms.IntegerField(required=False)
    quadrant = forms.ChoiceField(required=False, choices=[("", "")] + Quadrant.choices)
    as_of = forms.DateField(required=False)
    since = forms.DateField(required=False)
    per = forms.ChoiceField(
        required=False, choices=[(map_selectors.COMPANY, ""), (map_selectors.TASK, "")]
    )
    size = forms.ChoiceField(
        required=False, choices=[(map_selectors.CHECK_SIZE, ""), (map_selectors.ARR, "")]
    )
    colour = forms.ChoiceField(
        required=False, choices=[(map_selectors.BY_QUADRANT, ""), (map_selectors.BY_SECTOR, "")]
    )
    sort = forms.CharField(required=False)


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
    )


# --- Integrations: API tokens, alert e-mail, webhooks ---------------------------------------


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “CRM sync”.")
    scope = forms.ChoiceField(
        choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect
    )


class AlertPreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label="E-mail me the alerts of my funds",
        choices=AlertEmail.choices,
        widget=forms.RadioSelect,
    )


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Your system's endpoint; it receives a signed JSON POST per batch of alerts.",
    )
    description = forms.CharField(max_length=200, required=False)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Give an http:// or https:// URL.")
        return url


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )
