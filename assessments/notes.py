"""Evidence notes: Markdown rendered to HTML that is safe to put on a page.

Markdown is rendered first (CommonMark, by markdown-it-py), then nh3 (a whitelist
sanitiser) keeps only plain formatting tags and http(s)/mailto links. Raw HTML in a note,
event handlers, htmx attributes and javascript: URLs never reach the browser.

A note is rendered once, when it is saved (Evidence.note_html); pages show the stored
HTML. The renderer takes time linear in the note's length whatever its content: nesting
is capped (maxNesting) and a run of brackets that no "]" follows is taken as text at once,
instead of being tried as a link at every bracket.
"""

from __future__ import annotations

import logging

import nh3
from django.utils.html import escape, linebreaks
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

logger = logging.getLogger(__name__)

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
# Deeper than any note needs (a list in a quote in a list...), shallow enough that a note
# of nested markers costs no more than one of plain words.
MAX_NESTING = 20


def _unclosable_brackets(state: StateInline, silent: bool) -> bool:
    """A "[" or "![" with no "]" after it can start no link: the whole run of them is
    text. Without this each bracket scans to the end of the note for its "]"."""
    src, pos = state.src, state.pos
    if src[pos] not in "[!":
        return False
    # A link's label is parsed on the same state with a shorter posMax: cache per bound.
    cache = state.env.setdefault("_moat_last_close", {})
    key = (id(src), state.posMax)
    last_close = cache.get(key)
    if last_close is None:
        last_close = cache[key] = src.rfind("]", 0, state.posMax)
    if last_close > pos:
        return False
    end = pos
    while end < state.posMax and src[end] in "[!":
        end += 1
    if not silent:
        state.pending += src[pos:end]
    state.pos = end
    return True


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING, "html": True})
    # Images are not kept by the sanitiser: not parsing them saves a "![" bomb's work.
    md.disable("image")
    md.inline.ruler.before("link", "unclosable_brackets", _unclosable_brackets)
    return md


_MARKDOWN = _renderer()


def render_note(text: str) -> str:
    """A note's Markdown as sanitised HTML."""
    # Without the final newline, as the notes rendered before were stored.
    html = _MARKDOWN.render(text or "").rstrip("\n")
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def as_plain_text(text: str) -> str:
    """The note escaped, in paragraphs: what a page shows when the Markdown cannot be
    rendered, so that one note never takes down the page that lists it."""
    return linebreaks(escape(text or ""))


def render_note_or_text(text: str) -> str:
    """render_note, or the escaped plain text if the renderer fails on this note."""
    try:
        return render_note(text)
    except Exception:  # any failure of a third-party renderer must not break a page
        logger.exception("A note could not be rendered; it is shown as plain text")
        return as_plain_text(text)


def first_line(text: str, limit: int = 120) -> str:
    """The note's first non-empty line as plain text, for chart hovers and lists."""
    for line in (text or "").splitlines():
        stripped = line.strip().lstrip("#>*-_ ").replace("**", "").replace("__", "")
        if stripped:
            return stripped if len(stripped) <= limit else stripped[: limit - 1] + "…"
    return ""
