"""Channel layer with a blocking connection pool.

channels_redis builds a plain ``ConnectionPool``, which raises "Too many connections" under a burst.
A ``BlockingConnectionPool`` waits up to ``timeout`` seconds for a free connection instead.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer as _BaseRedisChannelLayer
from redis import asyncio as aioredis


class RedisChannelLayer(_BaseRedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(address, **host)
