"""The rubric: its versions, a draft a partner can edit, and activation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import access, selectors, services
from ..forms import RubricDraftForm
from ..models import RubricVersion


@login_required
@require_http_methods(["GET", "POST"])
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
