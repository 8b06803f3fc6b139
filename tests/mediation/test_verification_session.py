"""The joint verification session of a confirmation application (issue 11 item 2; Interp 356, legal-rules §B8):
the judge schedules it from the review, presides in the existing room (admits, records the questioning), the
parties confirm the record as they confirm a mediation record, no caucus, and ending it keeps the record with
the confirmations. Every refusal: another court's judge, the clerk, the mediator, an outsider, a party."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from mediation.choices import (
    CaseStatus,
    MessageChannel,
    ParticipantRole,
    RoomOutcome,
    RoomStatus,
    SessionPurpose,
    SessionStatus,
)
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import (
    AuditEvent,
    MediationSession,
    OutboxMessage,
    RecordConfirmation,
    RecordEntry,
    Room,
    SessionParticipant,
)
from mediation.permissions import access_session_place
from mediation.selectors import rooms as room_selectors
from mediation.selectors.confirmation import confirmation_review_for_user
from mediation.selectors.scheduling import sessions_for_case
from mediation.services import room_controls, room_entry, room_record
from mediation.services.scheduling import session_cancel, verification_session_cancel, verification_session_schedule
from tests.mediation.test_confirmation import accepted
from tests.room_support import ready_member

S = CaseStatus


def _span(hours: int = 2) -> tuple[dt.datetime, dt.datetime]:
    start = (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)
    return start, start + dt.timedelta(hours=1)


def _counts() -> tuple[int, ...]:
    return (MediationSession.objects.count(), SessionParticipant.objects.count(), OutboxMessage.objects.count(),
            AuditEvent.objects.count())


def scheduled(world):
    case = accepted(world)
    start, end = _span()
    session = verification_session_schedule(case=case, actor=world.judge, starts_at=start, ends_at=end)
    return case, session


def opened(world):
    """A verification room opened by the judge, both parties and the lawyer ready and admitted by the judge."""
    case, session = scheduled(world)
    room = room_entry.room_for_session(session=session, actor=world.judge)
    members = {"judge": ready_member(room, world.judge)}
    for name in ("applicant", "respondent", "lawyer"):
        members[name] = ready_member(room, getattr(world, name), admit_by=world.judge, consent_caucus=True)
    return case, session, room, members


@pytest.mark.django_db
def test_judge_schedules_a_verification_session_and_both_parties_are_told(world):
    case, session = scheduled(world)
    assert session.purpose == SessionPurpose.VERIFICATION
    roles = sorted(session.participants.values_list("role", "user__username"))
    assert roles == [("agent", "lawyer"), ("judge", "judge"), ("party", "alice"), ("party", "bob")]
    assert not session.participants.filter(user=world.mediator).exists()  # the mediator takes no part
    for user in (world.applicant, world.respondent, world.lawyer):
        sms = OutboxMessage.objects.get(recipient=user, channel=MessageChannel.SMS,
                                        template="session.verification_invitation")
        assert "司法确认" in sms.body and "共同到场" in sms.body
    reminders = OutboxMessage.objects.filter(recipient=world.applicant, template="session.verification_reminder")
    assert reminders.exists() and all("司法确认询问提醒" in r.subject for r in reminders)
    event = AuditEvent.objects.filter(kind="session.verification_scheduled", case=case).get()
    assert event.data["purpose"] == "verification"
    # It appears on each party's case page, named for what it is.
    for user in (world.applicant, world.respondent):
        rows = sessions_for_case(user=user, case=case)
        assert [r.session.pk for r in rows] == [session.pk]
        assert "司法确认询问" in rows[0].kind_label


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["other_judge", "clerk", "mediator", "outsider", "applicant", "lawyer"])
def test_only_a_judge_of_the_court_schedules_it(world, name):
    case = accepted(world)
    before = _counts()
    start, end = _span()
    with pytest.raises(PermissionDenied):
        verification_session_schedule(case=case, actor=getattr(world, name), starts_at=start, ends_at=end)
    assert _counts() == before


@pytest.mark.django_db
def test_not_before_the_application_is_accepted_and_not_in_the_past(world):
    case = world.drive(world.new_case(), S.JC_SUBMITTED)
    review = accepted(world)
    before = _counts()
    start, end = _span()
    with pytest.raises(InvalidInput, match="审查中"):
        verification_session_schedule(case=case, actor=world.judge, starts_at=start, ends_at=end)
    with pytest.raises(InvalidInput, match="晚于现在"):
        verification_session_schedule(case=review, actor=world.judge, starts_at=start - dt.timedelta(hours=5),
                                      ends_at=end - dt.timedelta(hours=5))
    with pytest.raises(InvalidInput, match="结束时间"):
        verification_session_schedule(case=review, actor=world.judge, starts_at=end, ends_at=start)
    assert _counts() == before


@pytest.mark.django_db
def test_the_mediator_cannot_cancel_or_move_it(world):
    _case, session = scheduled(world)
    with pytest.raises(PermissionDenied, match="法院安排"):
        session_cancel(session=session, reason="冲突", actor=world.mediator)
    assert MediationSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED


@pytest.mark.django_db
def test_who_has_a_place_the_judge_presides_the_mediator_is_not_there(world):
    _case, session = scheduled(world)
    assert access_session_place(session=session, user=world.judge).role == ParticipantRole.JUDGE
    assert access_session_place(session=session, user=world.applicant).role == ParticipantRole.PARTY
    for name in ("mediator", "other_judge", "clerk", "outsider"):
        with pytest.raises(NotFound):
            access_session_place(session=session, user=getattr(world, name))


@pytest.mark.django_db
def test_a_party_cannot_start_it_the_judge_does(world):
    case, session = scheduled(world)
    with pytest.raises(InvalidInput, match="等候主持的法官"):
        room_entry.room_for_session(session=session, actor=world.applicant)
    assert not Room.objects.filter(session=session).exists()
    room = room_entry.room_for_session(session=session, actor=world.judge)
    judge = room_entry.room_member_get_or_create(room=room, user=world.judge)
    assert judge.state == "admitted" and judge.role == ParticipantRole.JUDGE  # presides: in at once
    party = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    assert party.state == "waiting"  # the judge admits from the lobby
    case.refresh_from_db()
    assert case.status == S.JC_UNDER_REVIEW  # opening a verification room moves nothing


@pytest.mark.django_db
def test_judge_admits_records_parties_confirm_and_the_end_keeps_it(world):
    case, session, room, m = opened(world)
    # The judge records the questioning; a party cannot.
    with pytest.raises(PermissionDenied):
        room_record.room_record_add(member=m["applicant"], text="我自己记")
    room_record.room_record_add(member=m["judge"], text="问：协议是否出于自愿？答（双方）：是。")
    entries, version = room_selectors.room_record_visible(member=m["applicant"])
    assert [e.text for e in entries] == ["问：协议是否出于自愿？答（双方）：是。"]
    # Both parties confirm on their phones, as in mediation; the judge cannot confirm.
    with pytest.raises(PermissionDenied):
        room_record.room_record_confirm(member=m["judge"], version=version)
    room_record.room_record_confirm(member=m["applicant"], version=version)
    room_record.room_record_confirm(member=m["respondent"], version=version)
    # A mediation outcome is refused; the judge ends the questioning and nothing else is decided.
    with pytest.raises(InvalidInput):
        room_controls.room_end(room=room, actor=world.judge, outcome=RoomOutcome.TERMINATE, end_reason="other")
    with pytest.raises(PermissionDenied):
        room_controls.room_end(room=room, actor=world.applicant, outcome=RoomOutcome.QUESTIONED)
    ended = room_controls.room_end(room=room, actor=world.judge, outcome=RoomOutcome.QUESTIONED)
    assert ended.status == RoomStatus.ENDED and ended.outcome == RoomOutcome.QUESTIONED
    assert MediationSession.objects.get(pk=session.pk).status == SessionStatus.HELD
    case.refresh_from_db()
    assert case.status == S.JC_UNDER_REVIEW
    audit = AuditEvent.objects.filter(kind="room.ended", case=case).latest("seq")
    parties = sorted(case.parties.values_list("pk", flat=True))
    assert audit.data["verification"] is True
    assert sorted(audit.data["confirmed_by_parties"]) == parties
    assert audit.data["record_entries"] == [RecordEntry.objects.get(room=room).pk]
    # The review page shows it as the questioning record, with both confirmations.
    review = confirmation_review_for_user(user=world.judge, case_id=case.pk)
    record = next(r for r in review.records if r.room.pk == room.pk)
    assert record.verification and len(record.entries) == 1
    assert sorted(c.party_id for c in record.confirmations) == parties
    assert [v.pk for v in review.verifications] == [session.pk]


@pytest.mark.django_db
def test_no_caucus_in_a_verification_session(world):
    _case, _session, room, _m = opened(world)
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput, match="第三百五十六条"):
        room_controls.room_caucus_start(room=room, actor=world.judge, side="applicant")
    assert Room.objects.get(pk=room.pk).caucus_side == ""
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_a_party_cannot_preside(world):
    _case, _session, room, m = opened(world)
    for act in (
        lambda: room_controls.room_admit(room=room, actor=world.applicant, member=m["respondent"]),
        lambda: room_controls.room_lock(room=room, actor=world.respondent, locked=True),
        lambda: room_controls.room_remove(room=room, actor=world.lawyer, member=m["applicant"]),
    ):
        with pytest.raises(PermissionDenied, match="法官"):
            act()
    assert RecordConfirmation.objects.count() == 0


@pytest.mark.django_db
def test_a_judge_who_left_the_court_presides_no_more(world):
    _case, _session, _room, m = opened(world)
    world.judge.memberships.update(is_active=False)
    with pytest.raises(PermissionDenied):
        room_record.room_record_add(member=m["judge"], text="……")


@pytest.mark.django_db
def test_review_page_schedules_it_and_refuses_bad_input(world, client):
    case = accepted(world)
    client.force_login(world.judge)
    url = reverse("court_application_act", args=[case.pk, "verification"])
    before = _counts()
    bad = client.post(url, {"date": "", "start": "10:00", "end": "11:00"})
    assert bad.status_code == 400 and "请填写询问的日期" in bad.content.decode()
    assert _counts() == before
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    done = client.post(url, {"date": day, "start": "10:00", "end": "11:00"})
    assert done.status_code == 302
    session = MediationSession.objects.get(case=case, purpose=SessionPurpose.VERIFICATION)
    page = client.get(reverse("court_application", args=[case.pk])).content.decode()
    assert reverse("session_room", args=[session.pk]) in page
    client.force_login(world.clerk)
    assert client.post(url, {"date": day, "start": "14:00", "end": "15:00"}).status_code == 404
    assert MediationSession.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_the_judge_cancels_it_with_a_reason_and_the_parties_are_told(world, client):
    case, session = scheduled(world)
    for name in ("other_judge", "clerk", "mediator", "applicant"):
        with pytest.raises(PermissionDenied):
            verification_session_cancel(session=session, reason="改期", actor=getattr(world, name))
    with pytest.raises(InvalidInput):
        verification_session_cancel(session=session, reason=" ", actor=world.judge)
    assert MediationSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED
    client.force_login(world.judge)
    response = client.post(reverse("court_application_act", args=[case.pk, "cancel_verification"]),
                           {"session": session.pk, "reason": "当事人申请延期"})
    assert response.status_code == 302
    assert MediationSession.objects.get(pk=session.pk).status == SessionStatus.CANCELLED
    assert OutboxMessage.objects.filter(recipient=world.applicant, template="session.cancelled").exists()


@pytest.mark.django_db
def test_it_appears_on_each_partys_case_page_with_the_way_in(world, client):
    case, session = scheduled(world)
    for user in (world.applicant, world.respondent):
        client.force_login(user)
        page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert "司法确认询问" in page and reverse("session_room", args=[session.pk]) in page
    client.force_login(world.mediator)  # listed for the case's staff, but no way in: not a participant
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("session_room", args=[session.pk]) not in page
