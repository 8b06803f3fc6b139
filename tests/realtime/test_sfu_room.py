"""The room on the SFU end to end (MEDIA=sfu): the welcome carries each member's Janus token, URL, room and
feed (docs/protocol.md "Media: mesh or SFU"); aiortc members (``realtime.peer.RoomPeer`` with its SFU client)
join the joint Janus room and see each other; a caucus makes the server rebuild the Janus rooms and tell every
socket ``media.rejoin``; the side left out stops receiving, cannot subscribe to the caucus feed (Janus says
433), and sees the other side again after the joint session resumes. Real Janus, uvicorn and aiortc in the
media namespace."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mediation.services import room_entry
from realtime.peer import RoomPeer
from realtime.sfu_peer import JanusRefused
from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - fixture
from tests.realtime.test_aiortc_peer import fresh_channel_layer
from tests.room_support import joint_room, room_path
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.media, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def frames_in(peer: RoomPeer, feed: int, seconds: float) -> int:
    return int(await peer.sfu.frames_after(feed, seconds))


async def first_frames(peer: RoomPeer, feed: int, within: float = 10.0) -> int:
    subscription = peer.sfu.subscriptions[feed]
    async with asyncio.timeout(within):
        while subscription.frames == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return await frames_in(peer, feed, 1.0)


def test_members_join_the_sfu_from_the_welcome_and_a_caucus_is_enforced_by_janus(
    world,
    settings,
    asgi_live_server,  # noqa: F811
    media_servers,  # noqa: F811
):
    media_servers.settings(settings)
    _case, room, members = joint_room(world)
    paths = {
        name: room_path(room.pk, token=room_entry.room_token_issue(member=members[name])[0])
        for name in ("mediator", "applicant", "respondent")
    }

    async def scenario() -> dict[str, Any]:
        found: dict[str, Any] = {}
        peers = {name: RoomPeer(server=asgi_live_server.url, ws_url=path) for name, path in paths.items()}
        m, a, r = peers["mediator"], peers["applicant"], peers["respondent"]
        try:
            for peer in peers.values():
                await peer.start()
            found["welcome"] = {name: dict(peer.media_mode) for name, peer in peers.items()}
            await a.sfu_join()
            await asyncio.sleep(0.5)  # the publisher's connection first ("428 No such feed" before)
            await r.sfu_join(publish=False)
            await m.sfu_join(publish=False)
            found["joint"] = (await first_frames(r, a.member_id), await first_frames(m, a.member_id))

            await m.request({"type": "caucus", "side": "applicant"})
            async with asyncio.timeout(10):
                await r.wait_until(lambda: r.media_rejoins >= 1)
                await a.wait_until(lambda: a.media_rejoins >= 1)
                await m.wait_until(lambda: m.media_rejoins >= 1)
            found["caucus_media"] = {name: dict(peer.media_mode) for name, peer in peers.items()}
            await asyncio.sleep(0.5)
            found["left_out_frames"] = await frames_in(r, a.member_id, 1.5)
            await a.sfu_join()
            await asyncio.sleep(0.5)
            await m.sfu_join(publish=False)
            found["caucus"] = await first_frames(m, a.member_id)
            await r.sfu_join(publish=False)
            try:
                await r.sfu.subscribe(a.member_id, room=a.media_mode["room"])
                found["hostile"] = None
            except JanusRefused as exc:
                found["hostile"] = exc.code

            await m.request({"type": "joint"})
            async with asyncio.timeout(10):
                await r.wait_until(lambda: r.media_rejoins >= 2)
                await a.wait_until(lambda: a.media_rejoins >= 2)
            await a.sfu_join()
            await asyncio.sleep(0.5)
            await r.sfu_join(publish=False)
            found["joint_again"] = await first_frames(r, a.member_id)
        finally:
            for peer in peers.values():
                await peer.close()
        return found

    fresh_channel_layer()
    found = asyncio.run(asyncio.wait_for(scenario(), 90))
    welcome = found["welcome"]
    assert {w["mode"] for w in welcome.values()} == {"sfu"}
    assert len({w["room"] for w in welcome.values()}) == 1
    assert len({w["token"] for w in welcome.values()}) == 3
    assert welcome["applicant"]["janus_url"] == media_servers.janus.ws_url
    assert all(v > 0 for v in found["joint"])
    caucus = found["caucus_media"]
    assert caucus["applicant"]["room"] == caucus["mediator"]["room"] != caucus["respondent"]["room"]
    assert caucus["respondent"]["space"] == "waiting:respondent"
    assert found["left_out_frames"] == 0
    assert found["caucus"] > 0
    assert found["hostile"] == 433
    assert found["joint_again"] > 0
