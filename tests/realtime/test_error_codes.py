"""The socket side of the error boundary: a domain error refusing a room socket closes it with the code its
class declares (docs/protocol.md), and one refusing a frame answers with its error frame code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async

from documents.services.signing import StoredFileAltered
from mediation import exceptions as e
from mediation.services import room_entry
from mediation.services.identity import OtpThrottled
from realtime import room_consumer
from tests.realtime.test_case_events import MEMORY_LAYER, headers_for, use_layer
from tests.room_support import connect_welcome, frames_until, joint_room, refusal_code, room_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("memory_layer")]


@pytest_asyncio.fixture
async def memory_layer(settings: Any) -> AsyncIterator[None]:
    """The in-memory layer is enough here: the codes come from the errors, not from the layer (the room's own
    tests run on both layers)."""
    async with use_layer(settings, MEMORY_LAYER):
        yield

# class, close code while connecting, error frame code once connected. Written out: the protocol's contract.
TABLE = [
    (e.DomainError, 4403, "refused"),
    (e.InvalidInput, 4403, "refused"),
    (e.TransitionNotAllowed, 4403, "refused"),
    (e.StaleState, 4403, "refused"),
    (e.PermissionDenied, 4403, "forbidden"),
    (e.NotFound, 4403, "forbidden"),
    (e.NotSignedIn, 4401, "refused"),
    (e.TokenInvalid, 4401, "refused"),
    (e.TokenSpent, 4409, "refused"),
    (e.RoomEnded, 4410, "refused"),
    (e.MemberRemoved, 4408, "refused"),
    (e.RoomLocked, 4423, "refused"),
    (e.ChecksRequired, 4412, "refused"),
    (e.NotAdmitted, 4403, "forbidden"),
    (e.NoticesRequired, 4403, "refused"),
    (OtpThrottled, 4403, "forbidden"),
    (StoredFileAltered, 4403, "refused"),
]
IDS = [row[0].__name__ for row in TABLE]


def _error(cls: type[e.DomainError]) -> e.DomainError:
    if cls is e.NoticesRequired:
        return e.NoticesRequired("请确认全部告知事项。", required=[])
    if cls is OtpThrottled:
        return OtpThrottled("请稍后再试。", retry_after=60)
    return cls("规则不允许这样做。")


@pytest.mark.parametrize(("cls", "close_code", "_frame"), TABLE, ids=IDS)
async def test_a_refused_room_socket_closes_with_the_code_of_its_error(monkeypatch, cls, close_code, _frame):
    def refuse(**kwargs: Any) -> None:
        raise _error(cls)

    monkeypatch.setattr(room_entry, "room_connect", refuse)
    async with room_socket(1, headers=await headers_for(None)) as socket:
        assert await refusal_code(socket) == close_code


async def test_a_refused_frame_is_answered_with_the_code_of_its_error(world, monkeypatch):
    _case, room, _m = await database_sync_to_async(joint_room)(world)
    raised: list[e.DomainError] = []

    def refuse(member_id: int, frame: Any) -> None:
        raised.append(_error(TABLE[len(raised)][0]))
        raise raised[-1]

    monkeypatch.setattr(room_consumer, "_command_sync", refuse)
    async with room_socket(room.pk, headers=await headers_for(world.applicant)) as socket:
        await connect_welcome(socket)
        for i, (_cls, _close, frame_code) in enumerate(TABLE):
            await socket.send_json_to({"type": "chat", "text": "你好", "ref": f"r{i}"})
            answer = (await frames_until(socket, lambda f: f["type"] in ("error", "ack")))[-1]
            assert (answer["type"], answer["code"], answer["ref"]) == ("error", frame_code, f"r{i}"), IDS[i]
            assert answer["message"] == str(raised[i])
