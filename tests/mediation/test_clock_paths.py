"""Every clock path of choosing, designating, accepting and seeking the respondent, on the calendar
(OMR 10, 12, 15): dates cross weekends and 2026 holidays, so only working days count.

The sweep (``timers_sweep``) fires what is due, as Celery beat or ``manage.py sweep_timers`` would.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from mediation import transitions as tr
from mediation.adapters import sms
from mediation.choices import (
    CaseStatus,
    EndReason,
    OtpPurpose,
    PartyRole,
    RosterScope,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import Agent, AuditEvent, Case, CaseMediator, Evidence, Party, RosterEntry, Timer, User
from mediation.permissions import case_roles
from mediation.services.assignment import (
    mediator_accept,
    mediator_choice_record,
    mediator_decline,
    mediator_designate,
)
from mediation.services.identity import otp_send, user_login_by_phone
from mediation.services.outbox import outbox_drain
from mediation.services.respondent import (
    respondent_answer,
    respondent_invite,
    respondent_link,
    respondent_seek,
    respondent_unreachable,
)
from mediation.services.timer_sweep import timers_sweep
from tests.factories import make_mediator

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
RESPONDENT_PHONE = "13912345678"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def timer_of(case: Case, kind: str) -> Timer:
    return Timer.objects.filter(case=case, kind=kind).latest("pk")


def due_day(timer: Timer) -> dt.date:
    return timezone.localtime(timer.due_at - dt.timedelta(microseconds=1), SHANGHAI).date()


def sweep() -> list[Timer]:
    return timers_sweep(now=timezone.now())


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture(autouse=True)
def console_sms(settings):
    settings.SMS_BACKEND = "console"
    sms.outbox_clear()
    yield sms.outbox
    sms.outbox_clear()


@pytest.fixture
def rostered(world) -> User:
    """world.mediator on the court's roster, plus a second mediator of the partner for re-designation."""
    RosterEntry.objects.create(mediator=world.mediator.mediator_profile, court=world.court, scope=RosterScope.COURT)
    second = make_mediator(world.partner, specialties=["labour"])
    RosterEntry.objects.create(mediator=second.mediator_profile, court=world.court, scope=RosterScope.COURT)
    return second


def pick(world, case: Case, mediator: User) -> None:
    mediator_choice_record(
        case=case, party=Party.objects.get(case=case, role=PartyRole.APPLICANT), mediator=mediator,
        actor=world.applicant,
    )
    mediator_choice_record(
        case=case, party=Party.objects.get(case=case, role=PartyRole.RESPONDENT), mediator=mediator,
        actor=world.lawyer,
    )


def defer(world, case: Case) -> Case:
    """Both parties leave the choice to the court: it may designate at once (OMR 10)."""
    for role, actor in ((PartyRole.APPLICANT, world.applicant), (PartyRole.RESPONDENT, world.lawyer)):
        mediator_choice_record(case=case, party=Party.objects.get(case=case, role=role), mediator=None, actor=actor,
                               defer_to_court=True)
    return fresh(case)


# --- OMR 10: the 2-working-day joint choice -------------------------------------------------------------


def test_parties_choose_in_time_across_the_qingming_holiday(world, rostered):
    with time_machine.travel(local(2026, 4, 2, 10), tick=False) as traveller:  # Thursday
        case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
        window = timer_of(case, TimerKind.SELECTION_WINDOW)
        # Fri 3 April, then the weekend and Qingming (Mon 6 April) do not count: the 2nd working day is Tue 7.
        assert due_day(window) == dt.date(2026, 4, 7)

        traveller.move_to(local(2026, 4, 7, 16))  # the last day, still in time
        assert sweep() == []
        pick(world, case, world.mediator)

        case = fresh(case)
        assert case.status == CaseStatus.ASSIGNED
        assert timer_of(case, TimerKind.SELECTION_WINDOW).status == TimerStatus.STOPPED
        acceptance = timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)
        assert acceptance.status == TimerStatus.RUNNING
        assert due_day(acceptance) == dt.date(2026, 4, 10)  # Wed 8, Thu 9, Fri 10


