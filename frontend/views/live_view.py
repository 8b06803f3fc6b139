"""The staff's live view of today's sessions (issue 14 item 3): the page, the JSON it polls, and the message
to one participant. Who sees what is decided by ``mediation.selectors.live_view`` alone; the message is
written by ``mediation.services.live_view.room_staff_message``."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontend.http import json_errors, signed_in_user
from mediation.exceptions import InvalidInput, NotSignedIn
from mediation.selectors.live_view import live_sessions, live_view_scope_required
from mediation.services.live_view import MESSAGE_MAX, room_staff_message

# How often the page asks for fresh data (seconds); the page says so.
POLL_SECONDS = 5


@login_required
@require_GET
def live_view_page(request: HttpRequest) -> HttpResponse:
    """The board, drawn once by the server (so it reads without a script) and refreshed by live_view.js."""
    board = live_sessions(user=signed_in_user(request))
    return render(request, "frontend/live_view/board.html", {
        "board": board, "poll_seconds": POLL_SECONDS, "message_max": MESSAGE_MAX,
        "config": {"data_url": reverse("live_view_data"), "poll_ms": POLL_SECONDS * 1000,
                   "message_url": reverse("live_view_message", args=[0]).replace("/0/", "/{id}/")},
    })


@require_GET
@json_errors
def live_view_data(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        raise NotSignedIn(_("请先登录。"))
    return JsonResponse(live_sessions(user=signed_in_user(request)))


@require_POST
@json_errors
def live_view_message(request: HttpRequest, member_id: int) -> JsonResponse:
    """``{"text": "..."}`` → the event's ``seq``. Refusals as JSON (403/404/400) from the domain's errors."""
    if not request.user.is_authenticated:
        raise NotSignedIn(_("请先登录。"))
    live_view_scope_required(user=signed_in_user(request))
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(_("请求内容不是有效的 JSON。")) from exc
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise InvalidInput(_("请填写要发送的消息。"))
    event = room_staff_message(actor=signed_in_user(request), member_id=member_id, text=text)
    return JsonResponse({"sent": True, "seq": event.seq})
