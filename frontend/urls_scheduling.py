"""URLs of a case's session pages (included from frontend/urls.py at /cases/<case_id>/sessions/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_scheduling as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.session_list, name="session_list"),
    path("new/", views.session_new, name="session_new"),
    path("<int:session_id>/reschedule/", views.session_reschedule_page, name="session_reschedule"),
    path("<int:session_id>/cancel/", views.session_cancel_page, name="session_cancel"),
    path("<int:session_id>/invite.ics", views.session_ics_download, name="session_ics"),
]
