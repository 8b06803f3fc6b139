"""The pure free-slot search (mediation/scheduling_slots.py): edges by hand, then random calendars against a
brute-force minute-by-minute reference, with people in other time zones and across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediation.scheduling_slots import (
    Window,
    available,
    ceil_to_grid,
    first_free_slot,
    free_slots,
    horizon,
    merge,
    offset_segments,
    overlaps,
    subtract,
)

BEIJING = ZoneInfo("Asia/Shanghai")
LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def bj(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BEIJING)


def weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


OFFICE = [Window(d, dt.time(9), dt.time(18), "Asia/Shanghai") for d in range(7)]


# --- by hand ------------------------------------------------------------------------------------------------


def test_half_open_intervals_do_not_overlap_back_to_back():
    assert not overlaps((bj(2026, 3, 4, 9), bj(2026, 3, 4, 10)), (bj(2026, 3, 4, 10), bj(2026, 3, 4, 11)))
    assert overlaps((bj(2026, 3, 4, 9), bj(2026, 3, 4, 10, 1)), (bj(2026, 3, 4, 10), bj(2026, 3, 4, 11)))


def test_merge_joins_touching_intervals_and_subtract_cuts_holes():
    a = merge([(bj(2026, 3, 4, 10), bj(2026, 3, 4, 11)), (bj(2026, 3, 4, 9), bj(2026, 3, 4, 10))])
    assert a == [(bj(2026, 3, 4, 9), bj(2026, 3, 4, 11))]
    assert subtract(a, [(bj(2026, 3, 4, 9, 30), bj(2026, 3, 4, 10))]) == [
        (bj(2026, 3, 4, 9), bj(2026, 3, 4, 9, 30)), (bj(2026, 3, 4, 10), bj(2026, 3, 4, 11))
    ]


def test_first_free_slot_starts_right_after_a_busy_session():
    busy = {"mediator": [(bj(2026, 3, 4, 9), bj(2026, 3, 4, 10))]}
    slot = first_free_slot(busy=busy, hours={"mediator": OFFICE}, duration=HOUR, after=bj(2026, 3, 4, 8),
                           days=1, is_working_day=weekdays)
    assert slot == (bj(2026, 3, 4, 10), bj(2026, 3, 4, 11))


def test_a_gap_one_minute_too_short_is_skipped():
    busy = {
        "mediator": [(bj(2026, 3, 4, 9), bj(2026, 3, 4, 10))],
        "lawyer": [(bj(2026, 3, 4, 10, 59), bj(2026, 3, 4, 12))],
    }
    slot = first_free_slot(busy=busy, hours={"mediator": OFFICE, "lawyer": OFFICE}, duration=HOUR,
                           after=bj(2026, 3, 4, 8), days=1, is_working_day=weekdays)
    assert slot == (bj(2026, 3, 4, 12), bj(2026, 3, 4, 13))


def test_the_slot_must_suit_an_overseas_participant_in_their_own_hours():
    # 09:00-12:00 in Los Angeles (PST, UTC-8) on Tuesday 3 March is 01:00-04:00 Beijing on Wednesday.
    hours = {
        "mediator": [Window(d, dt.time(0), dt.time(23, 59), "Asia/Shanghai") for d in range(7)],
        "party": [Window(1, dt.time(9), dt.time(12), "America/Los_Angeles")],
    }
    slot = first_free_slot(busy={}, hours=hours, duration=HOUR, after=bj(2026, 3, 2, 0), days=5,
                           is_working_day=weekdays)
    assert slot == (bj(2026, 3, 4, 1), bj(2026, 3, 4, 2))


def test_the_same_local_hours_move_in_utc_when_the_clocks_change():
    # London's 09:00 is 09:00 UTC before 29 March 2026 and 08:00 UTC after.
    windows = [Window(d, dt.time(9), dt.time(10), "Europe/London") for d in range(7)]
    lo, hi = dt.datetime(2026, 3, 27, tzinfo=dt.UTC), dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    starts = [start.astimezone(dt.UTC).hour for start, _end in available(windows, lo, hi)]
    assert starts == [9, 9, 8, 8]


def test_the_repeated_hour_of_a_fall_back_day_counts_twice():
    # 1 November 2026 in Los Angeles: 01:00-02:00 happens twice, so 00:30-02:30 lasts three hours.
    windows = [Window(6, dt.time(0, 30), dt.time(2, 30), "America/Los_Angeles")]
    spans = available(windows, dt.datetime(2026, 10, 31, tzinfo=dt.UTC), dt.datetime(2026, 11, 3, tzinfo=dt.UTC))
    assert [(b - a) for a, b in spans] == [dt.timedelta(hours=3)]


def test_offset_segments_find_the_change_to_the_second():
    segments = offset_segments(LA, dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 20, tzinfo=dt.UTC))
    assert [s[1] for s in segments[:-1]] == [dt.datetime(2026, 3, 8, 10, tzinfo=dt.UTC)]


def test_the_horizon_counts_working_days_only():
    # From Friday 6 March: Friday, Monday, Tuesday.
    spans = horizon(bj(2026, 3, 6, 15), 3, weekdays, "Asia/Shanghai")
    assert spans == [(bj(2026, 3, 6, 15), bj(2026, 3, 7)), (bj(2026, 3, 9), bj(2026, 3, 11))]


def test_nothing_free_within_the_horizon_gives_none():
    busy = {"mediator": [(bj(2026, 3, 4), bj(2026, 3, 6))]}
    assert first_free_slot(busy=busy, hours={}, duration=HOUR, after=bj(2026, 3, 4), days=2,
                           is_working_day=weekdays) is None


def test_free_slots_lists_several_without_overlap():
    found = free_slots(busy={}, hours={"m": OFFICE}, duration=2 * HOUR, after=bj(2026, 3, 4, 9), days=1,
                       is_working_day=weekdays, limit=10)
    assert [s.astimezone(BEIJING).hour for s, _e in found] == [9, 11, 13, 15]


def test_starts_sit_on_the_granularity_grid():
    slot = first_free_slot(busy={}, hours={}, duration=HOUR, after=bj(2026, 3, 4, 9, 7), days=1,
                           is_working_day=weekdays)
    assert slot is not None and slot[0] == bj(2026, 3, 4, 9, 15)


def test_windows_must_end_after_they_start():
    with pytest.raises(ValueError, match="ends after"):
        Window(0, dt.time(18), dt.time(9))


# --- against a brute-force reference -------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "America/Los_Angeles", "Europe/London", "Asia/Kolkata"]
# Days near the 2026 DST changes (US 8 March and 1 November, EU 29 March and 25 October), and a quiet one.
BASES = [dt.date(2026, 3, 6), dt.date(2026, 3, 27), dt.date(2026, 10, 23), dt.date(2026, 10, 30),
         dt.date(2026, 6, 15)]


def brute_force(*, busy, hours, duration, after, days, is_working_day, granularity, limit):
    """Minute by minute: a minute is free when it falls on a chosen court day, nobody is busy at it and it is
    inside everyone's hours (by local wall-clock time); a slot is free when every minute in it is."""
    court_day = after.astimezone(BEIJING).date()
    dates: list[dt.date] = []
    while len(dates) < days:
        if is_working_day(court_day):
            dates.append(court_day)
        court_day += dt.timedelta(days=1)
    chosen = set(dates)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    first = epoch + -((epoch - after) // granularity) * granularity
    end = dt.datetime.combine(dates[-1] + dt.timedelta(days=1), dt.time.min, tzinfo=BEIJING)
    minutes = int((end - first) / MIN)

    def minute_free(m: dt.datetime) -> bool:
        if m.astimezone(BEIJING).date() not in chosen:
            return False
        for intervals in busy.values():
            if any(b0 <= m < b1 for b0, b1 in intervals):
                return False
        for windows in hours.values():
            if windows and not any(
                (local := m.astimezone(ZoneInfo(w.time_zone))).weekday() == w.weekday
                and w.start <= local.time() < w.end
                for w in windows
            ):
                return False
        return True

    free = [minute_free(first + i * MIN) for i in range(max(minutes, 0))]
    need = int(duration / MIN)
    step = int(granularity / MIN)
    found = []
    cursor = 0
    for i in range(0, len(free) - need + 1, step):
        if i >= cursor and all(free[i:i + need]):
            found.append((first + i * MIN, first + (i + need) * MIN))
            cursor = i + need
            if len(found) >= limit:
                break
    return found


@st.composite
def minute_of_day(draw, low: int = 0, high: int = 24 * 60 - 1) -> dt.time:
    value = draw(st.integers(low, high))
    return dt.time(value // 60, value % 60)


@st.composite
def windows_strategy(draw) -> list[Window]:
    zone_name = draw(st.sampled_from(ZONES))
    count = draw(st.integers(0, 5))
    out = []
    for _ in range(count):
        day = draw(st.integers(0, 6))
        if draw(st.booleans()):
            start, end = dt.time(0), dt.time(23, 59)  # (almost) all day: the DST hours included
        else:
            start = draw(minute_of_day(0, 22 * 60))
            length = draw(st.integers(30, 10 * 60))
            end_minute = min(start.hour * 60 + start.minute + length, 24 * 60 - 1)
            end = dt.time(end_minute // 60, end_minute % 60)
        out.append(Window(day, start, end, zone_name))
    return out


@st.composite
def calendars(draw):
    base = draw(st.sampled_from(BASES))
    after = dt.datetime.combine(base, dt.time.min, tzinfo=dt.UTC) + draw(st.integers(0, 3 * 24 * 60)) * MIN
    people = draw(st.integers(1, 3))
    busy, hours = {}, {}
    for person in range(people):
        hours[person] = draw(windows_strategy())
        sessions = []
        for _ in range(draw(st.integers(0, 6))):
            start = after + draw(st.integers(-120, 5 * 24 * 60)) * MIN
            sessions.append((start, start + draw(st.integers(1, 240)) * MIN))
        busy[person] = sessions
    rest = draw(st.frozensets(st.integers(0, 6), max_size=4))
    return {
        "busy": busy, "hours": hours, "after": after, "rest": rest,
        "duration": draw(st.integers(1, 180)) * MIN,
        "granularity": draw(st.sampled_from([1, 5, 15, 30, 60])) * MIN,
        "days": draw(st.integers(1, 2)),
        "limit": draw(st.sampled_from([1, 3])),
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_free_slots_agree_with_a_minute_by_minute_scan(calendar):
    rest = calendar["rest"]

    def is_working_day(day: dt.date) -> bool:
        return day.weekday() not in rest

    kwargs = {key: calendar[key] for key in ("busy", "hours", "duration", "after", "days", "granularity", "limit")}
    expected = brute_force(is_working_day=is_working_day, **kwargs)
    assert free_slots(is_working_day=is_working_day, court_time_zone="Asia/Shanghai", **kwargs) == expected


def test_ceil_to_grid_keeps_a_moment_already_on_it():
    moment = bj(2026, 3, 4, 9, 15)
    assert ceil_to_grid(moment, 15 * MIN) == moment
