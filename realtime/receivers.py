"""The domain's after-commit signals (``mediation.signals``) turned into group sends to browsers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mediation import signals, spaces
from mediation.models import Recording
from mediation.selectors.rooms import room_space_infos
from mediation.services import recording as recording_service
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


def on_recording_changed(*, room_id: int, recording_id: int, on: bool, **_: Any) -> None:
    """A consented recording started or stopped (mediation/services/recording.py): Janus records the space's
    room into the recording's own directory, or stops; after a stop the files are made (a Celery task). A
    Janus that refuses to start marks the recording failed: nothing claims a recording that did not happen."""
    recording = Recording.objects.get(pk=recording_id)
    janus_room = sfu.janus_room_id(room_id, recording.space)
    admin = sfu.JanusAdmin.from_settings(room_id)
    if on:
        try:
            if janus_room is None:
                raise sfu.JanusError(0, f"no Janus room for space {recording.space}")
            Path(recording.spool_dir).mkdir(parents=True, exist_ok=True)
            admin.record(janus_room, on=True, rec_dir=recording.spool_dir)
            recording_service.recording_media_marked(recording_id=recording_id, on=True)
        except (sfu.JanusError, OSError) as exc:
            logger.exception("room %s: recording %s could not start", room_id, recording_id)
            recording_service.recording_media_failed(recording_id=recording_id, error=str(exc))
        return
    if janus_room is not None:
        try:
            admin.record(janus_room, on=False)
            recording_service.recording_media_marked(recording_id=recording_id, on=False)
        except sfu.JanusError as exc:
            if exc.code != 426:  # no such room: a space change destroyed it, which closed its recorders
                logger.exception("room %s: recording %s could not stop cleanly", room_id, recording_id)
            recording_service.recording_media_marked(recording_id=recording_id, on=False)
    recording_service.recording_process.delay(recording_id)


def on_room_member_revoked(*, room_id: int, member_id: int, code: int, **_: Any) -> None:
    broadcast.room_member_revoke(room_id=room_id, member_id=member_id, code=code)


def connect() -> None:
    signals.case_status_changed.connect(on_case_status_changed, dispatch_uid="realtime.case_status")
    signals.case_event.connect(on_case_event, dispatch_uid="realtime.case_event")
    signals.room_event.connect(on_room_event, dispatch_uid="realtime.room_event")
    signals.room_member_revoked.connect(on_room_member_revoked, dispatch_uid="realtime.room_member_revoked")
    signals.recording_changed.connect(on_recording_changed, dispatch_uid="realtime.recording_changed")
