"""A fund's audit trail: who changed what and when, for its partners, filtered by company
and person and paged."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .. import access
from ..forms import AuditFilterForm
from ..models import Fund
from ..selectors import audit as audit_selectors

PER_PAGE = 50


@require_safe
@login_required
def fund_audit(request: HttpRequest, fund_id: int) -> HttpResponse:
    """The history of the fund's companies, tasks, evidence and memberships, newest first."""
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.READ_AUDIT, fund.pk)
    filters = AuditFilterForm.parse(request.GET)
    index = audit_selectors.audit_index(
        fund.pk, company_id=filters["company"], user_id=filters["person"]
    )
    page = Paginator(index, PER_PAGE).get_page(request.GET.get("page"))
    kept = {name: value for name, value in filters.items() if value}
    return render(
        request,
        "assessments/audit.html",
        {
            "fund": fund,
            "page": page,
            "filters": filters,
            "query": urlencode(kept) + "&" if kept else "",
            "entries": audit_selectors.audit_entries(list(page.object_list)),
            **audit_selectors.audit_filter_choices(fund.pk),
        },
    )
