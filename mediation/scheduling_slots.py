"""The first common free slot, by interval arithmetic over busy times and working hours. Pure: no ORM.

Conventions, shared with the brute-force reference in the tests:

- Every interval is half-open, ``[start, end)``, with aware datetimes: back-to-back sessions do not clash.
- A working-hours window means *wall-clock time in the person's own zone*: an instant is inside the window
  "Monday 09:00-18:00, America/Los_Angeles" when its local time there is a Monday between 09:00 (included)
  and 18:00 (excluded). Across a DST change the UTC offset differs from one day to the next, and on the
  change day itself the hour that is skipped or repeated is handled by that same rule.
- A person with no windows is available at any time (the caller decides what "no hours recorded" means).
- The horizon is the first ``days`` working days of the court's calendar (local dates in the court's zone,
  counting the day of ``after`` itself when it is one); a slot lies wholly inside those days.
- Candidate starts sit on a grid of ``granularity`` counted from the Unix epoch (so 15 minutes falls on :00,
  :15, :30, :45 in Beijing), at or after ``after``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
ONE_DAY = dt.timedelta(days=1)
# How far apart we sample a zone's UTC offset to find its DST changes; no zone changes twice within it.
_OFFSET_STEP = dt.timedelta(hours=12)
# A calendar that never yields a working day must not loop forever.
_MAX_SCAN_DAYS = 400
_FAR_FUTURE = dt.datetime(9999, 1, 1, tzinfo=UTC)

Interval = tuple[dt.datetime, dt.datetime]
K = TypeVar("K", bound=Hashable)  # whose calendar: a person, a room


@dataclass(frozen=True)
class Window:
    """One recurring stretch of availability: ``weekday`` (0 = Monday) from ``start`` to ``end``, local
    wall-clock time in ``time_zone`` (an IANA name)."""

    weekday: int
    start: dt.time
    end: dt.time
    time_zone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if self.end <= self.start:
            raise ValueError("a window ends after it starts (overnight windows are two windows)")


@lru_cache(maxsize=64)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


# --- interval algebra (inputs and outputs sorted by start, merged) ----------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping *and touching* intervals joined, empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a`` without ``b`` (both merged)."""
    out: list[Interval] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k, cursor = j, start
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def overlaps(a: Interval, b: Interval) -> bool:
    """Half-open overlap: ``[9:00, 10:00)`` and ``[10:00, 11:00)`` do not overlap."""
    return a[0] < b[1] and b[0] < a[1]


def contains(intervals: Sequence[Interval], span: Interval) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in intervals)


# --- wall-clock time -> UTC intervals ---------------------------------------------------------------------