def test_the_window_lapses_and_the_clerk_designates(world, rostered):
    with time_machine.travel(local(2026, 4, 2, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
        # Only the applicant picks; the respondent side stays silent.
        mediator_choice_record(
            case=case, party=Party.objects.get(case=case, role=PartyRole.APPLICANT), mediator=world.mediator,
            actor=world.applicant,
        )

        traveller.move_to(local(2026, 4, 6, 12))  # Qingming: a holiday, the window still runs
        assert sweep() == []

        traveller.move_to(local(2026, 4, 8, 0, 5))  # just after the end of Tue 7 April
        fired = sweep()
        assert [t.kind for t in fired] == [TimerKind.SELECTION_WINDOW]
        assert fresh(case).status == CaseStatus.AWAITING_SELECTION  # expiry hands over to the court

        with pytest.raises(InvalidInput, match="已届满"):
            mediator_choice_record(
                case=case, party=Party.objects.get(case=case, role=PartyRole.RESPONDENT), mediator=world.mediator,
                actor=world.lawyer,
            )
        case = mediator_designate(case=fresh(case), mediator=world.mediator, actor=world.clerk)
        assert case.status == CaseStatus.ASSIGNED
        # The court designated within its own 3 working days of receiving the application (Fri, Tue, Wed).
        designation = timer_of(case, TimerKind.COURT_DESIGNATION)
        assert designation.status == TimerStatus.STOPPED
        assert due_day(designation) == dt.date(2026, 4, 8)


# --- OMR 12: the mediator's 3 working days -----------------------------------------------------------------


def designated_before_may_day(world) -> Case:
    """Designated on Thu 30 April 2026: 1 May and 4-5 May are holidays, 2-3 May a weekend, so the
    acceptance window's working days are Wed 6, Thu 7, Fri 8 May."""
    case = defer(world, world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION))
    case = mediator_designate(case=case, mediator=world.mediator, actor=world.clerk)
    assert due_day(timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)) == dt.date(2026, 5, 8)
    return case


def test_the_mediator_declines_and_the_case_is_designated_again(world, rostered):
    with time_machine.travel(local(2026, 4, 30, 10), tick=False) as traveller:
        case = designated_before_may_day(world)

        traveller.move_to(local(2026, 5, 6, 9))
        case = mediator_decline(case=case, actor=world.mediator, reasons="与本人擅长领域不符。")
        assert case.status == CaseStatus.AWAITING_SELECTION
        assert timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE).status == TimerStatus.STOPPED
        assert not case_roles(world.mediator, case)
        # A new selection round opens: 2 working days from Wed 6 May.
        assert due_day(timer_of(case, TimerKind.SELECTION_WINDOW)) == dt.date(2026, 5, 8)

        # The parties choose first again (OMR 10): the clerk waits while the new window runs.
        with pytest.raises(InvalidInput, match="尚未届满"):
            mediator_designate(case=case, mediator=rostered, actor=world.clerk)
        case = defer(world, case)
        # The one who declined is not offered again; the clerk designates another mediator.
        with pytest.raises(InvalidInput, match="已退出本案"):
            mediator_designate(case=case, mediator=world.mediator, actor=world.clerk)
        case = mediator_designate(case=case, mediator=rostered, actor=world.clerk)
        assert case.status == CaseStatus.ASSIGNED
        assert CaseMediator.objects.get(case=case, is_active=True).mediator == rostered
        # Sat 9 May is a make-up working day (调休): Thu 7, Fri 8, Sat 9.
        assert due_day(timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)) == dt.date(2026, 5, 9)


def test_the_acceptance_window_lapses_and_the_case_is_designated_again(world, rostered):
    with time_machine.travel(local(2026, 4, 30, 10), tick=False) as traveller:
        case = designated_before_may_day(world)

        traveller.move_to(local(2026, 5, 5, 23))  # still a holiday: nothing lapses
        assert sweep() == []
        traveller.move_to(local(2026, 5, 8, 23, 59))
        assert sweep() == []

        traveller.move_to(local(2026, 5, 9, 0, 1))
        fired = sweep()
        assert [t.kind for t in fired] == [TimerKind.MEDIATOR_ACCEPTANCE]
        case = fresh(case)
        assert case.status == CaseStatus.AWAITING_SELECTION
        lapse = AuditEvent.objects.get(case=case, kind="case.acceptance_lapsed")
        assert lapse.actor is None
        assert not case_roles(world.mediator, case)  # access ends with the assignment (decisions D12)
        with pytest.raises(PermissionDenied):  # too late to accept now
            mediator_accept(case=case, actor=world.mediator, disclosure="", nothing_to_disclose=True)

        case = mediator_designate(case=defer(world, case), mediator=rostered, actor=world.org_admin)
        assert case.status == CaseStatus.ASSIGNED
        case = mediator_accept(case=case, actor=rostered, disclosure="", nothing_to_disclose=True)
        assert case.status == CaseStatus.ACCEPTED


