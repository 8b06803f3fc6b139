"""URLs of the calendar subscription page and the private feed (included from frontend/urls.py at
/calendar/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_scheduling as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.calendar_subscribe, name="calendar_subscribe"),
    path("<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
