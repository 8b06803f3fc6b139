"""The HTTP error boundary (frontend/middleware.py): every domain error a view lets through becomes a page or
a JSON answer with the status its class declares, and "absent" reads the same as "not yours"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from documents.services.signing import StoredFileAltered
from frontend.http import JSON_ERRORS
from frontend.middleware import DomainErrorMiddleware
from mediation import exceptions as e
from mediation.services.identity import OtpThrottled
from mediation.services.room_controls import room_end
from tests.room_support import open_room, ready_member

# class, page status, JSON status, JSON "error". Written out, not read from the classes: this is the contract
# pages, the room API (docs/protocol.md) and room.js rely on.
TABLE = [
    (e.DomainError, 400, 400, "refused"),
    (e.InvalidInput, 400, 400, "invalid"),
    (e.TransitionNotAllowed, 409, 409, "refused"),
    (e.StaleState, 409, 409, "refused"),
    (e.PermissionDenied, 403, 403, "forbidden"),
    (e.NotFound, 404, 404, "not_found"),
    (e.NotSignedIn, 401, 401, "not_signed_in"),
    (e.TokenInvalid, 401, 401, "token_invalid"),
    (e.TokenSpent, 409, 409, "token_spent"),
    (e.RoomEnded, 409, 410, "ended"),
    (e.MemberRemoved, 409, 403, "removed"),
    (e.RoomLocked, 409, 409, "refused"),
    (e.ChecksRequired, 409, 409, "checks_required"),
    (e.NotAdmitted, 409, 400, "refused"),
    (e.NoticesRequired, 400, 400, "notices_required"),
    (OtpThrottled, 429, 429, "throttled"),
    (StoredFileAltered, 409, 409, "refused"),
]


def _error(cls: type[e.DomainError]) -> e.DomainError:
    if cls is e.NoticesRequired:
        return e.NoticesRequired("请确认全部告知事项。", required=["sim14.session"])
    if cls is OtpThrottled:
        return OtpThrottled("请60秒后再试。", retry_after=60)
    return cls("规则不允许这样做。")


def _request(*, json: bool = False, accept: str = "") -> HttpRequest:
    headers = {"Accept": accept} if accept else {}
    request = RequestFactory().get("/somewhere/", headers=headers)
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    if json:
        request.META[JSON_ERRORS] = True  # what the json_errors decorator marks
    return request


def _boundary(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = DomainErrorMiddleware(lambda r: None).process_exception(request, exc)  # type: ignore[arg-type]
    assert response is not None
    return response


def _json(response: HttpResponse) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@pytest.mark.django_db
@pytest.mark.parametrize(("cls", "page", "_json_status", "_json_error"), TABLE, ids=[c[0].__name__ for c in TABLE])
def test_a_domain_error_becomes_a_page_with_its_status_and_message(cls, page, _json_status, _json_error):
    response = _boundary(_request(), _error(cls))
    assert response.status_code == page
    assert response["Content-Type"].startswith("text/html")
    assert str(_error(cls)) in response.content.decode()


@pytest.mark.parametrize(("cls", "_page", "status", "error"), TABLE, ids=[c[0].__name__ for c in TABLE])
def test_a_domain_error_becomes_json_with_its_status_and_code(cls, _page, status, error):
    response = _boundary(_request(json=True), _error(cls))
    assert response.status_code == status
    body = _json(response)
    assert (body["error"], body["message"]) == (error, str(_error(cls)))


def test_json_answers_carry_what_the_error_adds():
    assert _json(_boundary(_request(json=True), _error(e.NoticesRequired)))["required"] == ["sim14.session"]
    assert _json(_boundary(_request(json=True), _error(OtpThrottled)))["retry_after"] == 60


def test_a_client_that_prefers_json_gets_json_from_a_page_view():
    response = _boundary(_request(accept="application/json"), e.NotFound("材料不存在或您无权查看。"))
    assert response.status_code == 404 and _json(response)["error"] == "not_found"


def test_other_exceptions_are_left_to_django():
    assert DomainErrorMiddleware(lambda r: None).process_exception(_request(), ValueError("x")) is None  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_refusal_about_a_case_links_back_to_it(world):
    case = world.new_case()
    response = _boundary(_request(), e.PermissionDenied("只有本案的调解员可以这样做。", case=case))
    assert response.status_code == 403
    assert reverse("case_detail", args=[case.pk]) in response.content.decode()


def test_the_boundary_is_installed():
    from django.conf import settings

    assert "frontend.middleware.DomainErrorMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_a_room_that_cannot_be_entered_says_how_its_session_ended(world, client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    room_end(room=room, actor=world.mediator, outcome="terminate", end_reason="too_far")
    client.force_login(world.applicant)
    page = client.get(reverse("room_join", args=[room.pk]))
    assert page.status_code == 409
    text = page.content.decode()
    assert "本次调解已结束" in text and "该调解活动已经结束。" in text and "终结" in text


@pytest.mark.django_db
def test_absent_and_not_yours_read_the_same(world, client):
    case = world.new_case()
    client.force_login(world.outsider)
    theirs = client.get(reverse("case_detail", args=[case.pk]))
    absent = client.get(reverse("case_detail", args=[case.pk + 100000]))
    assert theirs.status_code == absent.status_code == 404
    for page in (theirs, absent):
        text = page.content.decode()
        assert "案件不存在或您无权查看。" in text and case.title not in text and case.reference not in text
