"""Caucus isolation as pure functions: which space a room member is in, which audience a stored event
gets, who may see it, and who may exchange WebRTC signaling (docs/protocol.md, "Spaces").

No Django queries here: the services call these with model rows, the consumers with the small
``MemberInfo`` records they keep up to date from room events. Both use the same rules, so what a
socket relays live and what a snapshot replays can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MEDIATOR = "mediator"
JUDGE = "judge"
# Who presides a room: the mediator of a mediation session, the judge of a verification session (Interp 356).
# "mediators" below means the presiding members; a judge who joins to guide (``judge_guide``) is not one.
PRESIDING = frozenset({MEDIATOR, JUDGE})
ADMITTED = "admitted"

JOINT = "joint"
CAUCUS = "caucus"
LOBBY = "lobby"

# Audiences of stored events. Several may be joined with "|" (any part admits).
EVERYONE = "everyone"  # every member of the room, admitted or not (room.space, room.ended)
ALL = "all"  # every admitted member
MEDIATORS = "mediators"  # the admitted presiding members (mediator, or the judge of a verification session)


class MemberLike(Protocol):
    """What the rules need to know about a member: a ``RoomMember`` row or a ``MemberInfo``."""

    @property
    def pk(self) -> int | None: ...

    @property
    def user_id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def side(self) -> str: ...

    @property
    def state(self) -> str: ...


@dataclass(frozen=True)
class MemberInfo:
    """A consumer's copy of one member's place in the room."""

    pk: int
    user_id: int
    role: str
    side: str
    state: str


def info_of(member: MemberLike) -> MemberInfo:
    return MemberInfo(pk=int(member.pk or 0), user_id=member.user_id, role=member.role, side=member.side,
                      state=member.state)


def caucus_audience(side: str) -> str:
    return f"caucus:{side}"


def side_audience(side: str) -> str:
    return f"side:{side}"


def user_audience(user_id: int) -> str:
    return f"user:{user_id}"


def either(*audiences: str) -> str:
    return "|".join(audiences)


def space_of(*, caucus_side: str, member: MemberLike) -> str:
    """``lobby`` until admitted; ``joint`` in a joint session; in a caucus with side S the mediators and S's
    members are in ``caucus``, the other side waits in ``waiting:<side>`` and a member without a side
    (an invited helper) waits alone in ``waiting:member<id>``."""
    if member.state != ADMITTED:
        return LOBBY
    if not caucus_side:
        return JOINT
    if member.role in PRESIDING or member.side == caucus_side:
        return CAUCUS
    if member.side:
        return f"waiting:{member.side}"
    return f"waiting:member{member.pk}"


def audience_for(*, caucus_side: str, member: MemberLike) -> str:
    """The audience of something ``member`` posts now: exactly the people in their current space."""
    space = space_of(caucus_side=caucus_side, member=member)
    if space == JOINT:
        return ALL
    if space == CAUCUS:
        return caucus_audience(caucus_side)
    if space.startswith("waiting:") and member.side:
        return side_audience(member.side)
    return user_audience(member.user_id)


def may_see(*, audience: str, member: MemberLike) -> bool:
    """Whether ``member`` may receive an event stored with ``audience``, live or in a snapshot."""
    return any(_admits(part, member) for part in audience.split("|"))


def _admits(part: str, member: MemberLike) -> bool:
    if part == EVERYONE:
        return True
    if part.startswith("user:"):
        return part == user_audience(member.user_id)
    if member.state != ADMITTED:
        return False
    if part == ALL:
        return True
    if part == MEDIATORS:
        return member.role in PRESIDING
    if part.startswith("caucus:"):
        side = part.removeprefix("caucus:")
        return bool(side) and (member.role in PRESIDING or member.side == side)
    if part.startswith("side:"):
        side = part.removeprefix("side:")
        return member.role not in PRESIDING and bool(side) and member.side == side
    return False


def share_space(*, caucus_side: str, a: MemberLike, b: MemberLike) -> bool:
    """Whether ``a`` and ``b`` may exchange signaling (and so media): both admitted, in one space."""
    if a.state != ADMITTED or b.state != ADMITTED:
        return False
    return space_of(caucus_side=caucus_side, member=a) == space_of(caucus_side=caucus_side, member=b)
