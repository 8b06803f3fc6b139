"""Scheduling sessions (OMR 16): who may, in which statuses, the kinds of session, double booking at the
edges (back to back, one minute over, other time zones, a lawyer across cases, a venue), working hours,
the outbox invitations and reminders, rescheduling and cancelling, and the free-slot search."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from mediation.choices import (
    AttendanceMode,
    CaseStatus,
    EndReason,
    MessageChannel,
    OutboxStatus,
    ParticipantRole,
    SessionKind,
    SessionStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import AuditEvent, Case, MediationSession, OutboxMessage, Party, SessionParticipant, Venue
from mediation.services.scheduling import (
    ParticipantSpec,
    session_cancel,
    session_first_free_slot,
    session_free_slots,
    session_participants_default,
    session_reschedule,
    session_schedule,
)
from tests.factories import OrganisationFactory, make_mediator
from tests.scheduling_support import NOW, at, consent_separate, fresh_case, hours, venue

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(world):
    return world.drive(world.new_case(), CaseStatus.SCHEDULING)


def schedule(case, actor, start, end, kind=SessionKind.JOINT_ONLINE, **kwargs):
    return session_schedule(case=case, actor=actor, kind=kind, starts_at=start, ends_at=end, **kwargs)


def specs_with(case, **attendance_by_name):
    """The default participants, with some attending at the venue (by display name)."""
    out = []
    for spec in session_participants_default(case=case):
        mode = attendance_by_name.get(spec.name)
        out.append(ParticipantSpec(role=spec.role, user=spec.user, party=spec.party,
                                   attendance=mode or AttendanceMode.ONLINE))
    return out


def with_slots(case, slots):
    """The default participants with a separate slot per party (by role: applicant/respondent)."""
    out = []
    for spec in session_participants_default(case=case):
        slot = slots.get(spec.party.role) if spec.role == ParticipantRole.PARTY else None
        out.append(ParticipantSpec(role=spec.role, user=spec.user, party=spec.party,
                                   slot_starts_at=slot[0] if slot else None, slot_ends_at=slot[1] if slot else None))
    return out


# --- the happy path ------------------------------------------------------------------------------------------


def test_mediator_schedules_a_joint_session_with_every_party_and_agent(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    people = {(p.role, p.user_id) for p in session.participants.all()}
    assert people == {
        (ParticipantRole.MEDIATOR, world.mediator.pk), (ParticipantRole.PARTY, world.applicant.pk),
        (ParticipantRole.PARTY, world.respondent.pk), (ParticipantRole.AGENT, world.lawyer.pk),
    }
    assert session.status == SessionStatus.SCHEDULED and session.sequence == 0
    event = AuditEvent.objects.get(case=case, kind="session.scheduled")
    assert event.data["session"] == session.pk and len(event.data["participants"]) == 4


def test_invitations_go_to_every_participant_by_sms_and_in_app_in_the_same_transaction(world, case):
    world.applicant.email = "zhangsan@example.cn"
    world.applicant.save()
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    invites = OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:invite:")
    by_channel = {(m.recipient_id, m.channel) for m in invites}
    for user in (world.mediator, world.applicant, world.respondent, world.lawyer):
        assert (user.pk, MessageChannel.SMS) in by_channel
        assert (user.pk, MessageChannel.IN_APP) in by_channel
    assert (world.applicant.pk, MessageChannel.EMAIL) in by_channel
    sms = invites.get(recipient=world.lawyer, channel=MessageChannel.SMS)
    assert sms.address == world.lawyer.phone and sms.template == "session.invitation"
    assert case.reference in sms.body and "2026年3月4日 10:00（北京时间）" in sms.body
    assert all(m.case_id == case.pk and m.status == OutboxStatus.PENDING for m in invites)


def test_reminders_are_queued_24_hours_and_1_hour_before(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    reminders = OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:remind")
    due = {(m.template, m.next_attempt_at) for m in reminders}
    assert due == {("session.reminder_24h", at(3, 10)), ("session.reminder_1h", at(4, 9))}
    # SMS and in-app to each of the four people, for each reminder.
    assert reminders.count() == 4 * 2 * 2


def test_a_reminder_that_would_already_be_due_is_not_queued(world, case):
    session = schedule(case, world.mediator, at(2, 15), at(2, 16))  # this afternoon
    templates = set(
        OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:remind")
        .values_list("template", flat=True)
    )
    assert templates == {"session.reminder_1h"}


def test_a_party_without_an_account_is_invited_by_sms_at_the_number_on_the_case(world, case):
    party = Party.objects.get(case=case, user=world.respondent)
    party.user = None
    party.phone = "13700000001"
    party.save()
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    assert SessionParticipant.objects.filter(session=session, party=party, user=None).exists()
    assert OutboxMessage.objects.filter(
        idempotency_key=f"session:{session.pk}:invite:p{party.pk}:sms", address="13700000001"
    ).exists()


# --- statuses and permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "applicant", "respondent", "lawyer", "other_mediator", "clerk",
                                 "judge", "other_clerk", "other_judge", "org_admin"])
def test_only_the_cases_mediator_may_schedule(world, case, who):
    with pytest.raises(PermissionDenied):
        schedule(case, getattr(world, who), at(4, 10), at(4, 11))
    assert not MediationSession.objects.exists() and not OutboxMessage.objects.exists()


def test_a_party_may_not_reschedule_or_cancel(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(PermissionDenied):
        session_reschedule(session=session, starts_at=at(5, 10), ends_at=at(5, 11), reason="有事", actor=world.lawyer)
    with pytest.raises(PermissionDenied):
        session_cancel(session=session, reason="有事", actor=world.applicant)


def test_a_draft_case_cannot_have_sessions(world):
    case = world.new_case()
    case.mediation_organisation = world.partner
    with pytest.raises(PermissionDenied):  # no mediator yet
        schedule(case, world.mediator, at(4, 10), at(4, 11))


def test_a_closed_case_cannot_have_sessions(world, case):
    from mediation.services.cases import case_transition

    case = case_transition(case=case, to=CaseStatus.TERMINATED, actor=world.mediator,
                           reason=EndReason.POSITIONS_TOO_FAR)
    with pytest.raises(InvalidInput, match="不能安排调解活动"):
        schedule(case, world.mediator, at(4, 10), at(4, 11))


def test_scheduling_the_first_session_of_an_accepted_case_moves_it_to_scheduling(world):
    case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    schedule(case, world.mediator, at(4, 10), at(4, 11))
    case.refresh_from_db()
    assert case.status == CaseStatus.SCHEDULING


def test_a_one_sided_application_needs_the_respondents_answer_first(world):
    case = world.drive(world.new_case(one_sided=True), CaseStatus.ACCEPTED)
    with pytest.raises(InvalidInput, match="OMR 15"):
        schedule(case, world.mediator, at(4, 10), at(4, 11))


# --- bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "message"), [
    (at(4, 11), at(4, 10), "结束时间须晚于开始时间"),
    (at(4, 10), at(4, 10), "结束时间须晚于开始时间"),
    (at(1, 10), at(1, 11), "开始时间须晚于现在"),
    (at(4, 8), at(4, 21), "不超过12小时"),
    (dt.datetime(2026, 3, 4, 10), dt.datetime(2026, 3, 4, 11), "时区"),
])
def test_bad_times_are_refused_with_nothing_saved(world, case, start, end, message):
    with pytest.raises(InvalidInput, match=message):
        schedule(case, world.mediator, start, end)
    assert not MediationSession.objects.exists() and not OutboxMessage.objects.exists()


def test_someone_from_another_case_cannot_be_invited(world, case):
    specs = [*session_participants_default(case=case),
             ParticipantSpec(role=ParticipantRole.AGENT, user=world.outsider, party=case.parties.first())]
    with pytest.raises(InvalidInput, match="不是本案"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), participants=specs)


def test_every_party_must_be_told(world, case):
    specs = [s for s in session_participants_default(case=case) if s.user != world.respondent]
    with pytest.raises(InvalidInput, match="每一方当事人"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), participants=specs)


# --- kinds of session (OMR 16) -------------------------------------------------------------------------------


def test_separate_slots_need_every_partys_consent(world, case):
    slots = {"applicant": (at(4, 10), at(4, 10, 30)), "respondent": (at(4, 10, 30), at(4, 11))}
    with pytest.raises(InvalidInput, match="各方当事人同意"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.SEPARATE_SLOTS,
                 participants=with_slots(case, slots))
    consent_separate(case, parties=[case.parties.get(role="applicant")])
    with pytest.raises(InvalidInput, match="各方当事人同意"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.SEPARATE_SLOTS,
                 participants=with_slots(case, slots))
    assert not MediationSession.objects.exists()


def test_separate_slots_with_consent_give_each_party_its_window_and_the_agent_shares_it(world, case):
    consent_separate(case)
    slots = {"applicant": (at(4, 10), at(4, 10, 30)), "respondent": (at(4, 10, 30), at(4, 11))}
    session = schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.SEPARATE_SLOTS,
                       participants=with_slots(case, slots))
    lawyer = session.participants.get(user=world.lawyer)
    assert (lawyer.slot_starts_at, lawyer.slot_ends_at) == slots["respondent"]
    assert session.participants.get(user=world.mediator).slot_starts_at is None
    # The respondent's reminder is an hour before *their* slot.
    reminder = OutboxMessage.objects.get(
        idempotency_key=f"session:{session.pk}:remind1:u{world.respondent.pk}:sms"
    )
    assert reminder.next_attempt_at == at(4, 9, 30)
    assert "您的时段" in reminder.body


def test_a_withdrawn_consent_stops_separate_slots(world, case):
    consent_separate(case)
    consent_separate(case, parties=[case.parties.get(role="respondent")], granted=False)
    with pytest.raises(InvalidInput, match="各方当事人同意"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.SEPARATE_SLOTS,
                 participants=with_slots(case, {"applicant": (at(4, 10), at(4, 10, 30)),
                                                "respondent": (at(4, 10, 30), at(4, 11))}))


@pytest.mark.parametrize(("slots", "message"), [
    ({"applicant": (at(4, 10), at(4, 10, 40)), "respondent": (at(4, 10, 30), at(4, 11))}, "时段重叠"),
    ({"applicant": (at(4, 9, 30), at(4, 10, 30)), "respondent": (at(4, 10, 30), at(4, 11))}, "起止时间之内"),
    ({"applicant": (at(4, 10), at(4, 10, 30))}, "指定时段"),
])
def test_separate_slots_must_fit_the_session_and_not_overlap(world, case, slots, message):
    consent_separate(case)
    with pytest.raises(InvalidInput, match=message):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.SEPARATE_SLOTS,
                 participants=with_slots(case, slots))


def test_hybrid_needs_a_venue(world, case):
    specs = specs_with(case, 李四=AttendanceMode.VENUE)
    with pytest.raises(InvalidInput, match="须选择调解场所"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.HYBRID, participants=specs)


def test_hybrid_needs_someone_at_the_venue(world, case):
    with pytest.raises(InvalidInput, match="至少有一人"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.HYBRID, venue=venue(world))


def test_hybrid_with_a_venue_tells_only_those_attending_there_where_to_go(world, case):
    room = venue(world)
    session = schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.HYBRID, venue=room,
                       participants=specs_with(case, 李四=AttendanceMode.VENUE))
    assert session.participants.get(user=world.respondent).attendance == AttendanceMode.VENUE
    to_respondent = OutboxMessage.objects.get(idempotency_key=f"session:{session.pk}:invite:u{world.respondent.pk}:sms")
    to_applicant = OutboxMessage.objects.get(idempotency_key=f"session:{session.pk}:invite:u{world.applicant.pk}:sms")
    assert room.name in to_respondent.body and room.name not in to_applicant.body


def test_in_person_needs_a_venue_and_puts_everyone_there(world, case):
    with pytest.raises(InvalidInput, match="现场调解须选择调解场所"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.IN_PERSON)
    session = schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.IN_PERSON, venue=venue(world))
    assert set(session.participants.values_list("attendance", flat=True)) == {AttendanceMode.IN_PERSON}


def test_joint_online_takes_no_venue(world, case):
    with pytest.raises(InvalidInput, match="不使用调解场所"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), venue=venue(world))


def test_a_venue_of_another_organisation_is_refused(world, case):
    elsewhere = Venue.objects.create(organisation=OrganisationFactory(), name="别处调解室", address="别处")
    with pytest.raises(InvalidInput, match="不属于本案"):
        schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.IN_PERSON, venue=elsewhere)


# --- conflicts at the edges ----------------------------------------------------------------------------------


def test_back_to_back_sessions_of_one_mediator_are_fine(world, case):
    other = fresh_case(world, mediator=world.mediator)
    schedule(case, world.mediator, at(4, 10), at(4, 11))
    schedule(other, world.mediator, at(4, 11), at(4, 12))
    schedule(other, world.mediator, at(4, 9), at(4, 10))
    assert MediationSession.objects.count() == 3


def test_a_one_minute_overlap_is_refused_naming_who_which_case_and_when(world, case):
    other = fresh_case(world, mediator=world.mediator)
    schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput) as refused:
        schedule(other, world.mediator, at(4, 10, 59), at(4, 12))
    message = str(refused.value)
    assert world.mediator.display_name in message
    assert case.reference in message
    assert "2026年3月4日 10:00–11:00（北京时间）" in message
    assert MediationSession.objects.filter(case=other).count() == 0


def test_a_lawyer_booked_in_another_case_is_refused_without_naming_a_case_the_mediator_cannot_see(world, case):
    other = fresh_case(world, lawyer=world.lawyer)  # another mediator, other parties, the same lawyer
    schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput, match="王律师") as refused:
        schedule(other, other.mediator_assignments.get().mediator, at(4, 10, 30), at(4, 11, 30))
    message = str(refused.value)
    assert case.reference not in message
    assert "已有其他调解安排" in message and "2026年3月4日 10:00–11:00（北京时间）" in message


def test_the_clash_is_shown_in_the_persons_own_time_zone(world, case):
    hours(world.lawyer, days=range(7), start=dt.time(0), end=dt.time(23, 59), time_zone="Europe/London")
    other = fresh_case(world, lawyer=world.lawyer)
    schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput) as refused:
        schedule(other, other.mediator_assignments.get().mediator, at(4, 10), at(4, 10, 30))
    # 10:00 in Beijing is 02:00 in London (GMT) on 4 March.
    assert "2026年3月4日 02:00–03:00（Europe/London 时间）" in str(refused.value)


def test_times_given_in_another_zone_clash_by_the_instant_not_the_wall_clock(world, case):
    la = ZoneInfo("America/Los_Angeles")
    other = fresh_case(world, mediator=world.mediator)
    schedule(case, world.mediator, at(4, 10), at(4, 11))  # 02:00-03:00 UTC on 4 March
    # 18:00 on 3 March in Los Angeles (PST) is 02:00 UTC on 4 March: the very same instants.
    with pytest.raises(InvalidInput, match="时间冲突"):
        schedule(other, world.mediator, at(3, 18, 59, tz=la), at(3, 19, 30, tz=la))
    schedule(other, world.mediator, at(3, 19, tz=la), at(3, 20, tz=la))  # back to back: fine
    schedule(other, world.mediator, at(3, 17, tz=la), at(3, 18, tz=la))


def test_a_venue_booked_by_another_case_is_refused(world, case):
    room = venue(world)
    other = fresh_case(world)
    schedule(case, world.mediator, at(4, 10), at(4, 11), kind=SessionKind.IN_PERSON, venue=room)
    with pytest.raises(InvalidInput, match="场所冲突") as refused:
        schedule(other, other.mediator_assignments.get().mediator, at(4, 10, 30), at(4, 12),
                 kind=SessionKind.IN_PERSON, venue=room)
    assert room.name in str(refused.value) and "已有其他调解安排" in str(refused.value)
    assert case.reference not in str(refused.value)  # the other mediator holds no role on that case
    schedule(other, other.mediator_assignments.get().mediator, at(4, 11), at(4, 12),
             kind=SessionKind.IN_PERSON, venue=room)


def test_a_cancelled_session_no_longer_blocks_anyone(world, case):
    other = fresh_case(world, mediator=world.mediator)
    first = schedule(case, world.mediator, at(4, 10), at(4, 11))
    session_cancel(session=first, reason="当事人申请延期", actor=world.mediator)
    taken = schedule(other, world.mediator, at(4, 10), at(4, 11))
    assert (taken.status, taken.starts_at) == (SessionStatus.SCHEDULED, at(4, 10))


def test_separate_slots_block_each_party_only_in_its_own_window(world, case):
    consent_separate(case)
    schedule(case, world.mediator, at(4, 10), at(4, 12), kind=SessionKind.SEPARATE_SLOTS,
             participants=with_slots(case, {"applicant": (at(4, 10), at(4, 11)), "respondent": (at(4, 11), at(4, 12))}))
    other = fresh_case(world, lawyer=world.lawyer)
    other_mediator = other.mediator_assignments.get().mediator
    # The lawyer (for the respondent) is free from 10:00 to 11:00.
    schedule(other, other_mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput, match="王律师"):
        schedule(other, other_mediator, at(4, 11, 30), at(4, 12, 30))


# --- working hours -------------------------------------------------------------------------------------------


def test_a_time_outside_someones_working_hours_is_refused_naming_them(world, case):
    hours(world.lawyer, start=dt.time(9), end=dt.time(12))
    with pytest.raises(InvalidInput, match="王律师的可参加时间") as refused:
        schedule(case, world.mediator, at(4, 14), at(4, 15))
    assert "周一至周五 09:00–12:00（北京时间）" in str(refused.value)
    schedule(case, world.mediator, at(4, 11), at(4, 12))


def test_working_hours_are_read_in_the_persons_own_zone(world, case):
    # 09:00-17:00 in Los Angeles is 01:00-09:00 the next day in Beijing (PST, before 8 March).
    hours(world.applicant, days=range(7), start=dt.time(9), end=dt.time(17), time_zone="America/Los_Angeles")
    with pytest.raises(InvalidInput, match="America/Los_Angeles"):
        schedule(case, world.mediator, at(4, 10), at(4, 11))
    session = schedule(case, world.mediator, at(4, 8), at(4, 9))
    assert session.participants.get(user=world.applicant).time_zone == "America/Los_Angeles"
    invite = OutboxMessage.objects.get(idempotency_key=f"session:{session.pk}:invite:u{world.applicant.pk}:sms")
    assert "2026年3月3日 16:00（America/Los_Angeles）" in invite.body


def test_no_working_hours_recorded_means_no_limit(world, case):
    late = schedule(case, world.mediator, at(4, 21), at(4, 22))
    assert (late.status, late.starts_at) == (SessionStatus.SCHEDULED, at(4, 21))


# --- reschedule and cancel -----------------------------------------------------------------------------------


def test_rescheduling_needs_a_reason(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput, match="改期须写明理由"):
        session_reschedule(session=session, starts_at=at(5, 10), ends_at=at(5, 11), reason="  ", actor=world.mediator)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_rescheduling_replaces_the_session_and_withdraws_its_reminders(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    new = session_reschedule(session=session, starts_at=at(5, 14), ends_at=at(5, 15), reason="调解员临时出庭",
                             actor=world.mediator)
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.cancel_reason == "调解员临时出庭"
    assert new.rescheduled_from_id == session.pk and new.sequence == session.sequence + 1
    assert new.participants.count() == 4
    old_reminders = OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:remind")
    assert old_reminders.exists()
    assert set(old_reminders.values_list("status", "last_error")) == {(OutboxStatus.FAILED, "cancelled")}
    notice = OutboxMessage.objects.get(idempotency_key=f"session:{new.pk}:invite:u{world.lawyer.pk}:sms")
    assert notice.template == "session.rescheduled" and "调解员临时出庭" in notice.body
    assert OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{new.pk}:remind24",
                                        next_attempt_at=at(4, 14)).exists()
    assert AuditEvent.objects.filter(case=case, kind="session.rescheduled").exists()


def test_rescheduling_does_not_clash_with_the_session_it_replaces(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    moved = session_reschedule(session=session, starts_at=at(4, 10, 30), ends_at=at(4, 11, 30), reason="推迟半小时",
                               actor=world.mediator)
    session.refresh_from_db()
    assert (moved.status, moved.starts_at, moved.rescheduled_from) == (SessionStatus.SCHEDULED, at(4, 10, 30), session)
    assert session.status == SessionStatus.CANCELLED


def test_rescheduling_into_a_clash_is_refused_and_leaves_the_session_as_it_was(world, case):
    other = fresh_case(world, mediator=world.mediator)
    schedule(other, world.mediator, at(5, 10), at(5, 11))
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput, match=other.reference):
        session_reschedule(session=session, starts_at=at(5, 10), ends_at=at(5, 11), reason="改期", actor=world.mediator)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
    assert not OutboxMessage.objects.filter(status=OutboxStatus.FAILED).exists()


def test_a_session_is_rescheduled_once(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    session_reschedule(session=session, starts_at=at(5, 10), ends_at=at(5, 11), reason="改期", actor=world.mediator)
    with pytest.raises(StaleState):
        session_reschedule(session=session, starts_at=at(6, 10), ends_at=at(6, 11), reason="再改", actor=world.mediator)


def test_cancelling_needs_a_reason(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    with pytest.raises(InvalidInput, match="取消须写明理由"):
        session_cancel(session=session, reason="", actor=world.mediator)


def test_cancelling_withdraws_pending_reminders_and_tells_everyone(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    session_cancel(session=session, reason="双方已自行和解", actor=world.mediator)
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.sequence == 1
    assert not OutboxMessage.objects.filter(
        idempotency_key__startswith=f"session:{session.pk}:remind", status=OutboxStatus.PENDING
    ).exists()
    notices = OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:cancel:")
    assert {m.recipient_id for m in notices} == {world.mediator.pk, world.applicant.pk, world.respondent.pk,
                                                 world.lawyer.pk}
    assert all("双方已自行和解" in m.body for m in notices)
    with pytest.raises(StaleState):
        session_cancel(session=session, reason="再取消", actor=world.mediator)


def test_a_session_that_has_ended_cannot_be_cancelled(world, case, clock):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    clock.move_to(at(4, 12))
    with pytest.raises(InvalidInput, match="已经结束"):
        session_cancel(session=session, reason="补记", actor=world.mediator)


# --- the free-slot search ------------------------------------------------------------------------------------


def test_first_free_slot_avoids_everyones_sessions_and_hours(world, case):
    other = fresh_case(world, lawyer=world.lawyer)
    schedule(other, other.mediator_assignments.get().mediator, at(2, 10), at(2, 12))
    hours(world.applicant, start=dt.time(10), end=dt.time(17))
    slot = session_first_free_slot(case=case, duration=HOUR, after=at(2, 9))
    assert slot == (at(2, 12), at(2, 13))


def test_free_slots_skip_rest_days(world, case):
    found = session_free_slots(case=case, duration=dt.timedelta(hours=8, minutes=30), after=at(6, 10), limit=2)
    # Friday 6 March from 10:00 cannot hold 8.5 hours before 18:00; Saturday and Sunday are rest days.
    assert found == [(at(9, 9), at(9, 17, 30)), (at(10, 9), at(10, 17, 30))]


def test_free_slot_search_costs_a_constant_number_of_queries(world, case, django_assert_max_num_queries):
    for i in range(3):
        schedule(fresh_case(world, mediator=world.mediator, title=f"案件{i}"), world.mediator,
                 at(3 + i, 10), at(3 + i, 11))
    with django_assert_max_num_queries(8):
        assert session_first_free_slot(case=case, duration=HOUR, days=10, venue=venue(world)) is not None


# --- concurrency ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_mediators_scheduling_the_same_lawyer_at_once_do_not_double_book(world):
    mediator_b = make_mediator(world.partner)
    case_a = fresh_case(world, lawyer=world.lawyer, title="甲案")
    case_b = fresh_case(world, mediator=mediator_b, lawyer=world.lawyer, title="乙案")
    mediator_a = case_a.mediator_assignments.get().mediator
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(case, mediator):
        try:
            barrier.wait()
            schedule(case, mediator, at(4, 10), at(4, 11))
            outcomes.append("scheduled")
        except InvalidInput as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c, m)) for c, m in ((case_a, mediator_a), (case_b, mediator_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("scheduled") == 1
    assert any("王律师" in outcome for outcome in outcomes)
    assert SessionParticipant.objects.filter(user=world.lawyer, session__status=SessionStatus.SCHEDULED).count() == 1


# --- sessions do not outlive the case ------------------------------------------------------------------------


def test_scheduling_rechecks_the_status_under_the_case_lock(world, case):
    stale = Case.objects.get(pk=case.pk)
    world.drive(case, CaseStatus.TERMINATED)
    # ``stale`` still says SCHEDULING: the check inside the transaction reads the locked row.
    with pytest.raises(InvalidInput, match="不能安排调解活动"):
        schedule(stale, world.mediator, at(4, 10), at(4, 11))
    assert not MediationSession.objects.filter(case=case).exists()


def test_rescheduling_rechecks_the_status_under_the_case_lock(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    stale = MediationSession.objects.select_related("case").get(pk=session.pk)
    world.drive(case, CaseStatus.TERMINATED)  # ``stale`` and its case are as the caller last saw them
    with pytest.raises(InvalidInput, match="不能安排调解活动"):
        session_reschedule(session=stale, starts_at=at(5, 10), ends_at=at(5, 11), reason="改期", actor=world.mediator)
    assert MediationSession.objects.filter(case=case).count() == 1


def test_ending_the_case_cancels_its_future_sessions_and_withdraws_their_reminders(world, case):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    other = fresh_case(world, mediator=world.mediator)
    kept = schedule(other, world.mediator, at(5, 10), at(5, 11))
    world.drive(case, CaseStatus.TERMINATED)
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.sequence == 1
    reminders = OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:remind")
    assert reminders.exists()
    assert set(reminders.values_list("status", flat=True)) == {OutboxStatus.FAILED}
    assert AuditEvent.objects.filter(case=case, kind="session.cancelled", data__session=session.pk).exists()
    assert OutboxMessage.objects.filter(idempotency_key=f"session:{session.pk}:cancel:u{world.lawyer.pk}:sms").exists()
    kept.refresh_from_db()
    assert kept.status == SessionStatus.SCHEDULED


@pytest.mark.parametrize("target", [CaseStatus.IN_MEDIATION, CaseStatus.SUSPENDED, CaseStatus.AGREEMENT_DRAFT])
def test_sessions_survive_moves_within_mediation(world, case, target):
    session = schedule(case, world.mediator, at(4, 10), at(4, 11))
    world.drive(case, target)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
