"""The note filter: evidence notes as safe Markdown."""

from django import template
from django.utils.safestring import mark_safe

from .. import notes

register = template.Library()


@register.filter
def note_html(text: str) -> str:
    # Safe to mark: render_note whitelists tags, attributes and URL schemes.
    return mark_safe(notes.render_note(text))  # noqa: S308


@register.filter
def factor_name(code: str) -> str:
    """A factor code in words: system_access -> system access."""
    return (code or "").replace("_", " ")
