"""HTML to PDF with WeasyPrint, with a CJK font embedded and subset (never tofu boxes).

``renderer()`` is the long-lived renderer of a worker process: it parses the shared print stylesheet and
keeps one ``FontConfiguration`` (fontconfig's font list, loaded faces) for every render, which is most of
the cost of a first render. It also reads where the signature boxes landed from WeasyPrint's layout, so the
signing step can place each visible signature over its box.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

# The CJK families the templates ask for, first choice first (Debian fonts-noto-cjk, then WenQuanYi).
CJK_FONTS = '"Noto Serif CJK SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", serif'
PRINT_CSS = Path(__file__).parent / "templates" / "documents" / "print.css"
# Elements whose id starts with this are signature boxes; the rest of the id is the signature field name.
SIGNATURE_BOX_PREFIX = "sig-"
# PDF/A-2b: tried and kept (see docs/decisions.md D18): WeasyPrint 70 writes it with the fonts still
# embedded and subset, and pdfinfo/pdffonts read it. "pdf/a-3b" would also do; 2b forbids attachments we
# do not have, and is what archives ask for.
PDF_VARIANT = "pdf/a-2b"
SRGB_KEY = "yizhan-srgb"
CSS_PX_TO_PT = 0.75  # WeasyPrint lays out in CSS px (1/96 in); PDF user space is in points (1/72 in)

Rect = tuple[float, float, float, float]


@cache
def cjk_font_available() -> bool:
    """Whether fontconfig knows a font that covers Chinese (Noto CJK or WenQuanYi from the OS)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    # A fixed argument list to a binary found on PATH: no user input reaches it.
    result = subprocess.run(  # noqa: S603
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20, check=False
    )
    return bool(result.stdout.strip())


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    # field name -> (page index from 0, (x1, y1, x2, y2) in PDF points, origin at the page's bottom left)
    signature_boxes: dict[str, tuple[int, Rect]] = field(default_factory=dict)


class Renderer:
    """One per process (``renderer()``). WeasyPrint's font configuration is not safe to share between
    threads mid-render, so renders in one process take turns; run more processes to go wider."""

    def __init__(self, *, pdf_variant: str | None = PDF_VARIANT, subset_font: Path | None = None) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from documents.fonts import font_path, with_subset_font

        self.pdf_variant = pdf_variant
        self.font_config = FontConfiguration()
        # The pre-subset print font when it has been built (documents/fonts.py), the full Noto after it.
        css = with_subset_font(PRINT_CSS.read_text(encoding="utf-8"), subset_font or font_path())
        self.stylesheet = CSS(string=css, font_config=self.font_config)
        self.image_cache: dict[str, Any] = {}
        self.color_profiles = {SRGB_KEY: _srgb_profile()} if pdf_variant else {}
        self._lock = threading.Lock()

    def render(self, html: str, *, base_url: str | None = None) -> Rendered:
        from weasyprint import HTML

        with self._lock:
            options: dict[str, Any] = {}
            if self.pdf_variant:
                # Our own sRGB output intent: WeasyPrint 70's default one opens its ICC file on every
                # write and never closes it (a ResourceWarning per document).
                options = {"pdf_variant": self.pdf_variant, "output_intent": SRGB_KEY}
            document = HTML(string=html, base_url=base_url).render(
                stylesheets=[self.stylesheet], font_config=self.font_config, cache=self.image_cache,
                color_profiles=dict(self.color_profiles), **options,
            )
            boxes = signature_boxes_of(document)
            pdf: bytes = document.write_pdf(**options)
        return Rendered(pdf=pdf, pages=len(document.pages), signature_boxes=boxes)


def _srgb_profile() -> Any:
    from importlib.resources import files

    from weasyprint.css import ColorProfile

    with (files("weasyprint.pdf") / "sRGB2014.icc").open("rb") as handle:
        return ColorProfile(handle, "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))


def signature_boxes_of(document: Any) -> dict[str, tuple[int, Rect]]:
    """Where each ``id="sig-<field>"`` element was laid out: its page and border box in PDF points."""
    found: dict[str, tuple[int, Rect]] = {}
    for index, page in enumerate(document.pages):
        height = page.height
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or getattr(box, "element_tag", None) != element.tag:
                continue
            ident = element.get("id") or ""
            if not ident.startswith(SIGNATURE_BOX_PREFIX):
                continue
            name = ident[len(SIGNATURE_BOX_PREFIX):]
            if name in found:
                continue  # the first (outermost) box of the element; a box never splits (break-inside: avoid)
            x, y = box.border_box_x(), box.border_box_y()
            w, h = box.border_width(), box.border_height()
            found[name] = (index, (
                round(x * CSS_PX_TO_PT, 2), round((height - y - h) * CSS_PX_TO_PT, 2),
                round((x + w) * CSS_PX_TO_PT, 2), round((height - y) * CSS_PX_TO_PT, 2),
            ))
    return found


_local = threading.local()


def renderer() -> Renderer:
    """The process's long-lived renderer (one per thread, so threads never wait on each other's lock)."""
    current: Renderer | None = getattr(_local, "renderer", None)
    if current is None:
        current = Renderer()
        _local.renderer = current
    return current


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """A one-off render with the document's own styles only (the e-service certificate)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
