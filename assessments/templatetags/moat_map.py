"""Template helpers of the portfolio map."""

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """USD in short form: $12.5M, $800k; an en dash when unknown."""
    if not value:
        return "–"
    value = float(value)
    if value >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"${value / 1_000:.0f}k"
    return f"${value:.0f}"
