"""One error boundary for HTTP: a ``DomainError`` that a view lets through becomes a page or a JSON answer
with the status its class declares (``mediation.exceptions``). Views parse, call one service and render;
they catch a domain error only to show it next to a form field.

Modelled on Zulip's ``JsonErrorHandler.process_exception``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from frontend.http import wants_json
from mediation.exceptions import DomainError


def domain_error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """``exc`` as the person asked for it: JSON for API calls and fetches that accept it, else a page."""
    if wants_json(request):
        return JsonResponse({"error": exc.json_error, "message": str(exc), **exc.json_extra()},
                            status=exc.json_status)
    room = getattr(exc, "room", None)
    case = getattr(exc, "case", None) or (room.case if room is not None else None)
    return render(request, "frontend/error.html",
                  {"status": exc.status, "message": str(exc), "case": case, "room": room}, status=exc.status)


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return domain_error_response(request, exception)
        return None
