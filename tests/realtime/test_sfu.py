"""Media isolation enforced by the SFU, not by the clients (issue 13): Janus rooms per space created by
``realtime.sfu`` with allowed tokens and ``require_pvtid``, a caucus moving members between them, and a
hostile client, let into the joint room, that tries to get a caucus feed it is not in and is refused by Janus,
while an allowed member of the caucus receives frames. Real Janus (and aiortc) in the media namespace."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from mediation import spaces
from realtime import sfu
from realtime.ice import ice_servers
from realtime.sfu_peer import JanusRefused, SfuPeer
from tests.media_support import in_media_net
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.media]

_rooms = itertools.count(7000)


def member(pk: int, role: str, side: str) -> spaces.MemberInfo:
    return spaces.MemberInfo(pk=pk, user_id=pk, role=role, side=side, state=spaces.ADMITTED)


def descriptor(room_id: int, who: spaces.MemberInfo, caucus_side: str) -> dict[str, Any]:
    return sfu.media_descriptor(room_id=room_id, member=who, caucus_side=caucus_side)


def test_descriptor_is_mesh_unless_the_sfu_is_configured(settings):
    settings.ROOM_MEDIA = "mesh"
    assert descriptor(1, member(5, "party", "applicant"), "") == {"mode": "mesh"}


def test_tokens_are_per_member_and_secret_bound(settings):
    settings.JANUS_ADMIN_SECRET = "one"
    first = sfu.member_token(1, 5)
    assert first != sfu.member_token(1, 6) and first != sfu.member_token(2, 5)
    settings.JANUS_ADMIN_SECRET = "two"
    assert sfu.member_token(1, 5) != first


def test_each_room_is_pinned_to_one_janus_instance(settings):
    settings.ROOM_MEDIA = "sfu"
    settings.JANUS_ADMIN_URLS = ["http://10.0.0.1:7088/admin", "http://10.0.0.2:7088/admin"]
    settings.JANUS_WS_URLS = ["wss://sfu1.example.cn/", "wss://sfu2.example.cn/"]
    for room_id in (40, 41):
        admin = sfu.JanusAdmin.from_settings(room_id)
        urls = {descriptor(room_id, member(5, "party", "applicant"), c)["janus_url"] for c in ("", "applicant")}
        assert urls == {settings.JANUS_WS_URLS[room_id % 2]}
        assert admin.url == settings.JANUS_ADMIN_URLS[room_id % 2]


def test_janus_refuses_room_creation_and_admin_calls_without_the_projects_secrets(media_servers):  # noqa: F811
    admin = media_servers.admin
    wrong_key = sfu.JanusAdmin(url=admin.url, secret=admin.secret, admin_key="adminpwd")
    with pytest.raises(sfu.JanusError) as refused:
        wrong_key.create_room(next(_rooms), allowed=[], description="x")
    assert refused.value.code == 433
    default_secret = sfu.JanusAdmin(url=admin.url, secret="janusoverlord", admin_key=admin.admin_key)
    with pytest.raises(sfu.JanusError) as refused:
        default_secret.list_tokens()
    assert refused.value.code == 403


def test_a_caucus_feed_is_refused_by_janus_to_a_member_outside_it_and_received_inside(media_servers, settings):  # noqa: F811
    media_servers.settings(settings)
    room_id = next(_rooms)
    mediator, alice = member(11, spaces.MEDIATOR, ""), member(12, "party", "applicant")
    bob = member(13, "party", "respondent")
    everyone = [mediator, alice, bob]
    for who in everyone:
        sfu.admit(room_id=room_id, member=who, caucus_side="")

    async def scenario() -> dict[str, Any]:
        found: dict[str, Any] = {}
        # Joint: the applicant publishes, the respondent receives.
        a = SfuPeer(descriptor(room_id, alice, ""))
        b = SfuPeer(descriptor(room_id, bob, ""))
        try:
            await a.join()
            await b.join(publish=False)
            await asyncio.sleep(0.5)  # the publisher's PeerConnection is up ("428 No such feed" before)
            await b.subscribe(alice.pk)
            found["joint_frames"] = await _frames(b, alice.pk)
            found["joint_pair"] = b.selected_pair(b.subscriptions[alice.pk].pc)

            # Caucus with the applicant's side: rooms rebuilt on the server, the clients told to rejoin.
            await asyncio.to_thread(sfu.rebuild, room_id=room_id, members=everyone, caucus_side="applicant")
            await asyncio.sleep(1.0)
            found["frames_after_caucus"] = await b.frames_after(alice.pk, 1.5)
        finally:
            await a.close()

        caucus = descriptor(room_id, alice, "applicant")
        waiting = descriptor(room_id, bob, "applicant")
        found["rooms"] = (caucus["room"], waiting["room"], descriptor(room_id, mediator, "applicant")["room"])
        a = SfuPeer(caucus)
        m = SfuPeer(descriptor(room_id, mediator, "applicant"))
        hostile, intruder, impostor = SfuPeer(waiting), SfuPeer(waiting), SfuPeer(waiting)
        try:
            await a.join()
            await m.join(publish=False)
            await asyncio.sleep(0.5)
            await m.subscribe(alice.pk)
            found["caucus_frames"] = await _frames(m, alice.pk)

            # The respondent, in its own waiting room, tries every way to the applicant's caucus feed.
            await hostile.join(publish=False)
            found["refusals"] = {}
            attempts = {
                "own private id": hostile.subscribe(alice.pk, room=caucus["room"]),
                "no private id": hostile.subscribe(alice.pk, room=caucus["room"], private_id=0),
                "guessed private id": hostile.subscribe(alice.pk, room=caucus["room"], private_id=m.private_id + 1),
                "join as participant": intruder.join(room=caucus["room"], publish=False),
                "join with the mediator's id": impostor.join(room=caucus["room"], feed=mediator.pk, publish=False),
            }
            for name, attempt in attempts.items():
                try:
                    await attempt
                    found["refusals"][name] = None
                except JanusRefused as exc:
                    found["refusals"][name] = exc.code
            found["stolen_frames"] = sum(s.frames for s in hostile.subscriptions.values())
        finally:
            for peer in (a, m, hostile, intruder, impostor, b):
                await peer.close()
        return found

    found = asyncio.run(scenario())
    assert found["joint_frames"] > 0
    local, remote = found["joint_pair"]
    assert in_media_net(local.host) and in_media_net(remote.host)
    assert found["frames_after_caucus"] == 0  # the joint room was destroyed: its subscriptions ended on the server
    caucus_room, waiting_room, mediator_room = found["rooms"]
    assert caucus_room == mediator_room != waiting_room
    assert found["caucus_frames"] > 0
    assert found["refusals"] == {
        "own private id": 433,
        "no private id": 433,
        "guessed private id": 433,
        "join as participant": 433,
        "join with the mediator's id": 433,
    }, found["refusals"]
    assert found["stolen_frames"] == 0


async def _frames(peer: SfuPeer, feed: int, *, within: float = 10.0) -> int:
    """Frames of ``feed`` in one second once they have started (0 if none came within ``within``)."""
    subscription = peer.subscriptions[feed]
    deadline = asyncio.get_running_loop().time() + within
    while subscription.frames == 0 and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    return await peer.frames_after(feed, 1.0) if subscription.frames else 0


def test_relay_only_media_flows_through_coturn_with_the_rest_credentials_of_realtime_ice(media_servers, settings):  # noqa: F811
    """A subscriber that may use only TURN relays (iceTransportPolicy "relay") gets the feed through coturn,
    with the time-limited credentials ``realtime.ice`` computes from the same secret as coturn's config."""
    media_servers.settings(settings)
    room_id = next(_rooms)
    alice, bob = member(21, "party", "applicant"), member(22, "party", "respondent")
    for who in (alice, bob):
        sfu.admit(room_id=room_id, member=who, caucus_side="")
    servers = ice_servers(member_id=bob.pk)
    assert servers and servers[0]["urls"] == [media_servers.turn_url]

    async def scenario() -> tuple[int, Any, Any]:
        a = SfuPeer(descriptor(room_id, alice, ""))
        b = SfuPeer(descriptor(room_id, bob, ""), ice_servers=servers, relay_only=True)
        try:
            await a.join()
            await b.join(publish=False)
            await asyncio.sleep(0.5)
            await b.subscribe(alice.pk)
            frames = await _frames(b, alice.pk, within=15.0)
            pair = b.selected_pair(b.subscriptions[alice.pk].pc)
            return frames, pair[0], pair[1]
        finally:
            await a.close()
            await b.close()

    frames, local, remote = asyncio.run(scenario())
    assert local.type == "relay" and in_media_net(local.host), (local.type, local.host)
    assert in_media_net(remote.host)
    assert frames > 0
