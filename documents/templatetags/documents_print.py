"""Filters for the printed documents: Chinese dates, amounts in capitals, and a visible blank."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from mediation.agreement_text import rmb_capitals

register = template.Library()



def _parse(value: str) -> dt.datetime | dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return None


@register.filter
def cn_date(value: str) -> str:
    """``2026-03-05`` (or an ISO datetime) → ``2026年3月5日``."""
    parsed = _parse(value)
    if parsed is None:
        return value or ""
    return f"{parsed.year}年{parsed.month}月{parsed.day}日"


@register.filter
def cn_datetime(value: str) -> str:
    """An ISO datetime (already in local time) → ``2026年3月5日 14:30``."""
    parsed = _parse(value)
    if not isinstance(parsed, dt.datetime):
        return cn_date(value)
    return f"{parsed.year}年{parsed.month}月{parsed.day}日 {parsed:%H:%M}"


@register.filter
def cn_time(value: str) -> str:
    parsed = _parse(value)
    return f"{parsed:%H:%M}" if isinstance(parsed, dt.datetime) else ""


def amount_in_capitals(value: Decimal) -> str:
    """The amount as the agreement page showed it to the parties when they assented (one implementation)."""
    return rmb_capitals(value)


@register.filter
def capitals(value: str) -> str:
    try:
        return amount_in_capitals(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.filter
def or_blank(value: object) -> object:
    """A field the law asks for but the case does not have yet shows as such, never silently empty."""
    if value is None or value == "":
        return _("（未填写）")
    return value


@register.filter
def css_string(value: object) -> str:
    """Text for a CSS string in a <style> element (a raw-text element: HTML escaping would show literally)."""
    from django.utils.safestring import mark_safe

    out = []
    for char in str(value):
        if char in '\\"<>&\'' or ord(char) < 0x20:
            out.append(f"\\{ord(char):X} ")
        else:
            out.append(char)
    return mark_safe("".join(out))  # noqa: S308 - every character that could end the string or element is escaped
