"""An aiortc peer (``realtime.peer.RoomPeer``) joins a room by following docs/protocol.md only: its token
comes from ``manage.py join_link``, everything else over the room socket. First two aiortc peers through
the real server, then an aiortc party and a headless-Chromium mediator on the room page exchange video.

The server is the real ASGI application under uvicorn (``asgi_live_server``) with the configured channel
layer (Redis under ``make test``). The peers run on their own event loop: in a thread next to Playwright's
(whose sync API keeps a loop running in the test's thread), or in the test's thread when no browser is open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mediation.choices import CaseStatus, SessionKind
from mediation.models import Case, MediationSession, User
from mediation.services.scheduling import session_schedule
from realtime.peer import RoomClosed, RoomPeer, set_loopback_candidates
from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - fixture
from tests.e2e.conftest import PHONE, browser, off_loop, screenshot  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.media]

def fresh_channel_layer() -> None:
    """Forget the process's channel layer instance. A Redis layer belongs to the event loop that first used
    it, and the setup's services broadcast through ``async_to_sync`` on a loop of their own: without this
    the live server (another loop, in its thread) would inherit that instance and hang on its locks."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


WS_URL = re.compile(r"(/ws/room/\d+/\?token=[A-Za-z0-9_\-]+)")


def session_for(world) -> tuple[Case, MediationSession]:
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    start = timezone.now() + dt.timedelta(minutes=5)
    session = session_schedule(case=case, actor=world.mediator, kind=SessionKind.JOINT_ONLINE, starts_at=start,
                               ends_at=start + dt.timedelta(hours=1))
    return case, session


def join_link(case: Case, user: User, settings) -> str:
    """The socket path and token ``manage.py join_link`` prints for ``user``: the doc's way in for a client
    of one's own (the command runs only with DEBUG on)."""
    debug, settings.DEBUG = settings.DEBUG, True
    try:
        out = io.StringIO()
        call_command("join_link", "--case", case.reference, "--as", user.username, stdout=out)
    finally:
        settings.DEBUG = debug
    found = WS_URL.search(out.getvalue())
    assert found, out.getvalue()
    return found.group(1)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    fresh_channel_layer()
    return asyncio.run(asyncio.wait_for(coro, 60))


async def admitted_pair(server: str, mediator_url: str, party_url: str) -> tuple[RoomPeer, RoomPeer]:
    mediator = RoomPeer(server=server, ws_url=mediator_url)
    await mediator.start()
    party = RoomPeer(server=server, ws_url=party_url)
    await party.start()
    assert party.you["state"] == "waiting"
    await mediator.request({"type": "admit", "member": party.member_id})
    return mediator, party


def test_two_aiortc_peers_admitted_to_a_room_receive_each_others_video(world, settings, asgi_live_server):  # noqa: F811
    case, _session = session_for(world)
    mediator_url, party_url = join_link(case, world.mediator, settings), join_link(case, world.applicant, settings)

    async def scenario() -> tuple[int, int]:
        mediator, party = await admitted_pair(asgi_live_server.url, mediator_url, party_url)
        try:
            async with asyncio.timeout(30):
                await party.wait_for_frames(mediator.member_id, 20)
                await mediator.wait_for_frames(party.member_id, 20)
            return mediator.frames[party.member_id], party.frames[mediator.member_id]
        finally:
            await party.close()
            await mediator.close()

    to_mediator, to_party = run(scenario())
    assert to_mediator >= 20 and to_party >= 20


