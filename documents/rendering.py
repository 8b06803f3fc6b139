"""HTML to PDF with WeasyPrint, with a CJK font embedded (never tofu boxes)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache


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


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
