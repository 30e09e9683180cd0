"""Template helpers that hide what a role cannot do (the views still refuse it)."""

from django import template

from .. import access

register = template.Library()


@register.simple_tag
def can(user, action: str, fund_id: int) -> bool:
    """{% can user "manage_members" fund.pk as may_manage %}"""
    return access.can(user, action, fund_id)


@register.simple_tag
def reviews_somewhere(user) -> bool:
    """{% reviews_somewhere user as may_review %}: a partner of some fund (or a superuser)
    has a review queue; the queue itself refuses everyone else."""
    return user.is_authenticated and access.partner_fund_ids(user) != []
