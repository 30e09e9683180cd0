"""The rubric: its versions, a draft a partner can edit, and activation."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import access, scoring, selectors, services
from ..models import RubricVersion


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


@login_required
def rubric(request: HttpRequest) -> HttpResponse:
    """Every version (read by anyone signed in); a partner's POST creates a draft."""
    active = selectors.active_rubric_version()
    may_edit = access.can_manage_rubric(request.user)
    if request.method == "POST":
        access.require_rubric_manager(request.user)
    form = RubricDraftForm(request.POST or None, base=active)
    if request.method == "POST" and form.is_valid():
        parameters = {name: form.cleaned_data[name] for name in services.RUBRIC_PARAMETERS}
        try:
            draft = services.rubric_draft_create(
                user=request.user,
                base=active,
                name=form.cleaned_data["name"],
                factor_weights=form.factor_weights(),
                **parameters,
            )
        except ValidationError as invalid:
            form.add_error(None, invalid)
        else:
            messages.success(request, f"{draft} saved as a draft; activate it to re-score.")
            return redirect("rubric")
    return render(
        request,
        "assessments/rubric.html",
        {
            "versions": RubricVersion.objects.select_related("created_by"),
            "active": active,
            "form": form,
            "may_edit": may_edit,
        },
    )


@require_POST
@login_required
def rubric_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    """Make a version the active one; everything is re-scored under it."""
    access.require_rubric_manager(request.user)
    version = get_object_or_404(RubricVersion, pk=version_id)
    services.rubric_activate(version=version, user=request.user)
    messages.success(request, f"{version} is active; scores are being recomputed.")
    return redirect("rubric")
