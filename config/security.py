"""Response headers that django-csp and django-permissions-policy set, with the one exception we need."""

from __future__ import annotations

from csp.middleware import CSPMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class HtmlCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, except on PDFs: Chromium shows a PDF in a page of its own made of inline styles
    and a plugin, which the site's policy (no inline style, no object) would leave blank."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith("application/pdf"):
            response._csp_exempt = True  # type: ignore[attr-defined]  # django-csp's own flag (csp_exempt)
        return super().process_response(request, response)
