"""How every change to a room is made: the opening (lock the room row, check it is open, check who acts),
then one stored ``RoomEvent`` broadcast after commit, and an audit entry.

The room row lock is what keeps ``seq`` gap-free: writers to one room queue on it, each takes
``last_seq + 1``, and their broadcasts leave only after commit (``mediation.signals.room_event``). The event
is stored with the audience of the space it belongs to (``mediation.spaces``); the live path and every
snapshot filter by that same audience.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import signals, spaces
from mediation import transitions as tr
from mediation.choices import ParticipantRole, RoomMemberState, RoomStatus, SessionPurpose
from mediation.exceptions import InvalidInput, NotAdmitted, PermissionDenied, RoomEnded
from mediation.models import Case, MediationSession, Room, RoomEvent, RoomMember, User
from mediation.permissions import case_roles
from mediation.selectors.rooms import event_frame
from mediation.selectors.selftest import latest_verdict
from mediation.services.audit import audit_append
from mediation.signals import send_on_commit

M = RoomMemberState


def lock_room(room_id: int) -> Room:
    """The room row, locked until the transaction ends."""
    return Room.objects.select_for_update().select_related("case").get(pk=room_id)


def lock_open_room(room_id: int) -> Room:
    """The room row, locked; ``RoomEnded`` once its session has ended."""
    room = lock_room(room_id)
    if room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"), room=room)
    return room


def room_turn(room_id: int, *, member: RoomMember | None = None, actor: User | None = None) -> tuple[Room, RoomMember]:
    """The opening of every change someone makes in an open room, inside the caller's transaction: lock the
    room, refuse once it has ended, and check who acts, re-read under the lock. ``member`` must be admitted
    (only admitted members may post); ``actor`` must preside the room, admitted and still holding the case
    role that lets them: the case's mediator, or in a verification session a judge of the case's court. Pass
    both when a member's act is the presiding member's alone (the live record). Returns the locked room and
    the acting member."""
    assert member is not None or actor is not None, "room_turn needs the member or the actor who acts"
    room = lock_open_room(room_id)
    if member is not None:
        member = RoomMember.objects.select_related("user", "party").get(pk=member.pk)
        if member.state != M.ADMITTED:
            raise NotAdmitted(_("调解员准许入会后才能发言。"), case=room.case)
        if actor is None:
            return room, member
    assert actor is not None
    presiding = RoomMember.objects.filter(room=room, user=actor, role__in=spaces.PRESIDING,
                                          state=M.ADMITTED).first()
    if presiding is None or PRESIDING_CASE_ROLE[presiding.role] not in case_roles(actor, room.case):
        if presiding is None and room_is_verification(room):
            raise PermissionDenied(_("只有主持本次询问的法官可以这样做。"), case=room.case)
        raise PermissionDenied(_("只有主持本次调解的调解员可以这样做。"), case=room.case)
    return room, member if member is not None else presiding


# The case role a presiding member must still hold: the mediator of the case, or a judge of its court.
PRESIDING_CASE_ROLE: dict[str, str] = {ParticipantRole.MEDIATOR: tr.MEDIATOR, ParticipantRole.JUDGE: tr.JUDGE}


def room_is_verification(room: Room) -> bool:
    """Whether ``room`` is the court's joint verification session (Interp 356) rather than a mediation."""
    return MediationSession.objects.filter(pk=room.session_id, purpose=SessionPurpose.VERIFICATION).exists()


def store_event(
    room: Room,
    *,
    name: str,
    audience: str,
    actor: User | None,
    payload: dict[str, Any],
    client_id: str = "",
    actor_member: RoomMember | None = None,
    state: dict[str, Any] | None = None,
) -> RoomEvent:
    """Append one event to ``room`` (already locked by the caller) and broadcast it after commit. ``state``
    is what sockets apply to the room state they keep (a member's place, the caucus side, the status)."""
    seq = room.last_seq + 1
    Room.objects.filter(pk=room.pk).update(last_seq=seq)
    room.last_seq = seq
    event = RoomEvent.objects.create(room=room, seq=seq, kind=name, audience=audience, actor=actor,
                                     client_id=client_id, payload=payload)
    message = {
        "type": "room.event", "event": event_frame(event, actor_member=actor_member.pk if actor_member else None),
        "audience": audience, "state": state or {},
    }
    send_on_commit(signals.room_event, room_id=room.pk, message=message)
    return event


