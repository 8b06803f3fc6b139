"""Interpreters and helpers linked to a party (issue 18 item 4): invited by the case's mediator only, the same
identity step and notices (an interpreter's 如实翻译 declaration too), in and out of the room and of a caucus
with their party, never assenting or signing, and named in the audit trail with their role."""

from __future__ import annotations

import pytest

from mediation import spaces
from mediation.adapters.sms import outbox_clear
from mediation.audit_labels import audit_event_label
from mediation.choices import CaseStatus, HelperKind, ParticipantRole, PartyRole, RoomMemberState
from mediation.exceptions import InvalidInput, NotFound, NoticesRequired, PermissionDenied
from mediation.models import AuditEvent, CaseHelper, RoomMember
from mediation.notices import INTERPRETER_DECLARATION
from mediation.permissions import access_session_place
from mediation.selectors.rooms import room_events_visible, room_record_visible
from mediation.services import room_controls, room_entry, room_record
from mediation.services.agreements import agreement_clause_assent
from mediation.services.helpers import helper_invite, helper_withdraw
from tests.agreement_support import draft_labour_agreement, parties_of
from tests.room_support import last_code, open_room, ready_member

pytestmark = pytest.mark.django_db

INTERPRETER_PHONE = "13900000101"
HELPER_PHONE = "13900000102"


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "console"
    settings.OTP_RESEND_SECONDS = 0
    outbox_clear()
    yield
    outbox_clear()


def mediating_case(world):
    """A world case with its mediator assigned (being scheduled)."""
    return world.drive(world.new_case(), CaseStatus.SCHEDULING)


def invite_interpreter(world, case) -> CaseHelper:
    applicant, _respondent = parties_of(case)
    return helper_invite(
        case=case,
        assists=applicant,
        kind=HelperKind.SIGN_LANGUAGE,
        name="周译",
        phone=INTERPRETER_PHONE,
        actor=world.mediator,
    )


def invite_family_helper(world, case) -> CaseHelper:
    _applicant, respondent = parties_of(case)
    return helper_invite(
        case=case,
        assists=respondent,
        kind=HelperKind.FAMILY,
        name="李小妹",
        relation="女儿",
        phone=HELPER_PHONE,
        actor=world.mediator,
    )


def room_with_helpers(world):
    """An open room: the mediator, both parties (consenting to caucus and to invited participants) and the
    respondent's lawyer admitted; the applicant's sign-language interpreter and the respondent's daughter
    ready, invited for their parties."""
    case, _session, room = open_room(world)
    interpreter, helper = invite_interpreter(world, case), invite_family_helper(world, case)
    members = {"mediator": ready_member(room, world.mediator)}
    for name in ("applicant", "respondent", "lawyer"):
        members[name] = ready_member(room, getattr(world, name), consent_invited=True, admit_by=world.mediator)
    members["interpreter"] = ready_member(room, interpreter.user, admit_by=world.mediator)
    members["helper"] = ready_member(room, helper.user, admit_by=world.mediator)
    return case, room, members, interpreter, helper


def fresh(member: RoomMember) -> RoomMember:
    return RoomMember.objects.get(pk=member.pk)


# --- inviting ---------------------------------------------------------------------------------------------------


def test_the_mediator_invites_an_interpreter_linked_to_a_party_and_the_audit_trail_says_so(world):
    case = mediating_case(world)

    helper = invite_interpreter(world, case)

    assert (helper.role, helper.assists.role, helper.user.phone) == (
        ParticipantRole.INTERPRETER,
        PartyRole.APPLICANT,
        INTERPRETER_PHONE,
    )
    assert helper.service_label == "为申请人张三提供手语翻译"
    event = AuditEvent.objects.get(case=case, kind="helper.invited")
    assert (event.actor, event.data["role"], event.data["assists_name"], event.data["kind"]) == (
        world.mediator,
        ParticipantRole.INTERPRETER,
        "张三",
        HelperKind.SIGN_LANGUAGE,
    )


@pytest.mark.parametrize("name", ["outsider", "respondent", "applicant", "lawyer", "other_mediator", "judge"])
def test_nobody_but_the_cases_mediator_may_invite_a_helper(world, name):
    case = mediating_case(world)
    applicant, _respondent = parties_of(case)

    with pytest.raises(PermissionDenied, match="只有本案调解员"):
        helper_invite(
            case=case,
            assists=applicant,
            kind=HelperKind.INTERPRETATION,
            name="某某",
            language="蒙古语",
            phone="13900000199",
            actor=getattr(world, name),
        )
    assert not CaseHelper.objects.filter(case=case).exists()