# --- OMR 15: the respondent of a one-sided application -----------------------------------------------------


def one_sided_accepted_before_golden_week(world) -> Case:
    """A party's own application, accepted by the mediator on Wed 30 September 2026. National Day runs
    1-7 October and Sat 10 October is a make-up working day, so the 3-working-day contact clock covers
    Thu 8, Fri 9 and Sat 10 October."""
    case = world.new_case(one_sided=True)
    respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
    respondent.user = None
    respondent.phone = RESPONDENT_PHONE
    respondent.save()
    Agent.objects.filter(party=respondent).delete()
    Evidence.objects.create(
        case=case, uploaded_by=world.applicant, title="工资条", file="evidence/cd/" + "cd" * 32,
        original_name="工资条.pdf", content_type="application/pdf", size=2048, sha256="cd" * 32,
    )
    case = world.drive(case, CaseStatus.AWAITING_SELECTION)
    case = mediator_designate(case=case, mediator=world.mediator, actor=world.clerk)
    case = mediator_accept(case=case, actor=world.mediator, disclosure="", nothing_to_disclose=True)
    contact = timer_of(case, TimerKind.RESPONDENT_CONTACT)
    assert due_day(contact) == dt.date(2026, 10, 10)
    return respondent_seek(case=case, actor=world.mediator)


def test_the_respondent_refuses_and_the_materials_go_back(world, rostered, console_sms):
    with time_machine.travel(local(2026, 9, 30, 15), tick=False) as traveller:
        case = one_sided_accepted_before_golden_week(world)
        respondent_invite(case=case, actor=world.mediator)
        outbox_drain(worker_id="t")
        assert console_sms[-1].phone == RESPONDENT_PHONE

        traveller.move_to(local(2026, 10, 9, 20))  # within the contact clock
        otp_send(phone=RESPONDENT_PHONE, purpose=OtpPurpose.LOGIN)
        code = re.search(r"\d{6}", console_sms[-1].text).group(0)
        respondent = user_login_by_phone(phone=RESPONDENT_PHONE, code=code)
        respondent_link(case=case, actor=respondent)
        console_sms.clear()
        case = respondent_answer(case=fresh(case), actor=respondent, willing=False)
        outbox_drain(worker_id="t")

        assert case.status == CaseStatus.TERMINATED and case.end_reason == EndReason.REFUSED_TO_CONTINUE
        assert timer_of(case, TimerKind.RESPONDENT_CONTACT).status == TimerStatus.STOPPED
        assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.STOPPED
        returned = AuditEvent.objects.get(case=case, kind="materials.returned")
        assert returned.data["evidence"] == [Evidence.objects.get(case=case).pk]
        assert [m.phone for m in console_sms] == [world.applicant.phone]


def test_the_respondent_cannot_be_reached_within_the_contact_clock(world, rostered, console_sms):
    with time_machine.travel(local(2026, 9, 30, 15), tick=False) as traveller:
        case = one_sided_accepted_before_golden_week(world)
        respondent_invite(case=case, actor=world.mediator)
        outbox_drain(worker_id="t")

        traveller.move_to(local(2026, 10, 7, 23))  # the last day of the holiday: the clock still runs
        assert sweep() == []
        traveller.move_to(local(2026, 10, 11, 0, 1))  # after the make-up Saturday
        fired = sweep()
        assert [t.kind for t in fired] == [TimerKind.RESPONDENT_CONTACT]
        assert fresh(case).status == CaseStatus.RESPONDENT_PENDING  # the expiry alerts; the mediator records

        traveller.move_to(local(2026, 10, 12, 9))
        console_sms.clear()
        case = respondent_unreachable(
            case=fresh(case), actor=world.mediator,
            note="9月30日、10月8日两次发送短信，10月9日三次致电均未接通。",
        )
        outbox_drain(worker_id="t")
        assert case.status == CaseStatus.TERMINATED and case.end_reason == EndReason.UNREACHABLE
        assert "materials.returned" in set(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
        assert [m.phone for m in console_sms] == [world.applicant.phone]
        assert tr.MEDIATOR in case_roles(world.mediator, case)  # the mediator still writes the failure report
