"""What a review of the room socket found, each pinned by a test: broadcasts that cross or get lost, a slow
database call holding up pongs, a flood of stored frames, a person whose side changed, a locked room.
Through the real ASGI application on the in-memory layer and on real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from mediation.models import Agent, RecordEntry, RoomEvent, RoomMember
from mediation.services import room_controls, room_entry, room_record
from realtime import frames as f
from realtime import room_consumer
from realtime.broadcast import room_group
from tests.realtime.test_case_events import headers_for, layer  # noqa: F401 - the layer fixture
from tests.room_support import connect_welcome, drain, frames_until, joint_room, refusal_code, room_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(fn)(*args, **kwargs)


@contextmanager
def held_broadcasts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Services store events as usual, but their on-commit broadcasts are kept here instead of sent, so a
    test can deliver them late, out of order, or not at all."""
    kept: list[dict[str, Any]] = []
    monkeypatch.setattr("realtime.broadcast.room_broadcast", lambda *, room_id, message: kept.append(message))
    yield kept
    monkeypatch.undo()


async def deliver(room_id: int, message: dict[str, Any]) -> None:
    await get_channel_layer().group_send(room_group(room_id), message)


def events_of(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == "event"]


# --- ordering and lost broadcasts ---------------------------------------------------------------------------


async def test_broadcasts_that_cross_reach_the_client_in_seq_order(world, monkeypatch):
    _case, room, m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as alice:
        await connect_welcome(alice)
        with held_broadcasts(monkeypatch) as kept:
            await sync(room_record.room_chat_post, member=m["respondent"], text="第一句", client_id="b1")
            await sync(room_record.room_chat_post, member=m["mediator"], text="第二句", client_id="m1")
        for message in reversed(kept):  # two writers' on-commit broadcasts may arrive the other way round
            await deliver(room.pk, message)

        seqs = [e["seq"] for e in events_of(await drain(alice))]

    assert seqs == sorted(seqs) and len(seqs) == 2


async def test_a_lost_broadcast_is_repaired_with_a_fresh_welcome(world, monkeypatch):
    monkeypatch.setattr(room_consumer, "GAP_WAIT", 0.2)
    _case, room, m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as alice:
        await connect_welcome(alice)
        with held_broadcasts(monkeypatch) as kept:
            await sync(room_record.room_chat_post, member=m["respondent"], text="丢失的那句", client_id="b1")
            await sync(room_record.room_chat_post, member=m["mediator"], text="后来的一句", client_id="m1")
        await deliver(room.pk, kept[1])  # the first broadcast never arrives (a full channel drops it)

        frames = await drain(alice, quiet=1.5)  # the gap wait plus a resync read on a loaded machine

    welcomes = [frame for frame in frames if frame["type"] == "welcome"]
    assert welcomes, frames
    delivered = [e["payload"]["text"] for e in welcomes[0]["events"] + events_of(frames) if e["kind"] == "chat"]
    assert "丢失的那句" in delivered and "后来的一句" in delivered


async def test_a_lost_caucus_broadcast_does_not_leave_signals_flowing_across_the_caucus(world, monkeypatch):
    monkeypatch.setattr(room_consumer, "GAP_WAIT", 0.2)
    _case, room, m = await sync(joint_room, world)
    offer = {"description": {"type": "offer", "sdp": "v=0"}}
    async with (
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
        room_socket(room.pk, headers=await headers_for(world.respondent)) as bob,
    ):
        await connect_welcome(alice)
        await connect_welcome(bob)
        with held_broadcasts(monkeypatch) as kept:
            await sync(room_controls.room_caucus_start, room=room, actor=world.mediator, side="applicant")
            await sync(room_record.room_chat_post, member=m["mediator"], text="请申请人说说", client_id="m1")
        await deliver(room.pk, kept[1])  # room.space is lost; the next event shows the gap
        await drain(alice, quiet=0.6)
        await drain(bob, quiet=0.1)

        await alice.send_json_to({"type": "signal", "to": m["respondent"].pk, "ref": "s1", "data": offer})

        error = (await frames_until(alice, lambda frame: frame["type"] == "error"))[-1]
        assert error["code"] == "not_in_space"
        assert not [frame for frame in await drain(bob) if frame["type"] == "signal"]


