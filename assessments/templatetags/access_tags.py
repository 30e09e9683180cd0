"""Template helpers about the user: what a role may do (the views still refuse what it may
not) and the unread alerts a partner's navigation badge counts."""

from django import template

from .. import access
from ..selectors import review as review_selectors

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


@register.simple_tag
def unread_alerts(user) -> int:
    """Unread alerts in the funds where the user reviews (0 for everyone else)."""
    return review_selectors.unread_alert_count(user)
