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
