"""The self-test's echo peer (issue 14 item 1): an aiortc ``RTCPeerConnection`` in the server's own event loop
that answers a browser's offer and measures the path with it (``docs/protocol.md``, "Self-test echo peer").

Two data channels, both opened by the browser:

- ``probe`` (unordered, ``maxRetransmits: 0``): every message is sent straight back. The browser numbers its
  probes, so the ones that never come back are the round-trip loss, and the ones that do give the RTT.
- ``bulk`` (ordered, reliable): binary messages are counted, and the data asked for goes down on it.
- ``ctl`` (ordered, reliable, its own SCTP stream, so a command never waits behind the bulk data): the JSON
  commands ``{"op": "up_end"}`` (answered ``{"op": "up_result", "bytes": N, "ms": M}``: the bytes received on
  ``bulk`` since the previous ``up_end``, and the milliseconds from the first of them to the last) and
  ``{"op": "down", "ms": T, "kbps": R}`` (the peer sends binary data on ``bulk`` paced at R kbit/s for T ms,
  then ``{"op": "down_end", "bytes": N}`` on ``bulk``) give the usable bitrate each way. (Commands sent on
  ``bulk`` work too.)

Bounded: a peer closes itself after ``SELFTEST_ECHO_SECONDS`` whatever happens, and a process holds at most
``SELFTEST_ECHO_MAX_PEERS`` at once; one more is refused with ``EchoBusy`` (the view answers 503 and the page
falls back to a devices-only verdict). No media is looped back: the camera and microphone are checked
locally on the page, and the channels carry the measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdatachannel import RTCDataChannel
from django.conf import settings

logger = logging.getLogger(__name__)

CHUNK = 8192  # bytes per binary message going down (well under SCTP's 64 KiB message limit)
HIGH_WATER = 32 * 1024  # do not queue more than this in aiortc's send buffer
MAX_DOWN_MS = 5000
MAX_DOWN_KBPS = 20_000


class EchoBusy(Exception):
    """This process already holds its cap of echo peers."""


class EchoOfferInvalid(Exception):
    """The offer is not an SDP offer aiortc can answer."""


_peers: set[EchoPeer] = set()


def active_peers() -> int:
    return len(_peers)


class EchoPeer:
    def __init__(self, *, lifetime: float, ice_servers: list[dict[str, Any]] | None = None) -> None:
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
                   for s in ice_servers or []]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.lifetime = lifetime
        self.up_bytes = 0
        self.up_first = self.up_last = 0.0
        self.bulk: RTCDataChannel | None = None
        self.closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.pc.on("datachannel", self._on_channel)
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.closed.set()  # ``run`` closes the connection

    def _on_channel(self, channel: RTCDataChannel) -> None:
        if channel.label == "probe":
            channel.on("message", lambda message: channel.send(message))
        elif channel.label in ("bulk", "ctl"):
            if channel.label == "bulk":
                self.bulk = channel
            channel.on("message", lambda message: self._on_bulk(channel, message))

    def _on_bulk(self, channel: RTCDataChannel, message: str | bytes) -> None:
        """Binary on ``bulk`` is counted; a command (on ``bulk`` or ``ctl``) is answered on its own channel,
        except that the data asked for by ``down`` and its ``down_end`` always go on ``bulk`` (in order)."""
        if isinstance(message, bytes):
            now = time.monotonic()
            if not self.up_bytes:
                self.up_first = now
            self.up_last = now
            self.up_bytes += len(message)
            return
        try:
            command = json.loads(message)
        except ValueError:
            return
        if not isinstance(command, dict):
            return
        if command.get("op") == "up_end":
            span = round((self.up_last - self.up_first) * 1000) if self.up_bytes else 0
            channel.send(json.dumps({"op": "up_result", "bytes": self.up_bytes, "ms": span}))
            self.up_bytes = 0
        elif command.get("op") == "down":
            ms, kbps = command.get("ms"), command.get("kbps")
            if (isinstance(ms, int) and isinstance(kbps, int) and 0 < ms <= MAX_DOWN_MS
                    and 0 < kbps <= MAX_DOWN_KBPS and self.bulk is not None):
                self._spawn(self._send_down(self.bulk, ms, kbps))

    async def _send_down(self, channel: RTCDataChannel, ms: int, kbps: int) -> None:
        """Binary data paced at ``kbps`` for ``ms``, never more than ``HIGH_WATER`` queued: what the path
        carries shows as what arrives."""
        payload = bytes(CHUNK)
        start = time.monotonic()
        sent = 0
        while channel.readyState == "open":
            elapsed = time.monotonic() - start
            if elapsed * 1000 >= ms:
                break
            allowed = elapsed * kbps * 1000 / 8
            if sent < allowed and channel.bufferedAmount < HIGH_WATER:
                channel.send(payload)
                sent += CHUNK
            else:
                await asyncio.sleep(0.005)
        if channel.readyState == "open":
            channel.send(json.dumps({"op": "down_end", "bytes": sent}))

    async def run(self) -> None:
        """Live until the lifetime is up or the connection ends, then close."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.closed.wait(), timeout=self.lifetime)
        await self.close()

    async def close(self) -> None:
        self.closed.set()
        _peers.discard(self)
        for task in list(self._tasks):
            task.cancel()
        await self.pc.close()


def _limits() -> tuple[int, float]:
    return int(getattr(settings, "SELFTEST_ECHO_MAX_PEERS", 8)), float(getattr(settings, "SELFTEST_ECHO_SECONDS", 20))


_background: set[asyncio.Task[Any]] = set()


async def echo_answer(offer_sdp: str, *, ice_servers: list[dict[str, Any]] | None = None) -> str:
    """Answer ``offer_sdp`` with a new echo peer living in the running event loop; ``EchoBusy`` over the cap,
    ``EchoOfferInvalid`` when aiortc cannot take the offer."""
    if "\nm=application " not in offer_sdp.replace("\r\n", "\n"):
        raise EchoOfferInvalid("the offer has no data channel (m=application)")
    cap, lifetime = _limits()
    if len(_peers) >= cap:
        raise EchoBusy(f"{len(_peers)} echo peers already (cap {cap})")
    peer = EchoPeer(lifetime=lifetime, ice_servers=ice_servers)
    _peers.add(peer)
    try:
        answer = await peer.answer(offer_sdp)
    except Exception as exc:  # aiortc raises ValueError and friends for a malformed or unusable offer
        await peer.close()
        raise EchoOfferInvalid(str(exc)) from exc
    task = asyncio.ensure_future(peer.run())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return answer
