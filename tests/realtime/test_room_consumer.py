"""The room socket through the real ASGI application (origin check, session or token auth, routing), on the
in-memory layer and on real Redis: refusals with their close codes, the waiting room, relaying within a
space only, caucus isolation on the live path, reconnect, and frames the server refuses without falling over."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediation.models import RoomEvent
from mediation.selectors import rooms as room_selectors
from mediation.services import room_controls, room_entry, room_record
from realtime import room_consumer
from tests.realtime.test_case_events import headers_for, layer  # noqa: F401 - the layer fixture
from tests.room_support import (
    RECEIVE_TIMEOUT,
    connect_welcome,
    drain,
    frames_until,
    joint_room,
    open_room,
    ready_member,
    refusal_code,
    room_socket,
    token_for,
)
from tests.scheduling_support import fresh_case

# Every test runs on the in-memory layer and on real Redis (the ``layer`` fixture's two params).
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(fn)(*args, **kwargs)


async def origin_only() -> list[tuple[bytes, bytes]]:
    return await headers_for(None)


async def until_closed(socket: Any) -> list[dict[str, Any]]:
    """Every frame until the server closes the socket (at most 10 s)."""
    frames: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            while not frames or frames[-1]["type"] != "__close__":
                frames += await drain(socket)
    return frames


# --- refusals ---------------------------------------------------------------------------------------


async def test_anonymous_socket_is_refused_with_4401(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await origin_only()) as socket:
        assert await refusal_code(socket) == 4401


async def test_outsider_is_refused_with_4403(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.outsider)) as socket:
        assert await refusal_code(socket) == 4403


async def test_party_of_another_case_is_refused_with_4403(world):
    _case, room, _m = await sync(joint_room, world)
    other_party = (await sync(lambda: fresh_case(world).parties.get(role="applicant").user))
    async with room_socket(room.pk, headers=await headers_for(other_party)) as socket:
        assert await refusal_code(socket) == 4403


async def test_no_such_room_is_refused_like_a_foreign_one(world):
    async with room_socket(999_999, headers=await headers_for(world.applicant)) as socket:
        assert await refusal_code(socket) == 4403


async def test_party_who_skipped_the_checks_is_refused_with_4412(world):
    _case, _session, room = await sync(open_room, world)
    await sync(room_entry.room_member_get_or_create, room=room, user=world.applicant)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        assert await refusal_code(socket) == 4412


async def test_second_tab_with_a_used_join_token_is_refused_with_4409(world):
    _case, room, m = await sync(joint_room, world)
    token = await token_for(m["applicant"])
    async with room_socket(room.pk, headers=await origin_only(), token=token) as first:
        await connect_welcome(first)
        async with room_socket(room.pk, headers=await origin_only(), token=token) as second:
            assert await refusal_code(second) == 4409


async def test_unknown_token_is_refused_with_4401(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await origin_only(), token="not-a-token") as socket:
        assert await refusal_code(socket) == 4401


async def test_handshake_from_another_origin_is_refused(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant, origin=b"https://evil.example")) as s:
        accepted, _detail = await s.connect(timeout=RECEIVE_TIMEOUT)
        assert not accepted


async def test_ended_room_is_refused_with_4410(world):
    _case, room, _m = await sync(joint_room, world)
    await sync(room_controls.room_end, room=room, actor=world.mediator, outcome="terminate", end_reason="too_far")
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        assert await refusal_code(socket) == 4410


async def test_party_sending_mediator_commands_gets_forbidden_and_stays_connected(world):
    _case, room, m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        for frame in ({"type": "caucus", "ref": "c", "side": "applicant"}, {"type": "lock", "ref": "l", "locked": True},
                      {"type": "remove", "ref": "r", "member": m["respondent"].pk},
                      {"type": "record.add", "ref": "a", "text": "我来记"},
                      {"type": "end", "ref": "e", "outcome": "terminate", "end_reason": "too_far"}):
            await socket.send_json_to(frame)
            error = (await frames_until(socket, lambda f: f["type"] == "error"))[-1]
            assert (error["code"], error["ref"]) == ("forbidden", frame["ref"])
        await socket.send_json_to({"type": "ping"})
        assert (await frames_until(socket, lambda f: f["type"] == "pong"))[-1] == {"type": "pong"}
    unchanged = await sync(lambda: type(room).objects.values_list("caucus_side", "locked").get(pk=room.pk))
    assert unchanged == ("", False)


# --- the waiting room -------------------------------------------------------------------------------


async def test_waiting_party_is_admitted_by_the_mediator_and_gets_a_fresh_welcome(world):
    _case, _session, room = await sync(open_room, world)
    await sync(ready_member, room, world.mediator)
    waiting = await sync(ready_member, room, world.applicant)
    async with (
        room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator,
        room_socket(room.pk, headers=await headers_for(world.applicant)) as party,
    ):
        await connect_welcome(mediator)
        welcome = await connect_welcome(party)
        assert (welcome["you"]["state"], welcome["space"], welcome["protocol"]) == ("waiting", "lobby", "yizhan-room/1")
        assert welcome["resume_token"] and welcome["heartbeat_ms"] == 1000

        await mediator.send_json_to({"type": "admit", "ref": "a1", "member": waiting.pk})

        seen = await frames_until(party, lambda f: f["type"] == "welcome")
        assert any(f.get("kind") == "member.admitted" for f in seen)
        assert (seen[-1]["you"]["state"], seen[-1]["space"]) == ("admitted", "joint")
        mediator = await sync(room_entry.room_member_get_or_create, room=room, user=world.mediator)
        assert seen[-1]["peers"] == [mediator.pk]


# --- chat and signaling within a space ------------------------------------------------------------------


async def test_chat_is_stored_acknowledged_and_delivered_to_the_space(world):
    _case, room, m = await sync(joint_room, world)
    async with (
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
        room_socket(room.pk, headers=await headers_for(world.respondent)) as bob,
    ):
        await connect_welcome(alice)
        await connect_welcome(bob)
        await alice.send_json_to({"type": "chat", "ref": "m1", "text": "<b>你好</b>"})

        ack = (await frames_until(alice, lambda f: f["type"] == "ack"))[-1]
        event = (await frames_until(bob, lambda f: f.get("kind") == "chat"))[-1]

        assert ack["ref"] == "m1" and ack["seq"] == event["seq"]
        assert event["payload"]["text"] == "<b>你好</b>" and event["actor"] == m["applicant"].pk
        assert await sync(lambda: RoomEvent.objects.filter(room=room, kind="chat").count()) == 1


async def test_signal_is_relayed_in_joint_and_refused_across_a_caucus(world):
    _case, room, m = await sync(joint_room, world)
    async with (
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
        room_socket(room.pk, headers=await headers_for(world.respondent)) as bob,
    ):
        await connect_welcome(alice)
        await connect_welcome(bob)
        offer = {"description": {"type": "offer", "sdp": "v=0"}}
        await alice.send_json_to({"type": "signal", "to": m["respondent"].pk, "data": offer})
        relayed = (await frames_until(bob, lambda f: f["type"] == "signal"))[-1]
        assert relayed == {"type": "signal", "from": m["applicant"].pk, "data": offer}

        await sync(room_controls.room_caucus_start, room=room, actor=world.mediator, side="applicant")
        await frames_until(alice, lambda f: f.get("kind") == "room.space")
        await frames_until(bob, lambda f: f.get("kind") == "room.space")
        await alice.send_json_to({"type": "signal", "to": m["respondent"].pk, "ref": "s2", "data": offer})

        error = (await frames_until(alice, lambda f: f["type"] == "error"))[-1]
        assert error["code"] == "not_in_space"
        assert not [f for f in await drain(bob) if f["type"] == "signal"]


async def test_excluded_side_receives_nothing_from_a_caucus_live(world):
    _case, room, _m = await sync(joint_room, world)
    async with (
        room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator,
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
        room_socket(room.pk, headers=await headers_for(world.respondent)) as bob,
        room_socket(room.pk, headers=await headers_for(world.lawyer)) as lawyer,
    ):
        for socket in (mediator, alice, bob, lawyer):
            await connect_welcome(socket)
        await mediator.send_json_to({"type": "caucus", "ref": "c1", "side": "applicant"})
        await frames_until(mediator, lambda f: f["type"] == "ack")
        await alice.send_json_to({"type": "chat", "ref": "secret", "text": "底线八千"})
        await frames_until(alice, lambda f: f["type"] == "ack")
        await mediator.send_json_to({"type": "record.add", "ref": "r1", "text": "申请人底线八千", "tag": "settlement"})
        await frames_until(mediator, lambda f: f["type"] == "ack")
        await mediator.send_json_to({"type": "joint", "ref": "j1"})
        await frames_until(mediator, lambda f: f["type"] == "ack")

        for excluded in (bob, lawyer):
            frames = await drain(excluded)
            assert "底线" not in str(frames)
            assert [f["payload"]["caucus_side"] for f in frames if f.get("kind") == "room.space"] == ["applicant", ""]
        assert "底线八千" in str(await drain(alice))


# --- reconnect, replacement, heartbeat --------------------------------------------------------------------


async def test_reconnect_with_since_gets_exactly_the_missed_events_and_a_resent_chat_is_stored_once(world):
    _case, room, _m = await sync(joint_room, world)
    headers = await headers_for(world.applicant)
    async with room_socket(room.pk, headers=headers) as first:
        welcome = await connect_welcome(first)
        await first.send_json_to({"type": "chat", "ref": "once", "text": "第一条"})
        seen = await frames_until(first, lambda f: f["type"] == "ack")  # the event may come before its ack
        seen += await drain(first)
        last = max([welcome["last_seq"], *[f["seq"] for f in seen if f["type"] == "event"]])
    await sync(room_record.room_chat_post, member=_m["respondent"], text="你掉线时我说的", client_id="b1")
    async with room_socket(room.pk, headers=headers, since=last) as second:
        resumed = await connect_welcome(second)
        assert [e["payload"]["text"] for e in resumed["events"] if e["kind"] == "chat"] == ["你掉线时我说的"]
        await second.send_json_to({"type": "chat", "ref": "once", "text": "第一条"})
        ack = (await frames_until(second, lambda f: f["type"] == "ack"))[-1]
    fresh = await sync(room_selectors.room_snapshot, member=_m["applicant"])
    assert ack["seq"] in [e["seq"] for e in fresh["events"]]
    assert await sync(lambda: RoomEvent.objects.filter(room=room, kind="chat", client_id="once").count()) == 1


async def test_resume_token_from_the_welcome_opens_the_next_socket(world):
    _case, room, m = await sync(joint_room, world)
    token = await token_for(m["respondent"])
    async with room_socket(room.pk, headers=await origin_only(), token=token) as first:
        welcome = await connect_welcome(first)
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"]) as second:
        assert (await connect_welcome(second))["you"]["member"] == m["respondent"].pk


async def test_newer_socket_of_the_same_person_closes_the_older_with_4001(world):
    _case, room, _m = await sync(joint_room, world)
    headers = await headers_for(world.applicant)
    async with room_socket(room.pk, headers=headers) as old, room_socket(room.pk, headers=headers) as new:
        await connect_welcome(old)
        await connect_welcome(new)
        closed = await drain(old)
        assert closed[-1] == {"type": "__close__", "code": 4001}


async def test_silent_socket_is_closed_with_4002(world, monkeypatch):
    monkeypatch.setattr(room_consumer, "IDLE_CLOSE_SECONDS", 0.5)
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        await asyncio.sleep(1.6)
        assert (await drain(socket))[-1] == {"type": "__close__", "code": 4002}


async def test_removed_member_is_told_and_closed_with_4408(world):
    _case, room, m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.respondent)) as socket:
        await connect_welcome(socket)
        await sync(room_controls.room_remove, room=room, actor=world.mediator, member=m["respondent"])
        frames = await drain(socket)
        assert [f.get("kind") for f in frames if f["type"] == "event"] == ["member.removed"]
        assert frames[-1] == {"type": "__close__", "code": 4408}


async def test_ending_the_session_closes_every_socket_with_4410(world):
    _case, room, _m = await sync(joint_room, world)
    async with (
        room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator,
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
    ):
        await connect_welcome(mediator)
        await connect_welcome(alice)
        await mediator.send_json_to({"type": "end", "ref": "end", "outcome": "continue",
                                     "continue_at": "2099-01-05T09:00:00+08:00"})
        for socket in (mediator, alice):
            frames = await until_closed(socket)  # ending (a next session, its invitations) takes a moment
            assert any(f.get("kind") == "room.ended" for f in frames)
            assert frames[-1] == {"type": "__close__", "code": 4410}


async def test_mute_request_reaches_only_its_target(world):
    _case, room, m = await sync(joint_room, world)
    async with (
        room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator,
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
        room_socket(room.pk, headers=await headers_for(world.respondent)) as bob,
    ):
        for socket in (mediator, alice, bob):
            welcome = await connect_welcome(socket)
        del welcome
        await mediator.send_json_to({"type": "mute_request", "ref": "mu", "member": m["applicant"].pk})
        assert (await frames_until(alice, lambda f: f["type"] == "mute_request"))[-1]["by"] == m["mediator"].pk
        leaked = [f for f in await drain(bob) if "mute" in f["type"] or "mute" in f.get("kind", "")]
        assert leaked == []


# --- bad frames -------------------------------------------------------------------------------------


async def test_malformed_oversized_and_wrong_type_frames_get_errors_and_the_socket_stays(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        cases = [
            ({"bytes_data": b"\x00\x01"}, "text_only"),
            ({"text_data": "{not json"}, "bad_json"),
            ({"text_data": '"just a string"'}, "unknown_type"),
            ({"text_data": '{"type": "launch"}'}, "unknown_type"),
            ({"text_data": '{"type": "chat", "ref": "x", "text": 5}'}, "invalid"),
            ({"text_data": '{"type": "chat", "ref": "x", "text": "' + "长" * 6000 + '"}'}, "too_large"),
            ({"text_data": '{"type": "signal", "to": 999999, "data": {"candidate": {}}}'}, "not_in_space"),
        ]
        for frame, code in cases:
            await socket.send_to(**frame)
            error = (await frames_until(socket, lambda f: f["type"] == "error"))[-1]
            assert error["code"] == code, (frame, error)
        await socket.send_json_to({"type": "ping"})
        assert (await frames_until(socket, lambda f: f["type"] == "pong"))[-1] == {"type": "pong"}


async def test_flood_of_frames_is_rate_limited_then_closed_with_4429(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        for _ in range(1000):  # far more than the burst plus what trickles back while they are read
            await socket.send_json_to({"type": "signal", "to": 999999, "data": {"candidate": {}}})
        frames = await drain(socket, quiet=0.5)
        assert {"rate_limited", "not_in_space"} == {f["code"] for f in frames if f["type"] == "error"}
        assert frames[-1] == {"type": "__close__", "code": 4429}


async def test_heartbeats_do_not_count_against_the_rate_limit(world):
    """Pings are answered before the rate limiter: a thousand in a row all get their pong, the socket stays
    open, and the budget is still whole for the frames that follow."""
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        for _ in range(1000):  # what closed the socket with 4429 when pings were counted
            await socket.send_to(text_data='{"type":"ping"}')
        frames = await drain(socket, quiet=0.5)
        assert [f for f in frames if f["type"] != "presence"] == [{"type": "pong"}] * 1000
        for _ in range(20):  # within the burst: none refused
            await socket.send_json_to({"type": "signal", "to": 999999, "data": {"candidate": {}}})
        frames = await drain(socket, quiet=0.3)
        assert {f["code"] for f in frames if f["type"] == "error"} == {"not_in_space"}
        assert len([f for f in frames if f["type"] == "error"]) == 20


@pytest.mark.redis
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(["caucus_a", "caucus_r", "joint", "chat_a", "chat_r", "chat_m"]),
                      min_size=2, max_size=6))
async def test_live_sockets_never_carry_caucus_content_to_the_excluded_side(world, steps):
    _case, room, _m = await sync(joint_room, world, otp=False)
    async with (
        room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator,
        room_socket(room.pk, headers=await headers_for(world.applicant)) as alice,
        room_socket(room.pk, headers=await headers_for(world.respondent)) as bob,
    ):
        sockets = {"m": mediator, "a": alice, "r": bob}
        for socket in sockets.values():
            await connect_welcome(socket)
        caucus = ""
        secrets_for: dict[str, list[str]] = {"applicant": [], "respondent": []}
        for i, step in enumerate(steps):
            if step.startswith("caucus") or step == "joint":
                side = {"caucus_a": "applicant", "caucus_r": "respondent"}.get(step)
                frame = {"type": "caucus", "ref": f"s{i}", "side": side} if side else {"type": "joint", "ref": f"s{i}"}
                await mediator.send_json_to(frame)
                reply = (await frames_until(mediator, lambda f: f["type"] in ("ack", "error")))[-1]
                if reply["type"] == "ack":
                    caucus = frame.get("side", "")
            else:
                who = step[-1]
                text = f"第{i}条-{who}-{caucus or 'joint'}"
                await sockets[who].send_json_to({"type": "chat", "ref": f"c{i}", "text": text})
                await frames_until(sockets[who], lambda f: f["type"] in ("ack", "error"))
                if caucus and (who == "m" or {"a": "applicant", "r": "respondent"}[who] == caucus):
                    secrets_for[caucus].append(text)
        received = {name: str(await drain(sock)) for name, sock in sockets.items()}
        for text in secrets_for["applicant"]:
            assert text not in received["r"]
        for text in secrets_for["respondent"]:
            assert text not in received["a"]
