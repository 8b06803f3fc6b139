"""The mediator's controls of a room (OMR 16-18, 21, 25; CMed 5; PML 20): admit, refuse, remove, ask to mute,
lock, caucus with one side and back, and end the session with an outcome.

Each control opens with ``room_turn`` (room locked and open, actor its mediator), stores one event and
audits it; see ``mediation.services.room_events``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import spaces
from mediation import transitions as tr
from mediation.choices import (
    CaseStatus,
    ConsentKind,
    EndReason,
    ParticipantRole,
    RecordingStopReason,
    RoomMemberState,
    RoomOutcome,
    RoomStatus,
    SessionStatus,
)
from mediation.exceptions import InvalidInput, MemberRemoved
from mediation.lifecycle import SIGNING_OPENED_STATUSES
from mediation.models import (
    Case,
    Consent,
    MediationSession,
    Party,
    RecordConfirmation,
    Room,
    RoomEvent,
    RoomMember,
    User,
)
from mediation.permissions import INVITED_ROLES, PARTY_ROLES
from mediation.selectors.rooms import record_version, room_checks_done, shared_record
from mediation.services.cases import case_transition
from mediation.services.consents import consent_all_parties_granted
from mediation.services.recording import recording_guard_admitted, recording_stop_for
from mediation.services.room_events import (
    member_payload,
    member_revoke_on_commit,
    member_state,
    room_audit,
    room_is_verification,
    room_turn,
    store_event,
)
from mediation.services.scheduling import session_schedule

S = CaseStatus
M = RoomMemberState


def _target(room: Room, member: RoomMember | int) -> RoomMember:
    pk = member.pk if isinstance(member, RoomMember) else member
    found = RoomMember.objects.filter(room=room, pk=pk).first()
    if found is None:
        raise InvalidInput(_("该人员不在本调解室。"))
    return found


def _consent_missing(case: Case, kind: str) -> list[str]:
    """Names of the parties whose latest answer to ``kind`` is not a standing grant."""
    if consent_all_parties_granted(case=case, kind=kind):
        return []
    missing = []
    for party in case.parties.order_by("role", "pk"):
        latest = Consent.objects.filter(case=case, party=party, kind=kind).order_by("-given_at", "-pk").first()
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            missing.append(party.name)
    return missing or [_("（无当事人）")]


def room_admit(*, room: Room, actor: User, member: RoomMember | int) -> RoomMember:
    """Let a waiting (or earlier refused) person in. Interpreters and helpers need every party's consent."""
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        target = _target(room, member)
        if target.state == M.ADMITTED:
            return target
        if target.state not in (M.WAITING, M.REFUSED):
            raise InvalidInput(_("该人员已离开或已被移出，不能准许入会。"))
        if target.role in INVITED_ROLES:
            if target.party_id is not None and not _party_present(room, target.party_id):
                raise InvalidInput(
                    _("%(role)s随其协助的当事人进出调解室：请先准许%(party)s入会。")
                    % {"role": ParticipantRole(target.role).label, "party": _party_name(target.party_id)}
                )
            missing = _consent_missing(room.case, ConsentKind.INVITED_PARTICIPANT)
            if missing:
                raise InvalidInput(
                    _("须经各方当事人同意，%(role)s方可参加调解。尚未同意：%(names)s。")
                    % {"role": ParticipantRole(target.role).label, "names": "、".join(missing)}
                )
        _admit(room, target, actor=actor, mediator=mediator)
        if target.role in PARTY_ROLES and target.party_id is not None:
            _helpers_come_in(room, target.party_id, actor=actor, mediator=mediator)
    return target


def _admit(room: Room, target: RoomMember, *, actor: User, mediator: RoomMember | None,
           with_party: int | None = None) -> None:
    target.state, target.admitted_at = M.ADMITTED, timezone.now()
    target.save(update_fields=["state", "admitted_at"])
    store_event(room, name="member.admitted",
                audience=spaces.either(spaces.ALL, spaces.user_audience(target.user_id)),
                actor=actor, payload=member_payload(target), actor_member=mediator, state=member_state(target))
    data = {"member": target.pk, "role": target.role, "side": target.side}
    if with_party is not None:
        data["with_party"] = with_party
    room_audit("room.member_admitted", actor=actor, room=room, data=data)
    recording_guard_admitted(room, target)  # a recording stops at once for someone who has not consented


# --- interpreters and helpers follow their party (issue 18 item 4) ----------------------------------------------
# A helper (``CaseHelper``, or an invited participant linked to a party) holds its party's side, so the caucus
# rules of ``mediation.spaces`` put it wherever its party is. Coming in and going out follow the party too:
# admitted only while the party (in person or by an agent) is admitted, brought in when the party is, and
# sent back to the waiting room when the party's last member leaves or is removed.


