"""The court's roles on the room socket (issue 11 items 2 and 5): the judge presiding a verification session
(caucus refused, record kept), the mediator's `guidance.request` frame, and a guiding judge who may chat but
gets `forbidden` for presiding frames and is closed when the request is closed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from channels.db import database_sync_to_async

from mediation.exceptions import NotFound
from mediation.models import GuidanceRequest, RecordEntry
from mediation.services import room_entry
from mediation.services.room_guidance import room_guidance_close
from tests.realtime.test_case_events import headers_for, layer  # noqa: F401 - the layer fixture
from tests.room_support import connect_welcome, drain, frames_until, joint_room, ready_member, room_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("layer")]


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await database_sync_to_async(fn)(*args, **kwargs)


def verification_room(world: Any) -> Any:
    from tests.mediation.test_verification_session import opened

    return opened(world)


async def test_presiding_judge_records_and_caucus_is_refused(world):
    _case, _session, room, _m = await sync(verification_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.judge)) as socket:
        welcome = await connect_welcome(socket)
        assert welcome["you"]["role"] == "judge" and welcome["room"]["purpose"] == "verification"
        await socket.send_json_to({"type": "caucus", "ref": "c", "side": "applicant"})
        error = (await frames_until(socket, lambda f: f["type"] == "error"))[-1]
        assert error["ref"] == "c" and error["code"] != "forbidden" and "第三百五十六条" in error["message"]
        await socket.send_json_to({"type": "record.add", "ref": "r", "text": "问：是否自愿？", "tag": ""})
        ack = (await frames_until(socket, lambda f: f["type"] == "ack"))[-1]
        assert ack["ref"] == "r" and ack["seq"]
    assert await sync(lambda: list(RecordEntry.objects.filter(room=room).values_list("text", flat=True))) == [
        "问：是否自愿？"]


async def test_mediator_calls_the_court_and_the_guide_cannot_preside(world):
    _case, room, _m = await sync(joint_room, world)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as party:
        await connect_welcome(party)
        await party.send_json_to({"type": "guidance.request", "ref": "g", "reason": "我也要请法官"})
        error = (await frames_until(party, lambda f: f["type"] == "error"))[-1]
        assert (error["code"], error["ref"]) == ("forbidden", "g")
    async with room_socket(room.pk, headers=await headers_for(world.mediator)) as mediator:
        await connect_welcome(mediator)
        await mediator.send_json_to({"type": "guidance.request", "ref": "g", "reason": "违约金计算请法院指导"})
        await frames_until(mediator, lambda f: f["type"] == "ack" and f["ref"] == "g")
    request = await sync(GuidanceRequest.objects.get, room=room)
    await sync(ready_member, room, world.judge, admit_by=world.mediator)
    async with room_socket(room.pk, headers=await headers_for(world.judge)) as guide:
        welcome = await connect_welcome(guide)
        assert welcome["you"]["role"] == "judge_guide" and welcome["space"] == "joint"
        for frame in ({"type": "record.add", "ref": "a", "text": "法官记", "tag": ""},
                      {"type": "lock", "ref": "l", "locked": True},
                      {"type": "guidance.request", "ref": "q", "reason": "再请"}):
            await guide.send_json_to(frame)
            error = (await frames_until(guide, lambda f: f["type"] == "error"))[-1]
            assert (error["code"], error["ref"]) == ("forbidden", frame["ref"])
        await guide.send_json_to({"type": "chat", "ref": "c1", "text": "请双方注意违约金不宜过高。"})
        await frames_until(guide, lambda f: f["type"] == "ack" and f["ref"] == "c1")
        await drain(guide)
        # The court closes the request: the guide's place ends and the socket closes.
        await sync(room_guidance_close, request=request, actor=world.judge, answer="已指导")
        frames: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while not frames or frames[-1]["type"] != "__close__":
                    frames += await drain(guide)
        assert frames[-1] == {"type": "__close__", "code": 1000}
    with pytest.raises(NotFound):  # no place any more
        await sync(room_entry.room_connect, room_id=room.pk, user=world.judge)
