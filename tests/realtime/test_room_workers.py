"""The room socket on two uvicorn workers sharing one Redis (decisions D50): a member who loses their
place — removed by the mediator, or no longer the case's mediator — has their open socket closed within a
second on whichever worker holds it; and a reconnect storm of 52 sockets (13 rooms of four, the benchmark's
rooms at a small size) is welcomed back with exactly the events each missed, nothing lost or duplicated."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mediation.choices import CaseStatus, ParticipantRole
from mediation.models import Room, RoomMember
from mediation.services import room_controls, room_record
from mediation.services.cases import case_transition
from realtime.peer import RoomPeer
from tests.bench.room_bench_support import make_rooms, uvicorn_worker
from tests.realtime.test_case_events import (
    default_redis_layer_config,
    delete_keys,
    redis_url,
    unique_redis_prefix,
    use_layer,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.redis]


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(fn)(*args, **kwargs)


async def closed_within(peer: RoomPeer, codes: set[int], seconds: float) -> float:
    """Seconds until ``peer``'s socket was closed with one of ``codes``; fails after ``seconds``."""
    started = time.monotonic()
    while peer.close_code not in codes:
        if time.monotonic() - started > seconds:
            raise AssertionError(f"socket still open (close code {peer.close_code}) after {seconds} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_removed_members_socket_is_closed_within_a_second_on_every_worker(world, settings):
    prefix = unique_redis_prefix()
    (urls,) = await sync(make_rooms, world, 1)
    room = await sync(lambda: Room.objects.select_related("case").get(pk=int(urls[0].split("/")[3])))
    env = {"REDIS_PREFIX": prefix}
    try:
        async with use_layer(settings, default_redis_layer_config(prefix)):
            with uvicorn_worker(extra_env=env) as first, uvicorn_worker(extra_env=env) as second:
                # make_rooms' order: mediator, applicant, respondent, lawyer; two on each worker.
                peers = [RoomPeer(server=server, ws_url=url, media=False, dead_after=30, open_timeout=30)
                         for server, url in zip((first, second, first, second), urls, strict=True)]
                for peer in peers:
                    await peer.start()
                mediator, applicant, respondent, lawyer = peers
                try:
                    # The mediator (on the first worker) removes the lawyer (on the second).
                    await sync(room_controls.room_remove, room=room, actor=world.mediator, member=lawyer.member_id)
                    assert await closed_within(lawyer, {4408}, 1.0) < 1.0
                    # The mediator is changed (D12): their socket on the first worker closes with 4403, and
                    # the others hear that they left.
                    await sync(case_transition, case=room.case, to=CaseStatus.AWAITING_SELECTION, actor=world.clerk,
                               note="当事人申请更换调解员", action="change_mediator")
                    assert await closed_within(mediator, {4403}, 1.0) < 1.0
                    state = await sync(lambda: RoomMember.objects.get(pk=mediator.member_id).state)
                    assert state == "left"
                    async with asyncio.timeout(5):
                        await respondent.wait_until(
                            lambda: respondent.members.get(mediator.member_id, {}).get("state") == "left")
                    assert applicant.close_code is None and respondent.close_code is None
                finally:
                    await asyncio.gather(*(peer.close() for peer in peers))
    finally:
        await delete_keys(redis_url(), f"{prefix}:*")


async def test_reconnect_storm_of_fifty_sockets_gets_every_missed_event_once_in_order(world, settings):
    prefix = unique_redis_prefix()
    rooms = await sync(make_rooms, world, 13)
    env = {"REDIS_PREFIX": prefix}
    seen: dict[int, list[int]] = {}

    def recorder(index: int) -> Any:
        def on_frame(frame: dict[str, Any], _at: float) -> None:
            events = (frame.get("events") or []) if frame.get("type") == "welcome" else [frame]
            seen.setdefault(index, []).extend(int(e["seq"]) for e in events if e.get("type") == "event")
        return on_frame

    urls = [url for room in rooms for url in room]
    try:
        async with use_layer(settings, default_redis_layer_config(prefix)):
            with uvicorn_worker(extra_env=env) as server:
                peers = [RoomPeer(server=server, ws_url=url, media=False, dead_after=60, open_timeout=60,
                                  on_frame=recorder(n)) for n, url in enumerate(urls)]
                try:
                    for n in range(0, len(peers), 13):
                        await asyncio.gather(*(peer.start() for peer in peers[n:n + 13]))
                    before = {n: peer.welcomes for n, peer in enumerate(peers)}
                    seen.clear()
                    network = asyncio.Event()
                    for peer in peers:
                        peer.drop(resume=network)
                    # While every socket is down, three chats in each room from its applicant.
                    posted: dict[int, list[int]] = {}
                    for room_urls in rooms:
                        room_id = int(room_urls[0].split("/")[3])
                        applicant = await sync(lambda rid=room_id: RoomMember.objects.get(
                            room_id=rid, role=ParticipantRole.PARTY, side="applicant"))
                        posted[room_id] = [
                            (await sync(room_record.room_chat_post, member=applicant, text=f"断线时{k}",
                                        client_id=f"storm-{room_id}-{k}")).seq
                            for k in range(3)
                        ]
                    network.set()
                    async with asyncio.timeout(90):
                        for n, peer in enumerate(peers):
                            await peer.wait_until(lambda p=peer, n=n: p.welcomes > before[n]
                                                  and set(posted[int(p.path.split("/")[3])]) <= set(p.events))
                    for n, peer in enumerate(peers):
                        room_id = int(peer.path.split("/")[3])
                        got = [seq for seq in seen.get(n, []) if seq in posted[room_id]]
                        assert got == posted[room_id], (n, got, posted[room_id])  # each once, in order
                        assert len(seen.get(n, [])) == len(set(seen.get(n, [])))  # nothing twice
                    assert all(peer.close_code is None or peer.welcomes > before[n] for n, peer in enumerate(peers))
                finally:
                    await asyncio.gather(*(peer.close() for peer in peers))
    finally:
        await delete_keys(redis_url(), f"{prefix}:*")
