"""WebSocket URL routes."""

from django.urls import path

from realtime import consumers, room_consumer

websocket_urlpatterns = [
    path("ws/case/<int:case_id>/", consumers.CaseEventsConsumer.as_asgi()),
    path("ws/room/<int:room_id>/", room_consumer.RoomConsumer.as_asgi()),
]
