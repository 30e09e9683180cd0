"""Template helpers: scores, money and notes in the product's words, and the export menu
beside a chart. (Who may do what lives in access_tags.)"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from .. import notes, scoring
from ..charts import memo
from ..exports import render as rendering

register = template.Library()


@register.filter
def quadrant_label(quadrant: str, rubric: scoring.Rubric | None = None) -> str:
    """The rubric's label for a quadrant code."""
    return (rubric or scoring.DEFAULT_RUBRIC).label(quadrant or scoring.UNSCORED)


@register.filter
def points(value) -> str:
    """A score to one decimal, or an en dash when there is none."""
    return "–" if value is None else f"{value:.1f}"


@register.filter
def runway(score) -> str:
    """Runway in years, 'absorbed' at 0, blank when unscored."""
    if score is None or score.runway_years is None:
        return "–"
    return "absorbed" if score.runway_years <= 0 else f"{score.runway_years:.1f} y"


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


@register.filter
def percent(value) -> str:
    """A share 0–1 as a whole percentage: 0.4 → "40%"; an en dash when there is none."""
    return "–" if value is None else f"{value:.0%}"


@register.filter
def note_html(text: str) -> str:
    # Safe to mark: render_note whitelists tags, attributes and URL schemes.
    return mark_safe(notes.render_note(text))  # noqa: S308


@register.filter
def factor_name(code: str) -> str:
    """A factor code in words: system_access -> system access."""
    return (code or "").replace("_", " ")


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


@register.filter
def signed_points(value) -> str:
    """Score points with their sign and a true minus: +2.4, −3.1."""
    if value is None:
        return "–"
    return f"{value:+.1f}".replace("-", "\u2212")
