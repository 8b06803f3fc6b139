"""URL wiring: the web UI's one table (frontend/urls.py), the admin, and the health check."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog

from api.endpoints import api
from frontend.views import cases

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", cases.healthz, name="healthz"),
    path("api/v1/", api.urls),  # not under i18n_patterns: one address per operation, whatever the language
    path("favicon.ico", cases.favicon),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The text of every script (locale/*/djangojs.po), in the page's language: base.html loads it first.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("frontend.urls")),
    prefix_default_language=False,
)

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
