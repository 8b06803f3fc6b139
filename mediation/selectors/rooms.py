"""Reads of rooms, already filtered by who may see what (caucus isolation: ``mediation.spaces``): the room
for a user, the snapshot a socket starts from, the record as a member may see it, and who may open a file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from mediation import spaces
from mediation.choices import ParticipantRole, RoomMemberState
from mediation.exceptions import InvalidInput, NotFound
from mediation.models import (
    Agent,
    Case,
    MediationSession,
    RecordEntry,
    Room,
    RoomEvent,
    RoomMember,
    SelfTest,
    User,
)
from mediation.permissions import access_session_place, can_view_case, session_place

M = RoomMemberState


def room_get_for_user(*, user: User, room_id: int) -> Room:
    """A room whose session ``user`` has a place in; the same answer for "absent" and "not yours"."""
    room = Room.objects.select_related("case", "session").filter(pk=room_id).first()
    access_session_place(session=room.session if room is not None else None, user=user)
    assert room is not None
    return room


def room_member_for_user(*, user: User, room_id: int) -> RoomMember:
    """``user``'s member row in room ``room_id``, if they still have a place in its session."""
    room = room_get_for_user(user=user, room_id=room_id)
    member = RoomMember.objects.select_related("user", "room").filter(room=room, user=user).first()
    if member is None:
        raise NotFound(_("请先从邀请链接进入调解室。"))
    return member


def room_member_get(*, member_id: int) -> RoomMember:
    """A member by id, for a consumer that already authorised it."""
    return RoomMember.objects.select_related("user", "room", "party").get(pk=member_id)


def rooms_for_case(*, user: User, case: Case) -> QuerySet[Room]:
    """The rooms of ``case`` for anyone holding a role on it (content still goes through ``may_see``)."""
    if not can_view_case(user, case):
        return Room.objects.none()
    return Room.objects.filter(case=case).select_related("session").order_by("-opened_at")


def room_for_session_get(*, user: User, session: MediationSession) -> Room | None:
    """The room of ``session`` if it was opened and ``user`` has a place in the session."""
    if session_place(session=session, user=user) is None:
        return None
    return Room.objects.filter(session=session).select_related("case").first()


def room_events_visible(*, member: RoomMember, since: int = 0) -> list[RoomEvent]:
    """Stored events after ``since`` that ``member`` may see, in ``seq`` order."""
    member = RoomMember.objects.get(pk=member.pk)
    return [
        event for event in RoomEvent.objects.filter(room_id=member.room_id, seq__gt=since).order_by("seq")
        if spaces.may_see(audience=event.audience, member=member)
    ]


def current_entries(room: Room) -> list[RecordEntry]:
    """The room's record entries that no correction has replaced, oldest first."""
    entries = list(RecordEntry.objects.filter(room=room).order_by("pk"))
    replaced = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    return [e for e in entries if e.pk not in replaced]


def shared_record(room: Room) -> list[RecordEntry]:
    """The record everyone may see: joint entries and released caucus entries, corrections applied."""
    return [e for e in current_entries(room) if not e.caucus_side or e.released_at is not None]


def record_version(entries: list[RecordEntry]) -> str:
    """The SHA-256 a party confirms: the shared entries' ids, texts and tags in order."""
    body = [[e.pk, e.text, e.tag] for e in entries]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _entry_visible(entry: RecordEntry, member: RoomMember) -> bool:
    if not entry.caucus_side or entry.released_at is not None:
        return spaces.may_see(audience=spaces.ALL, member=member)
    return spaces.may_see(audience=spaces.caucus_audience(entry.caucus_side), member=member)


def room_record_visible(*, member: RoomMember) -> tuple[list[RecordEntry], str]:
    """The current record as ``member`` may see it, and the version hash of the shared record."""
    room = Room.objects.get(pk=member.room_id)
    member = RoomMember.objects.get(pk=member.pk)
    entries = [e for e in current_entries(room) if _entry_visible(e, member)]
    return entries, record_version(shared_record(room))


