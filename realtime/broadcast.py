"""Sending events to the browsers watching a case. Called from services' on-commit hooks only."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def case_group(case_id: int) -> str:
    return f"case.{case_id:x}"


def case_broadcast(*, case_id: int, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(case_group(case_id), {"type": "case.event", "event": event})


def room_group(room_id: int) -> str:
    """Every socket of one room."""
    return f"room.{room_id:x}"


def room_member_group(room_id: int, member_id: int) -> str:
    """The socket(s) of one member of one room: signaling is sent here, and a newer socket replaces older ones."""
    return f"rm.{room_id:x}.{member_id:x}"


def room_member_revoke(*, room_id: int, member_id: int, code: int) -> None:
    """Close the open socket of one member (on any worker): a message to the member's own group."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(room_member_group(room_id, member_id), {"type": "room.revoked", "code": code})


def room_broadcast(*, room_id: int, message: dict[str, Any]) -> None:
    """Send a stored room event (``{"type": "room.event", ...}``) to the room's sockets, which filter it by
    audience. Called from services' on-commit hooks only."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(room_group(room_id), message)
