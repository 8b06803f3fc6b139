"""manage.py join_link: a join URL and a working token for a demo participant, development only."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mediation.choices import CaseStatus
from mediation.models import AuditEvent, RoomMember
from mediation.services import room_entry
from tests.room_support import open_room

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("join_link", *args, stdout=out)
    return out.getvalue()


def test_refuses_to_run_without_debug(world, settings):
    settings.DEBUG = False
    case, _session, _room = open_room(world)

    with pytest.raises(CommandError, match="DEBUG"):
        run("--case", case.reference, "--as", world.applicant.username)


def test_prints_a_page_a_ws_url_and_a_token_that_opens_the_room(world, settings):
    settings.DEBUG = True
    case, _session, room = open_room(world)

    output = run("--case", case.reference, "--as", world.applicant.username)

    token = re.search(r"^token:\s+(\S+)$", output, re.M).group(1)
    assert f"/rooms/{room.pk}/" in output and f"/ws/room/{room.pk}/?token={token}" in output
    assert room_entry.room_token_redeem(room_id=room.pk, token=token).user == world.applicant


def test_records_the_checks_as_done_by_the_command(world, settings):
    settings.DEBUG = True
    case, _session, room = open_room(world)

    run("--case", case.reference, "--as", world.respondent.username)

    member = RoomMember.objects.get(room=room, user=world.respondent)
    assert member.identity_checked_at and member.notices_acknowledged_at
    check = AuditEvent.objects.get(case=case, kind="room.identity_checked", actor=world.respondent)
    assert (check.data["method"], check.data["command"]) == ("command", "join_link")


def test_schedules_a_session_when_the_case_has_none(world, settings):
    settings.DEBUG = True
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)

    output = run("--case", case.reference, "--as", world.mediator.username)

    assert "scheduled session" in output
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION


def test_outsider_gets_no_link(world, settings):
    settings.DEBUG = True
    case, _session, _room = open_room(world)

    with pytest.raises(CommandError):
        run("--case", case.reference, "--as", world.outsider.username)
