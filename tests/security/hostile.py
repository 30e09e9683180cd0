"""Hostile text for every text field, and the check that a page shows it only escaped.

Reusable: call hostile_world() once, then assert_escaped(html, where) on every page,
fragment and JSON payload that shows fund data.
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.db import models

from assessments.models import Company, Evidence, Fund, Membership, Task

# Each payload would run or fetch something if it reached the page unescaped.
SCRIPT = "<script>alert('moat')</script>"
ATTRIBUTE = '" onmouseover="alert(1)" x="'
JS_LINK = "[click](javascript:alert(2))"
HTMX = '<a hx-get="/admin/" hx-trigger="load">x</a>'
PAYLOAD = f"{SCRIPT}{ATTRIBUTE}{JS_LINK}{HTMX}"

# What must never appear verbatim in HTML (or in chart JSON once decoded by a browser).
RAW_MARKERS = (
    "<script>alert(",
    '" onmouseover="alert(1)"',
    'href="javascript:',
    "href='javascript:",
    '<a hx-get="/admin/"',
    'hx-trigger="load"',
)
# Escaped markers: proof that the field was rendered at all.
ESCAPED_MARKER = "&lt;script&gt;alert("

AUDITED_MODELS = (Fund, Company, Task, Evidence, Membership)


def text_fields(model) -> list[str]:
    """Every free-text field of a model (choices are validated, so not free text)."""
    return [
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, models.CharField | models.TextField) and not f.choices
    ]


def hostile_text(model, field: str, limit: int | None = None) -> str:
    """The payload, tagged with the field it sits in, cut to the field's length."""
    text = f"{model.__name__}.{field}{PAYLOAD}"
    return text[:limit] if limit else text


def hostile_values(model) -> dict[str, str]:
    values = {}
    for name in text_fields(model):
        field = model._meta.get_field(name)
        values[name] = hostile_text(model, name, getattr(field, "max_length", None))
    return values


def hostile_world_text() -> dict:
    """Keyword overrides for security_world.build_world: hostile text everywhere."""
    return {
        "fund": hostile_values(Fund),
        "company": hostile_values(Company),
        "task": hostile_values(Task),
        "evidence": hostile_values(Evidence),
        "rubric_name": hostile_text(Fund, "rubric")[:200],
    }


def assert_escaped(content: str | bytes, where: str, *, must_show: bool = True) -> None:
    """No payload comes through as markup; with must_show, at least one comes through as text."""
    html = content.decode() if isinstance(content, bytes) else content
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where}: unescaped {marker!r}"
    if must_show:
        assert ESCAPED_MARKER in html, f"{where}: the hostile text was not shown at all"


HTMX_REQUESTS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")


class _InertCheck(HTMLParser):
    """Walks a page's tags: fund text must never have become a tag or an attribute."""

    def __init__(self, where: str):
        super().__init__(convert_charrefs=True)
        self.where = where

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"{self.where}: <{tag} {attrs}>"
        assert tag not in ("iframe", "object", "embed", "img") or "alert(" not in str(attrs), where
        values = dict(attrs)
        if tag == "script":
            # Our scripts: static files, or JSON payloads for the charts.
            ours = (values.get("src") or "").startswith("/static/")
            assert ours or values.get("type") == "application/json", where
        for name, value in attrs:
            value = (value or "").strip().lower()
            assert not name.startswith("on"), f"{where}: event handler {name}"
            if name in ("href", "src", "action", "formaction") or "hx-" in name:
                assert not value.startswith(("javascript:", "data:", "vbscript:")), where
            # hx-confirm and friends show text in a dialog: only the requesting ones count.
            if name.removeprefix("data-") in HTMX_REQUESTS:
                assert "/admin/" not in value, f"{where}: hostile {name}"
            if name.removeprefix("data-") == "hx-trigger":
                assert value != "load", f"{where}: hostile {name}"


def assert_inert(content: str | bytes, where: str, *, must_show: bool = True) -> None:
    """Parsed as a browser would, no fund text became markup; with must_show, some hostile
    text is on the page as escaped text (the field was rendered at all)."""
    html = content.decode() if isinstance(content, bytes) else content
    _InertCheck(where).feed(html)
    assert "<script>alert(" not in html, f"{where}: a hostile script tag"
    if must_show:
        assert ESCAPED_MARKER in html, f"{where}: the hostile text was not shown at all"
