"""The figures the lists read instead of aggregating per request (issue 15 item 4): ``Case.next_due_at``, the
clerk queue's sort key kept by the timer service, and ``MediatorCaseLoad``, the recommendation's load and
outcomes kept by the transitions. Each is compared with the aggregation it replaces."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F, FilteredRelation, Min

from mediation.choices import CaseStatus, TimerKind, TimerStatus
from mediation.models import Case, CaseMediator, MediatorCaseLoad, Timer
from mediation.recommendation import recommend_mediators
from mediation.selectors.intake import intake_queue_for_clerk, live_timer_q
from mediation.services.cases import case_mediator_assign
from mediation.services.mediator_load import mediator_figures_aggregate
from mediation.services.timer_sweep import timers_sweep
from mediation.services.timers import timer_pause, timer_resume
from tests.factories import make_mediator

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=SHANGHAI)


def joined_next_due(case: Case) -> dt.datetime | None:
    """The sort key as the queue computed it before: the earliest live, unpaused clock, joined per request."""
    return (
        Timer.objects.filter(case=case)
        .filter(live_timer_q(timer="", case="case__", paused=False))
        .aggregate(earliest=Min("due_at"))["earliest"]
    )


def kept_next_due(case: Case) -> dt.datetime | None:
    return Case.objects.values_list("next_due_at", flat=True).get(pk=case.pk)


def assert_kept(case: Case) -> dt.datetime | None:
    kept = kept_next_due(case)
    assert kept == joined_next_due(case)
    return kept


def open_timer(case: Case, kind: str) -> Timer:
    return Timer.objects.get(case=case, kind=kind, status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED])


# --- next_due_at --------------------------------------------------------------------------------------------


def test_next_due_at_follows_the_clocks_as_they_start_and_are_satisfied(world):
    with time_machine.travel(local(3, 3), tick=False):
        case = world.new_case()
        assert kept_next_due(case) is None  # a draft has no clock
        case = world.drive(case, CaseStatus.SUBMITTED)
        designation = open_timer(case, TimerKind.COURT_DESIGNATION)
        assert assert_kept(case) == designation.due_at  # started: the court's 3 working days

        case = world.drive(case, CaseStatus.AWAITING_SELECTION)
        window = open_timer(case, TimerKind.SELECTION_WINDOW)
        assert window.due_at < designation.due_at
        assert assert_kept(case) == window.due_at  # the parties' 2 days come first

        case = world.drive(case, CaseStatus.ASSIGNED)  # both satisfied: the mediator's 3 days remain
        acceptance = open_timer(case, TimerKind.MEDIATOR_ACCEPTANCE)
        assert assert_kept(case) == acceptance.due_at

        case = world.drive(case, CaseStatus.IN_MEDIATION)
        assert assert_kept(case) == open_timer(case, TimerKind.MEDIATION_PERIOD).due_at


def test_next_due_at_leaves_a_paused_clock_out_and_takes_it_back_on_resume(world):
    with time_machine.travel(local(3, 3), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
        period = open_timer(case, TimerKind.MEDIATION_PERIOD)
        timer_pause(timer=period, reason="司法鉴定", actor=world.mediator)
        assert assert_kept(case) is None
    with time_machine.travel(local(3, 10), tick=False):
        timer_resume(timer=period, actor=world.mediator)
        period.refresh_from_db()
        assert assert_kept(case) == period.due_at


def test_next_due_at_is_cleared_when_the_case_is_withdrawn(world):
    with time_machine.travel(local(3, 3), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
        assert kept_next_due(case) is not None
        case = world.drive(case, CaseStatus.WITHDRAWN)
        assert Timer.objects.filter(case=case, status=TimerStatus.RUNNING).count() == 0
        assert assert_kept(case) is None


def test_a_lapsed_clock_stays_the_key_while_the_case_stays_and_goes_when_it_moves(world):
    with time_machine.travel(local(3, 3), tick=False):
        case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
        designation = open_timer(case, TimerKind.COURT_DESIGNATION)
    with time_machine.travel(designation.due_at + dt.timedelta(minutes=1), tick=False):
        assert [t.pk for t in timers_sweep()] == [designation.pk]
        assert assert_kept(case) == designation.due_at  # overdue, so on top of the queue
        case.refresh_from_db()
        case = world.drive(case, CaseStatus.AWAITING_SELECTION)
        # Counted once per case: the lapsed court clock stays live while the case awaits selection.
        assert_kept(case)
        case = world.drive(case, CaseStatus.ASSIGNED)
        assert assert_kept(case) == open_timer(case, TimerKind.MEDIATOR_ACCEPTANCE).due_at


def test_an_expiry_that_moves_the_case_leaves_the_key_of_where_it_went(world):
    with time_machine.travel(local(3, 3), tick=False):
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        acceptance = open_timer(case, TimerKind.MEDIATOR_ACCEPTANCE)
    with time_machine.travel(acceptance.due_at + dt.timedelta(minutes=1), tick=False):
        timers_sweep()
        case.refresh_from_db()
        assert case.status == CaseStatus.AWAITING_SELECTION  # OMR 12: the acceptance lapsed
        assert assert_kept(case) == open_timer(case, TimerKind.SELECTION_WINDOW).due_at


def test_a_stale_case_instance_saved_does_not_overwrite_the_kept_key(world):
    with time_machine.travel(local(3, 3), tick=False):
        case = world.new_case()
        stale = Case.objects.get(pk=case.pk)
        world.drive(case, CaseStatus.SUBMITTED)
        stale.title = "改过的标题"
        stale.save()
        assert kept_next_due(case) is not None
        assert_kept(case)


def old_queue_order(court_id: int, statuses) -> list[int]:
    """The clerk queue's order as it was computed before next_due_at: a join to the live clocks."""
    live = FilteredRelation("timers", condition=live_timer_q(timer="timers__", case="", paused=False))
    return list(
        Case.objects.filter(court_id=court_id, status__in=statuses)
        .annotate(live_clock=live)
        .annotate(next_due=Min("live_clock__due_at"))
        .order_by(F("next_due").asc(nulls_last=True), "created_at", "pk")
        .values_list("pk", flat=True)
    )


