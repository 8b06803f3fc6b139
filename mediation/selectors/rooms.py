"""Reads of rooms, already filtered by who may see what (caucus isolation: ``mediation.spaces``)."""

from __future__ import annotations

from dataclasses import replace

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from mediation import spaces
from mediation.exceptions import PermissionDenied
from mediation.models import Case, MediationSession, RecordEntry, Room, RoomEvent, RoomMember, User
from mediation.permissions import can_view_case


def room_get_for_user(*, user: User, room_id: int) -> Room:
    """A room whose session ``user`` has a place in; the same answer for "absent" and "not yours"."""
    from mediation.services.rooms import session_place

    room = Room.objects.select_related("case", "session").filter(pk=room_id).first()
    if room is None or session_place(session=room.session, user=user) is None:
        raise PermissionDenied(_("调解活动不存在或您无权参加。"))
    return room


def room_member_for_user(*, user: User, room_id: int) -> RoomMember:
    """``user``'s member row in room ``room_id``, if they still have a place in its session."""
    room = room_get_for_user(user=user, room_id=room_id)
    member = RoomMember.objects.select_related("user", "room").filter(room=room, user=user).first()
    if member is None:
        raise PermissionDenied(_("请先从邀请链接进入调解室。"))
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
    from mediation.services.rooms import session_place

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


def _entry_visible(entry: RecordEntry, member: RoomMember) -> bool:
    if not entry.caucus_side or entry.released_at is not None:
        return spaces.may_see(audience=spaces.ALL, member=member)
    return spaces.may_see(audience=spaces.caucus_audience(entry.caucus_side), member=member)


def room_record_visible(*, member: RoomMember) -> tuple[list[RecordEntry], str]:
    """The current record as ``member`` may see it, and the version hash of the shared record."""
    from mediation.services.rooms import record_version, shared_record

    room = Room.objects.get(pk=member.room_id)
    member = RoomMember.objects.get(pk=member.pk)
    entries = [e for e in current_entries(room) if _entry_visible(e, member)]
    return entries, record_version(shared_record(room))


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
