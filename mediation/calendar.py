"""Working days and CPL 85 period ends on the PRC court calendar (legal-rules §B4, §A11 item 7).

Days are local dates in ``settings.TIME_ZONE`` (Asia/Shanghai); a period's due moment is the end of its last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache

import chinese_calendar
from chinese_calendar import constants as chinese_calendar_data
from django.utils import timezone

from mediation.models import HolidayOverride

# A preloaded view of HolidayOverride: date -> is_workday. Pass one mapping down a call chain so a
# computation over many days costs one query, not one per day.
Overrides = Mapping[dt.date, bool]

ONE_DAY = dt.timedelta(days=1)


@cache
def covered_years() -> range:
    """The years the chinesecalendar package has holiday and 调休 data for (it refuses any other year)."""
    years = {day.year for day in chinese_calendar_data.holidays}
    return range(min(years), max(years) + 1)


def last_covered_year() -> int:
    return covered_years()[-1]


def load_overrides(*, since: dt.date | None = None, until: dt.date | None = None) -> dict[dt.date, bool]:
    """The admin's holiday and make-up-workday rows, in one query."""
    rows = HolidayOverride.objects.all()
    if since is not None:
        rows = rows.filter(date__gte=since)
    if until is not None:
        rows = rows.filter(date__lte=until)
    return dict(rows.values_list("date", "is_workday"))


def is_working_day(day: dt.date, *, overrides: Overrides | None = None) -> bool:
    """Whether courts work on ``day``.

    An admin override wins; otherwise the chinesecalendar data (which knows 调休 make-up working days) for
    the years it covers; otherwise Monday to Friday. The weekday fallback knows no holidays, which is why
    the system check ``mediation.W001`` asks for overrides before an uncovered year begins.
    """
    if isinstance(day, dt.datetime):
        # A datetime's own date may be UTC's, not Beijing's: make the caller say which day it means.
        raise TypeError("is_working_day takes a local date; use mediation.calendar.local_day()")
    if overrides is None:
        overrides = load_overrides(since=day, until=day)
    if day in overrides:
        return overrides[day]
    if day.year in covered_years():
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5  # Monday is 0, Saturday 5


def add_working_days(start: dt.date, n: int, *, overrides: Overrides | None = None) -> dt.date:
    """The ``n``-th working day after ``start``; ``start`` itself is not counted (CPL 85)."""
    if n < 0:
        raise ValueError("n must not be negative")
    if overrides is None:
        overrides = load_overrides(since=start)
    day, counted = start, 0
    while counted < n:
        day += ONE_DAY
        if is_working_day(day, overrides=overrides):
            counted += 1
    return day


def working_days_between(after: dt.date, until: dt.date, *, overrides: Overrides | None = None) -> int:
    """How many working days fall in (``after``, ``until``]: after the first day, up to and including the last."""
    if overrides is None:
        overrides = load_overrides(since=after, until=until)
    count, day = 0, after + ONE_DAY
    while day <= until:
        count += is_working_day(day, overrides=overrides)
        day += ONE_DAY
    return count


def calendar_period_end(start: dt.date, n: int, *, overrides: Overrides | None = None) -> dt.date:
    """The last day of an ``n``-day period that starts on ``start``, under CPL 85.

    The start day is not counted, so the last day is ``start + n``. If that day is not a working day it
    rolls forward to the next working day. Our reading of CPL 85: its "statutory holiday" (法定休假日)
    covers the weekend rest days as well as the public holidays, as court practice treats them, while a
    调休 make-up working day that falls on a weekend is a working day and ends the period. Applying CPL 85
    to pre-filing mediation periods is itself an interpretation for the court to confirm (§A11 item 7).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if overrides is None:
        overrides = load_overrides(since=start)
    last = start + dt.timedelta(days=n)
    while not is_working_day(last, overrides=overrides):
        last += ONE_DAY
    return last


def years_period_end(start: dt.date, years: int, *, overrides: Overrides | None = None) -> dt.date:
    """The last day of a period of ``years`` years that starts on ``start`` (CPL 85): the day with the same
    month and day number ``years`` later (28 February for a start on 29 February in a year that has none),
    rolled forward past a rest day or holiday as ``calendar_period_end`` does."""
    if years < 0:
        raise ValueError("years must not be negative")
    try:
        last = start.replace(year=start.year + years)
    except ValueError:  # 29 February, and the target year is not a leap year
        last = start.replace(year=start.year + years, day=28)
    if overrides is None:
        overrides = load_overrides(since=last)
    while not is_working_day(last, overrides=overrides):
        last += ONE_DAY
    return last


def local_day(moment: dt.datetime) -> dt.date:
    """The court's calendar date of ``moment`` (the default time zone, whatever zone a request activated)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def day_end(day: dt.date) -> dt.datetime:
    """The end of ``day``: local midnight at the start of the next day, as an aware datetime."""
    return dt.datetime.combine(day + ONE_DAY, dt.time.min, tzinfo=timezone.get_default_timezone())


def last_day(due_at: dt.datetime) -> dt.date:
    """The last day of a period whose due moment (see ``day_end``) is ``due_at``."""
    return local_day(due_at - dt.timedelta(microseconds=1))
