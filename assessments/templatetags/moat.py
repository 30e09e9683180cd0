"""Template helpers: scores, money and notes in the product's words, and the export menu
beside a chart. (Who may do what lives in access_tags.)"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from .. import notes, vocabulary
from ..charts import memo
from ..exports import render as rendering

register = template.Library()


# Thin filters: the words themselves live in vocabulary.py, shared with charts and exports.
register.filter("quadrant_label", vocabulary.quadrant)
register.filter("points", vocabulary.points)
register.filter("runway", vocabulary.runway)
register.filter("money", vocabulary.money)
register.filter("factor_name", vocabulary.factor)
register.filter("signed_points", vocabulary.signed)
register.filter("day", vocabulary.day)
register.filter("share", vocabulary.share)
register.filter("percent", vocabulary.share)
register.filter("value_words", vocabulary.value_words)
register.filter("unscored_words", vocabulary.unscored_words)
register.filter("absorbed_shares", vocabulary.absorbed_shares)
register.filter("unscored_share", vocabulary.unscored_share)


@register.filter
def note_html(evidence) -> str:
    """The note as rendered when it was saved; a row written without save() (an old bulk
    path) is rendered here, and a note that cannot be rendered shows as plain text."""
    html = evidence.note_html or (notes.render_note_or_text(evidence.note) if evidence.note else "")
    # Safe to mark: render_note whitelists tags, attributes and URL schemes, and the
    # plain-text fallback is escaped.
    return mark_safe(html)


@register.inclusion_tag("assessments/exports/_menu.html", takes_context=True)
def export_menu(context, url_name: str, *args, map_view: bool = False) -> dict:
    """``url_name`` takes ``*args`` then the format. On the map the links carry the
    request's query string (its filters), so the file is exactly the view on screen."""
    request = context["request"]
    params = [(k, v) for k, v in request.GET.items() if k != "preset" and v]

    def link(fmt: str, **extra: str) -> str:
        query = urlencode(params + list(extra.items()))
        return reverse(url_name, args=[*args, fmt]) + (f"?{query}" if query else "")

    sizes = [
        {
            "label": f"{preset.name.capitalize()} ({preset.width_in:g} × {preset.height_in:g} in)",
            "links": [(fmt.upper(), link(fmt, preset=preset.name)) for fmt in rendering.FORMATS],
        }
        for preset in memo.PRESETS.values()
    ]
    extra = [("PowerPoint slide", link("pptx")), ("Table as CSV", link("csv"))] if map_view else []
    unavailable = rendering.INSTALL_HINT if rendering.browser_path() is None else ""
    return {"sizes": sizes, "extra": extra, "unavailable": unavailable}
