"""Small request helpers every view module shares."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from mediation.exceptions import PermissionDenied
from mediation.models import Case, User
from mediation.selectors.cases import case_get_for_user


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
    """The case if the user has a role on it; otherwise 404, the same for "absent" and "not yours"."""
    try:
        return case_get_for_user(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    except PermissionDenied as exc:
        raise Http404(str(exc)) from exc
