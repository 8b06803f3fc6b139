"""The room socket's side of the staff's live view (issue 14 item 3): the ``quality`` frame is validated (bad
input → an error frame and nothing kept), rate-limited on its own budget and kept in the live cache, not the
database; a socket that drops without leaving shows as reconnecting; and a message from staff reaches the one
person it is for, live."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.core.cache import caches

from mediation.choices import LivePresence
from mediation.models import RoomEvent
from mediation.selectors.live_view import dropped_key, live_sessions, quality_key
from mediation.services import live_view
from realtime import frames as f
from realtime.room_consumer import PRESENCE_CLEAR_DELAY
from tests.realtime.test_case_events import MEMORY_LAYER, headers_for, use_layer
from tests.room_support import connect_welcome, drain, frames_until, joint_room, room_socket

# The socket tests are async and commit (the sockets read on threads of their own); the frame tests are plain.
SOCKET = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

_caches = itertools.count()


@pytest_asyncio.fixture
async def memory_layer(settings: Any):
    async with use_layer(settings, MEMORY_LAYER):
        yield


@pytest.fixture(autouse=True)
def live_cache(settings):
    settings.CACHES = {**settings.CACHES, "live": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                   "LOCATION": f"live-socket-{next(_caches)}"}}
    return caches["live"]


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(fn)(*args, **kwargs)


# --- the frame alone ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"type": "quality"},  # no level
    {"type": "quality", "level": "excellent"},
    {"type": "quality", "level": "good", "rtt_ms": -1},
    {"type": "quality", "level": "good", "rtt_ms": "40"},
    {"type": "quality", "level": "good", "rtt_ms": 1.5},
    {"type": "quality", "level": "good", "loss_pct": 101},
    {"type": "quality", "level": "good", "loss_pct": "3"},
    {"type": "quality", "level": True},
])
def test_bad_quality_frames_are_invalid(body):
    parsed = f.parse_frame(json.dumps(body))
    assert isinstance(parsed, f.FrameError) and parsed.code == "invalid", body


def test_a_good_quality_frame():
    parsed = f.parse_frame(json.dumps({"type": "quality", "level": "fair", "rtt_ms": 420, "loss_pct": 3}))
    assert isinstance(parsed, f.Quality) and (parsed.level, parsed.rtt_ms, parsed.loss_pct) == ("fair", 420, 3.0)
    assert f.parse_frame('{"type": "quality", "level": "good", "loss_pct": NaN}').code in {"invalid", "bad_json"}


# --- on the socket ------------------------------------------------------------------------------------------


@SOCKET[0]
@SOCKET[1]
async def test_quality_is_kept_in_the_cache_and_bad_input_keeps_nothing(world, memory_layer, live_cache):
    _case, room, members = await sync(joint_room, world, otp=False)
    applicant = members["applicant"]
    events_before = await sync(RoomEvent.objects.filter(room=room).count)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        await drain(socket)
        await socket.send_json_to({"type": "quality", "ref": "q1", "level": "excellent", "rtt_ms": 10})
        error = (await frames_until(socket, lambda fr: fr["type"] == "error"))[-1]
        assert (error["code"], error["ref"]) == ("invalid", "q1")
        assert live_cache.get(quality_key(applicant.pk)) is None

        await socket.send_json_to({"type": "quality", "ref": "q2", "level": "poor", "rtt_ms": 910, "loss_pct": 12.34})
        ack = (await frames_until(socket, lambda fr: fr["type"] == "ack"))[-1]
        assert ack == {"type": "ack", "ref": "q2", "seq": None}
        kept = live_cache.get(quality_key(applicant.pk))
        assert (kept["level"], kept["rtt_ms"], kept["loss_pct"]) == ("poor", 910, 12.3)
        board = await sync(live_sessions, user=world.clerk)
        person = next(p for p in board["sessions"][0]["participants"] if p["user"] == world.applicant.pk)
        assert (person["presence"], person["quality"]["label"]) == (LivePresence.IN, "较差")

        # Its own budget: a burst beyond three is refused as rate_limited and the last kept value stays.
        for n in range(4):
            await socket.send_json_to({"type": "quality", "ref": f"b{n}", "level": "good"})
        frames = await drain(socket)
        assert [fr["code"] for fr in frames if fr["type"] == "error"] == ["rate_limited", "rate_limited"]
        assert len([fr for fr in frames if fr["type"] == "ack"]) == 2
    # Nothing of it in the room's events (no database write per report).
    assert await sync(RoomEvent.objects.filter(room=room).count) == events_before


@SOCKET[0]
@SOCKET[1]
async def test_a_dropped_socket_shows_as_reconnecting_until_it_comes_back(world, memory_layer, live_cache):
    _case, room, members = await sync(joint_room, world, otp=False)
    respondent = members["respondent"]
    async with room_socket(room.pk, headers=await headers_for(world.respondent)) as socket:
        await connect_welcome(socket)
        await socket.send_json_to({"type": "quality", "level": "good", "rtt_ms": 30})
        await drain(socket)
    # The consumer clears a dropped socket's presence PRESENCE_CLEAR_DELAY later (decision D60), and marks it
    # dropped then: until that, the member still reads as in the room.
    deadline = time.monotonic() + PRESENCE_CLEAR_DELAY + 5
    while live_cache.get(dropped_key(respondent.pk)) is None:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert live_cache.get(dropped_key(respondent.pk)) is not None
    assert live_cache.get(quality_key(respondent.pk)) is None  # the old report no longer applies
    board = await sync(live_sessions, user=world.org_admin)
    person = next(p for p in board["sessions"][0]["participants"] if p["user"] == world.respondent.pk)
    assert (person["presence"], person["quality"]["level"]) == (LivePresence.RECONNECTING, "lost")
    async with room_socket(room.pk, headers=await headers_for(world.respondent)) as socket:
        await connect_welcome(socket)
        board = await sync(live_sessions, user=world.org_admin)
        person = next(p for p in board["sessions"][0]["participants"] if p["user"] == world.respondent.pk)
        assert person["presence"] == LivePresence.IN


@SOCKET[0]
@SOCKET[1]
async def test_the_staff_message_reaches_only_its_person_live(world, memory_layer):
    _case, room, members = await sync(joint_room, world, otp=False)
    async with (room_socket(room.pk, headers=await headers_for(world.respondent)) as respondent,
                room_socket(room.pk, headers=await headers_for(world.applicant)) as applicant,
                room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator):
        for socket in (respondent, applicant, mediator):
            await connect_welcome(socket)
            await drain(socket, quiet=0.2)
        await sync(live_view.room_staff_message, actor=world.org_admin, member_id=members["respondent"].pk,
                   text="请打开摄像头")
        got = (await frames_until(respondent, lambda fr: fr["type"] == "event"))[-1]
        assert got["kind"] == "staff.message" and got["payload"]["text"] == "请打开摄像头"
        for other in (applicant, mediator):
            assert [fr for fr in await drain(other) if fr["type"] == "event"] == []
