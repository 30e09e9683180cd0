"""Evidence notes: Markdown rendered to HTML that is safe to put on a page.

Markdown is rendered first, then nh3 (a whitelist sanitiser) keeps only plain
formatting tags and http(s)/mailto links. Raw HTML in a note, event handlers,
htmx attributes and javascript: URLs never reach the browser.
"""

from __future__ import annotations

import markdown
import nh3

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h3",
        "h4",
        "hr",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def render_note(text: str) -> str:
    """A note's Markdown as sanitised HTML."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def first_line(text: str, limit: int = 120) -> str:
    """The note's first non-empty line as plain text, for chart hovers and lists."""
    for line in (text or "").splitlines():
        stripped = line.strip().lstrip("#>*-_ ").replace("**", "").replace("__", "")
        if stripped:
            return stripped if len(stripped) <= limit else stripped[: limit - 1] + "…"
    return ""
