"""An aiortc client of the SFU, following docs/protocol.md "Media: mesh or SFU": it takes the ``media`` object
of a welcome (or of ``media.rejoin``) and speaks Janus's WebSocket API (subprotocol ``janus-protocol``) with
the member's token: one session; a publisher handle that joins the space's Janus room with ``id = feed``
and publishes (or only listens); one subscriber handle per feed it watches, joined with the publisher
handle's ``private_id`` (the rooms ``require_pvtid``). Offers and answers carry their candidates (aiortc
gathers before it describes), then an end-of-candidates trickle.

Used by the tests (``tests/realtime/test_sfu.py``) and the benchmarks; also a hostile client, since nothing
here is enforced on the client side: every refusal comes from Janus."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import websockets
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from realtime.peer import SyntheticVideoTrack, _ice_servers

VIDEOROOM = "janus.plugin.videoroom"


class JanusRefused(Exception):
    """Janus or the videoroom said no: ``code`` is Janus's (433 unauthorized, 428 no such feed, ...)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


@dataclass
class Subscription:
    feed: int
    pc: RTCPeerConnection
    handle: int
    frames: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class JanusSession:
    """One Janus session over the WebSocket API, with transactions matched to their answers."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout
        self.session_id = 0
        self._ws: Any = None
        self._waiting: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()  # events with no transaction

    async def open(self) -> None:
        self._ws = await websockets.connect(
            self.url, subprotocols=[websockets.Subprotocol("janus-protocol")], open_timeout=self.timeout
        )
        self._reader = asyncio.ensure_future(self._read())
        answer = await self.request({"janus": "create"})
        self.session_id = int(answer["data"]["id"])
        self._keepalive = asyncio.ensure_future(self._keep_alive())

    async def close(self) -> None:
        for task in (self._keepalive, self._reader):
            if task is not None:
                task.cancel()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.send(
                    json.dumps(
                        {"janus": "destroy", "session_id": self.session_id, "transaction": "bye", "token": self.token}
                    )
                )
            await self._ws.close()

    async def _read(self) -> None:
        async for raw in self._ws:
            message = json.loads(raw)
            queue = self._waiting.get(str(message.get("transaction", "")))
            if queue is not None:
                queue.put_nowait(message)
            else:
                self.events.put_nowait(message)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(20)
            await self._ws.send(
                json.dumps(
                    {
                        "janus": "keepalive",
                        "session_id": self.session_id,
                        "transaction": secrets.token_hex(6),
                        "token": self.token,
                    }
                )
            )

    async def request(self, body: dict[str, Any], *, until_event: bool = False) -> dict[str, Any]:
        """Send ``body`` and return Janus's answer: its ``success``, or with ``until_event`` the plugin's
        ``event`` after the ``ack``. An ``error`` (core) or an ``error_code`` (plugin) raises JanusRefused."""
        transaction = secrets.token_hex(8)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._waiting[transaction] = queue
        message = {**body, "transaction": transaction, "token": self.token}
        if self.session_id:
            message.setdefault("session_id", self.session_id)
        try:
            await self._ws.send(json.dumps(message))
            while True:
                answer = await asyncio.wait_for(queue.get(), self.timeout)
                kind = answer.get("janus")
                if kind == "error":
                    error = answer.get("error") or {}
                    raise JanusRefused(int(error.get("code", 0)), str(error.get("reason", "")))
                if kind == "ack" and until_event:
                    continue
                data = ((answer.get("plugindata") or {}).get("data")) or {}
                if "error_code" in data:
                    raise JanusRefused(int(data["error_code"]), str(data.get("error", "")))
                return answer
        finally:
            self._waiting.pop(transaction, None)

    async def attach(self) -> int:
        answer = await self.request({"janus": "attach", "plugin": VIDEOROOM})
        return int(answer["data"]["id"])

    async def message(self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"janus": "message", "handle_id": handle, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        return await self.request(request, until_event=True)

    async def end_of_candidates(self, handle: int) -> None:
        await self._ws.send(
            json.dumps(
                {
                    "janus": "trickle",
                    "session_id": self.session_id,
                    "handle_id": handle,
                    "candidate": {"completed": True},
                    "transaction": secrets.token_hex(6),
                    "token": self.token,
                }
            )
        )


class SfuPeer:
    """A member in the SFU: ``media`` is the descriptor of docs/protocol.md (mode ``sfu``)."""

    def __init__(
        self,
        media: dict[str, Any],
        *,
        ice_servers: Iterable[dict[str, Any]] = (),
        relay_only: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if media.get("mode") != "sfu":
            raise ValueError("not an SFU media descriptor")
        self.media = dict(media)
        self.ice_servers = list(ice_servers)
        self.relay_only = relay_only
        self.timeout = timeout
        self.session = JanusSession(str(media["janus_url"]), str(media["token"]), timeout=timeout)
        self.handle = 0
        self.private_id = 0
        self.publishers: list[int] = []
        self.publisher_pc: RTCPeerConnection | None = None
        self.subscriptions: dict[int, Subscription] = {}
        # Janus trickles its own candidates (full_trickle): applied to the handle's connection once it has
        # the remote description, held until then.
        self._pcs: dict[int, RTCPeerConnection] = {}
        self._held: dict[int, list[dict[str, Any]]] = {}
        self._events: asyncio.Task[None] | None = None

    async def _follow_events(self) -> None:
        while True:
            event = await self.session.events.get()
            if event.get("janus") != "trickle":
                continue
            handle, candidate = int(event.get("sender") or 0), event.get("candidate") or {}
            pc = self._pcs.get(handle)
            if pc is None or pc.remoteDescription is None:
                self._held.setdefault(handle, []).append(candidate)
            else:
                await self._add_candidate(pc, candidate)

    @staticmethod
    async def _add_candidate(pc: RTCPeerConnection, candidate: dict[str, Any]) -> None:
        if candidate.get("completed") or not candidate.get("candidate"):
            await pc.addIceCandidate(None)
            return
        parsed = candidate_from_sdp(str(candidate["candidate"]).removeprefix("candidate:"))
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await pc.addIceCandidate(parsed)

    async def _remote_set(self, handle: int, pc: RTCPeerConnection) -> None:
        """Register ``pc`` for ``handle`` (its remote description is set) and apply held candidates."""
        self._pcs[handle] = pc
        for candidate in self._held.pop(handle, []):
            await self._add_candidate(pc, candidate)

    def _pc(self) -> RTCPeerConnection:
        policy = RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
        return RTCPeerConnection(RTCConfiguration(iceServers=_ice_servers(self.ice_servers), iceTransportPolicy=policy))

    async def join(
        self,
        *,
        room: int | None = None,
        feed: int | None = None,
        publish: bool = True,
        track: MediaStreamTrack | None = None,
        audio: MediaStreamTrack | None = None,
    ) -> dict[str, Any]:
        """Join the space's Janus room (``room``/``feed`` override the descriptor: a hostile client) and
        publish a synthetic camera (or ``track``) unless ``publish`` is false. Returns the ``joined`` data."""
        if not self.session.session_id:
            await self.session.open()
            self._events = asyncio.ensure_future(self._follow_events())
        self.handle = await self.session.attach()
        body: dict[str, Any] = {
            "request": "join",
            "ptype": "publisher",
            "room": self.media["room"] if room is None else room,
            "id": self.media["feed"] if feed is None else feed,
            "display": str(self.media["feed"]),
            "token": self.media["token"],
        }
        answer = await self.session.message(self.handle, body)
        data = answer["plugindata"]["data"]
        self.private_id = int(data.get("private_id") or 0)
        self.publishers = [int(p["id"]) for p in data.get("publishers", [])]
        if publish:
            await self._publish(track or SyntheticVideoTrack(), audio=audio)
        return dict(data)

    async def _publish(self, track: MediaStreamTrack, *, audio: MediaStreamTrack | None = None) -> None:
        pc = self.publisher_pc = self._pc()
        pc.addTransceiver(track, direction="sendonly")
        if audio is not None:  # a microphone too (the recording tests: Janus records both tracks)
            pc.addTransceiver(audio, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription
        answer = await self.session.message(
            self.handle, {"request": "publish", "audio": audio is not None, "video": True},
            {"type": offer.type, "sdp": offer.sdp},
        )
        await self.session.end_of_candidates(self.handle)
        jsep = answer.get("jsep") or {}
        await pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type=jsep["type"]))
        await self._remote_set(self.handle, pc)

    async def subscribe(self, feed: int, *, room: int | None = None, private_id: int | None = None) -> Subscription:
        """Subscribe to ``feed`` with this member's private id (``private_id`` overrides it: 0 sends none)."""
        handle = await self.session.attach()
        body: dict[str, Any] = {
            "request": "join",
            "ptype": "subscriber",
            "room": self.media["room"] if room is None else room,
            "streams": [{"feed": feed}],
            "token": self.media["token"],
        }
        pvt = self.private_id if private_id is None else private_id
        if pvt:
            body["private_id"] = pvt
        answer = await self.session.message(handle, body)
        jsep = answer.get("jsep") or {}
        pc = self._pc()
        subscription = Subscription(feed=feed, pc=pc, handle=handle)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            subscription.tasks.append(asyncio.ensure_future(self._count(track, subscription)))

        await pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type=jsep["type"]))
        await self._remote_set(handle, pc)
        await pc.setLocalDescription(await pc.createAnswer())
        local = pc.localDescription
        await self.session.message(handle, {"request": "start"}, {"type": local.type, "sdp": local.sdp})
        await self.session.end_of_candidates(handle)
        self.subscriptions[feed] = subscription
        return subscription

    @staticmethod
    async def _count(track: MediaStreamTrack, subscription: Subscription) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                await track.recv()
                if track.kind == "video":
                    subscription.frames += 1

    async def frames_after(self, feed: int, seconds: float) -> int:
        """Frames of ``feed`` decoded during the next ``seconds``."""
        subscription = self.subscriptions[feed]
        before = subscription.frames
        await asyncio.sleep(seconds)
        return subscription.frames - before

    def selected_pair(self, pc: RTCPeerConnection) -> tuple[Any, Any] | None:
        """(local, remote) aioice candidates of the pair in use on ``pc``'s transport: the nominated one, else
        the first that succeeded (aioice records a nomination only when it saw USE-CANDIDATE on that pair)."""
        for transceiver in pc.getTransceivers():
            connection = transceiver.receiver.transport.transport._connection
            pair = connection._nominated.get(1)
            if pair is None:
                pair = next((p for p in connection._check_list if p.state.name == "SUCCEEDED"), None)
            if pair is not None:
                return pair.local_candidate, pair.remote_candidate
        return None

    async def close(self) -> None:
        if self._events is not None:
            self._events.cancel()
        for subscription in self.subscriptions.values():
            for task in subscription.tasks:
                task.cancel()
            await subscription.pc.close()
        if self.publisher_pc is not None:
            await self.publisher_pc.close()
        await self.session.close()