def member_revoke_on_commit(room: Room, member: RoomMember, *, code: int) -> None:
    """After commit, close ``member``'s open socket with ``code`` wherever it is: a message to the member's
    own group, besides the stored event (which a socket may hold back while it waits for a gap to fill)."""
    send_on_commit(signals.room_member_revoked, room_id=room.pk, member_id=member.pk, code=code)


def room_members_release(*, case: Case, user_ids: list[int]) -> list[RoomMember]:
    """``user_ids`` no longer act for ``case`` (a mediator changed, declined or recused, D12): their places in
    the case's open rooms end (``member.left``, so the others' browsers close their connections) and their
    open sockets are closed with 4403 after commit. Inside the caller's transaction."""
    released = []
    rows = RoomMember.objects.filter(room__case=case, room__status=RoomStatus.OPEN, user_id__in=user_ids,
                                     state__in=(M.WAITING, M.ADMITTED))
    for room_id in sorted(set(rows.values_list("room_id", flat=True))):
        room = lock_room(room_id)
        for member in RoomMember.objects.filter(room=room, user_id__in=user_ids, state__in=(M.WAITING, M.ADMITTED)):
            member.state, member.left_at, member.online_channel = M.LEFT, timezone.now(), ""
            member.save(update_fields=["state", "left_at", "online_channel"])
            audience = spaces.either(spaces.ALL, spaces.user_audience(member.user_id))
            store_event(room, name="member.left", audience=audience, actor=None, payload=member_payload(member),
                        state=member_state(member))
            room_audit("room.member_released", actor=None, room=room, data={"member": member.pk, "role": member.role})
            member_revoke_on_commit(room, member, code=PermissionDenied.close_code)
            released.append(member)
    return released


def client_ref(client_id: str | None) -> str:
    """A client's ``ref`` as stored: a string of at most 64 characters."""
    return str(client_id or "")[:64]


def resent_event(room: Room, actor: User, client_id: str, kind: str) -> RoomEvent | None:
    """The event ``actor`` already stored under ``client_id`` (a resend), if any. A ``client_id`` names one
    event of one kind: reusing it for something else is refused, never answered with the earlier event
    (which would acknowledge a record entry, say, that was never stored)."""
    if not client_id:
        return None
    event = RoomEvent.objects.filter(room=room, actor=actor, client_id=client_id).first()
    if event is not None and event.kind != kind:
        raise InvalidInput(_("编号（ref）%(ref)s已用于另一条消息，请换一个编号。") % {"ref": client_id})
    return event


def member_state(member: RoomMember) -> dict[str, Any]:
    return {"member": member.pk, "user": member.user_id, "role": member.role, "side": member.side,
            "state": member.state}


def member_payload(member: RoomMember) -> dict[str, Any]:
    """A member event's payload; ``selftest`` is the latest pre-join self-test verdict (issue 14), shown to
    the mediator beside the name in the waiting room."""
    return {"member": member.pk, "name": member.display_name, "role": member.role, "side": member.side,
            "state": member.state, "selftest": latest_verdict(member)}


def room_audit(kind: str, *, actor: User | None, room: Room, data: dict[str, Any] | None = None) -> None:
    audit_append(kind=kind, actor=actor, case=room.case,
                 data={"room": room.pk, "session": room.session_id, **(data or {})})


def room_announce(*, case: Case, kind: str, payload: dict[str, Any]) -> list[RoomEvent]:
    """Append an audience-``all`` event to every open room of ``case`` and broadcast it after commit
    (e.g. ``agreement.updated``). Nothing happens when no room is open."""
    events = []
    with transaction.atomic():
        open_rooms = Room.objects.filter(case=case, status=RoomStatus.OPEN).order_by("pk")
        for room_id in open_rooms.values_list("pk", flat=True):
            room = lock_room(room_id)
            if room.status != RoomStatus.OPEN:
                continue
            events.append(store_event(room, name=kind, audience=spaces.ALL, actor=None, payload=payload))
    return events
