"""Entering holidays by hand recomputes the open clocks they move (legal-rules §B4).

2031 is beyond the chinesecalendar data, so until holidays are entered only weekends rest: a clock started
then is computed on that fallback, and must move when the State Council's holidays are entered later.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mediation.calendar import last_covered_year
from mediation.choices import CaseStatus, TimerKind, TimerStatus
from mediation.exceptions import InvalidInput
from mediation.models import AuditEvent, Case, HolidayOverride, Timer
from mediation.services.cases import case_transition
from mediation.services.holidays import holiday_override_delete, holiday_override_set
from mediation.services.timers import timer_pause

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2031  # weekends-only fallback: no package data


def local(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def timer_of(case: Case, kind: str) -> Timer:
    return Timer.objects.filter(case=case, kind=kind).latest("pk")


def platform_events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream="platform", kind=kind).order_by("seq"))


def recomputed(case: Case, kind: str) -> list[tuple[str, str]]:
    """(previous last day, new last day) of each recomputation of the case's ``kind`` timer."""
    events = case.audit_events.filter(kind="timer.recomputed", data__kind=kind).order_by("seq")
    return [(event.data["previous_due_date"], event.data["due_date"]) for event in events]


def test_the_fallback_year_has_no_package_data():
    assert last_covered_year() < YEAR


@pytest.mark.django_db
def test_entering_national_day_recomputes_a_working_day_timer_started_before_it(world):
    with time_machine.travel(local(YEAR, 9, 30, 10), tick=False):  # a Tuesday
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    timer = timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)
    assert timer.due_at == local(YEAR, 10, 4)  # weekends only: Wed 10-01, Thu 10-02, Fri 10-03

    for day in range(1, 8):
        holiday_override_set(date=dt.date(YEAR, 10, day), is_workday=False, name="国庆节", actor=None)

    timer.refresh_from_db()
    # 10-01…10-07 entered as holidays: Wed 10-08, Thu 10-09, Fri 10-10.
    assert timer.due_at == local(YEAR, 10, 11)
    # One event per entry that moved it; the weekend days 10-04 and 10-05 moved nothing.
    assert recomputed(case, TimerKind.MEDIATOR_ACCEPTANCE) == [
        (f"{YEAR}-10-03", f"{YEAR}-10-06"),
        (f"{YEAR}-10-06", f"{YEAR}-10-07"),
        (f"{YEAR}-10-07", f"{YEAR}-10-08"),
        (f"{YEAR}-10-08", f"{YEAR}-10-09"),
        (f"{YEAR}-10-09", f"{YEAR}-10-10"),
    ]
    event = case.audit_events.filter(kind="timer.recomputed").latest("seq")
    assert event.actor is None
    assert dt.datetime.fromisoformat(event.data["previous_due_at"]) == local(YEAR, 10, 10)
    assert event.data["cause"] == {"holiday": "set", "date": f"{YEAR}-10-07", "is_workday": False, "name": "国庆节"}


@pytest.mark.django_db
def test_a_holiday_on_the_last_day_rolls_a_calendar_period_forward_and_deleting_it_rolls_it_back(world):
    with time_machine.travel(local(YEAR, 9, 1, 10), tick=False):  # a Monday
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    assert timer.due_at == local(YEAR, 10, 2)  # day 30 is Wed 10-01, a working day on the fallback

    holiday_override_set(date=dt.date(YEAR, 10, 1), is_workday=False, name="国庆节", actor=world.clerk)
    timer.refresh_from_db()
    assert timer.due_at == local(YEAR, 10, 3)  # CPL 85: rolls to Thu 10-02

    holiday_override_delete(date=dt.date(YEAR, 10, 1), actor=world.clerk)
    timer.refresh_from_db()
    assert timer.due_at == local(YEAR, 10, 2)
    assert not HolidayOverride.objects.filter(date=dt.date(YEAR, 10, 1)).exists()
    assert recomputed(case, TimerKind.MEDIATION_PERIOD) == [
        (f"{YEAR}-10-01", f"{YEAR}-10-02"),
        (f"{YEAR}-10-02", f"{YEAR}-10-01"),
    ]
    [deleted] = platform_events("holiday.deleted")
    assert deleted.actor == world.clerk
    assert deleted.data == {"date": f"{YEAR}-10-01", "is_workday": False, "name": "国庆节"}


