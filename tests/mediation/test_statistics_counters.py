"""The pre-computed daily counters against the live computation: the same figures for every slice a court
leader or an organisation admin can ask for, after the first build, after a counted case changes status, and
for periods that straddle the last counted day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.choices import CaseOrigin, CaseStatus, Sector
from mediation.models import CaseMediator, StatisticsCounter, StatisticsCounterState
from mediation.selectors import statistics as st
from mediation.services.statistics_counters import (
    refresh_statistics_counters,
    statistics_counters_rebuild,
    statistics_counters_refresh,
)
from tests.factories import make_mediator
from tests.mediation.test_statistics import TZ, _case, _leader, _mid, case_set  # noqa: F401 - fixture

MAR_1 = dt.datetime(2026, 3, 1, 0, 0, tzinfo=TZ)
MAR_2 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=TZ)
MAR_3 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ)
BREAKDOWNS = (st.TOTAL, st.COURT, st.ORGANISATION, st.SECTOR, st.MEDIATOR, st.DISPUTE_TYPE, st.MONTH)


def _as_table(report: st.StatisticsReport) -> dict[str, dict[str, float]]:
    rows = {row.key: {c: round(v, 6) for c, v in row.counters.items() if v} for row in report.rows}
    rows["all"] = {c: round(v, 6) for c, v in report.total.counters.items() if v}
    return rows


def _assert_same(scope, *, start=None, end=None) -> dict[str, st.StatisticsReport]:
    counted = st.statistics_reports(scope=scope, dimensions=BREAKDOWNS, start=start, end=end)
    live = st.statistics_reports(scope=scope, dimensions=BREAKDOWNS, start=start, end=end, live=True)
    for dimension in BREAKDOWNS:
        assert counted[dimension].counted_until is not None
        assert live[dimension].counted_until is None
        assert _as_table(counted[dimension]) == _as_table(live[dimension]), dimension
    return counted


def _scopes(world):
    high = st.statistics_scope_for_user(user=_leader(world, world.high_court), kind=st.COURT,
                                        root_id=world.high_court.pk)
    basic = st.statistics_scope_for_user(user=_leader(world, world.court), kind=st.COURT, root_id=world.court.pk)
    org = st.statistics_scope_for_user(user=world.org_admin, kind=st.ORGANISATION, root_id=world.partner.pk)
    return high, basic, org


def test_counters_give_the_live_figures_before_and_after_a_counted_case_changes(
    world, case_set, django_capture_on_commit_callbacks  # noqa: F811
):
    high, basic, org = _scopes(world)
    with time_machine.travel(MAR_1 + dt.timedelta(hours=8), tick=False):
        rows = statistics_counters_refresh()  # the first run builds every day before today
    assert rows == StatisticsCounter.objects.count() > 0
    assert StatisticsCounterState.objects.get().counted_until == MAR_1
    for scope in (high, basic, org):
        _assert_same(scope)
    report = st.statistics_report(scope=high, dimension=st.COURT)
    # The high court's row holds the two courts below it (via the 二中院).
    assert {row.key: row.value("received") for row in report.rows}[str(world.high_court.pk)] == 6

    # F was counted (received 5 Jan, its acceptance clock lapsed 1 Feb, presided by world.mediator). On 2 March
    # the organisation gives it to another mediator, who accepts: today's events are live, and the earlier
    # days F counted on are recomputed by the status change's receiver (F now counts for the new mediator).
    f = case_set["f"]
    with time_machine.travel(MAR_2, tick=False):
        second = make_mediator(world.partner, specialties=[Sector.LABOUR], languages=["zh"])
        CaseMediator.objects.filter(case=f).update(is_active=False)
        CaseMediator.objects.create(case=f, mediator=second)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            f = dataclasses.replace(world, mediator=second).drive(f, CaseStatus.IN_MEDIATION)
        assert callbacks
        by_mediator = {row.key: row.value("received")
                       for row in st.statistics_report(scope=high, dimension=st.MEDIATOR).rows}
        assert by_mediator == {str(world.mediator.pk): 4, str(second.pk): 1, "none": 1}
        # Without the receiver's recompute the counted days would still give F to the first mediator.
        assert StatisticsCounter.objects.filter(mediator_id=second.pk, counter="received").exists()
        for scope in (high, basic, org):
            _assert_same(scope)
    with time_machine.travel(MAR_3, tick=False):
        # After the last counted day, before the next refresh.
        dataclasses.replace(world, mediator=second).drive(f, CaseStatus.WITHDRAWN)
        for scope in (basic, org):
            _assert_same(scope)
        counted = _assert_same(high)
        assert counted[st.TOTAL].total.value("withdrawn_share") == 40  # D and F of five concluded
        # Periods: wholly counted, straddling the last counted day, wholly live.
        for start, end in ((dt.datetime(2026, 1, 1, tzinfo=TZ), dt.datetime(2026, 2, 1, tzinfo=TZ)),
                           (dt.datetime(2026, 2, 1, tzinfo=TZ), dt.datetime(2026, 3, 4, tzinfo=TZ)),
                           (dt.datetime(2026, 3, 2, tzinfo=TZ), None)):
            _assert_same(high, start=start, end=end)
        refresh_statistics_counters()  # the beat task: counts up to today's midnight
        assert StatisticsCounterState.objects.get().counted_until == dt.datetime(2026, 3, 3, tzinfo=TZ)
        _assert_same(high)


def test_periods_not_on_a_local_midnight_and_mediators_stay_live(world, case_set):  # noqa: F811
    high, _basic, _org = _scopes(world)
    statistics_counters_rebuild()
    noon = dt.datetime(2026, 1, 5, 12, 0, tzinfo=TZ)
    assert st.statistics_report(scope=high, start=noon).counted_until is None
    assert st.statistics_report(scope=high).counted_until is not None
    mine = st.statistics_scope_for_user(user=world.mediator, kind=st.MEDIATOR, root_id=world.mediator.pk)
    assert st.statistics_report(scope=mine).counted_until is None


def test_the_counted_report_costs_the_same_queries_however_many_cases(world, case_set):  # noqa: F811
    high, _basic, _org = _scopes(world)
    statistics_counters_rebuild()
    with CaptureQueriesContext(connection) as few:
        st.statistics_reports(scope=high, dimensions=(st.MONTH, st.COURT))
    for _ in range(3):
        world.drive(_case(world, origin=CaseOrigin.PARTY_APPLICATION, court=world.court,
                          organisation=world.partner), CaseStatus.WITHDRAWN)
    statistics_counters_rebuild()
    with CaptureQueriesContext(connection) as more:
        report = st.statistics_reports(scope=high, dimensions=(st.MONTH, st.COURT))[st.COURT]
    assert report.total.value("received") == 9
    assert len(more) == len(few)


def test_the_command_rebuilds_what_a_refresh_would_not_see(world, case_set):  # noqa: F811
    """An organisation's sector edited after its days were counted (older than the look-back, no status
    change) shows only after ``statistics_counters --rebuild``."""
    high, _basic, _org = _scopes(world)
    call_command("statistics_counters", stdout=StringIO())
    world.partner.sector = Sector.FINANCE
    world.partner.save(update_fields=["sector"])
    call_command("statistics_counters", stdout=StringIO())
    stale = {row.key for row in st.statistics_report(scope=high, dimension=st.SECTOR).rows}
    assert Sector.FINANCE not in stale
    out = StringIO()
    call_command("statistics_counters", "--rebuild", stdout=out)
    assert "counter rows written" in out.getvalue()
    _assert_same(high)


def test_a_refresh_recounts_old_days_of_a_case_moved_without_a_status_change(world, case_set):  # noqa: F811
    """Case A (received and accepted 5 January, settled 10 February: older than the look-back) moves to the
    sibling court, and case F's presiding mediator is replaced, both without a status change and after their
    days were counted. The next plain refresh (not ``--rebuild``) recounts their old days."""
    high, basic, org = _scopes(world)
    with time_machine.travel(MAR_1 + dt.timedelta(hours=8), tick=False):
        statistics_counters_refresh()
    before = st.statistics_report(scope=basic).total.value("received")
    assert before == 5
    mar_20 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=TZ)
    with time_machine.travel(mar_20, tick=False):
        a = case_set["a"]
        a.court = world.other_court
        a.save(update_fields=["court", "updated_at"])
        second = make_mediator(world.partner, specialties=[Sector.LABOUR], languages=["zh"])
        f = case_set["f"]
        CaseMediator.objects.filter(case=f).update(is_active=False)
        CaseMediator.objects.create(case=f, mediator=second)
    with time_machine.travel(mar_20 + dt.timedelta(hours=1), tick=False):
        statistics_counters_refresh()
        assert StatisticsCounterState.objects.get().counted_until == dt.datetime(2026, 3, 20, tzinfo=TZ)
        assert st.statistics_report(scope=basic).total.value("received") == 4
        sibling = st.statistics_scope_for_user(user=_leader(world, world.other_court), kind=st.COURT,
                                               root_id=world.other_court.pk)
        assert st.statistics_report(scope=sibling).total.value("received") == 2  # C and now A
        assert StatisticsCounter.objects.filter(mediator_id=second.pk, counter="received").exists()
        for scope in (high, basic, org, sibling):
            _assert_same(scope)
