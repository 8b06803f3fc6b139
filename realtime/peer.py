"""``RoomPeer``: a Python client of the room protocol ``yizhan-room/1`` (docs/protocol.md), on websockets and aiortc.

Written from the protocol document alone, as any other client would be: it connects with a join token,
applies the ``welcome`` snapshot and then events by ``seq``, pings, reconnects with ``since`` and the
``resume_token``, resends unacknowledged frames with the same ``ref``, and (with ``media=True``) holds one
aiortc ``RTCPeerConnection`` per member of its space, sending a synthetic video and audio track and counting
the video frames it receives from each member. The tests use it as a party next to a browser; the benchmarks
use it without media as a signaling-only client.

aiortc specifics, each a deliberate simplification of the doc's media rules:

- aiortc gathers every candidate during ``setLocalDescription``, so the description we send already carries
  them all and we send no ``candidate`` frames; candidates the other side trickles are added (or queued until
  its description is set).
- aiortc cannot roll back a local offer: the *polite* side of a glare replaces its connection instead.
- aiortc has no ``restartIce()``: when a connection fails, the side that offered replaces it and offers again.
- A description with a new DTLS fingerprint comes from a new remote connection (the member reconnected):
  we replace ours rather than renegotiate. A socket that goes offline takes its media with it.
- aioice never offers 127.0.0.1; ``set_loopback_candidates`` lets it (a loopback-only host, or tests).
- When the welcome's ``media.mode`` is ``sfu`` there is no mesh: ``sfu_join`` joins the space's Janus room
  (``realtime.sfu_peer``), and a ``media.rejoin`` frame replaces the descriptor (``sfu_rejoin`` follows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import aioice.ice
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

logger = logging.getLogger(__name__)

PROTOCOL = "yizhan-room/1"
# Close codes after which retrying cannot help (docs/protocol.md, "Close codes").
FINAL_CLOSE_CODES = frozenset({4401, 4403, 4408, 4409, 4410, 4412, 4001})
CLOSE_RATE_LIMITED = 4429
# The doc's "treat 2 s without any frame from the server as a dead socket", in heartbeats.
DEAD_AFTER_HEARTBEATS = 2
_FINGERPRINT = re.compile(r"^a=fingerprint:(\S+ \S+)", re.MULTILINE)


class RoomClosed(Exception):
    """The server closed the socket with a code that says not to retry (or before the first ``welcome``)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"room socket closed: {code} {reason}".strip())
        self.code = code
        self.reason = reason


class RoomError(Exception):
    """An ``error`` frame answering one of our frames (matched by ``ref``)."""

    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code = str(frame.get("code", ""))
        self.frame = frame


# --- aioice and loopback ---------------------------------------------------------------------------------

_original_host_addresses = aioice.ice.get_host_addresses
LoopbackMode = Literal["off", "add", "only"]
_loopback_mode: LoopbackMode = "off"


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    addresses = [] if _loopback_mode == "only" else _original_host_addresses(use_ipv4, use_ipv6)
    if _loopback_mode != "off" and use_ipv4 and "127.0.0.1" not in addresses:
        addresses.append("127.0.0.1")
    return addresses


def set_loopback_candidates(mode: LoopbackMode) -> LoopbackMode:
    """Make aioice gather a 127.0.0.1 host candidate ("add"), or only that ("only": a loopback-only host,
    simulated); "off" restores aioice's own list. Process-wide (aioice has no per-connection hook, see
    aiortc/aioice#57). Returns the previous mode. Chromium needs ``--allow-loopback-in-peer-connection``
    to pair with such a candidate."""
    global _loopback_mode
    previous, _loopback_mode = _loopback_mode, mode
    aioice.ice.get_host_addresses = _original_host_addresses if mode == "off" else _host_addresses
    return previous


def host_has_only_loopback() -> bool:
    return not _original_host_addresses(True, True)


# --- synthetic media -------------------------------------------------------------------------------------


