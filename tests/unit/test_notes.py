"""Evidence notes are Markdown, rendered and sanitised: hostile notes come back inert."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from assessments.notes import first_line, render_note
from tests.factories import EvidenceFactory, MembershipFactory, TaskFactory

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">raw link</a>',
    '<div hx-get="/admin/" hx-trigger="load">swap</div>',
    '<iframe src="https://evil.example"></iframe>',
    '" onmouseover="alert(1)',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<form action="/x"><button formaction="javascript:alert(1)">b</button></form>',
]

BAD_TAGS = {"script", "iframe", "style", "form", "img", "button", "object", "embed", "svg"}


class Elements(HTMLParser):
    """Every element and attribute a browser would build from some HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def dangers(html: str) -> list[str]:
    """What in the HTML could run code or talk to the server."""
    bad = []
    for tag, attrs in Elements(html).found:
        if tag in BAD_TAGS:
            bad.append(tag)
        for name, value in attrs.items():
            if name.startswith(("on", "hx-", "data-hx")) or name in {"style", "formaction"}:
                bad.append(f"{tag}[{name}]")
            if name in {"href", "src"} and not (value or "").startswith(("http", "mailto:")):
                bad.append(f"{tag}[{name}={value}]")
    return bad


@pytest.mark.parametrize("note", HOSTILE)
def test_hostile_note_renders_inert(note):
    assert dangers(render_note(note)) == []


def test_markdown_formatting_and_safe_links_survive():
    html = render_note(
        "**Bank** passed the *security review*.\n\n- one\n- [memo](https://example.com)"
    )
    assert "<strong>Bank</strong>" in html and "<em>security review</em>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">memo</a>' in html
    assert "<li>one</li>" in html


def test_text_that_looks_like_an_attribute_stays_text():
    assert render_note('" onmouseover="x') == '<p>" onmouseover="x</p>'


def test_first_line_is_plain_and_short():
    assert first_line("\n## **Headline** here\nrest") == "Headline here"
    assert len(first_line("x" * 500)) == 120


@pytest.mark.django_db
def test_hostile_notes_are_inert_on_the_company_page_and_in_chart_json(client):
    membership = MembershipFactory(role="partner")
    task = TaskFactory(company__fund=membership.fund)
    for note in HOSTILE:
        EvidenceFactory(task=task, note=note, source='<b onclick="x()">src</b>')
    client.force_login(membership.user)
    page = client.get(reverse("company_detail", args=[task.company_id])).content.decode()
    body = page.split("<main", 1)[1]
    cells = re.findall(r'<td class="note">(.*?)</td>\s*<td>(.*?)</td>', body, flags=re.S)
    assert len(cells) == len(HOSTILE)
    for note, source in cells:
        assert dangers(note) == [] and dangers(source) == []
    assert "&lt;b onclick" in body
    # The chart payloads are JSON with <, > and & escaped, and the hover text escaped again.
    for payload in re.findall(r'type="application/json">(.*?)</script>', body, flags=re.S):
        assert "<script" not in payload.lower()
        json.loads(payload)
    waterfall = re.search(
        rf'id="task-{task.pk}-waterfall" type="application/json">(.*?)</script>', body, re.S
    ).group(1)
    hovers = " ".join(" ".join(t["hovertext"]) for t in json.loads(waterfall)["data"])
    assert "<img" not in hovers and "&lt;img" in hovers
