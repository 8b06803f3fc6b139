"""Start-up check: documents in Chinese need a CJK font, or they render as boxes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, register

from documents.rendering import cjk_font_available


@register()
def check_cjk_font(*, app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if cjk_font_available():
        return []
    return [
        Error(
            "No font covering Chinese is installed: PDFs would show empty boxes instead of characters.",
            hint="Install Debian's fonts-noto-cjk (make test does) or fonts-wqy-microhei.",
            id="documents.E001",
        )
    ]
