"""Template helpers of evidence review: effects in signed score points, and the unread
alerts a partner's navigation badge counts."""

from __future__ import annotations

from django import template

from ..selectors import review as review_selectors

register = template.Library()


@register.filter
def signed_points(value) -> str:
    """Score points with their sign and a true minus: +2.4, −3.1."""
    if value is None:
        return "–"
    return f"{value:+.1f}".replace("-", "\u2212")


@register.simple_tag
def unread_alerts(user) -> int:
    """Unread alerts in the funds where the user reviews (0 for everyone else)."""
    return review_selectors.unread_alert_count(user)
