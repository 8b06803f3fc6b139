"""Working days, CPL 85 period ends and the calendar-coverage check (legal-rules §B4, §A11 item 7)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import checks
from django.db import ProgrammingError
from hypothesis import given
from hypothesis import strategies as st

from mediation.calendar import (
    add_working_days,
    calendar_period_end,
    covered_years,
    day_end,
    is_working_day,
    last_covered_year,
    last_day,
    working_days_between,
)
from mediation.checks import check_calendar_coverage
from mediation.models import HolidayOverride

SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_OVERRIDES: dict[dt.date, bool] = {}

# National Day 2026, as the chinesecalendar package (1.11) has it from the State Council notice:
#   holidays   Thu 2026-10-01 … Wed 2026-10-07 (seven days);
#   make-up working days (调休) Sun 2026-09-20 and Sat 2026-10-10;
#   Mid-Autumn Fri 2026-09-25 (with the weekend 26-27) is a separate holiday the week before.
GOLDEN_WEEK_2026 = [dt.date(2026, 10, day) for day in range(1, 8)]
MAKE_UP_SUNDAY = dt.date(2026, 9, 20)
MAKE_UP_SATURDAY = dt.date(2026, 10, 10)


@pytest.mark.django_db
def test_golden_week_2026_holidays_and_make_up_days_are_known():
    assert not any(is_working_day(day) for day in GOLDEN_WEEK_2026)
    assert is_working_day(MAKE_UP_SUNDAY)
    assert is_working_day(MAKE_UP_SATURDAY)
    assert not is_working_day(dt.date(2026, 9, 25))  # Mid-Autumn Festival
    assert not is_working_day(dt.date(2026, 10, 11))  # an ordinary Sunday


@pytest.mark.django_db
def test_three_working_days_from_the_eve_of_golden_week_end_on_the_make_up_saturday():
    # From Wed 2026-09-30 (not counted): 10-01…10-07 are holidays; Thu 10-08 is the 1st working day,
    # Fri 10-09 the 2nd, and Sat 10-10, a 调休 make-up working day, the 3rd.
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)


@pytest.mark.django_db
def test_the_make_up_sunday_before_golden_week_counts_as_a_working_day():
    # From Fri 2026-09-18: Sat 09-19 is rest, Sun 09-20 is a make-up working day (the 1st), then Mon 09-21.
    assert add_working_days(dt.date(2026, 9, 18), 1) == MAKE_UP_SUNDAY
    assert add_working_days(dt.date(2026, 9, 18), 3) == dt.date(2026, 9, 22)


@pytest.mark.django_db
def test_the_start_day_is_not_counted():
    monday = dt.date(2025, 3, 3)
    assert add_working_days(monday, 1) == dt.date(2025, 3, 4)
    assert calendar_period_end(monday, 1) == dt.date(2025, 3, 4)
    assert add_working_days(monday, 0) == monday


@pytest.mark.django_db
def test_a_30_day_period_ending_on_national_day_rolls_forward_to_the_first_working_day_after_it():
    # 2026-09-01 + 30 days = Thu 2026-10-01, a statutory holiday; the holiday runs to 10-07, so the period
    # ends on Thu 2026-10-08 (CPL 85).
    assert calendar_period_end(dt.date(2026, 9, 1), 30) == dt.date(2026, 10, 8)


@pytest.mark.django_db
def test_a_period_ending_on_a_make_up_saturday_ends_that_day():
    # 2026-09-10 + 30 = Sat 2026-10-10, a 调休 working day: no roll-forward.
    assert calendar_period_end(dt.date(2026, 9, 10), 30) == MAKE_UP_SATURDAY


@pytest.mark.django_db
def test_a_period_ending_on_an_ordinary_weekend_rolls_to_monday():
    # 2025-03-15 is a Saturday.
    assert calendar_period_end(dt.date(2025, 2, 13), 30) == dt.date(2025, 3, 17)


def test_the_due_moment_is_local_midnight_after_the_last_day():
    due = day_end(dt.date(2026, 10, 8))
    assert due == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    assert due == dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)
    assert last_day(due) == dt.date(2026, 10, 8)


def test_a_datetime_is_refused_where_a_local_date_is_meant():
    with pytest.raises(TypeError):
        is_working_day(dt.datetime(2026, 10, 8, 23, 0, tzinfo=dt.UTC), overrides=NO_OVERRIDES)


def test_the_package_data_includes_2026():
    assert 2026 in covered_years()  # the Golden Week tests above rely on it


def test_the_covered_years_run_without_gaps_up_to_the_last_covered_year():
    years = covered_years()
    assert last_covered_year() == years[-1] == max(years)
    assert years.step == 1


@pytest.mark.django_db
def test_the_year_after_the_last_covered_year_falls_back_to_monday_to_friday():
    # The package refuses years it has no data for; is_working_day must not ask it.
    first_uncovered = last_covered_year() + 1
    january = [dt.date(first_uncovered, 1, day) for day in range(1, 32)]
    assert [is_working_day(day) for day in january] == [day.weekday() < 5 for day in january]


@pytest.mark.django_db
def test_counting_many_days_costs_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        add_working_days(dt.date(2026, 9, 1), 40)
    with django_assert_num_queries(1):
        calendar_period_end(dt.date(2026, 9, 1), 30)


@pytest.mark.django_db
def test_an_override_wins_inside_a_covered_year():
    HolidayOverride.objects.create(date=dt.date(2026, 10, 12), is_workday=False, name="临时休假")
    HolidayOverride.objects.create(date=dt.date(2026, 10, 11), is_workday=True, name="临时补班")
    assert not is_working_day(dt.date(2026, 10, 12))
    assert is_working_day(dt.date(2026, 10, 11))


# --- Years beyond the package's data ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_year_beyond_the_package_data_falls_back_to_weekends():
    assert last_covered_year() < 2031  # the 2031 tests below need a year without package data
    # 2031-10-01 is a Wednesday. With nothing entered, National Day is unknown: only weekends rest.
    assert is_working_day(dt.date(2031, 10, 1))
    assert not is_working_day(dt.date(2031, 10, 4))  # Saturday
    assert add_working_days(dt.date(2031, 9, 30), 4) == dt.date(2031, 10, 6)


@pytest.mark.django_db
def test_a_year_beyond_the_package_data_honours_holiday_overrides():
    for day in range(1, 8):
        HolidayOverride.objects.create(date=dt.date(2031, 10, day), is_workday=False, name="国庆节")
    HolidayOverride.objects.create(date=dt.date(2031, 10, 11), is_workday=True, name="国庆节调休")
    # From Tue 09-30: 10-01…10-07 entered as holidays; Wed 10-08, Thu 10-09, Fri 10-10, then the entered
    # make-up Saturday 10-11 is the 4th working day.
    assert add_working_days(dt.date(2031, 9, 30), 4) == dt.date(2031, 10, 11)
    # 2031-09-07 + 24 = Wed 10-01, an entered holiday: rolls to Wed 10-08.
    assert calendar_period_end(dt.date(2031, 9, 7), 24) == dt.date(2031, 10, 8)


@pytest.mark.django_db
def test_the_coverage_check_warns_in_a_year_beyond_the_package_data():
    beyond = last_covered_year() + 5
    with time_machine.travel(dt.datetime(beyond, 3, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        messages = check_calendar_coverage(app_configs=None, databases=None)
    assert [message.id for message in messages] == ["mediation.W001"]
    assert messages[0].level == checks.WARNING
    assert str(beyond) in messages[0].msg
    assert str(beyond + 1) in messages[0].msg


@pytest.mark.django_db
def test_the_coverage_check_warns_for_next_year_until_its_holidays_are_entered():
    last = last_covered_year()
    with time_machine.travel(dt.datetime(last, 11, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        messages = check_calendar_coverage(app_configs=None, databases=None)
        assert [message.id for message in messages] == ["mediation.W001"]
        assert str(last + 1) in messages[0].msg
        HolidayOverride.objects.create(date=dt.date(last + 1, 1, 1), is_workday=False, name="元旦")
        assert check_calendar_coverage(app_configs=None, databases=None) == []


@pytest.mark.django_db
def test_the_coverage_check_is_quiet_while_the_package_covers_this_year_and_next():
    with time_machine.travel(dt.datetime(last_covered_year() - 1, 6, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert check_calendar_coverage(app_configs=None, databases=None) == []


@pytest.mark.django_db
def test_the_coverage_check_survives_an_unmigrated_database(monkeypatch):
    def missing_table(*args, **kwargs):
        raise ProgrammingError('relation "mediation_holidayoverride" does not exist')

    monkeypatch.setattr(HolidayOverride.objects, "filter", missing_table)
    with time_machine.travel(dt.datetime(last_covered_year() + 5, 3, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        messages = check_calendar_coverage(app_configs=None, databases=None)
    assert [message.id for message in messages] == ["mediation.W001"]


def test_the_coverage_check_is_registered_for_every_command():
    assert check_calendar_coverage in checks.registry.registry.get_checks(include_deployment_checks=False)
    assert not getattr(check_calendar_coverage, "tags", ())  # untagged: not only under --database


# --- Properties ----------------------------------------------------------------------------------------


@given(
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_working_days_lands_on_a_working_day_with_n_minus_1_working_days_between(start, n):
    result = add_working_days(start, n, overrides=NO_OVERRIDES)
    assert result > start
    assert is_working_day(result, overrides=NO_OVERRIDES)
    strictly_between = working_days_between(start, result - dt.timedelta(days=1), overrides=NO_OVERRIDES)
    assert strictly_between == n - 1
    # And by brute force, independent of working_days_between.
    days = [start + dt.timedelta(days=k) for k in range(1, (result - start).days)]
    assert sum(is_working_day(day, overrides=NO_OVERRIDES) for day in days) == n - 1
