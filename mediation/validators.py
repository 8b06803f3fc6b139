"""Validators for identifiers used in Chinese court practice."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def clean_single_line(value: str) -> str:
    """``value`` as one line of text that may be stored and shown: line breaks (CR, LF, which would split a
    header or a log line) and tabs become spaces, other control characters (NUL, which PostgreSQL text and
    jsonb refuse) are dropped, and runs of spaces become one."""
    kept = []
    for ch in value or "":
        category = unicodedata.category(ch)
        if ch.isspace():
            kept.append(" ")
        elif category != "Cc":
            kept.append(ch)
    return " ".join("".join(kept).split())


def resident_id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_resident_id(value: str) -> None:
    """Validate an 18-character PRC resident ID number (GB 11643-1999), naming what is wrong."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise ValidationError(
            _("居民身份证号码应为18位，当前为%(n)d位。") % {"n": len(number)}, code="id_length"
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("居民身份证号码前17位应为数字，最后一位应为数字或X。"), code="id_chars")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("居民身份证号码中的出生日期 %(d)s 不是有效日期。") % {"d": number[6:14]}, code="id_birthdate"
        ) from None
    if birth.year < 1900 or birth > dt.date.today():  # noqa: DTZ011 - a birth date has no time zone
        raise ValidationError(
            _("居民身份证号码中的出生日期 %(d)s 不在合理范围内。") % {"d": number[6:14]}, code="id_birthdate"
        )
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("居民身份证号码校验位错误：最后一位应为 %(c)s，请核对号码。") % {"c": expected}, code="id_checksum"
        )


def mask_resident_id(value: str) -> str:
    """Show only enough of an ID number to recognise it: the first 3 and last 2 characters."""
    if not value:
        return ""
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_phone(phone: str) -> str:
    """``138****5678``: enough to recognise one's own number, not enough to call it."""
    phone = (phone or "").strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def validate_mobile(value: str) -> None:
    if not _PHONE_RE.match((value or "").strip()):
        raise ValidationError(_("手机号码应为以1开头的11位数字。"), code="phone")


def validate_uscc(value: str) -> None:
    """Unified social credit code (GB 32100-2015): shape only; the checksum is left to the registry."""
    if not _USCC_RE.match((value or "").strip().upper()):
        raise ValidationError(_("统一社会信用代码应为18位数字或大写字母。"), code="uscc")


# A first-instance civil case number as the court's case management system assigns it, e.g.
# （2026）京0101民初123号: year, the province's one-character abbreviation and the court's digits, 民初, a serial
# number (legal-rules §A10, §A12: court-connected cases are filed as 民初 since 2025). Checked for shape only:
# the platform never makes a number up.
_PROVINCES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青蒙桂藏宁新兵"
_CIVIL_FIRST_INSTANCE_RE = re.compile(rf"^[（(](\d{{4}})[）)][{_PROVINCES}]\d{{2,4}}民初\d{{1,6}}号$")


def validate_first_instance_civil_number(value: str) -> None:
    match = _CIVIL_FIRST_INSTANCE_RE.match(value or "")
    if match is None or not 1990 <= int(match.group(1)) <= timezone.localdate().year + 1:
        raise ValidationError(
            _("法院案号“%(value)s”格式有误：请照录法院案件管理系统给出的民事一审案号，例如（2026）京0101民初123号。")
            % {"value": value}
        )
