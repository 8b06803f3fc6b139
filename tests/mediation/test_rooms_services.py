"""The room services: opening, the way in, mediator controls, caucus isolation in storage, the live record,
reconnect snapshots and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mediation import exceptions
from mediation.adapters.sms import outbox_clear
from mediation.choices import (
    CaseStatus,
    ConsentKind,
    EndReason,
    ParticipantRole,
    RoomMemberState,
    RoomStatus,
    SessionStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import (
    AuditEvent,
    Consent,
    NoticeAcknowledgement,
    RecordConfirmation,
    RecordEntry,
    RoomEvent,
    SessionParticipant,
)
from mediation.notices import SESSION_NOTICE, SHAM_MEDIATION_WARNING
from mediation.selectors import rooms as room_selectors
from mediation.selectors.rooms import room_events_visible, room_record_visible
from mediation.services import room_controls, room_entry, room_events, room_record
from mediation.services.scheduling import session_cancel
from tests.factories import UserFactory
from tests.room_support import joint_room, last_code, open_room, ready_member, schedule_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "console"
    outbox_clear()
    yield
    outbox_clear()


def kinds(case) -> list[str]:
    return list(AuditEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


# --- opening ---------------------------------------------------------------------------------------


def test_mediator_opening_the_room_starts_mediation(world):
    case, _session, room = open_room(world)

    assert case.status == CaseStatus.IN_MEDIATION
    assert room.status == RoomStatus.OPEN
    assert "room.opened" in kinds(case) and "case.start_mediation" in kinds(case)


def test_party_opening_the_room_first_does_not_start_mediation(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    session = schedule_session(world, case)

    room_entry.room_for_session(session=session, actor=world.applicant)

    case.refresh_from_db()
    assert case.status == CaseStatus.SCHEDULING


def test_outsider_has_no_place_in_the_session(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    session = schedule_session(world, case)

    with pytest.raises(PermissionDenied):
        room_entry.room_for_session(session=session, actor=world.outsider)


def test_judge_of_the_court_has_no_place_in_the_session(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    session = schedule_session(world, case)

    with pytest.raises(PermissionDenied):
        room_entry.room_for_session(session=session, actor=world.judge)


def test_cancelled_session_has_no_room(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    session = schedule_session(world, case)
    session_cancel(session=session, reason="当事人生病", actor=world.mediator)

    with pytest.raises(InvalidInput):
        room_entry.room_for_session(session=session, actor=world.mediator)


# --- coming in -------------------------------------------------------------------------------------


def test_mediator_is_admitted_at_once_and_a_party_waits(world):
    _case, _session, room = open_room(world)

    mediator = room_entry.room_member_get_or_create(room=room, user=world.mediator)
    party = room_entry.room_member_get_or_create(room=room, user=world.applicant)

    assert mediator.state == RoomMemberState.ADMITTED
    assert (party.state, party.role, party.side, party.display_name) == (
        RoomMemberState.WAITING, ParticipantRole.PARTY, "applicant", "张三"
    )


def test_lawyer_joins_on_the_side_of_the_party_it_acts_for(world):
    _case, _session, room = open_room(world)

    lawyer = room_entry.room_member_get_or_create(room=room, user=world.lawyer)

    assert (lawyer.role, lawyer.side) == (ParticipantRole.AGENT, "respondent")


def test_identity_recheck_sends_a_session_code_to_the_phone_on_file(world):
    _case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)

    masked = room_entry.room_identity_code_send(member=member)
    member = room_entry.room_identity_verify(member=member, code=last_code(world.applicant.phone))

    assert masked.startswith(world.applicant.phone[:3]) and "*" in masked
    assert member.identity_checked_at is not None


def test_wrong_session_code_records_no_identity_check(world):
    _case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    room_entry.room_identity_code_send(member=member)
    wrong = f"{(int(last_code(world.applicant.phone)) + 1) % 1_000_000:06d}"

    with pytest.raises(InvalidInput):
        room_entry.room_identity_verify(member=member, code=wrong)

    member.refresh_from_db()
    assert member.identity_checked_at is None


def test_missing_notice_is_refused_with_the_required_list(world):
    _case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)

    with pytest.raises(exceptions.NoticesRequired) as refused:
        room_entry.room_notices_acknowledge(member=member, codes=[SESSION_NOTICE.code])

    assert refused.value.required == [SESSION_NOTICE.code, SHAM_MEDIATION_WARNING.code]


def test_notices_are_logged_with_their_version_and_the_caucus_answer_recorded(world):
    case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)

    room_entry.room_notices_acknowledge(member=member, codes=[SESSION_NOTICE.code, SHAM_MEDIATION_WARNING.code],
                                        consent_caucus=True, audio_only=True)

    acks = NoticeAcknowledgement.objects.filter(case=case, user=world.applicant)
    assert sorted(acks.values_list("text__code", flat=True)) == sorted([SESSION_NOTICE.code,
                                                                        SHAM_MEDIATION_WARNING.code])
    consent = Consent.objects.get(case=case, user=world.applicant)
    assert (consent.kind, consent.granted) == (ConsentKind.SEPARATE_SESSIONS, True)
    member.refresh_from_db()
    assert member.notices_acknowledged_at is not None and member.audio_only


def test_session_notice_says_recording_needs_everyones_consent(world):
    texts = {t.code: t for t in room_entry.room_notices_required()}

    assert "每一个人都同意时" in texts[SESSION_NOTICE.code].body
    assert "司法确认" in texts[SESSION_NOTICE.code].body


def test_the_session_notice_states_the_agreements_effect_for_the_cases_variant(world):
    """PML 29: a people's mediation committee's agreement takes effect with the parties' signatures, the
    mediator's and the committee's seal, not at the parties' signatures alone (OMR 19); a 委托 agreement goes to
    the court for a 调解书 (OMR 20) and has no judicial confirmation."""
    from mediation.choices import CaseOrigin, OrganisationKind
    from mediation.models import Case, Organisation

    committee = Organisation.objects.create(name="东城区和平里人民调解委员会",
                                            kind=OrganisationKind.PEOPLES_MEDIATION_COMMITTEE)
    peoples = world.new_case()
    Case.objects.filter(pk=peoples.pk).update(mediation_organisation=committee)
    peoples.refresh_from_db()
    body = next(t.body for t in room_entry.room_notices_required(peoples) if t.code.startswith("sim14.session"))
    assert "加盖人民调解委员会印章之日起生效" in body and "人民调解法》第二十九条" in body
    assert "自各方当事人均完成电子签章之时起发生法律效力" not in body

    entrusted = world.new_case(origin=CaseOrigin.ENTRUSTED)
    body = next(t.body for t in room_entry.room_notices_required(entrusted) if t.code.startswith("sim14.session"))
    assert "调解书" in body and "司法确认" not in body

    delegated = world.new_case(origin=CaseOrigin.DELEGATED)
    body = next(t.body for t in room_entry.room_notices_required(delegated) if t.code.startswith("sim14.session"))
    assert "自各方当事人均完成电子签章之时起发生法律效力" in body


def test_no_join_token_before_both_checks(world):
    _case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)

    with pytest.raises(exceptions.ChecksRequired):
        room_entry.room_token_issue(member=member)


def test_join_token_is_stored_only_as_a_hash_and_spent_once(world):
    _case, _session, room = open_room(world)
    member = ready_member(room, world.applicant)
    token, row = room_entry.room_token_issue(member=member)

    assert token not in row.token_sha256
    assert room_entry.room_token_redeem(room_id=room.pk, token=token).pk == member.pk
    with pytest.raises(exceptions.TokenSpent):
        room_entry.room_token_redeem(room_id=room.pk, token=token)


def test_expired_join_token_is_refused(world, settings):
    _case, _session, room = open_room(world)
    member = ready_member(room, world.applicant)
    token, row = room_entry.room_token_issue(member=member)
    type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(exceptions.TokenSpent):
        room_entry.room_token_redeem(room_id=room.pk, token=token)


def test_join_token_of_another_room_is_not_valid_here(world):
    _case, _session, room = open_room(world)
    _case2, _session2, other_room = open_room(world)
    token, _row = room_entry.room_token_issue(member=ready_member(room, world.applicant))

    with pytest.raises(exceptions.TokenInvalid):
        room_entry.room_token_redeem(room_id=other_room.pk, token=token)


def test_locked_room_takes_no_newcomers(world):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    room_controls.room_lock(room=room, actor=world.mediator, locked=True)

    with pytest.raises(InvalidInput):
        room_entry.room_member_get_or_create(room=room, user=world.applicant)


# --- controls ---------------------------------------------------------------------------------------


def test_party_cannot_admit_anyone(world):
    _case, room, members = joint_room(world)

    with pytest.raises(PermissionDenied):
        room_controls.room_admit(room=room, actor=world.applicant, member=members["respondent"])


def test_outsider_cannot_use_any_control(world):
    _case, room, members = joint_room(world)

    for control in (
        lambda: room_controls.room_lock(room=room, actor=world.outsider, locked=True),
        lambda: room_controls.room_caucus_start(room=room, actor=world.outsider, side="applicant"),
        lambda: room_controls.room_remove(room=room, actor=world.outsider, member=members["applicant"]),
        lambda: room_controls.room_end(room=room, actor=world.outsider, outcome="continue",
                                       continue_at=timezone.now() + dt.timedelta(days=3)),
    ):
        with pytest.raises(PermissionDenied):
            control()


def test_caucus_needs_every_partys_consent_and_names_who_has_not_given_it(world):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    ready_member(room, world.applicant, admit_by=world.mediator)
    ready_member(room, world.respondent, consent_caucus=False, admit_by=world.mediator)

    with pytest.raises(InvalidInput, match="李四"):
        room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")


def test_interpreter_is_admitted_only_with_every_partys_consent(world):
    case, session, room = open_room(world)
    interpreter = UserFactory(real_name="翻译周")
    SessionParticipant.objects.create(session=session, user=interpreter, role=ParticipantRole.INTERPRETER,
                                      party=case.parties.get(role="applicant"))
    ready_member(room, world.mediator)
    ready_member(room, world.applicant, consent_invited=True, admit_by=world.mediator)
    member = ready_member(room, interpreter)

    with pytest.raises(InvalidInput, match="李四"):
        room_controls.room_admit(room=room, actor=world.mediator, member=member)
    ready_member(room, world.respondent, consent_invited=True)
    admitted = room_controls.room_admit(room=room, actor=world.mediator, member=member)

    assert (admitted.state, admitted.role, admitted.side) == ("admitted", ParticipantRole.INTERPRETER, "applicant")


def test_removed_member_cannot_connect_again(world):
    _case, room, members = joint_room(world)
    room_controls.room_remove(room=room, actor=world.mediator, member=members["applicant"])

    with pytest.raises(exceptions.MemberRemoved):
        room_entry.room_connect(room_id=room.pk, user=world.applicant)


def test_member_who_left_comes_back_to_the_waiting_room(world):
    _case, room, members = joint_room(world)
    room_entry.room_leave(member=members["applicant"])

    back = room_entry.room_connect(room_id=room.pk, user=world.applicant)

    assert back.state == RoomMemberState.WAITING


# --- caucus isolation in storage ---------------------------------------------------------------------


def test_caucus_chat_is_invisible_to_the_other_side_now_and_after_the_caucus(world):
    _case, room, m = joint_room(world)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    secret = room_record.room_chat_post(member=m["applicant"], text="底线是八千元", client_id="c1")
    room_controls.room_caucus_end(room=room, actor=world.mediator)

    assert secret.seq in [e.seq for e in room_events_visible(member=m["applicant"])]
    assert secret.seq in [e.seq for e in room_events_visible(member=m["mediator"])]
    for other in ("respondent", "lawyer"):
        assert secret.seq not in [e.seq for e in room_events_visible(member=m[other])]


def test_waiting_side_chat_stays_within_that_side(world):
    _case, room, m = joint_room(world)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    aside = room_record.room_chat_post(member=m["respondent"], text="我们先商量一下", client_id="w1")

    assert aside.audience == "side:respondent"
    assert aside.seq in [e.seq for e in room_events_visible(member=m["lawyer"])]
    assert aside.seq not in [e.seq for e in room_events_visible(member=m["applicant"])]


def test_caucus_record_entry_is_shared_only_after_the_side_releases_it(world):
    _case, room, m = joint_room(world)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="respondent")
    added = room_record.room_record_add(member=m["mediator"], text="被申请人可接受分期付款", tag="settlement")
    entry_id = added.payload["entry"]["id"]

    assert entry_id not in [e.pk for e in room_record_visible(member=m["applicant"])[0]]
    with pytest.raises(PermissionDenied):
        room_record.room_record_release(member=m["applicant"], entry_id=entry_id)
    room_record.room_record_release(member=m["lawyer"], entry_id=entry_id)

    assert entry_id in [e.pk for e in room_record_visible(member=m["applicant"])[0]]


def test_correction_of_a_caucus_entry_stays_in_that_caucus(world):
    _case, room, m = joint_room(world)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    first = room_record.room_record_add(member=m["mediator"], text="申请人要求一万元")
    room_controls.room_caucus_end(room=room, actor=world.mediator)

    fixed = room_record.room_record_add(member=m["mediator"], text="申请人要求九千元",
                                        supersedes_id=first.payload["entry"]["id"])

    assert fixed.audience == "caucus:applicant"
    assert [e.text for e in room_record_visible(member=m["applicant"])[0]] == ["申请人要求九千元"]
    assert room_record_visible(member=m["respondent"])[0] == []


# --- chat, record ------------------------------------------------------------------------------------


def test_resent_chat_with_the_same_client_id_is_stored_once(world):
    _case, room, m = joint_room(world)

    first = room_record.room_chat_post(member=m["applicant"], text="你好", client_id="r-1")
    again = room_record.room_chat_post(member=m["applicant"], text="你好", client_id="r-1")

    assert first.pk == again.pk
    assert RoomEvent.objects.filter(room=room, kind="chat").count() == 1


def test_waiting_party_cannot_chat(world):
    _case, _session, room = open_room(world)
    member = ready_member(room, world.applicant)

    with pytest.raises(PermissionDenied):
        room_record.room_chat_post(member=member, text="有人吗", client_id="x")


def test_only_the_mediator_keeps_the_record(world):
    _case, _room, m = joint_room(world)

    with pytest.raises(PermissionDenied):
        room_record.room_record_add(member=m["applicant"], text="我说了算")


def test_party_confirms_the_current_version_of_the_shared_record(world):
    _case, room, m = joint_room(world)
    room_record.room_record_add(member=m["mediator"], text="双方确认劳动关系存续期间为2025年3月至2026年8月",
                                tag="undisputed_fact")
    _entries, version = room_selectors.room_record_visible(member=m["applicant"])

    room_record.room_record_confirm(member=m["applicant"], version=version)

    confirmation = RecordConfirmation.objects.get(room=room)
    assert (confirmation.party.role, confirmation.version_sha256) == ("applicant", version)


def test_confirming_a_stale_version_is_refused(world):
    _case, _room, m = joint_room(world)
    room_record.room_record_add(member=m["mediator"], text="第一条")
    _entries, version = room_selectors.room_record_visible(member=m["applicant"])
    room_record.room_record_add(member=m["mediator"], text="第二条")

    with pytest.raises(InvalidInput):
        room_record.room_record_confirm(member=m["applicant"], version=version)


def test_mediator_cannot_confirm_the_record_for_a_party(world):
    _case, _room, m = joint_room(world)
    room_record.room_record_add(member=m["mediator"], text="第一条")
    _entries, version = room_selectors.room_record_visible(member=m["mediator"])

    with pytest.raises(PermissionDenied):
        room_record.room_record_confirm(member=m["mediator"], version=version)


# --- reconnect --------------------------------------------------------------------------------------


def test_snapshot_plus_events_since_equals_a_fresh_snapshot(world):
    _case, room, m = joint_room(world)
    room_record.room_chat_post(member=m["applicant"], text="一", client_id="1")
    before = room_selectors.room_snapshot(member=m["respondent"])
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    room_record.room_chat_post(member=m["applicant"], text="秘密", client_id="2")
    room_controls.room_caucus_end(room=room, actor=world.mediator)
    room_record.room_chat_post(member=m["respondent"], text="二", client_id="3")

    resumed = room_selectors.room_snapshot(member=m["respondent"], since=before["last_seq"])
    fresh = room_selectors.room_snapshot(member=m["respondent"])

    by_seq = {e["seq"]: e for e in before["events"] + resumed["events"]}
    assert [by_seq[s] for s in sorted(by_seq)] == fresh["events"]
    assert "秘密" not in str(fresh)


# --- ending -----------------------------------------------------------------------------------------


def test_ending_to_continue_marks_the_session_held_and_keeps_mediation_going(world):
    case, room, _m = joint_room(world)
    when = timezone.now() + dt.timedelta(days=7)

    ended = room_controls.room_end(room=room, actor=world.mediator, outcome="continue", continue_at=when)

    case.refresh_from_db()
    assert (ended.status, ended.continue_at, case.status) == (RoomStatus.ENDED, when, CaseStatus.IN_MEDIATION)
    assert ended.session.status == SessionStatus.HELD
    following = case.sessions.get(status=SessionStatus.SCHEDULED)
    assert following.starts_at == when
    assert following.ends_at - following.starts_at == ended.session.ends_at - ended.session.starts_at
    assert {p.user_id for p in following.participants.all()} >= {world.applicant.pk, world.respondent.pk}


def test_a_termination_carries_omr21s_entries_into_the_failure_report(world, django_capture_on_commit_callbacks):
    from documents.models import Document

    case, room, _m = joint_room(world)
    with django_capture_on_commit_callbacks(execute=True):
        room_controls.room_end(room=room, actor=world.mediator, outcome="terminate",
                               end_reason=EndReason.POSITIONS_TOO_FAR, note="双方对赔偿数额分歧过大",
                               cost_conduct="被申请人两次无故缺席", court_matters="无")

    report = Document.objects.get(case=case, kind="failure_report")
    assert report.data["failure_reasons"] == "双方对赔偿数额分歧过大"
    assert report.data["cost_conduct"] == "被申请人两次无故缺席"


def test_terminating_ends_the_mediation_with_the_omr25_reason(world):
    case, room, _m = joint_room(world)

    room_controls.room_end(room=room, actor=world.mediator, outcome="terminate", end_reason=EndReason.POSITIONS_TOO_FAR)

    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.POSITIONS_TOO_FAR)
    room.session.refresh_from_db()
    assert room.session.status == SessionStatus.HELD


def test_the_end_form_records_a_withdrawal_after_the_parties_settled(world):
    """OMR 25(2) is on the end form's list; the state machine takes it as a withdrawal, not a refused move."""
    case, room, _m = joint_room(world)

    room_controls.room_end(room=room, actor=world.mediator, outcome="terminate",
                           end_reason=EndReason.SETTLED_AND_WITHDRAWN, note="双方已自行和解")

    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.WITHDRAWN, EndReason.SETTLED_AND_WITHDRAWN)
    assert case.audit_events.filter(kind="case.withdraw").count() == 1
    room.refresh_from_db()
    assert (room.status, room.end_reason) == (RoomStatus.ENDED, EndReason.SETTLED_AND_WITHDRAWN)


