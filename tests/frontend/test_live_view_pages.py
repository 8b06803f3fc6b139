"""The live view's page, its JSON and the message endpoint: open to the case's organisation admin and court
staff, refused (page 403 / JSON 403 or 404) to an outsider, a party, another organisation's admin and another
court's staff; the navigation links it for staff only."""

from __future__ import annotations

import itertools
import json

import pytest
from django.urls import reverse

from mediation.choices import Role
from mediation.models import RoomEvent
from tests.factories import UserFactory, add_member
from tests.room_support import joint_room

pytestmark = pytest.mark.django_db

_caches = itertools.count()


@pytest.fixture(autouse=True)
def live_cache(settings):
    settings.CACHES = {**settings.CACHES, "live": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                   "LOCATION": f"live-page-{next(_caches)}"}}


@pytest.fixture
def room(world):
    return joint_room(world, otp=False)


def _post(client, member_id, text="请检查网络"):
    return client.post(reverse("live_view_message", args=[member_id]), data=json.dumps({"text": text}),
                       content_type="application/json", HTTP_ACCEPT="application/json")


def test_staff_see_the_board_and_send_a_message(world, client, room):
    case, _room, members = room
    for staff in (world.org_admin, world.clerk, world.judge):
        client.force_login(staff)
        page = client.get(reverse("live_view"))
        assert page.status_code == 200
        assert "今日在线调解实时看板" in page.content.decode()
        assert reverse("live_view") in page.content.decode()  # linked from the navigation
        data = client.get(reverse("live_view_data")).json()
        assert [s["case"] for s in data["sessions"]] == [case.pk] and data["updated_at"]
    # Bad input is refused as JSON and stores nothing; a good message is stored for that person.
    assert _post(client, members["respondent"].pk, text="").status_code == 400
    assert _post(client, members["respondent"].pk, text="长" * 201).json()["error"]
    bad = client.post(reverse("live_view_message", args=[members["respondent"].pk]), data="{",
                      content_type="application/json", HTTP_ACCEPT="application/json")
    assert bad.status_code == 400
    assert not RoomEvent.objects.filter(kind="staff.message").exists()
    answer = _post(client, members["applicant"].pk)
    assert answer.status_code == 200 and answer.json()["sent"] is True
    assert RoomEvent.objects.get(kind="staff.message").audience == f"user:{world.applicant.pk}"


def test_refused_to_outsiders_parties_and_other_staff(world, client, room):
    _case, _room, members = room
    other_admin = UserFactory(username="other_admin")
    add_member(other_admin, world.other_partner, Role.ORG_ADMIN)
    # No scope at all: the page and the JSON refuse them, and the navigation has no link.
    for person in (world.outsider, world.applicant, world.respondent, world.mediator):
        client.force_login(person)
        page = client.get(reverse("live_view"))
        assert page.status_code == 403, person
        assert reverse("live_view") not in client.get(reverse("case_list")).content.decode()
        data = client.get(reverse("live_view_data"))
        assert data.status_code == 403 and data.json()["error"], person
        assert _post(client, members["respondent"].pk).status_code == 403, person
    # Their own scope: an empty board, and the other case's participant reads as absent.
    for person in (other_admin, world.other_clerk, world.other_judge):
        client.force_login(person)
        assert client.get(reverse("live_view")).status_code == 200
        assert client.get(reverse("live_view_data")).json()["sessions"] == [], person
        assert _post(client, members["respondent"].pk).status_code == 404, person
    client.logout()
    assert client.get(reverse("live_view")).status_code == 302  # to sign in
    assert client.get(reverse("live_view_data")).status_code == 401
    assert _post(client, members["respondent"].pk).status_code in (401, 403)
    assert not RoomEvent.objects.filter(kind="staff.message").exists()