def room_checks_done(member: RoomMember) -> bool:
    """Whether ``member`` passed this room's identity re-check and acknowledged its notices."""
    return member.identity_checked_at is not None and member.notices_acknowledged_at is not None


def room_phone_on_file(member: RoomMember) -> str:
    """The number the session code goes to: the account's, else the one the case holds for the person."""
    if member.user.phone:
        return str(member.user.phone)
    if member.role == ParticipantRole.PARTY and member.party is not None and member.party.phone:
        return str(member.party.phone)
    if member.role == ParticipantRole.AGENT:
        agent = Agent.objects.filter(party=member.party, user=member.user).first()
        if agent is not None and agent.phone:
            return str(agent.phone)
    raise InvalidInput(_("您的账户没有登记手机号码，无法发送验证码。请联系调解员或法院诉讼服务中心。"))


# --- what a socket sees ------------------------------------------------------------------------------------


def event_frame(event: RoomEvent, *, actor_member: int | None) -> dict[str, Any]:
    """An event as a client sees it (docs/protocol.md: ``event``)."""
    return {"type": "event", "seq": event.seq, "kind": event.kind, "at": event.created_at.isoformat(),
            "actor": actor_member, "payload": event.payload}


def record_entry_payload(entry: RecordEntry) -> dict[str, Any]:
    return {"id": entry.pk, "text": entry.text, "tag": entry.tag, "caucus_side": entry.caucus_side,
            "supersedes": entry.supersedes_id, "released": entry.released_at is not None,
            "at": entry.created_at.isoformat()}


def room_snapshot(*, member: RoomMember, since: int = 0) -> dict[str, Any]:
    """The ``welcome`` body without ``ice_servers`` and ``resume_token``: the room as ``member`` may see it,
    with every visible event after ``since``."""
    room = Room.objects.select_related("case", "session").get(pk=member.room_id)
    members = list(_with_selftest(RoomMember.objects.filter(room=room)).order_by("pk"))
    return snapshot_from(room=room, members=members, member_id=member.pk, since=since)


def _with_selftest(members: QuerySet[RoomMember]) -> QuerySet[RoomMember]:
    """Each member with ``selftest_verdict``: their latest pre-join self-test verdict for the room's session
    (issue 14), read in the same statement (a correlated subquery on the ``selftest_latest`` index)."""
    latest = SelfTest.objects.filter(session_id=OuterRef("room__session_id"), user_id=OuterRef("user_id"))
    return members.annotate(selftest_verdict=Subquery(latest.order_by("-created_at", "-id").values("verdict")[:1]))


def room_members_with_room(*, room_id: int) -> list[RoomMember]:
    """Every member row of a room, each with the room, its case and session joined: one statement that
    holds everything a resumed socket's checks and its ``welcome`` need besides events and record."""
    return list(_with_selftest(RoomMember.objects.filter(room_id=room_id))
                .select_related("room__case", "room__session").order_by("pk"))


