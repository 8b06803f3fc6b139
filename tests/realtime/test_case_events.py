"""The case events socket through the real ASGI application (origin check, session auth, routing),
on both the in-memory channel layer and real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from redis import asyncio as aioredis
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed

import config.settings as config_settings
from config.asgi import application
from mediation.choices import CaseStatus
from realtime import consumers
from realtime.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, MAX_FRAME_BYTES

MEMORY_LAYER = {"BACKEND": "channels.layers.InMemoryChannelLayer"}
# Redis is slower than the in-memory layer; a frame that is coming arrives well within this.
RECEIVE_TIMEOUT = 3


# --- helpers shared with test_redis_layer -------------------------------------------------------------


def redis_url() -> str:
    """The real Redis the suite claims; a missing REDIS_URL fails the Redis variants instead of skipping."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail(
            "REDIS_URL is not set, but this test claims real Redis. "
            "Run with REDIS_URL=redis://127.0.0.1:6379/<db>, or deselect with -m 'not redis'."
        )
    return url


def unique_redis_prefix() -> str:
    """A key prefix no other run and no deployment shares, so cleanup can never touch foreign keys."""
    return f"{django_settings.REDIS_PREFIX}-test-{uuid.uuid4().hex[:12]}"


def redis_layer_config(prefix: str, **host_overrides: Any) -> dict[str, Any]:
    """The production Redis layer config (config.settings.redis_channel_layer) under a test prefix."""
    config = config_settings.redis_channel_layer(redis_url(), prefix)
    config["CONFIG"]["hosts"][0].update(host_overrides)
    return config


def default_redis_layer_config(prefix: str) -> dict[str, Any]:
    """The layer a process started without CHANNEL_LAYER uses (config.settings: the pub/sub layer with Redis,
    decision D58), under a test prefix: for tests where this process and started workers must share one."""
    if config_settings.CHANNEL_LAYER_BACKEND == "redis-pubsub":
        return config_settings.redis_pubsub_channel_layer(redis_url(), prefix)
    return redis_layer_config(prefix)


