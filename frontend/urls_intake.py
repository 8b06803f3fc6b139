"""URLs of the intake pages (included from frontend/urls.py at /intake/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_intake as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.intake_queue, name="intake_queue"),
    path("<int:case_id>/accept/", views.intake_accept, name="intake_accept"),
    path("<int:case_id>/return/", views.intake_return, name="intake_return"),
    path("<int:case_id>/organisation/", views.intake_refer_to_organisation, name="intake_refer_to_organisation"),
    path("referrals/new/", views.intake_referral_create, name="intake_referral_create"),
    path("org/", views.intake_org_queue, name="intake_org_queue"),
    path("org/<int:case_id>/distribute/", views.intake_org_distribute, name="intake_org_distribute"),
    path("mine/", views.intake_mine, name="intake_mine"),
]
