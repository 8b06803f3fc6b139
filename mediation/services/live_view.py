"""Writes behind the staff's live view (issue 14 item 3): a room member's connection-quality report and the
drop of their socket, both kept in the "live" cache with a time to live and never in the database (decision
D54), and a member of staff's message to one participant, which is a stored room event with the
audience ``user:<id>`` and an audit entry like any other change to a room."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from mediation import spaces
from mediation.choices import ConnectionQuality, RoomMemberState
from mediation.exceptions import InvalidInput
from mediation.models import RoomEvent, User
from mediation.selectors.live_view import dropped_key, live_cache, live_view_member_get, quality_key
from mediation.services.room_events import lock_open_room, room_audit, store_event

MESSAGE_MAX = 200


def room_quality_report(*, member_id: int, level: str, rtt_ms: int | None, loss_pct: float | None) -> None:
    """Keep ``member_id``'s latest connection quality for ``LIVE_CACHE_TTL`` seconds (the client repeats it
    well within that while the socket is open). The socket already checked the frame and its rate."""
    if level not in ConnectionQuality.values:
        raise InvalidInput(_("网络质量等级无效。"))
    live_cache().set(quality_key(member_id), {
        "level": level, "rtt_ms": rtt_ms, "loss_pct": None if loss_pct is None else round(float(loss_pct), 1),
        "at": time.time(),
    }, timeout=int(settings.LIVE_CACHE_TTL))


def room_presence_dropped(*, member_id: int) -> None:
    """The member's socket went away without ``leave``: shown as 正在重连 while a resume token could still
    bring them back (``ROOM_RESUME_TTL``), and their last quality report no longer applies."""
    cache = live_cache()
    cache.set(dropped_key(member_id), int(time.time()), timeout=int(settings.ROOM_RESUME_TTL))
    cache.delete(quality_key(member_id))


def room_staff_message(*, actor: User, member_id: int, text: str) -> RoomEvent:
    """A member of staff who may watch the session sends one participant a short notice: stored in the room
    with the audience ``user:<id>`` (only that person sees it, live and in every later snapshot), audited
    with its text. Refused (as absent) outside the sender's scope; refused for someone no longer in the
    room, or once the room has ended."""
    member = live_view_member_get(user=actor, member_id=member_id)
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput(_("请填写要发送的消息。"))
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(_("消息不超过%(n)d个字。") % {"n": MESSAGE_MAX})
    with transaction.atomic():
        room = lock_open_room(member.room_id)
        member.refresh_from_db(fields=["state"])
        if member.state not in (RoomMemberState.WAITING, RoomMemberState.ADMITTED):
            raise InvalidInput(_("%(name)s已不在调解室，消息无法送达。") % {"name": member.display_name},
                               case=room.case)
        sender = _("工作人员%(name)s") % {"name": actor.display_name}
        event = store_event(room, name="staff.message", audience=spaces.user_audience(member.user_id), actor=actor,
                            payload={"member": member.pk, "text": text, "from": sender})
        room_audit("room.staff_message", actor=actor, room=room,
                   data={"member": member.pk, "user": member.user_id, "seq": event.seq, "text": text})
    return event
