"""The court's own case numbers as the platform receives them (legal-rules §A10): typed by a judge or a clerk from
the court's case management system, never made up here. One written form: full-width brackets, no spaces."""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.exceptions import InvalidInput


def normalise_court_number(raw: str, *, pattern: re.Pattern[str], court_code: str, kind: str,
                           shape_message: str) -> str:
    """``raw`` in its one written form, or InvalidInput saying what is wrong. ``pattern`` has the groups
    ``year`` and ``court``; ``kind`` (e.g. 民特, 民初) goes into the example ``shape_message`` shows as
    ``%(example)s``. Half-width brackets and spaces are forgiven (typed on a tablet)."""
    text = re.sub(r"\s+", "", raw or "").replace("(", "（").replace(")", "）")
    match = pattern.match(text)
    if match is None:
        example = _("（%(year)d）%(court)s%(kind)s123号") % {
            "year": timezone.localdate().year, "court": court_code or _("京0101"), "kind": kind,
        }
        raise InvalidInput(shape_message % {"example": example})
    year = int(match["year"])
    if not 2000 <= year <= timezone.localdate().year + 1:
        raise InvalidInput(_("案号中的年份“%(year)d”不正确。") % {"year": year})
    if court_code and match["court"] != court_code:
        raise InvalidInput(
            _("案号中的法院代字“%(found)s”与本院代字“%(code)s”不符。") % {"found": match["court"], "code": court_code}
        )
    return text
