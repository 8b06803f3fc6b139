"""Every API call leaves an audit row (``api.call``) with its client, method, path, status and address.
The schema and the docs page are not calls on data and are left out."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse


class ApiAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        schema = reverse("api-v1:openapi-json")
        prefix = schema.rsplit("/", 1)[0] + "/"
        if request.path.startswith(prefix) and request.path not in (schema, reverse("api-v1:openapi-view")):
            from api.services import api_call_audit

            api_call_audit(client=getattr(request, "api_client", None), method=request.method or "",
                           path=request.path, status=response.status_code, ip=request.META.get("REMOTE_ADDR") or None,
                           token_prefix=getattr(request, "api_token_prefix", ""))
        return response