def _offset(tz: zoneinfo.ZoneInfo, moment: dt.datetime) -> dt.timedelta:
    offset = moment.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def offset_segments(
    tz: zoneinfo.ZoneInfo, lo: dt.datetime, hi: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """``[lo, hi)`` cut where ``tz`` changes its UTC offset: (start, end, offset) pieces."""
    segments = []
    seg_start, current = lo, _offset(tz, lo)
    probe = lo
    second = dt.timedelta(seconds=1)
    while probe < hi:
        step = min(probe + _OFFSET_STEP, hi)
        check = step if step < hi else hi - dt.timedelta(microseconds=1)
        if check > probe and _offset(tz, check) != current:
            # Bisect: the offset is ``current`` at ``left`` and differs at ``right``.
            left, right = probe, check
            while right - left > second:
                middle = left + (right - left) / 2
                if _offset(tz, middle) == current:
                    left = middle
                else:
                    right = middle
            # Zones change on whole seconds: the first whole second after ``left``.
            change = left.replace(microsecond=0) + second
            segments.append((seg_start, change, current))
            seg_start, current, probe = change, _offset(tz, change), change
        else:
            probe = step
    segments.append((seg_start, hi, current))
    return [s for s in segments if s[0] < s[1]]


def wall_intervals(
    tz_name: str,
    lo: dt.datetime,
    hi: dt.datetime,
    spans_for_date: Callable[[dt.date], Iterable[tuple[dt.time, dt.time | None]]],
) -> list[Interval]:
    """The instants in ``[lo, hi)`` whose local date ``d`` and time ``t`` in ``tz_name`` satisfy
    ``start <= t < end`` for some ``(start, end)`` in ``spans_for_date(d)`` (``end`` None: to midnight)."""
    tz = zone(tz_name)
    lo, hi = to_utc(lo), to_utc(hi)
    out: list[Interval] = []
    for seg_lo, seg_hi, off in offset_segments(tz, lo, hi):
        # Within the segment the wall clock reads ``instant + off``.
        wall_lo = (seg_lo + off).replace(tzinfo=None)
        wall_hi = (seg_hi + off).replace(tzinfo=None)
        day = wall_lo.date()
        while day <= wall_hi.date():
            for start, end in spans_for_date(day):
                w0 = dt.datetime.combine(day, start)
                w1 = dt.datetime.combine(day + ONE_DAY, dt.time.min) if end is None else dt.datetime.combine(day, end)
                t0 = max((w0 - off).replace(tzinfo=UTC), seg_lo)
                t1 = min((w1 - off).replace(tzinfo=UTC), seg_hi)
                if t0 < t1:
                    out.append((t0, t1))
            day += ONE_DAY
    return merge(out)


def available(windows: Sequence[Window], lo: dt.datetime, hi: dt.datetime) -> list[Interval]:
    """When someone with these working-hours ``windows`` is available within ``[lo, hi)``."""
    by_zone: dict[str, dict[int, list[tuple[dt.time, dt.time | None]]]] = {}
    for w in windows:
        by_zone.setdefault(w.time_zone, {}).setdefault(w.weekday, []).append((w.start, w.end))
    pieces: list[Interval] = []
    for tz_name, by_day in by_zone.items():
        pieces.extend(wall_intervals(tz_name, lo, hi, _by_weekday(by_day)))
    return merge(pieces)


def _by_weekday(
    by_day: Mapping[int, Sequence[tuple[dt.time, dt.time | None]]],
) -> Callable[[dt.date], Sequence[tuple[dt.time, dt.time | None]]]:
    def spans(day: dt.date) -> Sequence[tuple[dt.time, dt.time | None]]:
        return by_day.get(day.weekday(), ())

    return spans


# --- the horizon and the search ---------------------------------------------------------------------------


def to_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    return moment.astimezone(UTC)


def ceil_to_grid(moment: dt.datetime, granularity: dt.timedelta) -> dt.datetime:
    steps = -((EPOCH - moment) // granularity)  # ceiling division
    return EPOCH + steps * granularity


def working_days(
    after: dt.datetime, days: int, is_working_day: Callable[[dt.date], bool], court_time_zone: str
) -> list[dt.date]:
    """The first ``days`` working days on or after the court-local date of ``after``."""
    day = after.astimezone(zone(court_time_zone)).date()
    found: list[dt.date] = []
    for _ in range(_MAX_SCAN_DAYS):
        if len(found) >= days:
            break
        if is_working_day(day):
            found.append(day)
        day += ONE_DAY
    return found


def horizon(
    after: dt.datetime, days: int, is_working_day: Callable[[dt.date], bool], court_time_zone: str
) -> list[Interval]:
    """The instants from ``after`` to the end of the ``days``-th working day that fall on working days."""
    dates = working_days(after, days, is_working_day, court_time_zone)
    if not dates:
        return []
    chosen = set(dates)
    lo = to_utc(after)
    hi = dt.datetime.combine(dates[-1] + ONE_DAY * 2, dt.time.min, tzinfo=UTC)  # generous; clipped below
    whole_day: tuple[tuple[dt.time, None], ...] = ((dt.time.min, None),)
    return wall_intervals(court_time_zone, lo, hi, lambda day: whole_day if day in chosen else ())


def free_slots(
    *,
    busy: Mapping[K, Iterable[Interval]],
    hours: Mapping[K, Sequence[Window]],
    duration: dt.timedelta,
    after: dt.datetime,
    days: int,
    is_working_day: Callable[[dt.date], bool],
    granularity: dt.timedelta = dt.timedelta(minutes=15),
    court_time_zone: str = "Asia/Shanghai",
    limit: int = 5,
) -> list[Interval]:
    """Up to ``limit`` slots of ``duration`` free for everyone, earliest first, none overlapping the next.

    ``busy`` maps a person (or a room: any key) to their busy intervals; ``hours`` maps a person to their
    working-hours windows (absent or empty: available at any time). The first slot returned is the first
    common free slot: no earlier grid start has ``[start, start + duration)`` free for all.
    """
    if duration <= dt.timedelta(0):
        raise ValueError("duration must be positive")
    if granularity <= dt.timedelta(0):
        raise ValueError("granularity must be positive")
    if days <= 0 or limit <= 0:
        return []
    start = ceil_to_grid(to_utc(after), granularity)
    free = intersect(horizon(after, days, is_working_day, court_time_zone), [(start, _FAR_FUTURE)])
    if not free:
        return []
    lo, hi = free[0][0], free[-1][1]
    for windows in hours.values():
        if windows:
            free = intersect(free, available(windows, lo, hi))
            if not free:
                return []
    taken = merge(
        (max(to_utc(b0), lo), min(to_utc(b1), hi))
        for intervals in busy.values() for b0, b1 in intervals
    )
    free = merge(subtract(free, taken))
    found: list[Interval] = []
    cursor = start
    for f0, f1 in free:
        candidate = ceil_to_grid(max(f0, cursor), granularity)
        while candidate + duration <= f1:
            found.append((candidate, candidate + duration))
            if len(found) >= limit:
                return found
            cursor = candidate + duration
            candidate = ceil_to_grid(cursor, granularity)
    return found


def first_free_slot(
    *,
    busy: Mapping[K, Iterable[Interval]],
    hours: Mapping[K, Sequence[Window]],
    duration: dt.timedelta,
    after: dt.datetime,
    days: int,
    is_working_day: Callable[[dt.date], bool],
    granularity: dt.timedelta = dt.timedelta(minutes=15),
    court_time_zone: str = "Asia/Shanghai",
) -> Interval | None:
    """The earliest slot of ``duration`` that everyone has free, or None within the horizon."""
    found = free_slots(
        busy=busy, hours=hours, duration=duration, after=after, days=days, is_working_day=is_working_day,
        granularity=granularity, court_time_zone=court_time_zone, limit=1,
    )
    return found[0] if found else None
