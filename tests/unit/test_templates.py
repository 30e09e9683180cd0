"""Template hygiene that Django does not check for us."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_comment_spans_lines():
    # Django's {# … #} ends at the line's end: a comment over two lines is shown to the user.
    broken = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert not broken, f"multi-line {{# #}} comments (use {{% comment %}}): {broken}"