async def delete_keys(url: str, pattern: str) -> None:
    """SCAN + DEL of our own keys only: the Redis is shared, so never FLUSHDB/FLUSHALL."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def use_layer(settings: Any, layer_config: dict[str, Any]) -> AsyncIterator[None]:
    """Point CHANNEL_LAYERS at ``layer_config`` for one test and drop channels' cached layer around it.

    Changing the setting already resets channels' cache (its setting_changed receiver); clearing by
    hand as well keeps a layer built on a previous test's event loop from ever being reused.
    """
    channel_layers.backends.clear()
    settings.CHANNEL_LAYERS = {"default": layer_config}
    channel_layers.backends.clear()
    try:
        yield
    finally:
        layer = channel_layers.backends.get("default")
        if layer is not None and hasattr(layer, "close_pools"):
            await layer.close_pools()  # close this loop's connections before the loop goes away
        channel_layers.backends.clear()


@pytest_asyncio.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.redis)],
)
async def layer(request: pytest.FixtureRequest, settings: Any) -> AsyncIterator[str]:
    """Each test runs on the in-memory layer and on real Redis (under its own key prefix)."""
    if request.param == "memory":
        async with use_layer(settings, MEMORY_LAYER):
            yield "memory"
        return
    url, prefix = redis_url(), unique_redis_prefix()
    try:
        async with use_layer(settings, redis_layer_config(prefix)):
            yield "redis"
    finally:
        await delete_keys(url, f"{prefix}:*")


def allowed_origin() -> bytes:
    """An Origin that AllowedHostsOriginValidator accepts (pytest-django only appends 'testserver')."""
    concrete = (h for h in django_settings.ALLOWED_HOSTS if h not in {"*", "testserver"} and not h.startswith("."))
    host = next(concrete, "localhost")  # only wildcards: any host passes
    return f"http://{host}".encode()


@database_sync_to_async
def session_cookie(user: Any) -> bytes:
    """Log ``user`` in the way a browser would end up: a session row and its cookie."""
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def headers_for(user: Any | None, *, origin: bytes | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin if origin is not None else allowed_origin())]
    if user is not None:
        headers.append((b"cookie", await session_cookie(user)))
    return headers


def case_path(case_id: int) -> str:
    return f"/ws/case/{case_id}/"


@asynccontextmanager
async def case_socket(case_id: int, headers: list[tuple[bytes, bytes]]) -> AsyncIterator[WebsocketCommunicator]:
    communicator = WebsocketCommunicator(application, case_path(case_id), headers=headers)
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def refusal_code(communicator: WebsocketCommunicator) -> int:
    """The close code a client sees for a refused socket; it must get nothing else first."""
    accepted, detail = await communicator.connect(timeout=RECEIVE_TIMEOUT)
    if not accepted:
        return int(detail)
    message = await communicator.receive_output(timeout=RECEIVE_TIMEOUT)
    assert message["type"] == "websocket.close", f"refused socket was sent {message!r} before closing"
    return int(message["code"])


async def connect_and_read_snapshot(communicator: WebsocketCommunicator) -> dict[str, Any]:
    accepted, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
    assert accepted
    frame = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert frame["type"] == "snapshot", frame
    return frame["case"]


async def ping_gets_pong(communicator: WebsocketCommunicator) -> bool:
    await communicator.send_json_to({"type": "ping"})
    return await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT) == {"type": "pong"}


async def new_case(world: Any) -> Any:
    return await database_sync_to_async(world.new_case)()


async def drive(world: Any, case: Any, status: str) -> Any:
    return await database_sync_to_async(world.drive)(case, status)


# --- subscribing -------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_party_receives_snapshot_then_status_event(world, layer):
    case = await new_case(world)
    async with case_socket(case.pk, await headers_for(world.applicant)) as socket:
        snapshot = await connect_and_read_snapshot(socket)
        assert snapshot == {"id": case.pk, "reference": case.reference, "status": CaseStatus.DRAFT}

        await drive(world, case, CaseStatus.SUBMITTED)

        event = await socket.receive_json_from(timeout=RECEIVE_TIMEOUT)
        assert event == {
            "type": "event",
            "event": {"type": "case.status", "from": CaseStatus.DRAFT, "to": CaseStatus.SUBMITTED},
        }
        assert await socket.receive_nothing()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_other_side_and_its_lawyer_and_the_court_judge_receive_status_events(world, layer):
    case = await new_case(world)
    watchers = [world.respondent, world.lawyer, world.judge]
    async with (
        case_socket(case.pk, await headers_for(watchers[0])) as respondent,
        case_socket(case.pk, await headers_for(watchers[1])) as lawyer,
        case_socket(case.pk, await headers_for(watchers[2])) as judge,
    ):
        for socket in (respondent, lawyer, judge):
            assert (await connect_and_read_snapshot(socket))["status"] == CaseStatus.DRAFT

        await drive(world, case, CaseStatus.SUBMITTED)

        for socket in (respondent, lawyer, judge):
            event = await socket.receive_json_from(timeout=RECEIVE_TIMEOUT)
            assert event["event"]["to"] == CaseStatus.SUBMITTED


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_on_another_case_receives_nothing_from_this_case(world, layer):
    watched, changed = await new_case(world), await new_case(world)
    async with case_socket(watched.pk, await headers_for(world.applicant)) as socket:
        await connect_and_read_snapshot(socket)

        await drive(world, changed, CaseStatus.SUBMITTED)

        assert await socket.receive_nothing(timeout=0.5)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_status_change_committed_while_connecting_is_not_lost(world, layer, monkeypatch):
    """Snapshot + events == the database, even when a transition commits in the middle of connect."""
    case = await new_case(world)
    real_selector = consumers.case_get_for_user
    calls = 0

    def selector_then_someone_submits(*, user: Any, case_id: int) -> Any:
        nonlocal calls
        calls += 1
        found = real_selector(user=user, case_id=case_id)
        if calls == 1:  # right after the socket's first read: commit (and broadcast) a transition
            world.drive(case, CaseStatus.SUBMITTED)
        return found

    monkeypatch.setattr(consumers, "case_get_for_user", selector_then_someone_submits)
    async with case_socket(case.pk, await headers_for(world.applicant)) as socket:
        status = (await connect_and_read_snapshot(socket))["status"]
        while not await socket.receive_nothing(timeout=0.5):
            status = (await socket.receive_json_from())["event"]["to"]

    assert status == CaseStatus.SUBMITTED


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("intruder", ["outsider", "other_judge", "other_clerk", "other_mediator"])
async def test_people_without_a_role_cannot_subscribe_to_case_events(world, layer, intruder):
    case = await new_case(world)
    async with case_socket(case.pk, await headers_for(getattr(world, intruder))) as socket:
        assert await refusal_code(socket) == CLOSE_FORBIDDEN


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_unknown_case_is_refused_like_a_forbidden_one(world, layer):
    case = await new_case(world)
    async with case_socket(case.pk + 1000, await headers_for(world.applicant)) as socket:
        assert await refusal_code(socket) == CLOSE_FORBIDDEN


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_anonymous_socket_is_refused_as_unauthenticated(world, layer):
    case = await new_case(world)
    async with case_socket(case.pk, await headers_for(None)) as socket:
        assert await refusal_code(socket) == CLOSE_UNAUTHENTICATED


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_from_a_foreign_origin_is_refused_at_the_handshake(world, layer):
    case = await new_case(world)
    headers = await headers_for(world.applicant, origin=b"https://evil.example.com")
    async with case_socket(case.pk, headers) as socket:
        accepted, _ = await socket.connect(timeout=RECEIVE_TIMEOUT)
        assert accepted is False

        await drive(world, case, CaseStatus.SUBMITTED)

        assert await socket.receive_nothing(timeout=0.5)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_without_an_origin_header_is_refused_at_the_handshake(world, layer):
    case = await new_case(world)
    headers = [(b"cookie", await session_cookie(world.applicant))]
    async with case_socket(case.pk, headers) as socket:
        accepted, _ = await socket.connect(timeout=RECEIVE_TIMEOUT)
        assert accepted is False


@asynccontextmanager
async def real_server() -> AsyncIterator[str]:
    """uvicorn serving the ASGI application on a free port of this event loop; yields the ws:// base."""
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        ws="websockets-sansio",
        log_config=None,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("who", "code"), [("outsider", CLOSE_FORBIDDEN), (None, CLOSE_UNAUTHENTICATED)])
