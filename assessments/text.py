"""The one cleaning step for text at the edge, shared by the forms, the CSV import and the
models' validators: what is stored is what every page and export can render.

Control characters (C0, DEL, C1) break the exports — Kaleido, the PDF writer and the slide
writer refuse them — and are invisible on screen, so they are removed; newline and tab stay
in free text. A name is one line: its line breaks become spaces, and the bidirectional
controls that would reorder the text around it on every list are removed.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t]+")


def _cleaned(value: str, single_line: bool) -> str:
    if single_line:
        value = _BIDI_CONTROLS.sub("", _LINE_BREAKS.sub(" ", value).replace("\t", " "))
        return _CONTROL.sub("", value)
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", value))


def clean_text(value: str, *, single_line: bool = False) -> str:
    """The text as stored: line breaks normalised, control characters removed, trimmed
    (a name's inner runs of spaces made one)."""
    value = _cleaned(value, single_line).strip()
    return _SPACES.sub(" ", value) if single_line else value


@deconstructible
class CleanText:
    """A model validator: refuses text the cleaning step would have changed, so that a row
    written by any path other than a form or the import (the admin, a script) holds too."""

    def __init__(self, single_line: bool = False):
        self.single_line = single_line

    def __call__(self, value: str) -> None:
        if value != _cleaned(value, self.single_line):
            kind = "line breaks or control characters" if self.single_line else "control characters"
            raise ValidationError(f"Remove the {kind}.", code="unclean_text")

    def __eq__(self, other) -> bool:
        return isinstance(other, CleanText) and other.single_line == self.single_line
