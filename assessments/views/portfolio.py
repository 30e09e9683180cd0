"""The portfolio list: every company the user may see, with its current scores."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .. import access, selectors
from ..selectors import portfolio as portfolio_selectors


@login_required
@require_safe
def portfolio(request: HttpRequest) -> HttpResponse:
    """The companies the user may see, with their current scores."""
    rows = portfolio_selectors.portfolio(request.user)
    rubric = selectors.active_rubric_version().to_rubric()
    return render(
        request,
        "assessments/portfolio.html",
        {
            "rows": rows,
            "rubric": rubric,
            "funds": access.visible_funds(request.user),
            "as_of": selectors.today(),
        },
    )
