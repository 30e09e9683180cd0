"""Reads for the members page."""

from __future__ import annotations

from .. import access
from ..models import (
    Membership,
)


def fund_memberships(user, fund_id: int):
    """A fund's members with their users, in one query (scoped like every read)."""
    return (
        access.scoped(Membership.objects.filter(fund_id=fund_id), user)
        .select_related("user")
        .order_by("user__username")
    )
