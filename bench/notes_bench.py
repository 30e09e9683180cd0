"""Note bombs: how long the renderer takes on the notes that once took a fund's pages down.

Each is a note of about 20,000 characters (the longest a note may be) that Python-Markdown
rendered in quadratic time or not at all. Printed as rows of `make bench`'s table, or alone:
`python bench/notes_bench.py`. The figure is the slowest of REPEAT renders (parse, render
and sanitise), so a machine busy with other jobs shows its worst.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assessments.notes import render_note

REPEAT = 5
BOMBS = {
    '"1. " x 6666 (nested lists)': "1. " * 6666,
    '"[" x 20000 (unclosed links)': "[" * 20000,
    '"![" x 10000 (unclosed images)': "![" * 10000,
    '"<a " x 6666 (unclosed tags)': "<a " * 6666,
    # Not in the finding: a "]" at the end keeps every "[" a possible link.
    '"[" x 19999 + "]"': "[" * 19999 + "]",
}


def note_bomb_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for label, note in BOMBS.items():
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            render_note(note)
            times.append(time.perf_counter() - started)
        rows.append(
            (
                f"note bomb {label}",
                f"{max(times) * 1000:.1f} ms",
                f"{len(note):,} characters, slowest of {REPEAT}",
                "no target" if "+" in label else "target < 100 ms",
            )
        )
    return rows


if __name__ == "__main__":
    from common import print_table

    print_table(note_bomb_rows(), "Note bombs: render and sanitise, one note each")
