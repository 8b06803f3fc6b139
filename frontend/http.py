"""Small request helpers every view module shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponseBase

from mediation.models import Case, User
from mediation.selectors.cases import case_get_for_user

JSON_ERRORS = "yizhan.json_errors"
V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in user, for views behind login_required."""
    user = request.user
    assert isinstance(user, User)
    return user


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from, as rate limits and the audit trail record it. Behind a proxy this
    is the one place to read the forwarded address instead."""
    return request.META.get("REMOTE_ADDR") or None


def case_or_404(request: HttpRequest, case_id: int) -> Case:
    """The case if the user has a role on it; otherwise ``NotFound`` (404), the same for "absent" and "not
    yours"."""
    return case_get_for_user(user=request.user, case_id=case_id)  # type: ignore[arg-type]


def json_errors(view: V) -> V:
    """Mark a JSON endpoint: a domain error it lets through is answered as JSON, never as a page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.META[JSON_ERRORS] = True
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def wants_json(request: HttpRequest) -> bool:
    """Whether a refusal should be answered as JSON: a JSON endpoint, or a client that prefers JSON."""
    if request.META.get(JSON_ERRORS):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"
