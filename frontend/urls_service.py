"""URLs of the electronic service pages (included from frontend/urls.py at /service/)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_service as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("<int:record_id>/", views.record_page, name="service_record"),
    path("<int:record_id>/download/", views.download, name="service_download"),
    path("<int:record_id>/certificate/", views.certificate, name="service_certificate"),
    path("<int:record_id>/certificate.pdf", views.certificate_pdf, name="service_certificate_pdf"),
    path("case/<int:case_id>/serve/", views.serve, name="service_serve"),
    path("address/<int:case_id>/", views.address_page, name="service_address"),
]
