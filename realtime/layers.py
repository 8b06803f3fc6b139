"""The Redis channel layers of the project (decisions D58).

``RedisPubSubChannelLayer`` (the default with Redis): channels_redis' publish/subscribe layer, each process
holding one subscription connection per shard, and publishing on one connection of its own per event loop
(``single_connection_client``) instead of checking a connection out of a pool for each command; the shard
already publishes one message at a time under its lock, so one connection is all it ever uses.

``RedisChannelLayer`` (``CHANNEL_LAYER=redis``): channels_redis' core layer (lists in Redis, a receive loop
per channel, a capacity per channel) with a blocking connection pool. channels_redis builds a plain
``ConnectionPool``, which raises "Too many connections" under a burst; a ``BlockingConnectionPool`` waits up to
``timeout`` seconds for a free connection instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis import pubsub as _pubsub
from channels_redis.core import RedisChannelLayer as _BaseRedisChannelLayer
from channels_redis.utils import _wrap_close, create_pool
from redis import asyncio as aioredis


class RedisChannelLayer(_BaseRedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(address, **host)


class _Shard(_pubsub.RedisSingleShardConnection):
    _redis: Any
    _pubsub: Any

    def _ensure_redis(self) -> None:
        if self._redis is None:
            # Publishing: one connection kept by the client (no checkout per command); the subscription
            # (``pubsub()``) takes its own connection from the same pool, once.
            self._redis = aioredis.Redis(connection_pool=create_pool(self.host), single_connection_client=True)
            self._pubsub = self._redis.pubsub()


class _LoopLayer(_pubsub.RedisPubSubLoopLayer):
    _shards: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]


class RedisPubSubChannelLayer(_pubsub.RedisPubSubChannelLayer):
    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
