"""URLs of the identity pages (included from frontend/urls.py)."""

from django.urls import URLPattern, URLResolver, path

from frontend import views_identity

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_identity.phone_login, name="phone_login"),
    path("identity/", views_identity.identity, name="identity_verify"),
]
