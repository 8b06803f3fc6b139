"""The elder mode switch (长辈版): on every page, remembered on the account (and in a cookie before signing in,
carried into the account on sign-in), drawn by the server (html.elder, the elder stylesheet and the read-aloud
script), never a redirect off the site."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from frontend.context_processors import ELDER_COOKIE
from mediation.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ELDER_HTML = re.compile(r'<html lang="[^"]+" class="elder">')


def is_elder(response) -> bool:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    drawn = bool(ELDER_HTML.search(body))
    # The class, the stylesheet, the read-aloud button and the switch back all come together, or none.
    assert drawn == ("frontend/elder" in body) == ('id="read-aloud"' in body) == ('value="off"' in body)
    assert drawn != ('name="elder" value="on"' in body)
    return drawn


def test_every_page_offers_the_switch_and_is_normal_by_default(world, client):
    assert not is_elder(client.get(reverse("login")))
    client.force_login(world.applicant)
    for name in ("home", "case_list", "inbox"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert not is_elder(response)


def test_signed_in_the_switch_is_remembered_on_the_account(world, client):
    client.force_login(world.applicant)
    response = client.post(reverse("elder_mode"), {"elder": "on", "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert User.objects.get(pk=world.applicant.pk).elder_mode is True
    assert is_elder(client.get("/cases/"))
    # The account decides, not the browser: without the cookie the page is still drawn large ...
    client.cookies.pop(ELDER_COOKIE, None)
    assert is_elder(client.get("/cases/"))
    # ... and another person on the same browser sees their own setting.
    client.force_login(world.respondent)
    assert not is_elder(client.get("/cases/"))

    client.force_login(world.applicant)
    client.post(reverse("elder_mode"), {"elder": "off", "next": "/cases/"})
    assert User.objects.get(pk=world.applicant.pk).elder_mode is False
    assert not is_elder(client.get("/cases/"))


def test_not_signed_in_a_cookie_keeps_it_and_signing_in_carries_it_to_the_account(world, client):
    response = client.post(reverse("elder_mode"), {"elder": "on", "next": "/accounts/phone/"})
    assert response["Location"] == "/accounts/phone/"
    assert response.cookies[ELDER_COOKIE].value == "1"
    assert response.cookies[ELDER_COOKIE]["httponly"]
    assert is_elder(client.get("/accounts/phone/"))
    assert User.objects.get(pk=world.applicant.pk).elder_mode is False

    client.post(reverse("login"), {"username": world.applicant.username, "password": TEST_PASSWORD})
    assert User.objects.get(pk=world.applicant.pk).elder_mode is True
    assert is_elder(client.get("/cases/"))


def test_switching_off_before_signing_in_removes_the_cookie(client):
    client.post(reverse("elder_mode"), {"elder": "on", "next": "/"})
    response = client.post(reverse("elder_mode"), {"elder": "off", "next": "/"})
    assert response.cookies[ELDER_COOKIE].value == ""
    assert not is_elder(client.get("/accounts/login/"))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_the_switch_never_sends_anyone_off_the_site(client, target):
    response = client.post(reverse("elder_mode"), {"elder": "on", "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_switch_only_takes_a_post(client):
    assert client.get(reverse("elder_mode")).status_code == 405


def test_the_switch_needs_the_csrf_token(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.applicant)
    assert strict.post(reverse("elder_mode"), {"elder": "on"}).status_code == 403
    assert User.objects.get(pk=world.applicant.pk).elder_mode is False
