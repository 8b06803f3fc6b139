"""URLs of the apply pages (included from frontend/urls.py at /apply/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_apply

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_apply.apply_start, name="apply_start"),
    path("submit/", views_apply.apply_submit, name="apply_submit"),
    path("evidence/upload/", views_apply.apply_evidence_upload, name="apply_evidence_upload"),
    path("evidence/<int:pk>/", views_apply.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/remove/", views_apply.apply_evidence_remove, name="apply_evidence_remove"),
    path("<slug:step>/", views_apply.apply_step, name="apply_step"),
]