def snapshot_from(*, room: Room, members: list[RoomMember], member_id: int, since: int = 0) -> dict[str, Any]:
    """``room_snapshot`` from rows already read (``room`` and all its ``members``): two more statements,
    the events after ``since`` and the record."""
    member = next(m for m in members if m.pk == member_id)
    by_user = {m.user_id: m.pk for m in members}
    since = since if 0 <= since <= room.last_seq else 0
    listed = [m for m in members if m.state in (M.WAITING, M.ADMITTED)]
    my_space = spaces.space_of(caucus_side=room.caucus_side, member=member)
    events = [e for e in RoomEvent.objects.filter(room_id=room.pk, seq__gt=since).order_by("seq")
              if spaces.may_see(audience=e.audience, member=member)]
    current = current_entries(room)
    entries = [e for e in current if _entry_visible(e, member)]
    version = record_version([e for e in current if not e.caucus_side or e.released_at is not None])
    # The mediator sees each person's latest pre-join self-test verdict beside their name (issue 14): read
    # with the members (``_with_selftest``), so the welcome costs no extra statement.
    presiding = member.role in spaces.PRESIDING
    return {
        "type": "welcome", "protocol": "yizhan-room/1",
        "you": {"member": member.pk, "role": member.role, "side": member.side, "state": member.state,
                "name": member.display_name},
        "room": {"id": room.pk, "case": room.case.reference, "status": room.status, "locked": room.locked,
                 "purpose": room.session.purpose,
                 "caucus_side": room.caucus_side, "outcome": room.outcome, "end_reason": room.end_reason,
                 "continue_at": room.continue_at.isoformat() if room.continue_at else None},
        "members": [
            {"member": m.pk, "name": m.display_name, "role": m.role, "side": m.side, "state": m.state,
             "online": bool(m.online_channel), "audio_only": m.audio_only, "muted": m.muted,
             "space": spaces.space_of(caucus_side=room.caucus_side, member=m),
             **({"selftest": getattr(m, "selftest_verdict", None)} if presiding else {})}
            for m in listed
        ],
        "space": my_space,
        "peers": [
            m.pk for m in listed
            if m.pk != member.pk and m.online_channel
            and spaces.share_space(caucus_side=room.caucus_side, a=member, b=m)
        ],
        "events": [event_frame(e, actor_member=by_user.get(e.actor_id or 0)) for e in events],
        "last_seq": room.last_seq,
        "record": [record_entry_payload(e) for e in entries],
        "record_version": version,
        "heartbeat_ms": 1000,
    }


# --- files -------------------------------------------------------------------------------------------------


def _file_visibility(*, user: User, events: QuerySet[RoomEvent]) -> tuple[set[int], set[int]]:
    """Of the files shared by ``events`` (file events), which ids were shared at all and which ``user`` may
    open: the sharer, and anyone whose place in that room the event's audience admits, judged by their place
    (role and side), not by whether they are in the room right now. Two queries, however many files."""
    rows = list(events.values_list("room_id", "actor_id", "audience", "payload__evidence"))
    members = {
        member.room_id: replace(spaces.info_of(member), state=spaces.ADMITTED)
        for member in RoomMember.objects.filter(room_id__in={room_id for room_id, *_rest in rows}, user=user)
    }
    shared: set[int] = set()
    visible: set[int] = set()
    for room_id, actor_id, audience, evidence_id in rows:
        if not isinstance(evidence_id, int):
            continue
        shared.add(evidence_id)
        member = members.get(room_id)
        if actor_id == user.pk or (member is not None and spaces.may_see(audience=audience, member=member)):
            visible.add(evidence_id)
    return shared, visible


def room_file_visible(*, user: User, evidence_id: int) -> bool:
    """Whether ``user`` may open a file by its id. A file shared in a room keeps the audience of the space it
    was shared in, also after the session: a caucus file stays with that side and the mediators. Files that
    were never shared in a room follow the case's rules alone (True here)."""
    shared, visible = _file_visibility(
        user=user, events=RoomEvent.objects.filter(kind="file", payload__evidence=evidence_id)
    )
    return not shared or evidence_id in visible


def room_files_hidden_from(*, user: User, case: Case) -> set[int]:
    """Ids of the files shared in a room of ``case`` that ``user`` may not open (another side's caucus
    files). Every list of the case's materials, and the case's timeline, leaves them out: a file's title
    can say as much as its content."""
    shared, visible = _file_visibility(user=user, events=RoomEvent.objects.filter(room__case=case, kind="file"))
    return shared - visible


def room_files_shared_privately(*, case: Case) -> set[int]:
    """Ids of the files of ``case`` shared in a caucus or a waiting side's space: nothing sent to a court
    lists them (their titles can say as much as their content)."""
    rows = RoomEvent.objects.filter(room__case=case, kind="file").exclude(
        audience__in=(spaces.ALL, spaces.EVERYONE)
    ).values_list("payload__evidence", flat=True)
    return {pk for pk in rows if isinstance(pk, int)}


def room_space_infos(*, room_id: int) -> dict[int, spaces.MemberInfo]:
    """What the caucus rules need to know of every member of a room, by member id (for the socket's filter)."""
    return {m.pk: spaces.info_of(m) for m in RoomMember.objects.filter(room_id=room_id)}
