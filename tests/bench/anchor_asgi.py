"""The anchor of the room benchmarks (issue 15 item 7): a plain Channels app on the same Redis, with
channels_redis' pub/sub layer, whose consumer does nothing but fan out. A socket at ``/ws/anchor/<room>/``
joins its room's group and is sent ``{"type":"welcome"}``; every text frame it sends goes to the whole group
as it came (the sender too). No authentication, no database, no validation: what the room socket costs above
this is the project's own work per frame.

Served by uvicorn in a subprocess (``room_bench_support.uvicorn_worker(app=ANCHOR_APP)``), with its own
minimal settings (only ``channels`` installed), never Yizhan's."""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["channels"],
        ALLOWED_HOSTS=["*"],
        CHANNEL_LAYERS={"default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]],
                       "prefix": f"{os.environ.get('REDIS_PREFIX', 'yizhan')}:anchor"},
        }},
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path

WELCOME = '{"type":"welcome"}'


class FanOut(AsyncWebsocketConsumer):
    group = ""

    async def connect(self) -> None:
        self.group = f"anchor.{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=WELCOME)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(self.group, {"type": "fan.out", "text": text_data})

    async def fan_out(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)


application = URLRouter([path("ws/anchor/<str:room>/", FanOut.as_asgi())])
