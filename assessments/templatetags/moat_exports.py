"""The export menu beside a chart: links that carry the view's query string, one per
size and format, or what to install when the server cannot render charts."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ..charts import memo
from ..exports import render as rendering

register = template.Library()


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
