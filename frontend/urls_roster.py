"""URLs of the roster pages (included from frontend/urls.py at /mediators/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_roster as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.directory, name="roster_directory"),
    path("<int:profile_id>/", views.mediator_detail, name="roster_mediator_detail"),
    path("<int:profile_id>/complain/", views.complaint_new, name="roster_complaint_new"),
    path("complaints/", views.complaint_list, name="roster_complaint_list"),
    path("complaints/<int:complaint_id>/decide/", views.complaint_decide_view, name="roster_complaint_decide"),
    path("recommend/<int:case_id>/", views.recommend, name="roster_recommend"),
    path("manage/", views.manage, name="roster_manage"),
    path("manage/<int:court_id>/add/", views.manage_add, name="roster_manage_add"),
    path("manage/<int:court_id>/adopt/<int:entry_id>/", views.manage_adopt, name="roster_manage_adopt"),
    path("manage/suspend/<int:profile_id>/", views.manage_suspend, name="roster_manage_suspend"),
    path("manage/reinstate/<int:profile_id>/", views.manage_reinstate, name="roster_manage_reinstate"),
    path("adoptions/", views.adoptions, name="roster_adoptions"),
    path("adoptions/<int:entry_id>/answer/", views.adoption_answer, name="roster_adoption_answer"),
]