def _party_present(room: Room, party_id: int) -> bool:
    return RoomMember.objects.filter(room=room, party_id=party_id, role__in=PARTY_ROLES, state=M.ADMITTED).exists()


def _party_name(party_id: int) -> str:
    party = Party.objects.filter(pk=party_id).first()
    return f"{party.get_role_display()}{party.name}" if party is not None else _("该当事人")


def _helpers_come_in(room: Room, party_id: int, *, actor: User, mediator: RoomMember | None) -> None:
    """The party is admitted: its helpers who are waiting, passed the way in and have every party's consent
    come in with it. One without consent stays waiting (the mediator sees why when admitting them)."""
    waiting = list(RoomMember.objects.filter(room=room, party_id=party_id, role__in=INVITED_ROLES, state=M.WAITING))
    if not waiting or _consent_missing(room.case, ConsentKind.INVITED_PARTICIPANT):
        return
    for helper in waiting:
        if room_checks_done(helper):
            _admit(room, helper, actor=actor, mediator=mediator, with_party=party_id)


def helpers_follow_party(room: Room, member: RoomMember, *, actor: User | None) -> None:
    """``member`` (a party or its agent) left or was removed: if nobody of that party is admitted any more,
    its admitted helpers go back to the waiting room, and come back in with the party. The room is locked
    by the caller."""
    if room.status != RoomStatus.OPEN or member.role not in PARTY_ROLES or member.party_id is None:
        return
    if _party_present(room, member.party_id):
        return
    for helper in RoomMember.objects.filter(room=room, party_id=member.party_id, role__in=INVITED_ROLES,
                                            state=M.ADMITTED):
        helper.state = M.WAITING
        helper.save(update_fields=["state"])
        store_event(room, name="member.waiting",
                    audience=spaces.either(spaces.ALL, spaces.user_audience(helper.user_id)),
                    actor=actor, payload=member_payload(helper), actor_member=None, state=member_state(helper))
        room_audit("room.helper_followed_party", actor=actor, room=room,
                   data={"member": helper.pk, "role": helper.role, "party": member.party_id, "to": M.WAITING})


def room_refuse(*, room: Room, actor: User, member: RoomMember | int) -> RoomMember:
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        target = _target(room, member)
        if target.state != M.WAITING:
            raise InvalidInput(_("只能拒绝正在等候的人员。"))
        target.state = M.REFUSED
        target.save(update_fields=["state"])
        store_event(room, name="member.refused",
                    audience=spaces.either(spaces.MEDIATORS, spaces.user_audience(target.user_id)),
                    actor=actor, payload=member_payload(target), actor_member=mediator, state=member_state(target))
        room_audit("room.member_refused", actor=actor, room=room, data={"member": target.pk, "role": target.role})
    return target


def room_remove(*, room: Room, actor: User, member: RoomMember | int) -> RoomMember:
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        target = _target(room, member)
        if target.pk == mediator.pk:
            raise InvalidInput(_("调解员不能移出自己；请结束本次调解。"))
        if target.state == M.REMOVED:
            return target
        target.state, target.online_channel = M.REMOVED, ""
        target.save(update_fields=["state", "online_channel"])
        store_event(room, name="member.removed",
                    audience=spaces.either(spaces.ALL, spaces.user_audience(target.user_id)),
                    actor=actor, payload=member_payload(target), actor_member=mediator, state=member_state(target))
        room_audit("room.member_removed", actor=actor, room=room, data={"member": target.pk, "role": target.role})
        member_revoke_on_commit(room, target, code=MemberRemoved.close_code)
        helpers_follow_party(room, target, actor=actor)
    return target


def room_mute_request(*, room: Room, actor: User, member: RoomMember | int) -> RoomEvent:
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        target = _target(room, member)
        if target.state != M.ADMITTED:
            raise InvalidInput(_("该人员不在会中。"))
        event = store_event(room, name="member.mute_requested",
                            audience=spaces.either(spaces.MEDIATORS, spaces.user_audience(target.user_id)),
                            actor=actor, payload={"member": target.pk, "by": mediator.pk}, actor_member=mediator)
        room_audit("room.mute_requested", actor=actor, room=room, data={"member": target.pk})
    return event


