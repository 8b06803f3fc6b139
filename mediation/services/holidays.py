"""Entering the court calendar's holidays and 调休 make-up working days by hand (legal-rules §B4).

An override changes which days count, so every open clock whose period reaches that day is recomputed
in the same transaction: a period computed on the weekends-only fallback before the State Council's
notice was entered gets the holidays once they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mediation.exceptions import InvalidInput
from mediation.models import HolidayOverride, User
from mediation.services.audit import audit_append
from mediation.services.timers import timers_recompute

STREAM = "platform"


def _check_date(date: object) -> dt.date:
    # A datetime is a date too; refuse it, as calendar.is_working_day does: its day depends on the zone.
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise InvalidInput(_("请填写日期。"))
    return date


def _row_data(row: HolidayOverride) -> dict[str, Any]:
    return {"date": row.date.isoformat(), "is_workday": row.is_workday, "name": row.name}


def holiday_override_set(*, date: dt.date, is_workday: bool, name: str, actor: User | None) -> HolidayOverride:
    """Enter or change the working status of ``date``, then recompute the open timers it may move."""
    date = _check_date(date)
    name = name.strip()
    max_length = HolidayOverride._meta.get_field("name").max_length or 0
    if len(name) > max_length:
        raise InvalidInput(_("名称不能超过 %(n)s 个字。") % {"n": max_length})
    with transaction.atomic():
        row, created = HolidayOverride.objects.select_for_update().get_or_create(
            date=date, defaults={"is_workday": is_workday, "name": name}
        )
        previous = None if created else _row_data(row)
        if not created:
            if row.is_workday == is_workday and row.name == name:
                return row  # nothing changed: nothing to record or recompute
            row.is_workday, row.name = is_workday, name
            row.save(update_fields=["is_workday", "name"])
        audit_append(
            kind="holiday.set", actor=actor, stream=STREAM, data={**_row_data(row), "previous": previous}
        )
        if previous is None or previous["is_workday"] != is_workday:
            timers_recompute(affected_from=date, actor=actor, cause={"holiday": "set", **_row_data(row)})
    return row


def holiday_override_delete(*, date: dt.date, actor: User | None) -> None:
    """Remove the override for ``date`` (the day falls back to the package data or to Monday-Friday), then
    recompute the open timers it may move."""
    date = _check_date(date)
    with transaction.atomic():
        row = HolidayOverride.objects.select_for_update().filter(date=date).first()
        if row is None:
            raise InvalidInput(_("%(date)s 没有节假日调整记录。") % {"date": date.isoformat()})
        data = _row_data(row)
        row.delete()
        audit_append(kind="holiday.deleted", actor=actor, stream=STREAM, data=data)
        timers_recompute(affected_from=date, actor=actor, cause={"holiday": "deleted", **data})
