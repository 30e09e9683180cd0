"""Evidence CSV upload into one fund, for its associates and partners.

A small file is checked and written in the request; a large one (more rows than
IMPORT_INLINE_ROWS) by a background job whose progress the page polls — inline, in the
request, when there is no broker. Either way all rows are written or none.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from .. import access, imports
from ..forms import EvidenceUploadForm
from ..models import EvidenceImport, Fund

PAGE = "assessments/evidence_import.html"


@login_required
@require_http_methods(["GET", "POST"])
def evidence_import(request: HttpRequest, fund_id: int) -> HttpResponse:
    """Upload a CSV of evidence: every row checked, then all written or none."""
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.ADD_EVIDENCE, fund.pk)
    form = EvidenceUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    status = 200
    job = EvidenceImport.objects.filter(fund=fund, requested_by=request.user).first()
    if request.method == "POST":
        if form.is_valid():
            text = form.cleaned_data["file"]
            if imports.count_rows(text) > settings.IMPORT_INLINE_ROWS:
                job = imports.start_import_job(fund=fund, user=request.user, text=text)
                return redirect("evidence_import", fund_id=fund.pk)
            try:
                lines = imports.parse_evidence_csv(text)
                imports.only_this_fund(lines, fund)
                result = imports.import_evidence(lines, user=request.user)
            except imports.ImportRejected as rejected:
                errors = rejected.errors
            else:
                messages.success(request, imports.summary(result))
                return redirect("evidence_import", fund_id=fund.pk)
        status = 400
    return render(
        request,
        PAGE,
        {
            "fund": fund,
            "form": form,
            "errors": errors,
            "job": job,
            "max_bytes": settings.MAX_UPLOAD_BYTES,
            "columns": imports.REQUIRED_COLUMNS + imports.OPTIONAL_COLUMNS,
            "factors": imports.factor_guide(),
        },
        status=status,
    )


@login_required
@require_safe
def evidence_import_progress(request: HttpRequest, fund_id: int, import_id: int) -> HttpResponse:
    """The progress fragment of a background import; it polls itself while the job runs."""
    job = access.get_scoped_or_404(
        EvidenceImport.objects.select_related("fund"), request.user, pk=import_id, fund_id=fund_id
    )
    access.require(request.user, access.ADD_EVIDENCE, job.fund_id)
    return render(request, f"{PAGE}#import-progress", {"job": job, "fund": job.fund})
