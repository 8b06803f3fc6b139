"""URLs of the in-app inbox (included from frontend/urls.py under ``inbox/``)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_inbox

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_inbox.inbox, name="inbox"),
    path("<int:message_id>/", views_inbox.inbox_message, name="inbox_message"),
    path("read-all/", views_inbox.inbox_read_all, name="inbox_read_all"),
]
