"""A fund's members: partners invite existing users, change roles and remove members."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from .. import access, services
from ..forms import InviteForm, RoleForm
from ..models import Fund, Membership, Role
from ..selectors import members as members_selectors


def _fund_for_partner(request: HttpRequest, fund_id: int) -> Fund:
    """The fund, if the user may manage its members: 404 for non-members, 403 for other roles."""
    fund = access.get_scoped_or_404(Fund.objects.all(), request.user, pk=fund_id)
    access.require(request.user, access.MANAGE_MEMBERS, fund.pk)
    return fund


def _membership(request: HttpRequest, fund: Fund, membership_id: int) -> Membership:
    return access.get_scoped_or_404(
        Membership.objects.select_related("user"), request.user, pk=membership_id, fund=fund
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_members(request: HttpRequest, fund_id: int) -> HttpResponse:
    """The member list, with an invitation form (POST invites)."""
    fund = _fund_for_partner(request, fund_id)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_add(
                actor=request.user, fund_id=fund.pk, **form.cleaned_data
            )
        except services.MembershipError as refused:
            form.add_error(None, str(refused))
        else:
            who = membership.user.get_username()
            messages.success(request, f"{who} joined {fund.name} as {membership.role}.")
            return redirect("fund_members", fund_id=fund.pk)
    return render(
        request,
        "assessments/members.html",
        {
            "fund": fund,
            "members": members_selectors.fund_memberships(request.user, fund.pk),
            "form": form,
            "roles": Role.choices,
        },
    )


def _row(request: HttpRequest, fund: Fund, membership: Membership, error: str = "") -> HttpResponse:
    return render(
        request,
        "assessments/members.html#member-row",
        {"fund": fund, "m": membership, "roles": Role.choices, "row_error": error},
    )


@require_POST
@login_required
def fund_member_role(request: HttpRequest, fund_id: int, membership_id: int) -> HttpResponse:
    """Change a member's role; htmx gets the updated row back."""
    fund = _fund_for_partner(request, fund_id)
    membership = _membership(request, fund, membership_id)
    form = RoleForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "Choose a role."
    else:
        try:
            services.membership_change(
                actor=request.user, membership=membership, role=form.cleaned_data["role"]
            )
        except services.MembershipError as refused:
            error = str(refused)
            membership.refresh_from_db()
    if request.htmx:
        response = _row(request, fund, membership, error)
        return response if error else trigger_client_event(response, "membershipChanged")
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{membership.user.get_username()} is now {membership.role}.")
    return redirect("fund_members", fund_id=fund.pk)


@require_POST
@login_required
def fund_member_remove(request: HttpRequest, fund_id: int, membership_id: int) -> HttpResponse:
    """Remove a member from the fund; htmx gets an empty row (it disappears)."""
    fund = _fund_for_partner(request, fund_id)
    membership = _membership(request, fund, membership_id)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except services.MembershipError as refused:
        if request.htmx:
            return _row(request, fund, membership, str(refused))
        messages.error(request, str(refused))
        return redirect("fund_members", fund_id=fund.pk)
    removed_self = membership.user_id == request.user.pk
    if request.htmx and not removed_self:
        return trigger_client_event(HttpResponse(""), "membershipChanged")
    messages.success(request, f"{membership.user.get_username()} left {fund.name}.")
    if removed_self and not request.user.is_superuser:
        # The fund is no longer visible to them.
        return redirect("home")
    return redirect("fund_members", fund_id=fund.pk)
