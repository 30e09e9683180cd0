"""Server-side rendering of memo figures: PNG, SVG, PDF (Kaleido + Chromium), slides, IC packs.

One warm Kaleido server per process, started on first use: a cold start costs a
browser launch (≈ 2–4 s), a warm render 0.1–0.3 s. Kaleido's server is not
thread-safe (concurrent calls receive each other's images), so every call holds
one lock.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import threading
import zlib
from collections.abc import Iterable

import plotly.graph_objects as go

from ..charts import memo

FORMATS = ("png", "svg", "pdf")
DPI = 300
CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "csv": "text/csv; charset=utf-8",
}
INSTALL_HINT = (
    "Chart export needs Chromium on the server: install chromium: apt-get install chromium "
    "(or point BROWSER_PATH at a Chrome/Chromium binary). The chart's own "
    '"Download plot as PNG" button still works in the browser.'
)

_lock = threading.Lock()


class ExportUnavailable(RuntimeError):
    """No browser to render with: the message says what to install."""


def browser_path() -> str | None:
    """The Chromium to render with: settings.BROWSER_PATH if it exists, else one on PATH."""
    from django.conf import settings

    configured = getattr(settings, "BROWSER_PATH", "") or os.environ.get("BROWSER_PATH", "")
    if configured and os.access(configured, os.X_OK):
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _server_alive(kaleido) -> bool:
    server = kaleido._global_server
    thread = getattr(server, "_thread", None)
    return server.is_running() and thread is not None and thread.is_alive()


def _ensure_server(kaleido) -> None:
    """Start the process's Kaleido server once; restart it if its browser died."""
    path = browser_path()
    if path is None:
        raise ExportUnavailable(INSTALL_HINT)
    if _server_alive(kaleido):
        return
    if kaleido._global_server.is_running():
        # A dead server thread would make every later call wait forever: reset it.
        kaleido._global_server._initialized = False
    kaleido.start_sync_server(path=path, mathjax=False, silence_warnings=True)


def stop_server() -> None:
    import kaleido

    with _lock:
        if kaleido._global_server.is_running():
            kaleido.stop_sync_server(silence_warnings=True)


def _render(fig: go.Figure | dict, fmt: str, scale: float) -> bytes:
    import kaleido

    with _lock:
        _ensure_server(kaleido)
        try:
            return kaleido.calc_fig_sync(fig, opts={"format": fmt, "scale": scale})
        except (RuntimeError, OSError) as error:
            if browser_path() is None:
                raise ExportUnavailable(INSTALL_HINT) from error
            raise


def _png_with_dpi(png: bytes, dpi: int) -> bytes:
    """Record the resolution in the PNG (a pHYs chunk) so word processors size it right."""
    per_metre = round(dpi / 0.0254)
    data = struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", len(data)) + b"pHYs" + data
    chunk += struct.pack(">I", zlib.crc32(b"pHYs" + data) & 0xFFFFFFFF)
    header_end = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return png[:header_end] + chunk + png[header_end:]


def _svg_in_inches(svg: bytes, fig: go.Figure | dict) -> bytes:
    """Give the SVG its physical size: one user unit is one point (figures are laid out in pt)."""
    layout = fig["layout"] if isinstance(fig, dict) else fig.layout
    width_in = layout["width"] / memo.PX_PER_INCH
    height_in = layout["height"] / memo.PX_PER_INCH
    head, rest = svg.split(b">", 1)
    head = re.sub(rb' width="[^"]*"', f' width="{width_in:g}in"'.encode(), head, count=1)
    head = re.sub(rb' height="[^"]*"', f' height="{height_in:g}in"'.encode(), head, count=1)
    return head + b">" + rest


def render(fig: go.Figure | dict, fmt: str) -> bytes:
    """The figure as PNG (300 dpi: inches x 300 pixels), SVG, or PDF (inches x 72 points)."""
    if fmt == "png":
        return _png_with_dpi(_render(fig, "png", DPI / memo.PX_PER_INCH), DPI)
    if fmt == "svg":
        return _svg_in_inches(_render(fig, "svg", 1), fig)
    if fmt == "pdf":
        # Chromium prints 96 px to the inch; the figure is laid out at 72.
        return _render(fig, "pdf", 96 / memo.PX_PER_INCH)
    raise ValueError(f"Unknown chart format {fmt!r}; expected one of {FORMATS}.")


def slide_pptx(picture_png: bytes, text: memo.ChartText) -> bytes:
    """A 16:9 slide: the chart (drawn at memo.SLIDE_BODY) as a picture filling the body,
    title, subtitle and footnote as real text boxes."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    deck = Presentation()
    # PowerPoint's own 16:9 size (13.333 x 7.5 in).
    deck.slide_width, deck.slide_height = Emu(12192000), Emu(6858000)
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank

    def box(left, top, width, height, lines: Iterable[tuple[str, float, bool]], name: str):
        shape = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
        shape.name = name
        frame = shape.text_frame
        frame.word_wrap = True
        for n, (line, size, bold) in enumerate(lines):
            paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
            run = paragraph.add_run()
            run.text = line
            run.font.size = Pt(size)
            run.font.bold = bold
            run.font.name = "Liberation Sans"
            run.font.color.rgb = RGBColor(0x22, 0x22, 0x22) if bold else RGBColor(0x55, 0x55, 0x55)
        return shape

    body = memo.SLIDE_BODY
    box(0.5, 0.2, 12.3, 0.95, [(text.title, 26, True), (text.subtitle, 14, False)], "Title")
    # The picture was drawn at the body's size (memo.SLIDE_BODY): placed at that size, its
    # text keeps the slide's point sizes, and it fills the body between title and footnote.
    left, top = (13.333 - body.width_in) / 2, 1.2
    picture = slide.shapes.add_picture(
        io.BytesIO(picture_png),
        Inches(left),
        Inches(top),
        width=Inches(body.width_in),
        height=Inches(body.height_in),
    )
    picture.name = "Chart"
    box(0.5, top + body.height_in + 0.05, 12.3, 0.85, [(text.footnote, 12, False)], "Footnote")
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