def room_lock(*, room: Room, actor: User, locked: bool) -> RoomEvent:
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        Room.objects.filter(pk=room.pk).update(locked=locked)
        room.locked = locked
        event = store_event(room, name="room.locked", audience=spaces.ALL, actor=actor, payload={"locked": locked},
                            actor_member=mediator)
        room_audit("room.locked" if locked else "room.unlocked", actor=actor, room=room)
    return event


def room_caucus_start(*, room: Room, actor: User, side: str) -> RoomEvent:
    """Talk with one side alone (CMed 5; OMR 16): only with every party's recorded consent to separate
    sessions. The other side waits with a notice and receives nothing from the caucus."""
    if side not in (tr.APPLICANT, tr.RESPONDENT):
        raise InvalidInput(_("请选择申请人一方或被申请人一方。"))
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        if room_is_verification(room):
            raise InvalidInput(
                _("司法确认询问须由双方当事人共同到场接受询问（民诉法解释第三百五十六条），不能与一方单独沟通。")
            )
        if room.caucus_side == side:
            raise InvalidInput(_("已在与该方背对背沟通。"))
        missing = _consent_missing(room.case, ConsentKind.SEPARATE_SESSIONS)
        if missing:
            raise InvalidInput(
                _("背对背调解须经各方当事人同意。尚未同意：%(names)s。") % {"names": "、".join(missing)}
            )
        return _set_space(room, actor=actor, mediator=mediator, side=side)


def room_caucus_end(*, room: Room, actor: User) -> RoomEvent:
    """Back to the joint session."""
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        if not room.caucus_side:
            raise InvalidInput(_("当前已是共同调解。"))
        return _set_space(room, actor=actor, mediator=mediator, side="")


def _set_space(room: Room, *, actor: User, mediator: RoomMember, side: str) -> RoomEvent:
    previous = room.caucus_side
    recording_stop_for(room, reason=RecordingStopReason.SPACE_CHANGED, actor=actor)  # the recorded space ends
    Room.objects.filter(pk=room.pk).update(caucus_side=side)
    room.caucus_side = side
    event = store_event(room, name="room.space", audience=spaces.EVERYONE, actor=actor,
                        payload={"caucus_side": side}, actor_member=mediator, state={"caucus_side": side})
    if side:
        # Who is in the caucus with the mediator: the side's parties, agents and the helpers linked to them.
        with_side = [
            {"member": m.pk, "role": m.role}
            for m in RoomMember.objects.filter(room=room, state=M.ADMITTED).order_by("pk")
            if spaces.space_of(caucus_side=side, member=m) == spaces.CAUCUS and m.role not in spaces.PRESIDING
        ]
        room_audit("room.caucus_started", actor=actor, room=room,
                   data={"side": side, "previous": previous, "with": with_side})
    else:
        room_audit("room.caucus_ended", actor=actor, room=room, data={"side": previous})
    return event