async def test_browser_behind_a_real_server_sees_the_refusal_close_code(world, layer, who, code):
    """A close before accept would be an HTTP 403 handshake failure, seen by a browser as a bare 1006."""
    case = await new_case(world)
    headers = [("Cookie", (await session_cookie(getattr(world, who))).decode())] if who else []
    async with (
        real_server() as base,
        websocket_connect(
            f"{base}{case_path(case.pk)}",
            origin=allowed_origin().decode(),
            additional_headers=headers,
            open_timeout=RECEIVE_TIMEOUT,
        ) as browser,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(browser.recv(), RECEIVE_TIMEOUT)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code


# --- malformed frames ----------------------------------------------------------------------------------


MALFORMED = {
    "bad_json": ({"text_data": "{not json"}, "bad_json"),
    "binary": ({"bytes_data": b"\x00\x01binary"}, "text_only"),
    "oversized": ({"text_data": json.dumps({"type": "ping", "pad": "x" * MAX_FRAME_BYTES})}, "too_large"),
    "oversized_by_utf8_bytes": (
        {"text_data": json.dumps({"pad": "调" * (MAX_FRAME_BYTES // 3 + 1)}, ensure_ascii=False)},
        "too_large",
    ),
    "non_object": ({"text_data": json.dumps(["ping"])}, "unknown_type"),
    "bare_string": ({"text_data": json.dumps("ping")}, "unknown_type"),
    "unknown_type": ({"text_data": json.dumps({"type": "subscribe_all"})}, "unknown_type"),
    "missing_type": ({"text_data": json.dumps({"hello": 1})}, "unknown_type"),
}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_frame_gets_an_error_and_the_socket_stays_usable(world, layer, frame):
    send_kwargs, code = frame
    case = await new_case(world)
    async with case_socket(case.pk, await headers_for(world.applicant)) as socket:
        await connect_and_read_snapshot(socket)

        await socket.send_to(**send_kwargs)

        error = await socket.receive_json_from(timeout=RECEIVE_TIMEOUT)
        assert error["type"] == "error"
        assert error["code"] == code
        assert error["message"]
        assert await socket.receive_nothing()
        assert await ping_gets_pong(socket)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_frame_of_exactly_the_limit_is_accepted(world, layer):
    frame = json.dumps({"type": "ping", "pad": ""})
    frame = frame.replace('""', '"' + "x" * (MAX_FRAME_BYTES - len(frame)) + '"')
    assert len(frame.encode()) == MAX_FRAME_BYTES
    case = await new_case(world)
    async with case_socket(case.pk, await headers_for(world.applicant)) as socket:
        await connect_and_read_snapshot(socket)

        await socket.send_to(text_data=frame)

        assert await socket.receive_json_from(timeout=RECEIVE_TIMEOUT) == {"type": "pong"}


@pytest.mark.asyncio
async def test_layer_fixture_really_switches_the_channel_layer(layer):
    backend = type(get_channel_layer()).__module__ + "." + type(get_channel_layer()).__name__
    expected = "channels.layers.InMemoryChannelLayer" if layer == "memory" else "realtime.layers.RedisChannelLayer"
    assert backend == expected
