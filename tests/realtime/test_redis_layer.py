"""The production Redis channel layer against the real server: idle sockets survive redis-py 8's
5 s socket timeout, bursts wait for a pooled connection, and every key stays under the layer's prefix."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from mediation.choices import CaseStatus
from tests.realtime.test_case_events import (
    case_socket,
    connect_and_read_snapshot,
    delete_keys,
    drive,
    headers_for,
    new_case,
    ping_gets_pong,
    redis_layer_config,
    redis_url,
    unique_redis_prefix,
    use_layer,
)

pytestmark = pytest.mark.redis

# redis-py 8 defaults socket_timeout to 5 s, and channels_redis blocks in BZPOPMIN for 5 s at a time:
# an idle consumer's read then times out ("Timeout reading from ...") and the socket closes with 1011.
IDLE_SECONDS = 7
BURST = 50
POOL_SIZE = 5


@pytest_asyncio.fixture
async def prefix() -> AsyncIterator[str]:
    """A fresh key prefix; whatever a test leaves under it is removed with SCAN + DEL afterwards."""
    url, prefix = redis_url(), unique_redis_prefix()
    try:
        yield prefix
    finally:
        await delete_keys(url, f"{prefix}:*")


def other_workers_prefix() -> bytes | None:
    """Under pytest-xdist each worker has its own prefix, ``<base>-gw<n>`` (tests/conftest.py): the keys of
    the other workers, which write to the same Redis DB meanwhile, are theirs and not a leak of this layer."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not django_settings.REDIS_PREFIX.endswith(f"-{worker}"):
        return None
    return django_settings.REDIS_PREFIX.removesuffix(worker).encode() + b"gw"


async def all_keys() -> set[bytes]:
    """Every key of the test Redis DB but those of the other xdist workers."""
    client = aioredis.Redis.from_url(redis_url())
    ours, others = django_settings.REDIS_PREFIX.encode(), other_workers_prefix()
    try:
        keys = {key async for key in client.scan_iter(count=1000)}
    finally:
        await client.aclose()
    if others is None:
        return keys
    return {key for key in keys if not key.startswith(others) or key.startswith((ours + b"-", ours + b":"))}


async def burst_of_group_sends(layer: Any) -> list[Any]:
    channel = await layer.new_channel()
    await layer.group_add("burst", channel)
    results = await asyncio.gather(
        *(layer.group_send("burst", {"type": "burst.message", "n": n}) for n in range(BURST)),
        return_exceptions=True,
    )
    if not any(isinstance(result, BaseException) for result in results):
        received = [await layer.receive(channel) for _ in range(BURST)]
        assert sorted(message["n"] for message in received) == list(range(BURST))
    return results


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_idle_longer_than_redis_socket_timeout_still_receives_broadcasts(world, settings, prefix):
    case = await new_case(world)
    async with (
        use_layer(settings, redis_layer_config(prefix)),
        case_socket(case.pk, await headers_for(world.applicant)) as socket,
    ):
        await connect_and_read_snapshot(socket)

        await asyncio.sleep(IDLE_SECONDS)

        # receive_nothing re-raises the consumer's exception if its layer read died while idle.
        assert await socket.receive_nothing()
        await drive(world, case, CaseStatus.SUBMITTED)
        event = await socket.receive_json_from(timeout=3)
        assert event["event"] == {"type": "case.status", "from": CaseStatus.DRAFT, "to": CaseStatus.SUBMITTED}
        assert await ping_gets_pong(socket)


@pytest.mark.asyncio
async def test_burst_of_group_sends_waits_for_a_free_connection_instead_of_failing(settings, prefix):
    async with use_layer(settings, redis_layer_config(prefix, max_connections=POOL_SIZE)):
        layer = get_channel_layer()
        assert layer.connection(0).connection_pool.max_connections == POOL_SIZE

        results = await burst_of_group_sends(layer)

        assert [r for r in results if isinstance(r, BaseException)] == []


@pytest.mark.asyncio
async def test_same_burst_on_channels_redis_plain_pool_runs_out_of_connections(settings, prefix):
    """Why realtime.layers exists, and proof that the burst above really needs more than the pool holds."""
    config = redis_layer_config(prefix, max_connections=POOL_SIZE)
    config["BACKEND"] = "channels_redis.core.RedisChannelLayer"
    del config["CONFIG"]["hosts"][0]["timeout"]  # a BlockingConnectionPool option; the plain pool has none
    async with use_layer(settings, config):
        results = await burst_of_group_sends(get_channel_layer())

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors
    assert all(isinstance(e, RedisConnectionError) and "Too many connections" in str(e) for e in errors)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_layer_creates_keys_only_under_its_own_prefix(world, settings, prefix):
    before = await all_keys()
    case = await new_case(world)
    async with use_layer(settings, redis_layer_config(prefix)):
        async with case_socket(case.pk, await headers_for(world.applicant)) as socket:
            await connect_and_read_snapshot(socket)
            await drive(world, case, CaseStatus.SUBMITTED)
            await socket.receive_json_from(timeout=3)
            await burst_of_group_sends(get_channel_layer())
            during = await all_keys()
        after = await all_keys()

    ours = prefix.encode() + b":"
    assert any(key.startswith(ours) for key in during), "the test saw none of its own keys: is SCAN looking?"
    assert {key for key in (during | after) - before if not key.startswith(ours)} == set()
    await delete_keys(redis_url(), f"{prefix}:*")
    assert {key for key in await all_keys() if key.startswith(ours)} == set()