@pytest.mark.parametrize("name", ["respondent", "lawyer"])
def test_the_other_party_or_its_lawyer_cannot_be_made_a_helper_of_this_party(world, name):
    case = mediating_case(world)
    applicant, _respondent = parties_of(case)

    with pytest.raises(InvalidInput, match="不能同时担任"):
        helper_invite(
            case=case,
            assists=applicant,
            kind=HelperKind.FAMILY,
            name="某某",
            phone=getattr(world, name).phone,
            actor=world.mediator,
        )


def test_a_party_of_another_case_and_bad_input_are_refused_with_nothing_saved(world):
    case, other = mediating_case(world), mediating_case(world)
    other_applicant, _ = parties_of(other)

    with pytest.raises(PermissionDenied, match="不属于本案"):
        helper_invite(
            case=case,
            assists=other_applicant,
            kind=HelperKind.FAMILY,
            name="某某",
            phone=HELPER_PHONE,
            actor=world.mediator,
        )
    applicant, _ = parties_of(case)
    with pytest.raises(InvalidInput, match="手机号码"):
        helper_invite(
            case=case, assists=applicant, kind=HelperKind.FAMILY, name="某某", phone="12345", actor=world.mediator
        )
    with pytest.raises(InvalidInput, match="语言"):
        helper_invite(
            case=case,
            assists=applicant,
            kind=HelperKind.FOREIGN_LANGUAGE,
            name="某某",
            phone=HELPER_PHONE,
            actor=world.mediator,
        )
    assert not CaseHelper.objects.exists()


def test_an_outsider_has_no_place_in_the_room_and_a_withdrawn_helper_loses_theirs(world):
    case, session, _room = open_room(world)
    helper = invite_interpreter(world, case)

    with pytest.raises(NotFound):
        access_session_place(session=session, user=world.outsider)
    place = access_session_place(session=session, user=helper.user)
    assert (place.role, place.side, place.party) == (ParticipantRole.INTERPRETER, PartyRole.APPLICANT, helper.assists)

    helper_withdraw(helper=helper, actor=world.mediator)
    with pytest.raises(NotFound):
        access_session_place(session=session, user=helper.user)


# --- the way in ------------------------------------------------------------------------------------------------


def test_an_interpreter_must_accept_the_declaration_before_entering_and_it_is_recorded(world):
    case, _session, room = open_room(world)
    helper = invite_interpreter(world, case)
    member = room_entry.room_member_get_or_create(room=room, user=helper.user)
    room_entry.room_identity_code_send(member=member)
    member = room_entry.room_identity_verify(member=member, code=last_code(INTERPRETER_PHONE))
    everyone = [t.code for t in room_entry.room_notices_required(case)]
    assert INTERPRETER_DECLARATION.code not in everyone

    with pytest.raises(NoticesRequired):
        room_entry.room_notices_acknowledge(member=member, codes=everyone)
    helper.refresh_from_db()
    assert helper.declaration_accepted_at is None

    required = [t.code for t in room_entry.room_notices_required(case, member.role)]
    assert INTERPRETER_DECLARATION.code in required
    room_entry.room_notices_acknowledge(member=member, codes=required)
    helper.refresh_from_db()
    assert helper.declaration_accepted_at is not None and helper.declaration_code == INTERPRETER_DECLARATION.code
    assert AuditEvent.objects.filter(case=case, kind="helper.declaration_accepted", actor=helper.user).exists()


def test_a_helper_passes_the_same_identity_step_with_a_code_to_their_own_phone(world):
    case, _session, room = open_room(world)
    helper = invite_family_helper(world, case)

    member = ready_member(room, helper.user)  # a real one-time code, read from the SMS outbox

    assert member.identity_checked_at is not None
    event = AuditEvent.objects.filter(case=case, kind="room.identity_checked", actor=helper.user).get()
    assert event.data["method"] == "sms_otp" and event.data["phone"].endswith(HELPER_PHONE[-4:])


# --- in and out with the party, caucus included --------------------------------------------------------------


