"""The resume token (decisions D50): a reconnecting socket that presents it gets its welcome from one read
with exactly the events it missed, in order; everything the token cannot prove (forged, expired, another room's,
a removed member, a changed space, a locked room) is refused or sent through the full join, with the reason.
A member who loses their place (removed by the mediator, or no longer the case's mediator) has their open socket
closed within a second on whichever worker holds it (two uvicorn workers on the same Redis)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.core import signing

from mediation.selectors import rooms as room_selectors
from mediation.services import room_controls, room_entry, room_record
from realtime import room_consumer
from tests.realtime.test_case_events import headers_for, layer  # noqa: F401 - the layer fixture
from tests.room_support import (
    connect_welcome,
    drain,
    joint_room,
    open_room,
    ready_member,
    refusal_code,
    room_socket,
    token_for,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(fn)(*args, **kwargs)


async def origin_only() -> list[tuple[bytes, bytes]]:
    return await headers_for(None)


async def first_welcome(room_id: int, member: Any) -> dict[str, Any]:
    """A socket opened with a join token and closed again: its welcome (with the resume token)."""
    token = await token_for(member)
    async with room_socket(room_id, headers=await origin_only(), token=token) as socket:
        return await connect_welcome(socket)


def tamper(token: str) -> str:
    head, tail = token[:-4], token[-4:]
    return head + ("AAAA" if tail != "AAAA" else "BBBB")


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_resumed_socket_gets_exactly_the_events_it_missed_in_order(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["respondent"])
    assert welcome["resumed"] is False and welcome["resume_token"].startswith(room_entry.RESUME_PREFIX)
    missed = [
        (await sync(room_record.room_chat_post, member=m["applicant"], text=f"第{n}条", client_id=f"c{n}")).seq
        for n in range(5)
    ]
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"],
                           since=welcome["last_seq"]) as socket:
        again = await connect_welcome(socket)
    assert again["resumed"] is True and "resume_refused" not in again
    assert [e["seq"] for e in again["events"]] == missed
    assert [e["payload"]["text"] for e in again["events"]] == [f"第{n}条" for n in range(5)]
    assert again["you"]["member"] == m["respondent"].pk and again["last_seq"] == missed[-1]


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_resume_without_since_starts_from_the_seq_in_the_token(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["respondent"])
    seq = (await sync(room_record.room_chat_post, member=m["applicant"], text="错过的", client_id="x")).seq
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"]) as socket:
        again = await connect_welcome(socket)
    assert again["resumed"] is True and [e["seq"] for e in again["events"]] == [seq]


def test_the_resume_path_reads_the_database_in_at_most_four_statements(world, django_assert_max_num_queries):
    _case, room, m = joint_room(world)
    member = m["respondent"]
    for n in range(3):
        room_record.room_chat_post(member=m["applicant"], text=f"{n}", client_id=f"q{n}")
    token = room_entry.room_resume_token(member=member, room_id=room.pk, caucus_side="", party_id=member.party_id,
                                         seq=1, joined=int(time.time()))
    claims = room_entry.room_resume_read(token=token, room_id=room.pk)
    with django_assert_max_num_queries(4):
        body, infos, _media, _party = room_consumer._welcome_sync(room.pk, member.pk, "chan-x", 1, claims)
    visible = [e.seq for e in room_selectors.room_events_visible(member=member, since=1)]
    assert [e["seq"] for e in body["events"]] == visible and len(visible) >= 3
    assert set(infos) == {mm.pk for mm in m.values()}


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_forged_token_is_refused_without_a_cookie_and_full_joins_with_one(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["applicant"])
    forged = tamper(welcome["resume_token"])
    async with room_socket(room.pk, headers=await origin_only(), token=forged) as socket:
        assert await refusal_code(socket) == 4401
    # Signed with another key: just as forged.
    other = room_entry.RESUME_PREFIX + signing.dumps({"m": m["applicant"].pk, "r": room.pk}, key="x" * 50,
                                                     salt=room_entry.RESUME_SALT)
    async with room_socket(room.pk, headers=await origin_only(), token=other) as socket:
        assert await refusal_code(socket) == 4401
    async with room_socket(room.pk, headers=await headers_for(world.applicant), token=forged) as socket:
        again = await connect_welcome(socket)
    assert (again["resumed"], again["resume_refused"]) == (False, "forged")


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_expired_token_is_refused_with_4409_or_full_joins_with_a_cookie(world, settings):
    _case, room, m = await sync(joint_room, world)
    member = m["applicant"]
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.ROOM_RESUME_TTL + 5), tick=False):
        old = room_entry.room_resume_token(member=member, room_id=room.pk, caucus_side="", party_id=member.party_id,
                                           seq=0, joined=int(time.time()))
    async with room_socket(room.pk, headers=await origin_only(), token=old) as socket:
        assert await refusal_code(socket) == 4409
    async with room_socket(room.pk, headers=await headers_for(world.applicant), token=old) as socket:
        again = await connect_welcome(socket)
    assert (again["resumed"], again["resume_refused"]) == (False, "expired")


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_another_rooms_token_is_refused(world):
    _case, room, m = await sync(joint_room, world)
    _case2, room2, m2 = await sync(joint_room, world, otp=False)
    welcome = await first_welcome(room.pk, m["applicant"])
    async with room_socket(room2.pk, headers=await origin_only(), token=welcome["resume_token"]) as socket:
        assert await refusal_code(socket) == 4401
    async with room_socket(room2.pk, headers=await headers_for(world.applicant),
                           token=welcome["resume_token"]) as socket:
        again = await connect_welcome(socket)
    assert (again["resume_refused"], again["you"]["member"]) == ("room", m2["applicant"].pk)


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_removed_members_token_is_refused_with_4408(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["respondent"])
    await sync(room_controls.room_remove, room=room, actor=world.mediator, member=m["respondent"].pk)
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"]) as socket:
        assert await refusal_code(socket) == 4408


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_member_whose_space_changed_goes_through_the_full_join_with_the_reason(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["respondent"])
    assert welcome["space"] == "joint"
    await sync(room_controls.room_caucus_start, room=room, actor=world.mediator, side="applicant")
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"],
                           since=welcome["last_seq"]) as socket:
        again = await connect_welcome(socket)
    assert (again["resumed"], again["resume_refused"], again["space"]) == (False, "space", "waiting:respondent")
    assert [e["kind"] for e in again["events"]] == ["room.space"]


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_locked_room_sends_the_resume_through_the_full_join(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["respondent"])
    await sync(room_controls.room_lock, room=room, actor=world.mediator, locked=True)
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"]) as socket:
        again = await connect_welcome(socket)
    assert (again["resumed"], again["resume_refused"], again["room"]["locked"]) == (False, "locked", True)


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_member_who_left_and_was_locked_out_is_refused_with_4423(world):
    _case, room, m = await sync(joint_room, world)
    welcome = await first_welcome(room.pk, m["respondent"])
    await sync(room_entry.room_leave, member=m["respondent"])
    await sync(room_controls.room_lock, room=room, actor=world.mediator, locked=True)
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"]) as socket:
        assert await refusal_code(socket) == 4423


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_open_socket_is_sent_a_fresh_resume_token(world, monkeypatch, settings):
    settings.ROOM_RESUME_TTL = 3  # refreshed every second
    _case, room, m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        welcome = await connect_welcome(socket)
        await sync(room_record.room_chat_post, member=m["respondent"], text="新消息", client_id="r1")
        frames = await drain(socket, quiet=1.6)
    fresh = [f for f in frames if f["type"] == "resume"]
    assert fresh and fresh[-1]["token"] != welcome["resume_token"]
    claims = room_entry.room_resume_read(token=fresh[-1]["token"], room_id=room.pk)
    assert (claims.member_id, claims.seq) == (m["applicant"].pk, welcome["last_seq"] + 1)


def test_stale_chain_of_resumes_runs_the_full_join(world, settings):
    _case, room, m = joint_room(world)
    member = m["applicant"]
    token = room_entry.room_resume_token(member=member, room_id=room.pk, caucus_side="", party_id=member.party_id,
                                         seq=0, joined=int(time.time()) - settings.ROOM_RESUME_MAX_AGE - 1)
    with pytest.raises(room_entry.ResumeRefused) as refused:
        room_entry.room_resume_read(token=token, room_id=room.pk)
    assert (refused.value.reason, refused.value.user_id) == ("stale", member.user_id)


@pytest.mark.asyncio
@pytest.mark.usefixtures("layer")
async def test_waiting_member_admitted_while_away_full_joins_with_reason_space(world):
    _case, _session, room = await sync(open_room, world)
    await sync(ready_member, room, world.mediator)
    waiting = await sync(ready_member, room, world.applicant)
    welcome = await first_welcome(room.pk, waiting)
    assert welcome["space"] == "lobby"
    await sync(room_controls.room_admit, room=room, actor=world.mediator, member=waiting.pk)
    async with room_socket(room.pk, headers=await origin_only(), token=welcome["resume_token"]) as socket:
        again = await connect_welcome(socket)
    assert (again["resume_refused"], again["space"], again["you"]["state"]) == ("space", "joint", "admitted")



def test_the_welcome_after_a_full_join_or_a_resync_is_four_statements_too(world, django_assert_max_num_queries):
    _case, room, m = joint_room(world)
    member = m["mediator"]
    with django_assert_max_num_queries(4):
        body, infos, _media, _party = room_consumer._welcome_sync(room.pk, member.pk, "chan-y", 0, None)
    assert body["you"]["member"] == member.pk and len(infos) == 4
    assert room_entry.RoomMember.objects.get(pk=member.pk).online_channel == "chan-y"
