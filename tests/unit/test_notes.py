"""Evidence notes are Markdown, rendered and sanitised: hostile notes come back inert."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from assessments import notes
from assessments.models import Evidence
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


# --- Rendered once, when saved, and never taking a page down --------------------------------

NOTE_BOMBS = {
    "nested_lists": "1. " * 6666,
    "unclosed_links": "[" * 20000,
    "unclosed_images": "![" * 10000,
    "unclosed_tags": "<a " * 6666,
}


@pytest.mark.django_db
def test_a_note_is_rendered_when_saved_and_again_when_edited():
    evidence = EvidenceFactory(note="**Bank** pilot")
    assert evidence.note_html == "<p><strong>Bank</strong> pilot</p>"
    evidence.note = "*Two* banks"
    evidence.save(update_fields=["note"])
    evidence.refresh_from_db()
    assert evidence.note_html == "<p><em>Two</em> banks</p>"


@pytest.mark.django_db
@pytest.mark.parametrize("bomb", NOTE_BOMBS, ids=list(NOTE_BOMBS))
def test_finding2_a_note_bomb_leaves_the_company_page_and_review_queue_up(client, bomb):
    """Finding 2: one such note made the company page and every partner's review queue
    answer 500 (or run for minutes), the note's own delete button with them."""
    partner = MembershipFactory(role="partner")
    task = TaskFactory(company__fund=partner.fund)
    evidence = EvidenceFactory(task=task, note=NOTE_BOMBS[bomb], source="bomb")
    client.force_login(partner.user)
    page = client.get(reverse("company_detail", args=[task.company_id]))
    assert page.status_code == 200
    assert reverse("evidence_delete", args=[evidence.pk]) in page.content.decode()
    assert client.get(reverse("review_queue")).status_code == 200
    assert client.get(reverse("review_queue"), {"page": 1}).status_code == 200


@pytest.mark.django_db
def test_a_note_that_cannot_be_rendered_is_shown_as_plain_text(client, monkeypatch):
    partner = MembershipFactory(role="partner")
    task = TaskFactory(company__fund=partner.fund)

    def broken(text):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(notes._MARKDOWN, "render", broken)
    saved = EvidenceFactory(task=task, note="Saved <b>while</b> broken")
    assert saved.note_html == "<p>Saved &lt;b&gt;while&lt;/b&gt; broken</p>"
    # A row written without save() (an old bulk path) is rendered on the page: same fallback.
    unsaved = EvidenceFactory(task=task, note="Never *rendered*")
    Evidence.objects.filter(pk=unsaved.pk).update(note_html="")
    client.force_login(partner.user)
    for url in (reverse("company_detail", args=[task.company_id]), reverse("review_queue")):
        page = client.get(url)
        assert page.status_code == 200
        assert "Never *rendered*" in page.content.decode()
