"""Forms for companies, tasks and evidence: parsing and validation only; writes go to services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from . import scoring, selectors, services
from .models import Company, Confidence, Membership, Role, Stance, Task

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
            raise ValidationError("This fund already has a company of that name.")
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
            raise ValidationError("A weight must be greater than 0.")
        return weight

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Task.objects.filter(company=self.company, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("This company already has a task of that name.")
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
            raise ValidationError("Evidence cannot be observed in the future.")
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
