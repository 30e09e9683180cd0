"""Evidence CSV upload into one fund, for its associates and partners."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import access, imports
from ..forms import EvidenceUploadForm
from ..models import Fund


def _only_this_fund(lines: list[imports.EvidenceLine], fund: Fund) -> None:
    """An upload into one fund may not write to another, even one the user belongs to."""
    errors = [
        f"line {ln.line}: fund {ln.fund!r} is not {fund.name!r}; upload it from that fund's page"
        for ln in lines
        if ln.fund.lower() != fund.name.lower()
    ]
    if errors:
        raise imports.ImportRejected(errors)


@login_required
@require_http_methods(["GET", "POST"])
def evidence_import(request: HttpRequest, fund_id: int) -> HttpResponse:
    """Upload a CSV of evidence: every row checked, then all written or none."""
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.ADD_EVIDENCE, fund.pk)
    form = EvidenceUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                lines = imports.parse_evidence_csv(form.cleaned_data["file"])
                _only_this_fund(lines, fund)
                result = imports.import_evidence(lines, user=request.user)
            except imports.ImportRejected as rejected:
                errors = rejected.errors
            else:
                messages.success(
                    request,
                    f"Imported {result.evidence} evidence rows "
                    f"({len(result.companies)} new companies, {len(result.tasks)} new tasks).",
                )
                return redirect("evidence_import", fund_id=fund.pk)
        status = 400
    return render(
        request,
        "assessments/evidence_import.html",
        {
            "fund": fund,
            "form": form,
            "errors": errors,
            "max_bytes": settings.MAX_UPLOAD_BYTES,
            "columns": imports.REQUIRED_COLUMNS + imports.OPTIONAL_COLUMNS,
            "factors": imports.factor_guide(),
        },
        status=status,
    )
