"""URLs of the room pages (included at the site root): entering from a session, the join steps, the room,
the mediator's invitation, and the small JSON API of docs/protocol.md."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_rooms as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sessions/<int:session_id>/room/", views.session_room_enter, name="session_room"),
    path("rooms/<int:room_id>/", views.room_page, name="room_page"),
    path("rooms/<int:room_id>/join/", views.room_join, name="room_join"),
    path("rooms/<int:room_id>/join/identity/", views.room_join_identity, name="room_join_identity"),
    path("rooms/<int:room_id>/join/device/", views.room_join_device, name="room_join_device"),
    path("rooms/<int:room_id>/join/notices/", views.room_join_notices, name="room_join_notices"),
    path("rooms/<int:room_id>/invite/", views.room_invite, name="room_invite"),
    path("rooms/<int:room_id>/api/code/", views.api_code, name="room_api_code"),
    path("rooms/<int:room_id>/api/token/", views.api_token, name="room_api_token"),
    path("rooms/<int:room_id>/files/", views.room_files, name="room_files"),
]