def test_only_the_mediator_ends_a_session_with_a_withdrawal(world):
    case, room, _m = joint_room(world)
    for user in (world.applicant, world.outsider, world.clerk):
        with pytest.raises((PermissionDenied, exceptions.NotFound)):
            room_controls.room_end(room=room, actor=user, outcome="terminate",
                                   end_reason=EndReason.SETTLED_AND_WITHDRAWN)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION


def test_agreement_outcome_needs_signing_to_be_open(world):
    _case, room, _m = joint_room(world)

    with pytest.raises(InvalidInput, match="请先定稿调解协议并发起签署"):
        room_controls.room_end(room=room, actor=world.mediator, outcome="agreement")


def test_announce_reaches_only_open_rooms_of_the_case(world):
    case, room, _m = joint_room(world)

    events = room_events.room_announce(case=case, kind="agreement.updated", payload={"agreement": 1, "revision": 2})
    room_controls.room_end(room=room, actor=world.mediator, outcome="continue",
                           continue_at=timezone.now() + dt.timedelta(days=1))
    after = room_events.room_announce(case=case, kind="agreement.updated", payload={"agreement": 1, "revision": 3})

    assert [(e.kind, e.audience) for e in events] == [("agreement.updated", "all")]
    assert after == []


# --- audit ------------------------------------------------------------------------------------------


