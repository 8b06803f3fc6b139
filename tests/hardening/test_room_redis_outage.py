"""Issue 17 item 5: when Redis goes away, every room socket is closed with the protocol's 1011 (reconnect with
backoff, then resync with ``since``) instead of dropping without a close frame (1006) on an unhandled
exception; a socket that comes while Redis is away is refused with 1011; nothing stored is lost.

Redis is reached through a TCP relay on loopback that the test cuts, as a killed or unreachable server would."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async

from mediation.models import RoomEvent
from tests.realtime.test_case_events import (
    delete_keys,
    headers_for,
    redis_layer_config,
    redis_url,
    unique_redis_prefix,
    use_layer,
)
from tests.room_support import RECEIVE_TIMEOUT, connect_welcome, frames_until, joint_room, refusal_code, room_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.redis]


class Relay:
    """A loopback TCP relay to the real Redis that can be cut (every connection closed, none accepted)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        if self.server is None:
            return
        self.server.close()
        writers, self.writers = self.writers, []
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        await self.server.wait_closed()
        self.server = None


@pytest_asyncio.fixture
async def relay(settings: Any) -> AsyncIterator[Relay]:
    url, prefix = redis_url(), unique_redis_prefix()
    parts = urlsplit(url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 6379)
    await relay.start()
    through = urlunsplit(parts._replace(netloc=f"127.0.0.1:{relay.port}"))
    config = redis_layer_config(prefix)
    config["CONFIG"]["hosts"][0]["address"] = through
    config["CONFIG"]["hosts"][0]["socket_connect_timeout"] = 1
    config["CONFIG"]["hosts"][0]["timeout"] = 1
    try:
        async with use_layer(settings, config):
            yield relay
    finally:
        await relay.cut()
        await delete_keys(url, f"{prefix}:*")


async def test_a_redis_outage_closes_room_sockets_with_1011_and_loses_nothing(world, relay, caplog):
    _case, room, _members = await database_sync_to_async(joint_room)(world)
    headers = await headers_for(world.applicant)
    caplog.set_level(logging.WARNING)
    async with room_socket(room.pk, headers=headers) as socket:
        welcome = await connect_welcome(socket)
        await socket.send_json_to({"type": "chat", "ref": "before-outage", "text": "断线前的发言"})
        await frames_until(socket, lambda fr: fr["type"] == "ack" and fr["ref"] == "before-outage")

        await relay.cut()
        closed = None
        for _ in range(40):  # the socket learns of the outage on its next read from Redis
            output = await socket.receive_output(timeout=RECEIVE_TIMEOUT)
            if output["type"] == "websocket.close":
                closed = output
                break
        assert closed is not None and closed["code"] == 1011

    # While Redis is away, a new socket is refused with the same code, not dropped.
    async with room_socket(room.pk, headers=headers) as socket:
        assert await refusal_code(socket) == 1011

    # Nothing was lost: the chat is stored, and a socket that comes back after the outage gets it.
    assert await database_sync_to_async(RoomEvent.objects.filter(room=room, kind="chat").count)() == 1
    await relay.start()
    async with room_socket(room.pk, headers=headers, since=0) as socket:
        again = await connect_welcome(socket)
        assert any(e["kind"] == "chat" and e["payload"]["text"] == "断线前的发言" for e in again["events"])
    assert again["last_seq"] >= welcome["last_seq"]
    unhandled = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(("realtime", "django"))]
    assert unhandled == []
