"""Helpers shared by the room tests (and the other room parts): an open room on a scheduled session of a
world case, members that passed the way in, and sockets on the real ASGI application."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from mediation import permissions
from mediation.adapters.sms import outbox
from mediation.choices import CaseStatus, SessionKind
from mediation.models import Case, MediationSession, Room, RoomMember, User
from mediation.selectors import rooms as room_selectors
from mediation.services import room_controls, room_entry
from mediation.services.scheduling import session_schedule

RECEIVE_TIMEOUT = 3


def schedule_session(world: Any, case: Case, *, mediator: User | None = None) -> MediationSession:
    """A joint online session of ``case`` later today, after any session already scheduled (so the same
    people are never double-booked across the rooms of one test)."""
    start = timezone.now() + dt.timedelta(hours=1) + dt.timedelta(hours=3) * MediationSession.objects.count()
    return session_schedule(case=case, actor=mediator or world.mediator, kind=SessionKind.JOINT_ONLINE,
                            starts_at=start, ends_at=start + dt.timedelta(hours=2))


def open_room(world: Any, case: Case | None = None) -> tuple[Case, MediationSession, Room]:
    """A world case (mediator, applicant 张三, respondent 李四 with lawyer 王律师) in SCHEDULING, a session,
    and its room opened by the mediator (which moves the case to IN_MEDIATION)."""
    case = case or world.new_case()
    if case.status != CaseStatus.SCHEDULING:
        case = world.drive(case, CaseStatus.SCHEDULING)
    session = schedule_session(world, case)
    room = room_entry.room_for_session(session=session, actor=world.mediator)
    case.refresh_from_db()
    return case, session, room


def last_code(phone: str) -> str:
    message = [m for m in outbox if m.phone == phone][-1]
    match = re.search(r"\d{6}", message.text)
    assert match, message.text
    return match.group()


def ready_member(
    room: Room,
    user: User,
    *,
    consent_caucus: bool | None = True,
    consent_invited: bool | None = None,
    otp: bool = True,
    admit_by: User | None = None,
) -> RoomMember:
    """``user``'s member row with the identity re-check (by a real one-time code unless ``otp=False``,
    e.g. for a second room of the same person within the resend interval) and the notices done; a party
    also answers the caucus question. ``admit_by`` (a mediator) admits them."""
    member = room_entry.room_member_get_or_create(room=room, user=user)
    if otp:
        phone = room_selectors.room_phone_on_file(member)
        room_entry.room_identity_code_send(member=member)
        member = room_entry.room_identity_verify(member=member, code=last_code(phone))
    else:
        member = room_entry.room_checks_record_by_command(member=member, command="tests")
    is_party = member.role in permissions.PARTY_ROLES
    member = room_entry.room_notices_acknowledge(
        member=member, codes=[t.code for t in room_entry.room_notices_required(member.room.case, member.role)],
        consent_caucus=consent_caucus if is_party else None, consent_invited=consent_invited if is_party else None,
    )
    if admit_by is not None and member.state != "admitted":
        member = room_controls.room_admit(room=room, actor=admit_by, member=member)
    member.refresh_from_db()
    return member


def joint_room(world: Any, *, otp: bool = True) -> tuple[Case, Room, dict[str, RoomMember]]:
    """An open room with the mediator, both parties and the respondent's lawyer ready and admitted, every
    party having consented to caucus. ``otp=False`` for a second room within the code resend interval."""
    case, _session, room = open_room(world)
    members = {"mediator": ready_member(room, world.mediator, otp=otp)}
    for name in ("applicant", "respondent", "lawyer"):
        members[name] = ready_member(room, getattr(world, name), admit_by=world.mediator, otp=otp)
    return case, room, members


# --- sockets --------------------------------------------------------------------------------------------


def room_path(room_id: int, *, token: str = "", since: int = 0) -> str:
    query = []
    if token:
        query.append(f"token={token}")
    if since:
        query.append(f"since={since}")
    return f"/ws/room/{room_id}/" + (f"?{'&'.join(query)}" if query else "")


async def token_for(member: RoomMember) -> str:
    token, _row = await database_sync_to_async(room_entry.room_token_issue)(member=member)
    return token


@asynccontextmanager
async def room_socket(
    room_id: int, *, headers: list[tuple[bytes, bytes]], token: str = "", since: int = 0
) -> AsyncIterator[WebsocketCommunicator]:
    communicator = WebsocketCommunicator(application, room_path(room_id, token=token, since=since), headers=headers)
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def connect_welcome(communicator: WebsocketCommunicator) -> dict[str, Any]:
    accepted, detail = await communicator.connect(timeout=RECEIVE_TIMEOUT)
    assert accepted, detail
    frame = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert frame["type"] == "welcome", frame
    return frame


async def refusal_code(communicator: WebsocketCommunicator) -> int:
    """The close code a refused socket sees; it must get nothing else first."""
    accepted, detail = await communicator.connect(timeout=RECEIVE_TIMEOUT)
    if not accepted:
        return int(detail)
    message = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
    assert message["type"] == "websocket.close", f"refused socket was sent {message!r} before closing"
    return int(message["code"])


async def frames_until(communicator: WebsocketCommunicator, predicate: Any, *, limit: int = 50) -> list[dict[str, Any]]:
    """Read frames until one satisfies ``predicate``; all frames read, the matching one last."""
    seen = []
    for _ in range(limit):
        frame = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"no matching frame in {seen!r}")


async def drain(communicator: WebsocketCommunicator, *, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every frame that arrives until the socket is quiet for ``quiet`` seconds (a close ends the list as
    ``{"type": "__close__", "code": ...}``)."""
    seen = []
    while not await communicator.receive_nothing(timeout=quiet):
        output = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
        if output["type"] != "websocket.send":
            seen.append({"type": "__close__", "code": output.get("code")})
            break
        seen.append(json.loads(output["text"]))
    return seen