def test_helpers_come_in_with_their_party_and_wait_when_it_leaves(world):
    case, _session, room = open_room(world)
    helper = invite_interpreter(world, case)
    ready_member(room, world.mediator)
    ready_member(room, world.respondent, consent_invited=True, admit_by=world.mediator)
    interpreter = ready_member(room, helper.user)

    with pytest.raises(InvalidInput, match="请先准许申请人张三入会"):
        room_controls.room_admit(room=room, actor=world.mediator, member=interpreter)

    applicant = ready_member(room, world.applicant, consent_invited=True, admit_by=world.mediator)
    assert fresh(interpreter).state == RoomMemberState.ADMITTED  # came in with the party

    room_entry.room_leave(member=applicant)
    assert fresh(interpreter).state == RoomMemberState.WAITING  # went out with it
    assert AuditEvent.objects.filter(case=case, kind="room.helper_followed_party", data__member=interpreter.pk).exists()


def test_a_helper_follows_the_party_into_a_caucus_and_out_and_the_other_sides_helper_does_not(world):
    case, room, m, _interpreter, _helper = room_with_helpers(world)
    assert fresh(m["interpreter"]).state == fresh(m["helper"]).state == RoomMemberState.ADMITTED

    room_controls.room_caucus_start(room=room, actor=world.mediator, side=PartyRole.APPLICANT)
    room.refresh_from_db()
    space = {name: spaces.space_of(caucus_side=room.caucus_side, member=fresh(member)) for name, member in m.items()}
    assert space["interpreter"] == space["applicant"] == space["mediator"] == spaces.CAUCUS
    assert space["helper"] == space["respondent"] == f"waiting:{PartyRole.RESPONDENT}"
    assert spaces.share_space(caucus_side=room.caucus_side, a=fresh(m["interpreter"]), b=fresh(m["applicant"]))
    assert not spaces.share_space(caucus_side=room.caucus_side, a=fresh(m["helper"]), b=fresh(m["applicant"]))

    event = room_record.room_record_add(member=fresh(m["mediator"]), text="申请人单独陈述：希望分两期付款。")
    seen_by = {
        name: any(e.pk == event.pk for e in room_events_visible(member=fresh(member))) for name, member in m.items()
    }
    assert seen_by["interpreter"] and seen_by["applicant"]
    assert not seen_by["helper"] and not seen_by["respondent"] and not seen_by["lawyer"]
    record_of = {
        name: [e.text for e in room_record_visible(member=fresh(m[name]))[0]] for name in ("interpreter", "helper")
    }
    assert "申请人单独陈述：希望分两期付款。" in record_of["interpreter"]
    assert "申请人单独陈述：希望分两期付款。" not in record_of["helper"]
    started = AuditEvent.objects.get(case=case, kind="room.caucus_started")
    assert {w["member"] for w in started.data["with"]} == {m["applicant"].pk, m["interpreter"].pk}

    room_controls.room_caucus_end(room=room, actor=world.mediator)
    room.refresh_from_db()
    assert {spaces.space_of(caucus_side=room.caucus_side, member=fresh(member)) for member in m.values()} == {
        spaces.JOINT
    }


def test_the_respondents_helper_follows_the_respondent_when_the_mediator_removes_it(world):
    _case, room, m, _interpreter, _helper = room_with_helpers(world)

    room_controls.room_remove(room=room, actor=world.mediator, member=m["respondent"])
    assert fresh(m["helper"]).state == RoomMemberState.ADMITTED  # the respondent's lawyer is still in

    room_controls.room_remove(room=room, actor=world.mediator, member=m["lawyer"])
    assert fresh(m["helper"]).state == RoomMemberState.WAITING
    assert fresh(m["interpreter"]).state == RoomMemberState.ADMITTED


# --- never assent or sign ------------------------------------------------------------------------------------------


def test_a_helpers_attempt_to_assent_is_refused_with_a_clear_message_and_nothing_recorded(world):
    agreement = draft_labour_agreement(world, assent=False)
    helper = invite_interpreter(world, agreement.case)
    clause = agreement.clauses.order_by("number").first()

    with pytest.raises(PermissionDenied, match="不能代表当事人对调解协议表示同意或签名") as refused:
        agreement_clause_assent(clause=clause, actor=helper.user, party=helper.assists)
    assert "翻译人员（为申请人张三提供手语翻译）" in str(refused.value)
    assert not clause.assents.exists()


def test_the_timeline_names_the_helper_with_their_role_and_whom_they_help(world):
    case = mediating_case(world)
    invite_interpreter(world, case)

    event = AuditEvent.objects.get(case=case, kind="helper.invited")
    assert audit_event_label(event) == "调解员邀请翻译人员：周译（为申请人张三提供手语翻译）"
