"""The elder mode switch (长辈版) in every page's header: a plain form, so it works before any script runs.
Remembered on the account when signed in, and in a cookie as well (a party who came by a link and has not
signed in keeps it, and it follows them through signing in)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontend.context_processors import ELDER_COOKIE
from frontend.http import signed_in_user
from mediation.services.accessibility import user_elder_mode_set

ELDER_COOKIE_AGE = 365 * 24 * 3600


@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    on = request.POST.get("elder") == "on"
    if request.user.is_authenticated:
        user_elder_mode_set(user=signed_in_user(request), on=on)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    if on:
        response.set_cookie(
            ELDER_COOKIE, "1", max_age=ELDER_COOKIE_AGE, samesite="Lax", httponly=True, secure=request.is_secure()
        )
    else:
        response.delete_cookie(ELDER_COOKIE, samesite="Lax")
    return response


def carry_elder_mode_into_account(sender, request, user, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """``user_logged_in``: an elder mode switched on before signing in stays on after it."""
    if request is not None and request.COOKIES.get(ELDER_COOKIE) == "1" and not user.elder_mode:
        user_elder_mode_set(user=user, on=True)