def room_end(
    *,
    room: Room,
    actor: User,
    outcome: str,
    end_reason: str = "",
    continue_at: dt.datetime | None = None,
    note: str = "",
    cost_conduct: str = "",
    court_matters: str = "",
) -> Room:
    """End the session with an outcome: ``continue`` on a later date (the next session is scheduled for
    everyone, through the scheduling rules, so a clash refuses the end with its reason), ``agreement``
    (signing must already be open), or ``terminate`` with an OMR 25 reason, which ends the mediation through
    the state machine (OMR 25(2), the parties' own settlement and withdrawal, through its withdraw row). For
    a termination ``note`` is why mediation failed, and ``cost_conduct`` and ``court_matters`` are OMR 21's
    other two entries; the failure report is made from them. The session is marked held. A verification session
    (Interp 356) ends only with ``questioned``: see ``_verification_end``."""
    note = (note or "").strip()
    cost_conduct = (cost_conduct or "").strip()
    court_matters = (court_matters or "").strip()
    if outcome not in RoomOutcome.values:
        raise InvalidInput(_("请选择本次调解的结果。"))
    verification = room_is_verification(room)
    if verification:
        return _verification_end(room=room, actor=actor, outcome=outcome, note=note)
    if outcome == RoomOutcome.QUESTIONED:
        raise InvalidInput(_("“询问结束”只用于法院的司法确认询问；请选择本次调解的结果。"))
    if outcome == RoomOutcome.CONTINUE:
        if continue_at is None or timezone.is_naive(continue_at) or continue_at <= timezone.now():
            raise InvalidInput(_("请填写继续调解的时间（须晚于现在）。"))
        end_reason = ""
    else:
        continue_at = None
    if outcome == RoomOutcome.AGREEMENT:
        end_reason = EndReason.AGREEMENT_REACHED
    if outcome == RoomOutcome.TERMINATE and end_reason not in EndReason.values:
        raise InvalidInput(_("终结调解须选择《人民法院在线调解规则》第二十五条规定的事由。"))

    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        case = Case.objects.select_for_update().get(pk=room.case_id)
        if outcome == RoomOutcome.AGREEMENT and case.status not in SIGNING_OPENED_STATUSES:
            raise InvalidInput(_("请先定稿调解协议并发起签署"))
        now = timezone.now()
        # Held first: a termination cancels the sessions still scheduled, and this one took place.
        held = MediationSession.objects.filter(pk=room.session_id, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.HELD
        )
        if outcome == RoomOutcome.TERMINATE and end_reason == EndReason.SETTLED_AND_WITHDRAWN:
            # OMR 25(2): the parties settled themselves and withdraw; the table's withdraw row, not a failure.
            case_transition(case=case, to=S.WITHDRAWN, actor=actor, reason=end_reason, note=note,
                            data={"room": room.pk, "session": room.session_id})
        elif outcome == RoomOutcome.TERMINATE:
            case_transition(case=case, to=S.TERMINATED, actor=actor, reason=end_reason, note=note,
                            data={"room": room.pk, "session": room.session_id, "failure_reasons": note,
                                  "cost_conduct": cost_conduct, "court_matters": court_matters})
        next_session = None
        if outcome == RoomOutcome.CONTINUE:
            assert continue_at is not None
            session = MediationSession.objects.get(pk=room.session_id)
            next_session = session_schedule(
                case=case, actor=actor, kind=session.kind, starts_at=continue_at,
                ends_at=continue_at + (session.ends_at - session.starts_at), venue=session.venue,
                note=_("上次调解于%(date)s举行，本次继续调解。") % {"date": f"{timezone.localtime(now):%Y-%m-%d}"},
            )
        recording_stop_for(room, reason=RecordingStopReason.ROOM_ENDED, actor=actor)
        Room.objects.filter(pk=room.pk).update(
            status=RoomStatus.ENDED, outcome=outcome, end_reason=end_reason, continue_at=continue_at, ended_at=now,
            caucus_side="",
        )
        RoomMember.objects.filter(room=room).update(online_channel="")
        payload = {"outcome": outcome, "end_reason": end_reason,
                   "continue_at": continue_at.isoformat() if continue_at else None,
                   "next_session": next_session.pk if next_session is not None else None}
        store_event(room, name="room.ended", audience=spaces.EVERYONE, actor=actor, payload=payload,
                    actor_member=mediator, state={"status": RoomStatus.ENDED})
        room_audit("room.ended", actor=actor, room=room,
                   data={**payload, "note": note, "session_held": bool(held)})
    return Room.objects.select_related("case").get(pk=room.pk)


def _verification_end(*, room: Room, actor: User, outcome: str, note: str) -> Room:
    """The judge ends the joint verification session (Interp 356). Nothing is decided here: the record of the
    questioning (its entries) and each party's confirmation of its latest version stay with the room, and
    the end's audit entry names them; the ruling is a separate act of the review (``confirmation_rule``)."""
    if outcome != RoomOutcome.QUESTIONED:
        raise InvalidInput(_("司法确认询问结束时只记录“询问结束”；是否确认调解协议由审查程序另行裁定。"))
    with transaction.atomic():
        room, judge = room_turn(room.pk, actor=actor)
        now = timezone.now()
        held = MediationSession.objects.filter(pk=room.session_id, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.HELD
        )
        recording_stop_for(room, reason=RecordingStopReason.ROOM_ENDED, actor=actor)
        Room.objects.filter(pk=room.pk).update(status=RoomStatus.ENDED, outcome=outcome, ended_at=now, caucus_side="")
        RoomMember.objects.filter(room=room).update(online_channel="")
        entries = shared_record(room)
        version = record_version(entries)
        confirmed = list(
            RecordConfirmation.objects.filter(room=room, version_sha256=version).order_by("pk")
            .values_list("party_id", flat=True)
        ) if entries else []
        payload = {"outcome": outcome, "end_reason": "", "continue_at": None, "next_session": None}
        store_event(room, name="room.ended", audience=spaces.EVERYONE, actor=actor, payload=payload,
                    actor_member=judge, state={"status": RoomStatus.ENDED})
        room_audit("room.ended", actor=actor, room=room,
                   data={**payload, "note": note, "session_held": bool(held), "verification": True,
                         "record_entries": [e.pk for e in entries], "record_version": version if entries else "",
                         "confirmed_by_parties": confirmed})
    return Room.objects.select_related("case").get(pk=room.pk)