# --- a slow database, a flood of stored frames ---------------------------------------------------------------


async def test_a_slow_command_does_not_hold_up_the_pong(world, monkeypatch):
    _case, room, _m = await sync(joint_room, world)
    original = room_consumer._command_sync

    def slow(member_id: int, frame: Any) -> int | None:
        time.sleep(1.5)  # a query stuck behind a lock
        return original(member_id, frame)

    monkeypatch.setattr(room_consumer, "_command_sync", slow)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as alice:
        await connect_welcome(alice)
        await drain(alice, quiet=0.2)  # our own presence
        await alice.send_json_to({"type": "chat", "ref": "slow", "text": "稍等"})
        await alice.send_json_to({"type": "ping"})
        started = time.monotonic()

        before_pong = await frames_until(alice, lambda frame: frame["type"] == "pong")
        answered_in = time.monotonic() - started
        rest = await frames_until(alice, lambda frame: frame["type"] == "ack")

    assert answered_in < 1.0 and not [frame for frame in before_pong if frame["type"] == "ack"]
    assert rest[-1]["ref"] == "slow"


async def test_a_flood_of_chat_is_limited_to_the_write_budget_and_each_refusal_names_its_ref(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as alice:
        await connect_welcome(alice)
        for i in range(60):
            await alice.send_json_to({"type": "chat", "ref": f"c{i}", "text": f"刷屏{i}"})
        frames = await drain(alice, quiet=1.0)

    acked = {frame["ref"] for frame in frames if frame["type"] == "ack"}
    limited = {frame["ref"] for frame in frames if frame["type"] == "error" and frame["code"] == "rate_limited"}
    stored = await sync(lambda: RoomEvent.objects.filter(room=room, kind="chat").count())
    assert stored == len(acked) <= f.WRITE_BURST + 5
    assert limited and acked.isdisjoint(limited) and acked | limited == {f"c{i}" for i in range(60)}


# --- who may come back, and as what ----------------------------------------------------------------------------


async def test_an_agent_now_acting_for_the_other_side_waits_again_and_sees_nothing_of_the_old_sides_caucus(world):
    case, room, m = await sync(joint_room, world)
    await sync(room_controls.room_caucus_start, room=room, actor=world.mediator, side="respondent")
    await sync(room_record.room_record_add, member=m["mediator"], text="被申请人底线五千", client_id="r1")
    await sync(room_controls.room_caucus_end, room=room, actor=world.mediator)
    applicant_party = await sync(lambda: case.parties.get(role="applicant"))
    await sync(lambda: Agent.objects.filter(user=world.lawyer, party__case=case).update(party=applicant_party))

    async with room_socket(room.pk, headers=await headers_for(world.lawyer)) as lawyer:
        welcome = await connect_welcome(lawyer)
        assert (welcome["you"]["side"], welcome["you"]["state"]) == ("applicant", "waiting")
        await sync(room_controls.room_admit, room=room, actor=world.mediator, member=m["lawyer"].pk)
        admitted = (await frames_until(lawyer, lambda frame: frame["type"] == "welcome"))[-1]

    assert admitted["you"]["state"] == "admitted"
    assert "五千" not in str(admitted)
    assert await sync(lambda: RecordEntry.objects.filter(room=room, text__contains="五千").count()) == 1


async def test_someone_who_left_a_room_since_locked_is_refused_with_4423(world):
    _case, room, m = await sync(joint_room, world)
    await sync(room_entry.room_leave, member=m["respondent"])
    await sync(room_controls.room_lock, room=room, actor=world.mediator, locked=True)
    async with room_socket(room.pk, headers=await headers_for(world.respondent)) as bob:
        assert await refusal_code(bob) == 4423
    member = await sync(lambda: RoomMember.objects.get(pk=m["respondent"].pk))
    assert member.state == "left"


async def test_the_queue_is_bounded_and_a_socket_that_went_away_stops_its_worker(world, monkeypatch):
    _case, room, _m = await sync(joint_room, world)
    original = room_consumer._command_sync

    def slow(member_id: int, frame: Any) -> int | None:
        time.sleep(0.3)
        return original(member_id, frame)

    monkeypatch.setattr(room_consumer, "_command_sync", slow)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as alice:
        await connect_welcome(alice)
        for i in range(room_consumer.MAX_QUEUED_COMMANDS + 4):
            await alice.send_json_to({"type": "chat", "ref": f"q{i}", "text": f"排队{i}"})
        busy = await frames_until(alice, lambda frame: frame["type"] == "error")
        assert busy[-1]["code"] == "rate_limited"
    await asyncio.sleep(0.5)
    stored = await sync(lambda: RoomEvent.objects.filter(room=room, kind="chat").count())
    assert stored <= room_consumer.MAX_QUEUED_COMMANDS + 1


async def test_a_socket_replaced_by_a_newer_one_never_announces_its_member_offline(world, monkeypatch):
    _case, room, m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator:
        await connect_welcome(mediator)
        async with room_socket(room.pk, headers=await headers_for(world.applicant)) as old:
            await connect_welcome(old)
            # The race: the old socket says goodbye before the new one has written its channel.
            monkeypatch.setattr(room_entry, "room_presence_set", lambda **kwargs: None)
            async with room_socket(room.pk, headers=await headers_for(world.applicant)) as new:
                await connect_welcome(new)
                assert (await drain(old))[-1] == {"type": "__close__", "code": 4001}
                await old.disconnect()  # what the server does once the close handshake is over
                seen = [frame for frame in await drain(mediator, quiet=0.5) if frame["type"] == "presence"]

    assert seen and all(frame["online"] for frame in seen if frame["member"] == m["applicant"].pk)


async def test_a_dropped_socket_is_announced_offline_after_the_delay_unless_its_member_came_back(
    world, monkeypatch
):
    """Presence of a closed socket is cleared PRESENCE_CLEAR_DELAY later (not in the reconnect's way); a
    member back on this worker meanwhile is never announced offline and costs no clearing query."""
    monkeypatch.setattr(room_consumer, "PRESENCE_CLEAR_DELAY", 1.0)
    clears: list[int] = []
    original = room_entry.room_presence_clear

    def counted(**kwargs: Any) -> bool:
        clears.append(kwargs["member_id"])
        return original(**kwargs)

    monkeypatch.setattr(room_entry, "room_presence_clear", counted)
    _case, room, m = await sync(joint_room, world)
    applicant = m["applicant"].pk
    async with room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator:
        await connect_welcome(mediator)
        async with room_socket(room.pk, headers=await headers_for(world.applicant)) as first:
            await connect_welcome(first)
        async with room_socket(room.pk, headers=await headers_for(world.applicant)) as again:  # back at once
            await connect_welcome(again)
            await asyncio.sleep(1.2)  # the first socket's delayed clear has come due
            seen = [f for f in await drain(mediator, quiet=0.3) if f["type"] == "presence" and f["member"] == applicant]
            assert seen and all(f["online"] for f in seen)
            assert clears == []
            assert await sync(lambda: RoomMember.objects.get(pk=applicant).online_channel) != ""
        # Gone for good: offline once the delay has passed, and the row says so.
        started = time.monotonic()
        seen = await frames_until(mediator, lambda f: f["type"] == "presence" and f["member"] == applicant)
        assert seen[-1]["online"] is False and time.monotonic() - started >= 0.5
        assert clears == [applicant]
        assert await sync(lambda: RoomMember.objects.get(pk=applicant).online_channel) == ""
