"""Contact requests (联系法官/调解员, issue 18): the ledger, its working-day clocks, escalation and refusals."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mediation.calendar import last_day
from mediation.choices import (
    CaseStatus,
    ContactCategory,
    ContactHandler,
    ContactMethod,
    ContactStatus,
    MessageChannel,
    PartyRole,
    Role,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import AuditEvent, Case, CaseMediator, ContactRequest, OutboxMessage, Party, Timer
from mediation.selectors.contact import contact_figures, contact_queue, contact_requests_for_case
from mediation.selectors.intake import live_timer_q
from mediation.services.contact_requests import (
    contact_request_answer,
    contact_request_create,
    contact_request_record,
    contact_request_take,
)
from mediation.services.holidays import holiday_override_set
from mediation.services.timer_sweep import timers_sweep
from tests.factories import UserFactory, add_member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def kinds(case: Case) -> list[str]:
    return list(
        AuditEvent.objects.filter(case=case, kind__startswith="contact.").order_by("seq").values_list("kind", flat=True)
    )


@pytest.fixture
def case(world) -> Case:
    case = world.new_case()
    return world.drive(case, CaseStatus.ACCEPTED)  # the world's mediator presides


def ask(world, case, *, category=ContactCategory.PROGRESS, actor=None) -> ContactRequest:
    return contact_request_create(
        case=case,
        actor=actor or world.applicant,
        category=category,
        question="调解会议什么时候安排？我一直没有接到电话。",
    )


def test_a_party_asks_the_mediator_is_told_and_contacts_in_time(world, case):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):  # a Monday
        request = ask(world, case)
    assert request.handler == ContactHandler.MEDIATOR and request.assigned_to == world.mediator
    assert request.party.role == PartyRole.APPLICANT and request.requested_by == world.applicant
    assert request.first_timer.kind == TimerKind.CONTACT_FIRST
    assert last_day(request.first_timer.due_at) == dt.date(2025, 3, 4)
    assert last_day(request.feedback_timer.due_at) == dt.date(2025, 3, 5)
    routed = OutboxMessage.objects.filter(recipient=world.mediator, idempotency_key__startswith="contact:")
    assert routed.filter(channel=MessageChannel.IN_APP).exists()
    assert [r.pk for r in contact_queue(user=world.mediator)] == [request.pk]

    with time_machine.travel(local(2025, 3, 4, 16), tick=False):
        contact_request_record(
            request=request,
            actor=world.mediator,
            method=ContactMethod.PHONE,
            contacted_at=local(2025, 3, 4, 15),
            note="电话联系，当事人已知悉",
        )
        assert timers_sweep(now=local(2025, 3, 5, 9)) == []  # the first clock stopped: nothing fires
        contact_request_answer(request=request, actor=world.mediator, result="调解会议定于3月10日上午举行。")
    request.refresh_from_db()
    assert request.status == ContactStatus.ANSWERED
    assert request.contacted_on_time is True and request.answered_on_time is True
    assert request.first_timer.status == TimerStatus.STOPPED and request.feedback_timer.status == TimerStatus.STOPPED
    to_party = OutboxMessage.objects.filter(idempotency_key__startswith=f"contact:{request.pk}:answered")
    assert set(to_party.values_list("channel", flat=True)) == {MessageChannel.IN_APP, MessageChannel.SMS}
    assert "3月10日" not in to_party.get(channel=MessageChannel.SMS).body  # the SMS points to the page
    assert kinds(case) == ["contact.requested", "contact.reached", "contact.answered"]
    assert not AuditEvent.objects.filter(case=case, kind="timer.expired").exists()


def test_no_contact_in_a_working_day_escalates_to_the_organisation_head_who_takes_it(world, case):
    with time_machine.travel(local(2025, 3, 7, 10), tick=False):  # a Friday: due the end of Monday
        request = ask(world, case)
    assert timers_sweep(now=local(2025, 3, 10, 23, 59)) == []  # the weekend does not count
    fired = timers_sweep(now=local(2025, 3, 11, 0, 1))
    assert [t.kind for t in fired] == [TimerKind.CONTACT_FIRST]
    request.refresh_from_db()
    assert request.status == ContactStatus.ESCALATED and request.escalated_to == world.partner
    assert OutboxMessage.objects.filter(recipient=world.org_admin, idempotency_key__contains="contact.escalated")
    assert request.pk in [r.pk for r in contact_queue(user=world.org_admin)]

    with pytest.raises(PermissionDenied):
        contact_request_take(request=request, actor=world.judge)  # not the head of the mediator's organisation
    with time_machine.travel(local(2025, 3, 11, 9), tick=False):
        contact_request_take(request=request, actor=world.org_admin)
        contact_request_record(
            request=request,
            actor=world.org_admin,
            method=ContactMethod.PHONE,
            contacted_at=local(2025, 3, 11, 9),
            result="已督促调解员本周内安排会议。",
        )
    request.refresh_from_db()
    assert request.assigned_to == world.org_admin and request.contacted_on_time is False
    assert request.answered_on_time is True  # feedback due the end of Tuesday
    assert kinds(case) == [
        "contact.requested",
        "contact.escalated",
        "contact.taken_over",
        "contact.reached",
        "contact.answered",
    ]


def test_contact_made_but_no_result_fed_back_in_two_working_days_tells_the_head(world, case):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        request = ask(world, case)
    with time_machine.travel(local(2025, 3, 3, 15), tick=False):
        contact_request_record(
            request=request, actor=world.mediator, method=ContactMethod.VIDEO, contacted_at=local(2025, 3, 3, 14)
        )
    assert timers_sweep(now=local(2025, 3, 5, 23)) == []
    fired = timers_sweep(now=local(2025, 3, 6, 0, 5))
    assert [t.kind for t in fired] == [TimerKind.CONTACT_FEEDBACK]
    request.refresh_from_db()
    assert request.contacted_on_time is True and request.status == ContactStatus.CONTACTED
    assert "contact.feedback_overdue" in kinds(case)
    assert OutboxMessage.objects.filter(recipient=world.org_admin, idempotency_key__contains="feedback_overdue")
    with time_machine.travel(local(2025, 3, 6, 9), tick=False):
        contact_request_answer(request=request, actor=world.org_admin, result="负责人督办后反馈。")
    request.refresh_from_db()
    assert request.answered_on_time is False


def test_a_repeat_request_on_the_same_matter_goes_to_the_supervision_office(world, case):
    supervisor = UserFactory(username="supervisor", real_name="督查室")
    add_member(supervisor, world.court, Role.COMPLAINT_HANDLER)
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        first = ask(world, case)
        other_matter = ask(world, case, category=ContactCategory.MATERIALS)
        repeat = ask(world, case)
    assert other_matter.handler == ContactHandler.MEDIATOR and other_matter.repeat_of is None
    assert repeat.handler == ContactHandler.SUPERVISOR and repeat.repeat_of == first
    assert repeat.assigned_to is None and repeat.handler_organisation == world.court
    assert OutboxMessage.objects.filter(recipient=supervisor, idempotency_key__startswith=f"contact:{repeat.pk}:")
    assert [r.pk for r in contact_queue(user=supervisor)] == [repeat.pk]
    with pytest.raises(PermissionDenied):
        contact_request_record(
            request=repeat, actor=world.other_judge, method=ContactMethod.PHONE, contacted_at=local(2025, 3, 3, 11)
        )
    with time_machine.travel(local(2025, 3, 3, 12), tick=False):
        contact_request_record(
            request=repeat,
            actor=supervisor,
            method=ContactMethod.PHONE,
            contacted_at=local(2025, 3, 3, 11),
            result="已督办。",
        )


def test_holidays_and_make_up_working_days_are_counted_as_the_legal_clocks_count_them(world, case):
    with time_machine.travel(local(2025, 9, 27, 10), tick=False):  # Saturday; Sunday 28 Sept is a 调休 workday
        on_saturday = ask(world, case)
    assert last_day(on_saturday.first_timer.due_at) == dt.date(2025, 9, 28)
    with time_machine.travel(local(2025, 9, 30, 10), tick=False):  # the eve of the National Day holiday
        before_holiday = ask(world, case, category=ContactCategory.SCHEDULE)
    assert last_day(before_holiday.first_timer.due_at) == dt.date(2025, 10, 9)
    assert last_day(before_holiday.feedback_timer.due_at) == dt.date(2025, 10, 10)
    fired = timers_sweep(now=local(2025, 10, 8, 23))  # the Saturday request lapsed; the holiday counts nothing
    assert [t.pk for t in fired] == [on_saturday.first_timer_id, on_saturday.feedback_timer_id]
    # A court closed by an override entered later moves the open clock, like every legal clock.
    holiday_override_set(date=dt.date(2025, 10, 9), is_workday=False, name="临时闭院", actor=None)
    before_holiday.first_timer.refresh_from_db()
    assert last_day(before_holiday.first_timer.due_at) == dt.date(2025, 10, 10)


def test_a_clerk_logs_a_phone_call_for_the_party(world, case):
    respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
    request = contact_request_create(
        case=case, actor=world.clerk, category=ContactCategory.SCHEDULE, question="来电：询问开会时间", party=respondent
    )
    assert request.logged_by == world.clerk and request.requested_by is None
    with pytest.raises(InvalidInput):
        contact_request_create(case=case, actor=world.clerk, category=ContactCategory.SCHEDULE, question="来电")
    event = AuditEvent.objects.get(case=case, kind="contact.requested")
    assert event.data["logged_for_party"] is True


def test_without_a_mediator_the_request_goes_to_the_courts_judges(world):
    case = world.new_case()
    request = ask(world, case)
    assert not CaseMediator.objects.filter(case=case).exists()
    assert request.handler == ContactHandler.JUDGES and request.handler_organisation == world.court
    assert [r.pk for r in contact_queue(user=world.judge)] == [request.pk]
    assert contact_queue(user=world.other_judge) == []


def test_refusals_outsider_other_party_and_another_courts_judge(world, case):
    request = ask(world, case)
    for someone in (world.outsider, world.other_judge, world.other_clerk):
        with pytest.raises(PermissionDenied):
            contact_request_create(case=case, actor=someone, category=ContactCategory.OTHER, question="?")
        assert contact_requests_for_case(user=someone, case=case) == []
        with pytest.raises(PermissionDenied):
            contact_request_record(
                request=request, actor=someone, method=ContactMethod.PHONE, contacted_at=request.created_at
            )
    # The other side (the respondent and its lawyer) cannot see the applicant's request nor ask in its name.
    assert contact_requests_for_case(user=world.respondent, case=case) == []
    assert contact_requests_for_case(user=world.lawyer, case=case) == []
    applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
    with pytest.raises(PermissionDenied):
        contact_request_create(
            case=case, actor=world.lawyer, category=ContactCategory.OTHER, question="?", party=applicant
        )
    assert [r.pk for r in contact_requests_for_case(user=world.applicant, case=case)] == [request.pk]
    assert [r.pk for r in contact_requests_for_case(user=world.mediator, case=case)] == [request.pk]
    with pytest.raises(InvalidInput):
        contact_request_create(case=case, actor=world.applicant, category=ContactCategory.OTHER, question="  ")
    assert ContactRequest.objects.count() == 1
    with pytest.raises(PermissionDenied):  # the head steps in only once the clock lapsed
        contact_request_record(
            request=request, actor=world.org_admin, method=ContactMethod.PHONE, contacted_at=request.created_at
        )


def test_figures_reached_and_on_time_by_court_and_person(world, case, president):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        on_time = ask(world, case)
        late = ask(world, case, category=ContactCategory.MATERIALS)
    with time_machine.travel(local(2025, 3, 3, 11), tick=False):
        contact_request_record(
            request=on_time,
            actor=world.mediator,
            method=ContactMethod.PHONE,
            contacted_at=local(2025, 3, 3, 10, 30),
            result="已答复",
        )
    timers_sweep(now=local(2025, 3, 5, 0, 1))
    with time_machine.travel(local(2025, 3, 5, 9), tick=False):
        contact_request_record(
            request=late, actor=world.mediator, method=ContactMethod.PHONE, contacted_at=local(2025, 3, 5, 9)
        )
    figures = contact_figures(user=president)
    [court] = figures["by_court"]
    assert (court.label, court.total, court.reached, court.reached_on_time, court.answered) == (
        world.court.name,
        2,
        2,
        1,
        1,
    )
    [person] = figures["by_person"]
    assert person.label == world.mediator.real_name and person.reached_on_time == 1
    assert contact_figures(user=world.other_judge) == {"by_court": [], "by_person": []}


def test_a_requests_clocks_stay_out_of_the_cases_own_clocks_in_the_queues(world, case):
    request = ask(world, case)
    live = set(Timer.objects.filter(live_timer_q(), case=case).values_list("kind", flat=True))
    assert live and TimerKind.CONTACT_FIRST not in live and TimerKind.CONTACT_FEEDBACK not in live
    assert request.first_timer.status == TimerStatus.RUNNING
