"""WebSocket URL routes."""

from django.urls import path

from realtime import consumers

websocket_urlpatterns = [
    path("ws/case/<int:case_id>/", consumers.CaseEventsConsumer.as_asgi()),
]
