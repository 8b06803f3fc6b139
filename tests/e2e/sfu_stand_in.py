"""The SFU's server half as the browser tests of the SFU client need it, until wt-sfu's own lands (its Janus
fixture and ``realtime/sfu.py``): a Janus started in this test's network namespace with a generated
configuration (own admin secret, videoroom admin key, token auth, ICE only on the veth address), and a
stand-in for the app server's part that follows docs/protocol.md: one Janus room per space with an
``allowed`` list and ``require_pvtid``, the member's token in ``welcome.media``, and on a caucus start or
end: the token moved to the new space's room, the member kicked from the old one, and a ``media.rejoin``
frame. Replace it with the real one when merging (the lead: see the report of wt-sfuclient)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

MEDIA_ADDRESS = "10.231.0.1"
JANUS = shutil.which("janus") or "/usr/bin/janus"
LIB = Path("/usr/lib/x86_64-linux-gnu/janus")


def in_media_netns() -> bool:
    """Inside the media namespace of scripts/media-netns.sh its veth address is local."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((MEDIA_ADDRESS, 0))
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _disable(folder: str, keep: set[str]) -> str:
    names = sorted(p.name for p in (LIB / folder).glob("*.so") if p.name not in keep)
    return ",".join(names)


@dataclass
class Janus:
    ws_port: int
    http_port: int
    admin_port: int
    admin_secret: str
    admin_key: str
    log: Path
    pid: int = 0
    _tx: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/"

    def admin(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": f"t{next(self._tx)}", "admin_secret": self.admin_secret}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.admin_port}/admin",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback in the namespace
            return dict(json.loads(response.read()))

    def videoroom(self, request: dict[str, Any]) -> dict[str, Any]:
        answer = self.admin(
            {
                "janus": "message_plugin",
                "plugin": "janus.plugin.videoroom",
                "request": {**request, "admin_key": self.admin_key},
            }
        )
        return dict(answer.get("response") or answer)


def _start_janus(folder: Path) -> tuple[subprocess.Popen[bytes], Janus]:
    janus = Janus(
        ws_port=_free_port(),
        http_port=_free_port(),
        admin_port=_free_port(),
        admin_secret=secrets.token_hex(16),
        admin_key=secrets.token_hex(16),
        log=folder / "janus.log",
    )
    (folder / "janus.jcfg").write_text(f"""
general: {{
  configs_folder = "{folder}"
  plugins_folder = "{LIB}/plugins"
  transports_folder = "{LIB}/transports"
  events_folder = "{LIB}/events"
  loggers_folder = "{LIB}/loggers"
  debug_level = 4
  admin_secret = "{janus.admin_secret}"
  token_auth = true
  server_name = "yizhan-test"
}}
certificates: {{}}
media: {{ rtp_port_range = "20000-29999" }}
nat: {{
  ice_enforce_list = "{MEDIA_ADDRESS}"
  full_trickle = true
  ignore_mdns = true
}}
plugins: {{ disable = "{_disable("plugins", {"libjanus_videoroom.so"})}" }}
transports: {{ disable = "{_disable("transports", {"libjanus_websockets.so", "libjanus_http.so"})}" }}
events: {{ broadcast = false }}
loggers: {{ disable = "{_disable("loggers", set())}" }}
""")
    (folder / "janus.transport.websockets.jcfg").write_text(f"""
general: {{ json = "indented"  ws = true  ws_port = {janus.ws_port}  ws_ip = "127.0.0.1"  wss = false }}
admin: {{ admin_ws = false  admin_wss = false }}
""")
    (folder / "janus.transport.http.jcfg").write_text(f"""
general: {{ json = "indented"  base_path = "/janus"  http = true  port = {janus.http_port}  ip = "127.0.0.1"
           https = false }}
admin: {{ admin_base_path = "/admin"  admin_http = true  admin_port = {janus.admin_port}  admin_ip = "127.0.0.1"
         admin_https = false }}
cors: {{}}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text(f"""
general: {{ admin_key = "{janus.admin_key}"  lock_rtp_forward = true }}
""")
    process = subprocess.Popen(
        [JANUS, "-F", str(folder), "-C", str(folder / "janus.jcfg"), "-L", str(janus.log), "-o"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    janus.pid = process.pid
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if janus.admin({"janus": "ping"}).get("janus") == "pong":
                return process, janus
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"Janus did not start: {janus.log.read_text() if janus.log.exists() else ''}")


@pytest.fixture
def janus_server() -> Iterator[Janus]:
    if not in_media_netns():
        pytest.fail(
            "SFU tests run inside the media namespace: "
            "scripts/media-netns.sh exec NAME .venv/bin/pytest tests/e2e/test_sfu_room_phone.py"
        )
    if not Path(JANUS).exists():
        pytest.fail("janus not installed (Debian package janus; scripts/ensure-system.sh)")
    folder = Path(tempfile.mkdtemp(prefix="yizhan-janus-"))
    process, janus = _start_janus(folder)
    try:
        yield janus
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        if os.environ.get("KEEP_JANUS_LOG"):
            print(janus.log.read_text())
        shutil.rmtree(folder, ignore_errors=True)


class StandIn:
    """The app server's part (stand-in): rooms per (room, space), tokens, welcome.media and media.rejoin."""

    def __init__(self, janus: Janus) -> None:
        self.janus = janus
        self.rooms: dict[tuple[int, str], int] = {}
        self.tokens: dict[int, str] = {}
        self.where: dict[int, int | None] = {}  # member -> Janus room it is allowed in
        self.next_room = 5000

    def token(self, member: int) -> str:
        if member not in self.tokens:
            self.tokens[member] = f"yz{member}-{secrets.token_hex(8)}"
            self.janus.admin(
                {"janus": "add_token", "token": self.tokens[member], "plugins": ["janus.plugin.videoroom"]}
            )
        return self.tokens[member]

    def room_for(self, room_id: int, space: str) -> int | None:
        if space in ("", "lobby"):
            return None
        key = (room_id, space)
        if key not in self.rooms:
            self.next_room += 1
            answer = self.janus.videoroom(
                {
                    "request": "create",
                    "room": self.next_room,
                    "publishers": 10,
                    "require_pvtid": True,
                    "allowed": [],
                    "videocodec": "vp8",
                    "audiocodec": "opus",
                    "bitrate": 600000,
                }
            )
            assert answer.get("videoroom") == "created", answer
            self.rooms[key] = self.next_room
        return self.rooms[key]

    def place(self, member: int, room_id: int, space: str) -> dict[str, Any]:
        """Move ``member``'s token into the room of ``space`` (out of the old one, kicked there)."""
        token = self.token(member)
        new = self.room_for(room_id, space)
        old = self.where.get(member)
        if old is not None and old != new:
            self.janus.videoroom({"request": "allowed", "room": old, "action": "remove", "allowed": [token]})
            listing = self.janus.videoroom({"request": "listparticipants", "room": old})
            for p in listing.get("participants", []):
                if p.get("display") == str(member):
                    self.janus.videoroom({"request": "kick", "room": old, "id": p["id"]})
        if new is not None and old != new:
            self.janus.videoroom({"request": "allowed", "room": new, "action": "add", "allowed": [token]})
        self.where[member] = new
        return {"mode": "sfu", "server": self.janus.ws_url, "token": token, "room": new}


def install_stand_in(monkeypatch: pytest.MonkeyPatch, settings: Any, janus: Janus) -> StandIn:
    import copy

    from mediation import spaces
    from realtime import room_consumer

    stand_in = StandIn(janus)
    # Janus listens on its own port: the room page's connect-src names it (SFU_CONNECT_SRC in production).
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = [*policy["DIRECTIVES"]["connect-src"], janus.ws_url.rstrip("/")]
    settings.CONTENT_SECURITY_POLICY = policy
    welcome_sync = room_consumer._welcome_sync

    def welcome_with_media(member_id: int, channel: str, since: int):  # type: ignore[no-untyped-def]
        body, infos, media = welcome_sync(member_id, channel, since)
        body["media"] = stand_in.place(member_id, int(body["room"]["id"]), str(body.get("space") or ""))
        return body, infos, media

    deliver = room_consumer.RoomConsumer._deliver

    async def deliver_then_rejoin(self, message: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
        before = self.caucus_side
        await deliver(self, message)
        state = message.get("state") or {}
        me = self.members.get(self.member_id)
        if "caucus_side" in state and self.caucus_side != before and me is not None and not self.closing:
            space = spaces.space_of(caucus_side=self.caucus_side, member=me)
            media = await asyncio.to_thread(stand_in.place, self.member_id, self.room_id, space)
            await self._send({"type": "media.rejoin", "media": media})

    monkeypatch.setattr(room_consumer, "_welcome_sync", welcome_with_media)
    monkeypatch.setattr(room_consumer.RoomConsumer, "_deliver", deliver_then_rejoin)
    return stand_in
