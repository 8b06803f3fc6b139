from django.urls import include, path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("parties/<int:party_id>/claim/", views.party_claim_view, name="party_claim"),
    # One module per area, each owned by its pages: applying, court intake, the roster, a mediator's work.
    path("apply/", include("frontend.urls_apply")),
    path("intake/", include("frontend.urls_intake")),
    path("mediators/", include("frontend.urls_roster")),
    path("mediate/", include("frontend.urls_mediator")),
    path("cases/<int:case_id>/sessions/", include("frontend.urls_scheduling")),
    path("calendar/", include("frontend.urls_calendar")),
    path("cases/<int:case_id>/", include("frontend.urls_case_actions")),
    path("accounts/phone/", include("frontend.urls_identity")),
    path("service/", include("frontend.urls_service")),
    path("inbox/", include("frontend.urls_inbox")),
    path("", include("frontend.urls_rooms")),  # /sessions/<id>/room/, /rooms/<id>/...
    path("", include("frontend.urls_agreements")),  # /cases/<id>/agreement/...
    path("", include("frontend.urls_documents")),  # /documents/<id>/..., /verify/
]