def test_the_clerk_queue_keeps_the_order_it_had_when_it_joined_the_clocks(world):
    from mediation.lifecycle import CLERK_QUEUE_STATUSES

    cases = []
    targets = [
        CaseStatus.SUBMITTED,
        CaseStatus.AWAITING_SELECTION,
        CaseStatus.ASSIGNED,
        CaseStatus.SUBMITTED,
        CaseStatus.AWAITING_SELECTION,
        CaseStatus.ASSIGNED,
        CaseStatus.SUBMITTED,
    ]
    for day, target in enumerate(targets, start=3):
        with time_machine.travel(local(3, day), tick=False):
            cases.append(world.drive(world.new_case(), target))
    with time_machine.travel(local(3, 3, 12), tick=False):
        late = world.new_case()  # no clock: last, oldest first
    # One paused clock, one lapsed one, and a day on which several cases are due at once.
    timer_pause(timer=open_timer(cases[5], TimerKind.MEDIATOR_ACCEPTANCE), reason="回避审查", actor=world.clerk)
    with time_machine.travel(local(3, 7, 12), tick=False):
        timers_sweep()
    del late
    expected = old_queue_order(world.court.pk, CLERK_QUEUE_STATUSES)
    assert len(expected) >= 6
    with time_machine.travel(local(3, 7, 12), tick=False):
        queue = intake_queue_for_clerk(user=world.clerk)
    assert [row.case.pk for row in queue.rows] == expected
    assert queue.page.paginator.count == len(expected)


def test_the_queue_counts_exactly_and_a_page_past_the_end_shows_the_last(world, monkeypatch):
    from mediation.selectors import intake

    monkeypatch.setattr(intake, "PAGE_SIZE", 2)
    for _ in range(5):
        world.drive(world.new_case(), CaseStatus.SUBMITTED)
    first = intake_queue_for_clerk(user=world.clerk)
    assert (first.page.paginator.count, first.page.paginator.num_pages, len(first.rows)) == (5, 3, 2)
    beyond = intake_queue_for_clerk(user=world.clerk, page_number=9)
    assert (beyond.page.number, len(beyond.rows), beyond.page.paginator.count) == (3, 1, 5)
    assert intake_queue_for_clerk(user=world.clerk, page_number="x").page.number == 1
    empty = intake_queue_for_clerk(user=world.other_clerk, page_number=4)
    assert (empty.page.number, empty.rows, empty.page.paginator.count) == (1, [], 0)


# --- Mediator figures ----------------------------------------------------------------------------------------


def kept_figures() -> dict[int, tuple[int, int, int]]:
    return {
        row.mediator_id: (row.open_cases, row.settled_cases, row.finished_cases)
        for row in MediatorCaseLoad.objects.all()
        if (row.open_cases, row.settled_cases, row.finished_cases) != (0, 0, 0)
    }


def test_the_kept_mediator_figures_equal_a_fresh_aggregation_after_a_series_of_transitions(world):
    third = make_mediator(world.partner, specialties=["labour"])
    settled = world.drive(world.new_case(), CaseStatus.CLOSED_SETTLED)
    world.drive(world.new_case(), CaseStatus.TERMINATED)
    world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    withdrawn = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    world.drive(withdrawn, CaseStatus.WITHDRAWN)
    # A mediator designated by the court's clerk, through the designation service.
    designated = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    case_mediator_assign(case=designated, mediator=world.other_mediator, actor=world.clerk)
    second = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    case_mediator_assign(case=second, mediator=third, actor=world.clerk)
    fresh = mediator_figures_aggregate()
    assert kept_figures() == fresh
    assert fresh[world.mediator.pk][0] >= 1  # open load
    assert fresh[world.mediator.pk][1] >= 1  # settled
    assert fresh[third.pk] == (1, 0, 0)
    assert CaseMediator.objects.filter(case=settled, is_active=True).exists()
    # The ranking shows the kept load.
    loads = {rec.mediator.user_id: rec.load for rec in recommend_mediators(case=world.new_case())}
    for user_id, load in loads.items():
        assert load == fresh.get(user_id, (0, 0, 0))[0]


def test_the_rebuild_command_restores_the_figures_and_the_queue_key(world):
    world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    expected = mediator_figures_aggregate()
    MediatorCaseLoad.objects.update(open_cases=99, settled_cases=7, finished_cases=9)
    Case.objects.update(next_due_at=None)
    out = StringIO()
    call_command("rebuild_list_figures", stdout=out)
    assert kept_figures() == expected
    assert_kept(case)
    assert kept_next_due(case) is not None
    assert "调解员" in out.getvalue()