class SyntheticVideoTrack(VideoStreamTrack):
    """A grey picture with a white bar sweeping across it, ``fps`` frames a second (small and cheap to encode:
    a test host runs a browser, a server and several of these on two cores)."""

    def __init__(self, *, width: int = 320, height: int = 240, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._n = 0
        self._t0: float | None = None
        self._chroma = bytes([128]) * ((width // 2) * (height // 2))

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        else:
            await asyncio.sleep(max(0.0, self._t0 + self._n / self.fps - now))
        row = bytearray(b"\x40" * self.width)
        start = (self._n * 8) % self.width
        row[start:start + 16] = b"\xff" * len(row[start:start + 16])
        # PyAV 18: a plane's buffer is line_size * height and update() wants exactly that many bytes.
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        luma = frame.planes[0]
        luma.update(bytes(row.ljust(luma.line_size, b"\x40")) * self.height)
        for plane in frame.planes[1:]:
            plane.update(self._chroma if plane.buffer_size == len(self._chroma) else bytes([128]) * plane.buffer_size)
        frame.pts = self._n * (90_000 // self.fps)
        frame.time_base = fractions.Fraction(1, 90_000)
        self._n += 1
        return frame


# --- one connection to one member ------------------------------------------------------------------------


@dataclass
class _Link:
    member: int
    pc: RTCPeerConnection
    polite: bool
    offerer: bool = False
    making_offer: bool = False
    ignore_offer: bool = False
    remote_fingerprint: str = ""
    pending: list[dict[str, Any]] = field(default_factory=list)
    ops: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None


def _ice_servers(raw: Iterable[dict[str, Any]]) -> list[RTCIceServer]:
    servers = []
    for server in raw:
        urls = server.get("urls") or []
        servers.append(RTCIceServer(urls=[urls] if isinstance(urls, str) else list(urls),
                                    username=server.get("username"), credential=server.get("credential")))
    return servers


class RoomPeer:
    """One participant's socket to one room, and (with ``media``) its WebRTC connections.

    ``server`` is the site's origin (``http://127.0.0.1:8000``), ``ws_url`` the path the join API or
    ``manage.py join_link`` returned (``/ws/room/3/?token=…``). ``on_frame(frame, received_at)`` sees every
    server frame first (``received_at`` is ``time.perf_counter()``); the benchmarks time signals with it.
    """

    def __init__(self, *, server: str, ws_url: str, media: bool = True, audio_only: bool = False,
                 reconnect: bool = True, heartbeat: bool = True, dead_after: float | None = None,
                 open_timeout: float = 10.0,
                 on_frame: Callable[[dict[str, Any], float], None] | None = None) -> None:
        origin = urlsplit(server)
        self.origin = f"{origin.scheme}://{origin.netloc}"
        self.ws_base = ("wss" if origin.scheme == "https" else "ws") + f"://{origin.netloc}"
        parts = urlsplit(ws_url)
        self.path = parts.path
        tokens = parse_qs(parts.query).get("token")
        self.token: str | None = tokens[0] if tokens else None
        self.media, self.audio_only = media, audio_only
        self.reconnect, self.heartbeat, self.on_frame = reconnect, heartbeat, on_frame
        # Seconds without any server frame before the socket counts as dead (the doc: two heartbeats).
        self.dead_after, self.open_timeout = dead_after, open_timeout
        # State from the server, as the doc describes it.
        self.you: dict[str, Any] = {}
        self.room: dict[str, Any] = {}
        self.members: dict[int, dict[str, Any]] = {}
        self.space = ""
        self.record: list[dict[str, Any]] = []
        self.events: dict[int, dict[str, Any]] = {}
        self.last_seq = 0
        self.ice_servers: list[dict[str, Any]] = []
        self.resume_token = ""
        self.heartbeat_ms = 1000
        self.welcomes = 0
        self.errors: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.mute_requested_by: int | None = None
        # Media: the welcome's ``media`` descriptor (mesh or SFU), and the SFU client once joined.
        self.media_mode: dict[str, Any] = {"mode": "mesh"}
        self.media_rejoins = 0
        self.sfu: Any = None  # realtime.sfu_peer.SfuPeer
        self.links: dict[int, _Link] = {}
        self.frames: Counter[int] = Counter()
        # Frames with a ref we have not seen an ack for: resent with the same ref after a reconnect.
        self._pending: dict[str, tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = {}
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self._last_rx = 0.0
        self._closing = False
        self._resume: asyncio.Event | None = None

    # --- public API --------------------------------------------------------------------------------------

    @property
    def member_id(self) -> int:
        return int(self.you.get("member", 0))

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def start(self) -> dict[str, Any]:
        """Connect and wait for the first ``welcome``; raises ``RoomClosed`` if the server refuses. Callers
        bound every wait with ``asyncio.timeout``."""
        self._task = asyncio.create_task(self._run(), name=f"room-peer {self.path}")
        await self.wait_until(lambda: self.welcomes > 0 or self._task is None or self._task.done())
        if self.welcomes == 0:
            await self.close()
            raise RoomClosed(self.close_code)
        return self.you

    @property
    def in_sfu(self) -> bool:
        return self.media_mode.get("mode") == "sfu"

    async def sfu_join(self, *, publish: bool = True) -> Any:
        """Join the SFU room of ``media_mode`` (docs/protocol.md "Media: mesh or SFU") and subscribe to every
        publisher already there; returns the ``realtime.sfu_peer.SfuPeer``."""
        from realtime.sfu_peer import SfuPeer  # sfu_peer builds on this module

        if not self.in_sfu:
            raise RoomError({"code": "not_sfu", "message": "the room runs on the mesh"})
        if self.sfu is not None:
            await self.sfu.close()
        self.sfu = SfuPeer(self.media_mode, ice_servers=self.ice_servers)
        if self.media_mode.get("room") is None:
            return self.sfu  # no Janus room for this member now (a helper waiting alone)
        await self.sfu.join(publish=publish and not self.audio_only)
        for feed in list(self.sfu.publishers):
            await self.sfu.subscribe(feed)
        return self.sfu

    async def close(self) -> None:
        self._closing = True
        if self.sfu is not None:
            await self.sfu.close()
        for link in list(self.links.values()):
            await self._drop_link(link.member)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        tasks = [t for t in (self._task, *self._tasks) if t is not None and t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _frame, future in self._pending.values():
            if not future.done():
                future.cancel()

    def drop(self, *, resume: asyncio.Event | None = None) -> None:
        """Cut the socket as a network failure would (no closing handshake). The peer reconnects at once, or
        once ``resume`` is set (a test holding the network down while others speak)."""
        self._resume = resume
        if self._ws is not None:
            self._ws.transport.abort()

    async def send(self, frame: dict[str, Any]) -> None:
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send(json.dumps(frame, ensure_ascii=False))

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame with a ``ref`` and wait for its ``ack`` (raise ``RoomError`` on an ``error``). The frame
        is kept until acknowledged and resent with the same ``ref`` after a reconnect."""
        ref = str(frame.setdefault("ref", uuid.uuid4().hex[:16]))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = (frame, future)
        with contextlib.suppress(ConnectionError, ConnectionClosed):
            await self.send(frame)  # if the socket is down, the reconnect resends it
        return await future

    async def chat(self, text: str, *, ref: str | None = None) -> int:
        """Post a chat message; returns its event ``seq`` once the server stored it."""
        frame: dict[str, Any] = {"type": "chat", "text": text}
        if ref:
            frame["ref"] = ref
        ack = await self.request(frame)
        return int(ack.get("seq") or 0)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()

    async def wait_for_frames(self, member: int, count: int) -> int:
        """Wait until ``count`` more video frames arrived from ``member``; returns the new total."""
        target = self.frames[member] + count
        await self.wait_until(lambda: self.frames[member] >= target)
        return self.frames[member]

    def chats(self) -> list[str]:
        return [e["payload"].get("text", "") for _, e in sorted(self.events.items()) if e.get("kind") == "chat"]

    def media_peers(self) -> set[int]:
        """Members I should hold a media connection with: online, admitted, in my space."""
        if self.space not in ("joint", "caucus") or self.you.get("state") != "admitted":
            return set()
        return {m for m, info in self.members.items()
                if m != self.member_id and info.get("online") and info.get("space") == self.space}

    # --- the socket ----------------------------------------------------------------------------------------

    def _touch(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _url(self) -> str:
        query: dict[str, Any] = {}
        token = self.resume_token or self.token
        if token:
            query["token"] = token
        if self.last_seq:
            query["since"] = self.last_seq
        return f"{self.ws_base}{self.path}" + (f"?{urlencode(query)}" if query else "")

    async def _run(self) -> None:
        delay = 0.0
        try:
            while not self._closing:
                welcomed_before = self.welcomes
                try:
                    async with connect(self._url(), origin=Origin(self.origin), ping_interval=None,
                                       compression=None, open_timeout=self.open_timeout, max_size=2**20) as ws:
                        self._ws = ws
                        self._last_rx = time.monotonic()
                        await self._session(ws)
                    self.close_code = ws.close_code
                except ConnectionClosed as exc:
                    self.close_code = exc.rcvd.code if exc.rcvd else None
                except (OSError, InvalidStatus, TimeoutError) as exc:
                    logger.info("room %s: connect failed: %s", self.path, exc)
                    self.close_code = None
                finally:
                    self._ws = None
                    self._touch()
                if self._closing or not self.reconnect or self.close_code in FINAL_CLOSE_CODES:
                    return
                if self.welcomes == 0 and self.close_code is not None and self.close_code >= 4000:
                    return  # refused on the first try: the caller wants to know, not a retry loop
                # The other side's media went with our socket (it sees us offline): start again on welcome.
                for member in list(self.links):
                    await self._drop_link(member)
                if self.close_code == CLOSE_RATE_LIMITED:
                    delay = 5.0
                elif self.welcomes > welcomed_before:
                    delay = 0.0  # the socket had worked: retry at once
                else:
                    delay = min(max(delay * 2, 0.25), 4.0)
                await asyncio.sleep(delay)
                if self._resume is not None:
                    await self._resume.wait()
                    self._resume = None
        finally:
            self._touch()

    async def _session(self, ws: ClientConnection) -> None:
        beat = asyncio.create_task(self._heartbeat(ws)) if self.heartbeat else None
        try:
            async for message in ws:
                received_at = time.perf_counter()
                self._last_rx = time.monotonic()
                try:
                    frame = json.loads(message)
                except ValueError:
                    logger.warning("room %s: not JSON: %.80r", self.path, message)
                    continue
                if self.on_frame is not None:
                    self.on_frame(frame, received_at)
                await self._dispatch(ws, frame)
                self._touch()
        finally:
            if beat is not None:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)

    async def _heartbeat(self, ws: ClientConnection) -> None:
        while True:
            interval = self.heartbeat_ms / 1000
            await asyncio.sleep(interval)
            dead_after = self.dead_after or DEAD_AFTER_HEARTBEATS * interval
            if time.monotonic() - self._last_rx > dead_after:
                logger.info("room %s: no frame for %.1f s, reconnecting", self.path, dead_after)
                ws.transport.abort()
                return
            with contextlib.suppress(ConnectionClosed):
                await ws.send('{"type":"ping"}')

    async def _dispatch(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "welcome":
            await self._welcome(ws, frame)
        elif kind == "event":
            self._apply_event(frame)
        elif kind == "ack":
            entry = self._pending.pop(str(frame.get("ref")), None)
            if entry and not entry[1].done():
                entry[1].set_result(frame)
        elif kind == "error":
            self.errors.append(frame)
            entry = self._pending.pop(str(frame.get("ref")), None) if frame.get("ref") is not None else None
            if entry and not entry[1].done():
                entry[1].set_exception(RoomError(frame))
            elif entry is None:
                logger.info("room %s: error frame %s", self.path, frame)
        elif kind == "signal":
            if self.media and not self.in_sfu:
                self._link_op(int(frame["from"]), "signal", frame.get("data") or {})
        elif kind == "presence" and frame.get("member") != self.member_id:
            member = self.members.setdefault(int(frame["member"]), {"member": int(frame["member"])})
            member.update({k: frame[k] for k in ("online", "audio_only", "muted") if k in frame})
            if not frame.get("online") and self.media:
                await self._drop_link(int(frame["member"]))
        elif kind == "mute_request":
            self.mute_requested_by = frame.get("by")
        elif kind == "media.rejoin":
            self.media_mode = dict(frame.get("media") or {})
            self.media_rejoins += 1

    async def _welcome(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        if frame.get("protocol") != PROTOCOL:
            logger.warning("room %s: server speaks %s, we speak %s", self.path, frame.get("protocol"), PROTOCOL)
        self.you, self.room = dict(frame.get("you") or {}), dict(frame.get("room") or {})
        self.members = {int(m["member"]): dict(m) for m in frame.get("members") or []}
        self.members.setdefault(self.member_id, {**self.you, "online": True})
        self.members[self.member_id].setdefault("space", frame.get("space", ""))
        self.space = str(frame.get("space") or "")
        self.record = list(frame.get("record") or [])
        self.ice_servers = list(frame.get("ice_servers") or [])
        self.resume_token = str(frame.get("resume_token") or "")
        self.heartbeat_ms = int(frame.get("heartbeat_ms") or 1000)
        self.media_mode = dict(frame.get("media") or {"mode": "mesh"})
        for event in frame.get("events") or []:
            self._apply_event(event)
        self.welcomes += 1
        # Resend what the server has not acknowledged, with the same ref: it is stored once.
        for pending, _future in list(self._pending.values()):
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(pending, ensure_ascii=False))
        if self.media and not self.in_sfu:
            # The newcomer offers (a reconnect, or the fresh welcome that comes with admission).
            peers = {int(member) for member in frame.get("peers") or []}
            for member in set(self.links) - peers:
                await self._drop_link(member)
            for member in peers:
                self._link_op(member, "offer", None)

    def _apply_event(self, frame: dict[str, Any]) -> None:
        seq = int(frame.get("seq") or 0)
        if seq in self.events:
            return
        self.events[seq] = frame
        self.last_seq = max(self.last_seq, seq)
        kind, payload = frame.get("kind", ""), frame.get("payload") or {}
        if kind == "record.added":
            entry = payload.get("entry") or {}
            self.record = [e for e in self.record if e.get("id") != entry.get("supersedes")] + [entry]
        elif kind == "room.space":
            self.room["caucus_side"] = payload.get("caucus_side", "")
            self._recompute_spaces(offer=True)
        elif kind in ("room.locked",):
            self.room["locked"] = payload.get("locked")
        elif kind == "room.ended":
            self.room.update(status="ended", **{k: payload.get(k) for k in ("outcome", "end_reason")})
        elif kind.startswith("member.") and "member" in payload:
            state = {"member.waiting": "waiting", "member.admitted": "admitted", "member.refused": "refused",
                     "member.removed": "removed", "member.left": "left"}.get(kind)
            member = self.members.setdefault(int(payload["member"]), {"member": int(payload["member"])})
            member.update({k: payload[k] for k in ("name", "role", "side") if k in payload})
            if state:
                member["state"] = state
                if int(payload["member"]) == self.member_id:
                    self.you["state"] = state
            # Whoever is admitted gets a fresh welcome and offers as the newcomer: nobody offers here.
            self._recompute_spaces(offer=False)

    def _space_of(self, member: dict[str, Any]) -> str:
        if member.get("state") != "admitted":
            return "lobby"
        caucus = self.room.get("caucus_side") or ""
        if not caucus:
            return "joint"
        if member.get("role") == "mediator" or member.get("side") == caucus:
            return "caucus"
        return f"waiting:{member.get('side')}" if member.get("side") else f"waiting:#{member.get('member')}"

    def _recompute_spaces(self, *, offer: bool) -> None:
        """After a space change the higher member id offers (``offer``); connections across spaces close."""
        before = self.media_peers()
        for info in self.members.values():
            info["space"] = self._space_of(info)
        self.space = self.members.get(self.member_id, {}).get("space", self.space)
        if not self.media or self.in_sfu:
            return
        after = self.media_peers()
        for member in before - after:
            self._spawn(self._drop_link(member))
        for member in after - set(self.links):
            if offer and self.member_id > member:
                self._link_op(member, "offer", None)

    # --- media -------------------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _link_op(self, member: int, op: str, data: Any) -> None:
        """Queue an operation on the connection with ``member``: one at a time per connection."""
        link = self.links.get(member) or self._new_link(member)
        link.ops.put_nowait((op, data))
        if link.worker is None or link.worker.done():
            link.worker = asyncio.create_task(self._link_worker(link))

    def _new_link(self, member: int, *, keep: _Link | None = None) -> _Link:
        config = RTCConfiguration(iceServers=_ice_servers(self.ice_servers))  # [] not None: no Google STUN
        pc = RTCPeerConnection(configuration=config)
        link = _Link(member=member, pc=pc, polite=self.member_id < member)
        if keep is not None:  # a replacement keeps its queue, its worker and the candidates waiting
            link.ops, link.worker, link.pending = keep.ops, keep.worker, keep.pending
        self.links[member] = link

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._spawn(self._consume(member, track))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "failed" and self.links.get(member) is link and link.offerer:
                logger.info("room %s: media with %s failed, offering again", self.path, member)
                self._link_op(member, "offer", None)

        return link

    async def _consume(self, member: int, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                await track.recv()
                if track.kind == "video":
                    self.frames[member] += 1
                    self._touch()

    def _add_media(self, pc: RTCPeerConnection) -> None:
        kinds = {sender.track.kind for sender in pc.getSenders() if sender.track is not None}
        if "audio" not in kinds:
            pc.addTrack(AudioStreamTrack())
        if "video" not in kinds:
            if self.audio_only:
                pc.addTransceiver("video", direction="recvonly")
            else:
                pc.addTrack(SyntheticVideoTrack())

    async def _link_worker(self, link: _Link) -> None:
        while not link.ops.empty():
            op, data = link.ops.get_nowait()
            current = self.links.get(link.member)
            if current is None or current.ops is not link.ops:
                return  # the link was dropped
            try:
                if op == "offer":
                    await self._offer(current)
                elif op == "signal":
                    await self._signal(current, data)
            except Exception:
                logger.exception("room %s: media with %s: %s failed", self.path, link.member, op)

    async def _replace(self, link: _Link) -> _Link:
        fresh = self._new_link(link.member, keep=link)
        await link.pc.close()
        return fresh

    async def _offer(self, link: _Link) -> None:
        if link.pc.connectionState in ("failed", "closed") or link.pc.signalingState != "stable" or link.offerer:
            link = await self._replace(link)
        link.offerer = True
        self._add_media(link.pc)
        link.making_offer = True
        try:
            await link.pc.setLocalDescription(await link.pc.createOffer())
        finally:
            link.making_offer = False
        await self._send_description(link)

    async def _send_description(self, link: _Link) -> None:
        description = link.pc.localDescription
        with contextlib.suppress(ConnectionError, ConnectionClosed):
            await self.send({"type": "signal", "to": link.member,
                             "data": {"description": {"type": description.type, "sdp": description.sdp}}})

    async def _signal(self, link: _Link, data: dict[str, Any]) -> None:
        description = data.get("description")
        if description:
            await self._description(link, description)
        elif "candidate" in data:
            if link.pc.remoteDescription is None:
                link.pending.append(data["candidate"] or {})
            else:
                await self._candidate(link, data["candidate"] or {})

    async def _description(self, link: _Link, description: dict[str, Any]) -> None:
        kind, sdp = description.get("type"), str(description.get("sdp") or "")
        fingerprint = (_FINGERPRINT.search(sdp) or [""])[0]
        if kind == "offer":
            collision = link.making_offer or link.pc.signalingState != "stable"
            link.ignore_offer = not link.polite and collision
            if link.ignore_offer:
                return  # impolite: our offer wins, theirs is dropped
            new_remote = bool(link.remote_fingerprint) and fingerprint != link.remote_fingerprint
            if collision or new_remote or link.pc.connectionState in ("failed", "closed"):
                link = await self._replace(link)  # aiortc cannot roll back: start a fresh connection
            link.offerer = False
            await link.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            self._add_media(link.pc)
            await link.pc.setLocalDescription(await link.pc.createAnswer())
            await self._send_description(link)
        elif kind == "answer":
            if link.pc.signalingState != "have-local-offer":
                return  # the answer to an offer we replaced
            await link.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        else:
            return
        link.remote_fingerprint = fingerprint
        pending, link.pending = link.pending, []
        for candidate in pending:
            await self._candidate(link, candidate)

    async def _candidate(self, link: _Link, raw: dict[str, Any]) -> None:
        line = str(raw.get("candidate") or "")
        if not line:
            await link.pc.addIceCandidate(None)  # end of candidates
            return
        candidate = candidate_from_sdp(line.removeprefix("candidate:"))
        if candidate.protocol.lower() != "udp":
            return  # aioice pairs UDP only
        candidate.sdpMid, candidate.sdpMLineIndex = raw.get("sdpMid"), raw.get("sdpMLineIndex")
        try:
            await link.pc.addIceCandidate(candidate)
        except Exception:
            if not link.ignore_offer:
                raise

    async def _drop_link(self, member: int) -> None:
        link = self.links.pop(member, None)
        if link is None:
            return
        if link.worker is not None and link.worker is not asyncio.current_task():
            link.worker.cancel()
        await link.pc.close()
        self._touch()