@pytest.mark.django_db
def test_a_make_up_working_day_brings_a_working_day_timer_forward(world):
    with time_machine.travel(local(YEAR, 10, 2, 10), tick=False):  # a Thursday
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    timer = timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)
    assert timer.due_at == local(YEAR, 10, 8)  # Fri 10-03, Mon 10-06, Tue 10-07
    holiday_override_set(date=dt.date(YEAR, 10, 4), is_workday=True, name="调休上班", actor=None)
    timer.refresh_from_db()
    assert timer.due_at == local(YEAR, 10, 7)  # Fri 10-03, Sat 10-04, Mon 10-06


@pytest.mark.django_db
def test_a_paused_timer_is_recomputed_too(world):
    with time_machine.travel(local(YEAR, 9, 1, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    timer_pause(timer=timer, reason="委托鉴定", actor=world.mediator, at=local(YEAR, 9, 10, 10))
    holiday_override_set(date=dt.date(YEAR, 10, 1), is_workday=False, name="国庆节", actor=None)
    timer.refresh_from_db()
    assert timer.status == TimerStatus.PAUSED
    assert timer.due_at == local(YEAR, 10, 3)


@pytest.mark.django_db
def test_timers_due_before_the_day_and_closed_timers_are_left_alone(world):
    with time_machine.travel(local(YEAR, 9, 30, 10), tick=False):
        accepted = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        accepted = case_transition(case=accepted, to=CaseStatus.ACCEPTED, actor=world.mediator)
        waiting = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    stopped = timer_of(accepted, TimerKind.MEDIATOR_ACCEPTANCE)
    assert stopped.status == TimerStatus.STOPPED
    running = timer_of(waiting, TimerKind.MEDIATOR_ACCEPTANCE)
    assert running.due_at == local(YEAR, 10, 4)  # its last day is Fri 10-03

    # A Saturday after that last day becomes a working day: nothing up to 10-03 changes.
    holiday_override_set(date=dt.date(YEAR, 10, 4), is_workday=True, name="调休上班", actor=None)
    # A holiday inside the window: the running timer moves, the stopped one does not.
    holiday_override_set(date=dt.date(YEAR, 10, 2), is_workday=False, name="国庆节", actor=None)

    assert recomputed(waiting, TimerKind.MEDIATOR_ACCEPTANCE) == [(f"{YEAR}-10-03", f"{YEAR}-10-04")]
    assert recomputed(accepted, TimerKind.MEDIATOR_ACCEPTANCE) == []
    due_before = stopped.due_at
    stopped.refresh_from_db()
    assert stopped.due_at == due_before


@pytest.mark.django_db
def test_setting_a_holiday_is_audited_on_the_platform_stream_and_an_unchanged_entry_is_not(world):
    day = dt.date(YEAR, 5, 1)
    row = holiday_override_set(date=day, is_workday=False, name=" 劳动节 ", actor=world.clerk)
    assert (row.date, row.is_workday, row.name) == (day, False, "劳动节")
    holiday_override_set(date=day, is_workday=False, name="劳动节", actor=world.clerk)  # the same again
    holiday_override_set(date=day, is_workday=False, name="国际劳动节", actor=world.clerk)

    events = platform_events("holiday.set")
    assert [event.data for event in events] == [
        {"date": f"{YEAR}-05-01", "is_workday": False, "name": "劳动节", "previous": None},
        {"date": f"{YEAR}-05-01", "is_workday": False, "name": "国际劳动节",
         "previous": {"date": f"{YEAR}-05-01", "is_workday": False, "name": "劳动节"}},
    ]
    assert all(event.actor == world.clerk for event in events)
    assert HolidayOverride.objects.get(date=day).name == "国际劳动节"


@pytest.mark.django_db
def test_bad_input_is_refused():
    with pytest.raises(InvalidInput):
        holiday_override_delete(date=dt.date(YEAR, 5, 2), actor=None)
    with pytest.raises(InvalidInput):
        holiday_override_set(date=dt.datetime(YEAR, 5, 2, tzinfo=SHANGHAI), is_workday=False, name="x", actor=None)
    with pytest.raises(InvalidInput):
        holiday_override_set(date=dt.date(YEAR, 5, 2), is_workday=False, name="节" * 61, actor=None)
    assert not HolidayOverride.objects.exists()
