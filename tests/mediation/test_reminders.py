"""Reminders before a legal clock lapses: once per timer, to the people who must act, by SMS (and in-app)
through the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from mediation.adapters import sms
from mediation.choices import CaseStatus, MessageChannel, OutboxStatus, PartyRole, Role, TimerKind, TimerStatus
from mediation.models import AuditEvent, Case, Membership, OutboxMessage, Party, Timer
from mediation.services.intake import mask_phone
from mediation.services.outbox import outbox_deliver_due
from mediation.services.reminders import due_text, reminder_text, timers_remind
from mediation.services.timer_sweep import sweep_due_timers
from tests.factories import UserFactory, add_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = dt.timedelta(hours=1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def console_sms(settings):
    settings.SMS_BACKEND = "console"
    sms.outbox_clear()
    yield sms.outbox
    sms.outbox_clear()


def timer_of(case: Case, kind: str) -> Timer:
    return Timer.objects.filter(case=case, kind=kind).latest("pk")


def reminded_events(timer: Timer):
    return AuditEvent.objects.filter(kind="timer.reminded", data__timer=timer.pk)


def sent_to(outbox) -> list[str]:
    """The phones the gateway got messages for, once the outbox worker has run."""
    outbox_deliver_due()
    return [message.phone for message in outbox]


# --- Once, 24 hours ahead ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reminder_goes_out_once_in_the_last_24_hours_before_the_clock_lapses(world, console_sms):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:  # a Monday
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        timer = timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)
        assert timer.due_at == local(2025, 3, 7)  # the end of Thu 03-06, the third working day

        traveller.move_to(local(2025, 3, 5, 23, 59))  # 24 h and a minute before
        assert timers_remind() == 0
        traveller.move_to(local(2025, 3, 6, 0, 1))
        assert timers_remind() == 1
        traveller.move_to(local(2025, 3, 6, 9))  # the next sweep
        assert timers_remind() == 0

    with time_machine.travel(local(2025, 3, 6, 9), tick=False):
        assert sent_to(console_sms) == [world.mediator.phone]
    text = console_sms[0].text
    assert case.reference in text
    assert "调解员确认接受（3个工作日）" in text
    assert "2025年3月6日24时" in text
    assert f"/cases/{case.pk}/" in text
    timer.refresh_from_db()
    assert timer.reminded_at == local(2025, 3, 6, 0, 1)
    assert timer.status == TimerStatus.RUNNING  # a reminder is not a lapse
    (event,) = reminded_events(timer)
    assert event.actor is None
    assert event.case_id == case.pk
    sms_row = OutboxMessage.objects.get(case=case, channel=MessageChannel.SMS)
    in_app = OutboxMessage.objects.get(case=case, channel=MessageChannel.IN_APP)
    assert event.data["recipients"] == [
        {"role": "mediator", "phone": mask_phone(world.mediator.phone), "user": world.mediator.pk,
         "queued": True, "message": sms_row.pk, "in_app": in_app.pk},
    ]
    assert world.mediator.phone not in str(event.data)
    assert sms_row.provider_id == console_sms[0].id
    assert console_sms[0].request_id == f"timer-reminder:{timer.pk}:{world.mediator.phone}"
    assert (in_app.recipient, in_app.status) == (world.mediator, OutboxStatus.SENT)


@pytest.mark.django_db
def test_no_reminder_for_a_clock_already_lapsed_paused_or_stopped(world, console_sms):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        lapsed = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        paused = world.drive(world.new_case(), CaseStatus.APPRAISAL_PAUSED)
        stopped = world.drive(world.new_case(), CaseStatus.CLOSED_SETTLED)
    assert timer_of(paused, TimerKind.MEDIATION_PERIOD).status == TimerStatus.PAUSED
    assert timer_of(stopped, TimerKind.MEDIATION_PERIOD).status == TimerStatus.STOPPED
    due = timer_of(lapsed, TimerKind.MEDIATOR_ACCEPTANCE).due_at
    # Past the acceptance due moment, not swept yet: too late to remind; the sweep handles it.
    assert timers_remind(now=due + HOUR, ahead=dt.timedelta(days=400)) == 1  # only the JC window of ``stopped``
    assert reminded_events(timer_of(lapsed, TimerKind.MEDIATOR_ACCEPTANCE)).count() == 0
    assert reminded_events(timer_of(paused, TimerKind.MEDIATION_PERIOD)).count() == 0
    assert reminded_events(timer_of(stopped, TimerKind.JC_APPLICATION_WINDOW)).count() == 1


# --- Who is reminded --------------------------------------------------------------------------------------


def applicant_and_respondent_phones(world) -> list[str]:
    return [world.applicant.phone, world.respondent.phone]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "kind", "one_sided", "expected"),
    [
        (CaseStatus.AWAITING_SELECTION, TimerKind.SELECTION_WINDOW, False,
         lambda w: [("party", w.applicant.phone), ("party", w.respondent.phone)]),
        (CaseStatus.SUBMITTED, TimerKind.COURT_DESIGNATION, False, lambda w: [("clerk", w.clerk.phone)]),
        (CaseStatus.ASSIGNED, TimerKind.MEDIATOR_ACCEPTANCE, False, lambda w: [("mediator", w.mediator.phone)]),
        (CaseStatus.RESPONDENT_PENDING, TimerKind.RESPONDENT_CONTACT, True, lambda w: [("mediator", w.mediator.phone)]),
        (CaseStatus.IN_MEDIATION, TimerKind.MEDIATION_PERIOD, False,
         lambda w: [("mediator", w.mediator.phone), ("party", w.applicant.phone), ("party", w.respondent.phone)]),
        (CaseStatus.CLOSED_SETTLED, TimerKind.JC_APPLICATION_WINDOW, False,
         lambda w: [("party", w.applicant.phone), ("party", w.respondent.phone)]),
    ],
)
def test_each_clock_reminds_the_people_who_must_act(world, console_sms, status, kind, one_sided, expected):
    case = world.drive(world.new_case(one_sided=one_sided), status)
    timer = timer_of(case, kind)
    assert timer.status == TimerStatus.RUNNING
    assert timers_remind(now=timer.due_at - HOUR, ahead=2 * HOUR) == 1
    want = expected(world)
    assert sent_to(console_sms) == [phone for _, phone in want]
    (event,) = reminded_events(timer)
    assert [(r["role"], r["phone"]) for r in event.data["recipients"]] == [(role, mask_phone(p)) for role, p in want]
    assert all(r["queued"] for r in event.data["recipients"])


@pytest.mark.django_db
def test_the_court_designation_reminder_goes_to_every_active_clerk_of_the_court_only(world, console_sms):
    second = UserFactory(real_name="第二书记员")
    add_member(second, world.court, Role.CLERK)
    former = UserFactory(real_name="已调离书记员")
    Membership.objects.filter(pk=add_member(former, world.court, Role.CLERK).pk).update(is_active=False)
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    timer = timer_of(case, TimerKind.COURT_DESIGNATION)
    timers_remind(now=timer.due_at - HOUR)
    assert sorted(sent_to(console_sms)) == sorted([world.clerk.phone, second.phone])
    assert world.other_clerk.phone not in sent_to(console_sms)
    assert world.judge.phone not in sent_to(console_sms)


@pytest.mark.django_db
def test_a_party_without_a_phone_is_recorded_as_not_reached(world, console_sms):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    Party.objects.filter(case=case, role=PartyRole.RESPONDENT).update(phone="")
    world.respondent.phone = ""
    world.respondent.save()
    timer = timer_of(case, TimerKind.SELECTION_WINDOW)
    timers_remind(now=timer.due_at - HOUR)
    assert sent_to(console_sms) == [world.applicant.phone]
    recipients = reminded_events(timer).get().data["recipients"]
    in_app = OutboxMessage.objects.get(case=case, channel=MessageChannel.IN_APP, recipient=world.respondent)
    assert recipients[1] == {"role": "party", "phone": "", "user": world.respondent.pk, "party_role": "respondent",
                             "queued": False, "error": "no_phone", "in_app": in_app.pk}


@pytest.mark.django_db
def test_a_gateway_refusal_for_one_recipient_is_retried_by_the_outbox_and_nobody_gets_two(
    world, console_sms, monkeypatch, settings
):
    settings.OUTBOX_RETRY_SECONDS = 30
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    real_send = sms.ConsoleSmsBackend.send
    refused: list[str] = []

    def flaky(self, *, phone: str, text: str, request_id: str | None = None) -> str:
        if phone == world.applicant.phone and not refused:
            refused.append(phone)
            raise sms.SmsDeliveryError("gateway said no")
        return real_send(self, phone=phone, text=text, request_id=request_id)

    monkeypatch.setattr(sms.ConsoleSmsBackend, "send", flaky)
    now = timer.due_at - HOUR
    with time_machine.travel(now, tick=False) as traveller:
        assert timers_remind() == 1
        assert sent_to(console_sms) == [world.mediator.phone, world.respondent.phone]
        failed = OutboxMessage.objects.get(case=case, channel=MessageChannel.SMS, address=world.applicant.phone)
        assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 1)
        assert "gateway said no" in failed.last_error
        # Claimed all the same: no second round of messages for this timer.
        assert timers_remind() == 0
        traveller.shift(dt.timedelta(minutes=1))
        assert sent_to(console_sms) == [world.mediator.phone, world.respondent.phone, world.applicant.phone]
    recipients = reminded_events(timer).get().data["recipients"]
    assert all(r["queued"] for r in recipients)


@pytest.mark.django_db
def test_a_broken_timer_does_not_stop_the_others_reminders(world, console_sms, monkeypatch, caplog):
    first = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    second = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    from mediation.services import reminders

    real = reminders.recipients_for

    def broken_for_first(timer):
        if timer.case_id == first.pk:
            raise RuntimeError("boom")
        return real(timer)

    monkeypatch.setattr(reminders, "recipients_for", broken_for_first)
    due = timer_of(second, TimerKind.MEDIATOR_ACCEPTANCE).due_at
    with caplog.at_level(logging.ERROR, logger="mediation.services.reminders"):
        assert timers_remind(now=due - HOUR) == 1
    assert "Reminding timer" in caplog.text
    assert reminded_events(timer_of(second, TimerKind.MEDIATOR_ACCEPTANCE)).count() == 1


# --- Text --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_text_names_the_case_what_is_due_when_and_what_to_do_in_chinese_whatever_the_language(world):
    from django.utils import translation

    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    timer = timer_of(case, TimerKind.SELECTION_WINDOW)
    with translation.override("en"):
        text = reminder_text(timer)
    day = timer.due_at.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    assert text == (
        f"案件{case.reference}：当事人共同选择调解员（2个工作日）将于{day.year}年{day.month}月{day.day}日24时届满。"
        "请双方当事人在期限内共同选择调解员，逾期由人民法院指定。"
    )


def test_a_due_moment_that_is_not_midnight_is_given_to_the_minute():
    assert due_text(local(2025, 3, 7)) == "2025年3月6日24时"
    assert due_text(local(2025, 3, 7, 9, 5)) == "2025年3月7日9时05分"


# --- Concurrency, and the sweep ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reminder_runs_send_each_reminder_once(world, console_sms):
    cases = [world.drive(world.new_case(), CaseStatus.ASSIGNED) for _ in range(4)]
    timers = [timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE) for case in cases]
    now = max(t.due_at for t in timers) - HOUR
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def remind() -> None:
        try:
            start.wait(timeout=10)
            results.append(timers_remind(now=now, ahead=dt.timedelta(days=7)))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=remind) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(results) == len(timers)
    assert len(sent_to(console_sms)) == len(timers)
    for timer in timers:
        assert reminded_events(timer).count() == 1


@pytest.mark.django_db
def test_the_celery_sweep_and_the_command_send_reminders_after_firing(world, console_sms):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        lapsing = world.drive(world.new_case(), CaseStatus.ASSIGNED)  # due by the end of Thu 03-06
        traveller.move_to(local(2025, 3, 4, 10))
        upcoming = world.drive(world.new_case(), CaseStatus.ASSIGNED)  # due by the end of Fri 03-07

        traveller.move_to(local(2025, 3, 7, 8))
        assert sweep_due_timers.delay().get() == 1
        lapsing.refresh_from_db()
        assert lapsing.status == CaseStatus.AWAITING_SELECTION
        # The lapse opened a new 2-working-day choice window (due Tue 03-11): not within 24 h.
        assert sent_to(console_sms) == [world.mediator.phone]
        assert reminded_events(timer_of(upcoming, TimerKind.MEDIATOR_ACCEPTANCE)).count() == 1

        # The lapse's choice window ends with Tue 03-11; ``upcoming`` lapses in this sweep.
        traveller.move_to(local(2025, 3, 11, 1))
        out = StringIO()
        call_command("sweep_timers", stdout=out)
    assert out.getvalue().splitlines() == ["1 timer(s) fired", "1 reminder(s) sent"]
    assert sent_to(console_sms)[1:] == applicant_and_respondent_phones(world)
