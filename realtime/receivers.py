"""The domain's after-commit signals (``mediation.signals``) turned into group sends to browsers."""

from __future__ import annotations

from typing import Any

from mediation import signals
from realtime import broadcast


def on_case_status_changed(*, case_id: int, old: str, new: str, **_: Any) -> None:
    broadcast.case_broadcast(case_id=case_id, event={"type": "case.status", "from": old, "to": new})


def on_case_event(*, case_id: int, event: dict[str, Any], **_: Any) -> None:
    broadcast.case_broadcast(case_id=case_id, event=event)


def on_room_event(*, room_id: int, message: dict[str, Any], **_: Any) -> None:
    broadcast.room_broadcast(room_id=room_id, message=message)


def on_room_member_revoked(*, room_id: int, member_id: int, code: int, **_: Any) -> None:
    broadcast.room_member_revoke(room_id=room_id, member_id=member_id, code=code)


def connect() -> None:
    signals.case_status_changed.connect(on_case_status_changed, dispatch_uid="realtime.case_status")
    signals.case_event.connect(on_case_event, dispatch_uid="realtime.case_event")
    signals.room_event.connect(on_room_event, dispatch_uid="realtime.room_event")
    signals.room_member_revoked.connect(on_room_member_revoked, dispatch_uid="realtime.room_member_revoked")
