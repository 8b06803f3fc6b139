"""The domain's after-commit signals (``mediation.signals``) turned into group sends to browsers."""

from __future__ import annotations

import logging
from typing import Any

from mediation import signals, spaces
from mediation.selectors.rooms import room_space_infos
from realtime import broadcast, sfu

logger = logging.getLogger(__name__)


def on_case_status_changed(*, case_id: int, old: str, new: str, **_: Any) -> None:
    broadcast.case_broadcast(case_id=case_id, event={"type": "case.status", "from": old, "to": new})


def on_case_event(*, case_id: int, event: dict[str, Any], **_: Any) -> None:
    broadcast.case_broadcast(case_id=case_id, event=event)


def on_room_event(*, room_id: int, message: dict[str, Any], **_: Any) -> None:
    if sfu.enabled():
        sfu_follow(room_id=room_id, state=message.get("state") or {})
    broadcast.room_broadcast(room_id=room_id, message=message)


def sfu_follow(*, room_id: int, state: dict[str, Any]) -> None:
    """Keep the SFU's rooms in step with the room, before the event reaches the sockets (which then tell
    their clients to rejoin): a space change rebuilds the Janus rooms, a member who left or was removed (or
    moved back to the waiting room) loses its token, the end of the room closes them all."""
    try:
        if "caucus_side" in state:
            members = room_space_infos(room_id=room_id).values()
            sfu.rebuild(room_id=room_id, members=members, caucus_side=str(state["caucus_side"]))
        if "member" in state and str(state.get("state")) != spaces.ADMITTED:
            sfu.dismiss(room_id=room_id, member_id=int(state["member"]))
        if state.get("status") == "ended":
            sfu.close(room_id=room_id, member_ids=room_space_infos(room_id=room_id).keys())
    except sfu.JanusError:
        logger.exception("room %s: the SFU could not follow %s", room_id, state)


def connect() -> None:
    signals.case_status_changed.connect(on_case_status_changed, dispatch_uid="realtime.case_status")
    signals.case_event.connect(on_case_event, dispatch_uid="realtime.case_event")
    signals.room_event.connect(on_room_event, dispatch_uid="realtime.room_event")
