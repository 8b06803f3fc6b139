"""URLs of the case action pages (included from frontend/urls.py at /cases/<case_id>/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_case_actions as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("choose/", views.choose, name="case_choose"),
    path("accept/", views.mediator_accept_page, name="case_mediator_accept"),
    path("decline/", views.mediator_decline_page, name="case_mediator_decline"),
    path("disclosure/", views.disclosure_page, name="case_disclosure"),
    path("recusal/", views.recusal_page, name="case_recusal"),
    path("respondent/", views.respondent_page, name="case_respondent"),
    path("respond/", views.respond_page, name="case_respond"),
]