def test_every_step_of_a_session_lands_in_the_audit_trail(world):
    case, room, m = joint_room(world)
    room_controls.room_lock(room=room, actor=world.mediator, locked=True)
    room_controls.room_mute_request(room=room, actor=world.mediator, member=m["respondent"])
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    room_record.room_chat_post(member=m["applicant"], text="单独说", client_id="a")
    room_record.room_record_add(member=m["mediator"], text="申请人同意分期", tag="settlement")
    room_controls.room_caucus_end(room=room, actor=world.mediator)
    room_record.room_record_add(member=m["mediator"], text="无争议事实", tag="undisputed_fact")
    _entries, version = room_selectors.room_record_visible(member=m["applicant"])
    room_record.room_record_confirm(member=m["applicant"], version=version)
    room_entry.room_leave(member=m["lawyer"])
    room_controls.room_end(room=room, actor=world.mediator, outcome="continue",
                           continue_at=timezone.now() + dt.timedelta(days=2))

    logged = set(kinds(case))
    assert {
        "room.opened", "room.member_entered", "room.identity_checked", "room.notices_acknowledged",
        "notice.acknowledged", "consent.granted", "room.member_admitted", "room.locked", "room.mute_requested",
        "room.caucus_started", "room.chat_posted", "room.record_added", "room.caucus_ended",
        "room.record_confirmed", "room.member_left", "room.ended",
    } <= logged
    chat = AuditEvent.objects.get(case=case, kind="room.chat_posted")
    assert "单独说" not in str(chat.data)  # the trail proves the message without exposing caucus content


def test_a_client_id_reused_for_another_kind_is_refused_not_answered_with_the_earlier_event(world):
    _case, room, m = joint_room(world)
    room_record.room_chat_post(member=m["mediator"], text="大家好", client_id="1")
    with pytest.raises(InvalidInput):
        room_record.room_record_add(member=m["mediator"], text="申请人月工资一万二", client_id="1")
    assert not RecordEntry.objects.filter(room=room).exists()


def test_a_resend_with_the_same_client_id_and_kind_returns_the_stored_event(world):
    _case, room, m = joint_room(world)
    first = room_record.room_record_add(member=m["mediator"], text="申请人月工资一万二", client_id="r1")
    again = room_record.room_record_add(member=m["mediator"], text="申请人月工资一万二", client_id="r1")
    assert again.pk == first.pk and RecordEntry.objects.filter(room=room).count() == 1
