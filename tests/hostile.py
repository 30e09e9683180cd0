"""Hostile text for every text field, and the check that a page shows it only escaped.

Reusable: call hostile_world() once, then assert_escaped(html, where) on every page,
fragment and JSON payload that shows fund data.
"""

from __future__ import annotations

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
