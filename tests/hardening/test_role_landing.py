"""Issue 17 item 13: after signing in, each role lands where its work is, not on the party home page with
申请调解. The judge's inbox ([court-workspace]) does not exist yet: a judge lands on the case list for now."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _landing(username: str) -> str:
    client = Client()
    answer = client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD}, follow=True)
    assert answer.status_code == 200
    return answer.redirect_chain[-1][0]


@pytest.mark.parametrize(("name", "url_name"), [
    ("clerk", "intake_queue"),
    ("judge", "court_inbox"),
    ("mediator", "intake_mine"),
    ("org_admin", "intake_org_queue"),
    ("applicant", "home"),
])
def test_each_role_lands_where_its_work_is(world, name, url_name):
    assert _landing(getattr(world, name).username) == reverse(url_name)


def test_an_explicit_next_still_wins(world):
    client = Client()
    answer = client.post(reverse("login") + "?next=/inbox/",
                         {"username": world.clerk.username, "password": TEST_PASSWORD, "next": "/inbox/"})
    assert answer["Location"] == "/inbox/"
