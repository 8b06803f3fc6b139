"""Clients of the anchors (issue 15 item 7): a socket of the plain Channels app (tests/bench/anchor_asgi.py)
and a Redis publish→subscribe member (redis-py asyncio, the floor), both with the interface the room
benchmarks drive (``start``, ``send``, ``close``, ``member_id``, ``drop`` and ``on_frame(frame, at)``), so
the same load runs against the room socket and the anchors in one bench run.

The anchors fan a frame out to the whole room (the sender too); a member hands ``on_frame`` only the frames
addressed to it (``"to"``), so the latency is the addressee's, as on the room socket, while the server pays for
every delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from redis import asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

OnFrame = Callable[[dict[str, Any], float], None]


def anchor_rooms(count: int) -> list[list[str]]:
    """``count`` rooms of four anchor members: ``/ws/anchor/<room>/?m=<member>``."""
    return [[f"/ws/anchor/{room}/?m={member}" for member in range(1, 5)] for room in range(count)]


def _member_of(ws_url: str) -> int:
    return int(parse_qs(urlsplit(ws_url).query)["m"][0])


class AnchorPeer:
    """One socket of the anchor app; reconnects at once after ``drop`` (the storm) and counts welcomes."""

    def __init__(self, *, server: str, ws_url: str, on_frame: OnFrame | None = None,
                 open_timeout: float = 120.0) -> None:
        self.url = ("ws" + server.removeprefix("http")) + urlsplit(ws_url).path
        self.member_id = _member_of(ws_url)
        self.on_frame, self.open_timeout = on_frame, open_timeout
        self.dead_after: float | None = None  # the room clients' attribute; the anchor has no heartbeat
        self.welcomes = 0
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._welcomed = asyncio.Event()
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._welcomed.wait()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
                async with connect(self.url, ping_interval=None, compression=None,
                                   open_timeout=self.open_timeout) as ws:
                    self._ws = ws
                    async for message in ws:
                        at = time.perf_counter()
                        frame = json.loads(message)
                        if frame.get("type") == "welcome":
                            self.welcomes += 1
                            self._welcomed.set()
                            if self.on_frame is not None:
                                self.on_frame(frame, at)
                        elif frame.get("to") == self.member_id and self.on_frame is not None:
                            self.on_frame(frame, at)
            self._ws = None

    def drop(self) -> None:
        """Cut the socket without a closing handshake; the peer reconnects at once."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def send(self, frame: dict[str, Any]) -> None:
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send(json.dumps(frame, ensure_ascii=False))

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def anchor_peer(*, server: str, ws_url: str, on_frame: OnFrame) -> AnchorPeer:
    return AnchorPeer(server=server, ws_url=ws_url, on_frame=on_frame)


class RedisPeer:
    """The floor: one member subscribed to its room's Redis channel on a connection of its own, publishing
    through a client shared by every member of the run (``server`` is the Redis URL)."""

    _publishers: dict[str, aioredis.Redis] = {}

    def __init__(self, *, server: str, ws_url: str, on_frame: OnFrame | None = None) -> None:
        self.redis_url = server
        self.channel = f"{os.environ.get('REDIS_PREFIX', 'yizhan')}:floor:{urlsplit(ws_url).path}"
        self.member_id = _member_of(ws_url)
        self.on_frame = on_frame
        self.dead_after: float | None = None
        self._client: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._client = aioredis.Redis.from_url(self.redis_url)
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self.channel)
        self._task = asyncio.create_task(self._listen(pubsub))

    async def _listen(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            at = time.perf_counter()
            frame = json.loads(message["data"])
            if frame.get("to") == self.member_id and self.on_frame is not None:
                self.on_frame(frame, at)

    async def send(self, frame: dict[str, Any]) -> None:
        publisher = self._publishers.get(self.redis_url)
        if publisher is None:
            publisher = self._publishers[self.redis_url] = aioredis.Redis.from_url(self.redis_url)
        await publisher.publish(self.channel, json.dumps(frame, ensure_ascii=False))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        publisher = self._publishers.pop(self.redis_url, None)
        if publisher is not None:
            await publisher.aclose()


def redis_peer(*, server: str, ws_url: str, on_frame: OnFrame) -> RedisPeer:
    return RedisPeer(server=server, ws_url=ws_url, on_frame=on_frame)
