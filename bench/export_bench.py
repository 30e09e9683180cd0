"""Memo chart export times: cold (first export, starts the browser) and warm, beside
Kaleido's own warm render of the same figure; and the interactive map's figure size at
1,000 bubbles (the JSON the map's htmx region carries).

    python bench/export_bench.py [companies]
"""

import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moatapp.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

import kaleido  # noqa: E402

from assessments import scoring  # noqa: E402
from assessments.charts import base, memo  # noqa: E402
from assessments.charts import screen as screen_charts  # noqa: E402
from assessments.exports import render as rendering  # noqa: E402


def points(count: int) -> list[base.PlotPoint]:
    rng = random.Random(1)
    result = []
    for n in range(count):
        x, y = rng.uniform(5, 95), rng.uniform(5, 95)
        quadrant = scoring.quadrant_of(x, y, 0.6)
        size = rng.uniform(1e6, 2e7)
        result.append(base.PlotPoint(n, n, f"Company {n}", x, y, size, 0.6, quadrant, quadrant))
    return result


def figure_bytes(count: int = 1000) -> None:
    """The interactive map's figure as the page serialises it (json_script's separators)."""
    import json

    rng = random.Random(2)
    bubbles = [
        base.PlotPoint(
            n, n, f"Company {n}", p.x, p.y, p.size, rng.random(), p.quadrant, p.group,
            hover=(f"Company {n}", f"Fund {n % 3}", f"Sector {n % 11}", "Seed",
                   p.quadrant, f"{rng.uniform(0, 9):.1f} y", str(rng.randint(0, 40))),
        )
        for n, p in enumerate(points(count))
    ]  # fmt: skip
    figure = screen_charts.interactive_map(
        bubbles, as_of=date(2026, 6, 30), rubric=scoring.DEFAULT_RUBRIC, size_reference=2e7
    )
    per_point = sum(len(json.dumps(t.get("customdata", []))) for t in figure["data"])
    print(
        f"map figure at {count:,} bubbles: {len(json.dumps(figure)):,} bytes "
        f"({per_point:,} of them hover data)"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    figure_bytes()
    text = memo.ChartText("Portfolio map", "Bench fund · per company", "As of 30 Jun 2026.")

    def build():
        return memo.memo_map(
            points(count), rubric=scoring.DEFAULT_RUBRIC, as_of=date(2026, 6, 30), text=text
        )

    start = time.perf_counter()
    rendering.render(build(), "png")
    cold = time.perf_counter() - start
    print(f"{count} companies, memo PNG at 300 dpi")
    print(f"cold export (browser start + figure + render): {cold:.2f} s")
    for fmt in ("png", "svg", "pdf"):
        warm, bare = [], []
        for _ in range(5):
            start = time.perf_counter()
            fig = build()
            rendering.render(fig, fmt)
            warm.append(time.perf_counter() - start)
            scale = {"png": 300 / 72, "svg": 1, "pdf": 96 / 72}[fmt]
            start = time.perf_counter()
            kaleido.calc_fig_sync(fig, opts={"format": fmt, "scale": scale})
            bare.append(time.perf_counter() - start)
        print(
            f"warm {fmt}: export {statistics.median(warm):.3f} s (median of 5) · "
            f"Kaleido alone {statistics.median(bare):.3f} s"
        )
    rendering.stop_server()


if __name__ == "__main__":
    main()