def test_aiortc_peers_offering_only_loopback_candidates_still_connect(world, settings, asgi_live_server):  # noqa: F811
    """A loopback-only host (simulated): aioice would offer no candidate at all; with the workaround both
    peers offer 127.0.0.1 only and the media still flows."""
    case, _session = session_for(world)
    mediator_url, party_url = join_link(case, world.mediator, settings), join_link(case, world.applicant, settings)

    async def scenario() -> list[str]:
        mediator, party = await admitted_pair(asgi_live_server.url, mediator_url, party_url)
        try:
            async with asyncio.timeout(30):
                await party.wait_for_frames(mediator.member_id, 10)
                await mediator.wait_for_frames(party.member_id, 10)
            sdp = party.links[mediator.member_id].pc.localDescription.sdp
            return [line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")]
        finally:
            await party.close()
            await mediator.close()

    previous = set_loopback_candidates("only")
    try:
        addresses = run(scenario())
    finally:
        set_loopback_candidates(previous)
    assert addresses and set(addresses) == {"127.0.0.1"}


def test_a_dropped_aiortc_peer_resumes_with_the_chat_it_missed_and_video_again(world, settings, asgi_live_server):  # noqa: F811
    case, _session = session_for(world)
    mediator_url, party_url = join_link(case, world.mediator, settings), join_link(case, world.applicant, settings)

    async def scenario() -> tuple[list[str], int, int]:
        mediator, party = await admitted_pair(asgi_live_server.url, mediator_url, party_url)
        try:
            async with asyncio.timeout(30):
                await party.wait_for_frames(mediator.member_id, 5)
                await party.chat("断线前的一句话")
                network_back = asyncio.Event()
                party.drop(resume=network_back)  # held down while the mediator speaks
                await party.wait_until(lambda: not party.connected)
                # The server may not have noticed yet: this chat goes to the dead socket or to nobody.
                await mediator.chat("您掉线时调解员说的话")
                network_back.set()
                await party.wait_until(lambda: party.welcomes >= 3)  # first, on admission, after the drop
                await party.wait_for_frames(mediator.member_id, 10)
            return party.chats(), party.welcomes, party.frames[mediator.member_id]
        finally:
            await party.close()
            await mediator.close()

    chats, _welcomes, frames = run(scenario())
    assert chats == ["断线前的一句话", "您掉线时调解员说的话"]
    assert frames >= 15


def test_a_spent_join_token_is_refused_with_4409(world, settings, asgi_live_server):  # noqa: F811
    case, _session = session_for(world)
    party_url = join_link(case, world.applicant, settings)

    async def scenario() -> int | None:
        first = RoomPeer(server=asgi_live_server.url, ws_url=party_url, media=False)
        await first.start()
        second = RoomPeer(server=asgi_live_server.url, ws_url=party_url, media=False)
        try:
            await second.start()
        except RoomClosed as exc:
            return exc.code
        finally:
            await first.close()
        return None

    assert run(scenario()) == 4409


# --- with a browser -------------------------------------------------------------------------------------------


class PeerThread:
    """A ``RoomPeer`` on an event loop of its own thread, driven from the (Playwright) test thread."""

    def __init__(self, server: str, ws_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="room-peer", daemon=True)
        self.thread.start()
        self.peer = RoomPeer(server=server, ws_url=ws_url)

    def call(self, fn: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout)

    def stop(self) -> None:
        self.call(self.peer.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


# The room page's own getStats() reading: framesDecoded of the video it receives from one member.
FRAMES_DECODED = "async (member) => (await window.yizhanRoom.framesDecoded())[member] || 0"


def test_an_aiortc_party_and_a_browser_mediator_see_each_others_video(
    world, settings, asgi_live_server, browser  # noqa: F811
):
    # Playwright's loop runs in this thread: the ORM work goes through off_loop.
    case, _session = off_loop(lambda: session_for(world))
    party_url = off_loop(lambda: join_link(case, world.applicant, settings))
    mediator_url = off_loop(lambda: join_link(case, world.mediator, settings))  # checks done for the page too
    room_id = int(mediator_url.split("/")[3])
    cookie = off_loop(lambda: session_cookie(world.mediator))
    fresh_channel_layer()
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": asgi_live_server.url}])
    page = context.new_page()
    peer = None
    try:
        page.goto(asgi_live_server.url + reverse("room_page", args=[room_id]))
        page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
        peer = PeerThread(asgi_live_server.url, party_url)
        party = peer.call(peer.peer.start)["member"]
        page.locator(f'button[data-cmd="admit"][data-member="{party}"]').click(timeout=15_000)
        first = 0
        for _ in range(100):  # up to 30 s for the first 20 frames
            first = page.evaluate(FRAMES_DECODED, party)
            if first >= 20:
                break
            page.wait_for_timeout(300)
        page.wait_for_timeout(1500)
        later = page.evaluate(FRAMES_DECODED, party)
        from_browser = peer.call(lambda: _frames_from_any(peer.peer, 20))
        screenshot(page, "aiortc_party_with_browser_mediator")
    finally:
        if peer is not None:
            peer.stop()
        context.close()
    assert later > first >= 20
    assert from_browser >= 20


async def _frames_from_any(peer: RoomPeer, count: int) -> int:
    async with asyncio.timeout(20):
        await peer.wait_until(lambda: sum(peer.frames.values()) >= count)
    return sum(peer.frames.values())


def session_cookie(user: User) -> str:
    """A session for ``user``, as the sign-in page would create it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    # The backend that signs people in (the first one listed is django-axes' lock-out check, which loads no user).
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    assert store.session_key
    return store.session_key
