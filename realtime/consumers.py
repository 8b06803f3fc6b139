"""WebSocket consumers. Thin: authenticate from scope, authorise with one selector call, relay."""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

from mediation.exceptions import DomainError, NotFound, NotSignedIn
from mediation.selectors.cases import case_get_for_user
from realtime.broadcast import case_group

MAX_FRAME_BYTES = 16 * 1024
# Application close codes (4000-4999), documented in docs/protocol.md; each is the one its error declares.
CLOSE_UNAUTHENTICATED = NotSignedIn.close_code
CLOSE_FORBIDDEN = NotFound.close_code


class CaseEventsConsumer(AsyncJsonWebsocketConsumer):
    """Live updates for one case: a snapshot on connect, then every status change.

    The socket joins the case group before it reads the snapshot, so a change committed while it
    connects is never lost: it is either in the snapshot or arrives as an event after it (possibly
    both, so clients apply ``case.status`` events idempotently).
    """

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(NotSignedIn.close_code)
            return
        case_id = int(self.scope["url_route"]["kwargs"]["case_id"])
        # Join first, then read: a change committed meanwhile is in the snapshot or arrives after it.
        # No event is delivered before connect() returns, and a refused socket leaves the group at once.
        self.group = case_group(case_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        try:
            snapshot = await self._snapshot(user, case_id)
        except DomainError as exc:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self._refuse(exc.close_code)
            return
        await self.accept()
        await self.send_json({"type": "snapshot", "case": snapshot})

    async def _refuse(self, code: int) -> None:
        # A close before accept is a failed handshake (HTTP 403 in uvicorn and daphne) and the browser
        # only sees 1006, which looks like a network drop and invites reconnect loops. Accepting first
        # delivers the application code, so the client can tell "log in" from "retry".
        await self.accept()
        await self.close(code=code)

    @database_sync_to_async
    def _snapshot(self, user: Any, case_id: int) -> dict[str, Any]:
        case = case_get_for_user(user=user, case_id=case_id)
        return {"id": case.pk, "reference": case.reference, "status": case.status}

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if bytes_data is not None or text_data is None:
            await self.send_json({"type": "error", "code": "text_only", "message": _("只接受文本帧。")})
            return
        if len(text_data.encode("utf-8")) > MAX_FRAME_BYTES:
            await self.send_json({"type": "error", "code": "too_large", "message": _("消息过大。")})
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "bad_json", "message": _("消息格式错误。")})
            return
        if not isinstance(frame, dict) or frame.get("type") != "ping":
            await self.send_json({"type": "error", "code": "unknown_type", "message": _("不支持的消息类型。")})
            return
        await self.send_json({"type": "pong"})

    async def case_event(self, message: dict[str, Any]) -> None:
        if self.group is None:  # queued before a refusal: never relay to a socket that was turned away
            return
        await self.send_json({"type": "event", "event": message["event"]})
