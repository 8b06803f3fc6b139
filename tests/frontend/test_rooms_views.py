"""The room's pages and JSON API: entering from a session, the join steps (identity re-check, device check,
notices), the room page, the invitation, file upload, and everyone who must be turned away."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.urls import reverse

from mediation import exceptions, permissions
from mediation.choices import CaseStatus, ConsentKind, RoomMemberState
from mediation.models import AuditEvent, Consent, RoomEvent, RoomMember
from mediation.selectors import rooms as room_selectors
from mediation.services import room_controls, room_entry
from tests.factories import UserFactory
from tests.room_support import joint_room, last_code, open_room, ready_member, schedule_session

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def walk_in(client, room, user, *, audio_only: bool = False, caucus: str = "yes"):
    """The whole way in through the pages, as a phone would: code, device check, notices."""
    client.force_login(user)
    client.post(reverse("room_join_identity", args=[room.pk]), {"action": "send"})
    code = last_code(room_selectors.room_phone_on_file(RoomMember.objects.get(room=room, user=user)))
    client.post(reverse("room_join_identity", args=[room.pk]), {"action": "verify", "code": code})
    client.post(reverse("room_join_device", args=[room.pk]),
                {"audio_only": "1" if audio_only else "0", "accept_rules": "1"})
    codes = [t.code for t in room_entry.room_notices_required()]
    return client.post(reverse("room_join_notices", args=[room.pk]), {"notice": codes, "consent_caucus": caucus})


def api(client, name, room, body=None):
    return client.post(reverse(name, args=[room.pk]), data=json.dumps(body or {}), content_type="application/json")


# --- entering from a session ----------------------------------------------------------------------------


def test_mediator_opening_the_session_room_starts_mediation_and_goes_to_the_identity_check(world, client):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    session = schedule_session(world, case)
    client.force_login(world.mediator)
    page = client.get(reverse("session_room", args=[session.pk]))
    assert page.status_code == 200 and "开启调解室" in page.text
    response = client.post(reverse("session_room", args=[session.pk]))
    room = session.room
    assert response.url == reverse("room_join_identity", args=[room.pk])
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION


def test_party_following_the_session_link_of_an_open_room_goes_to_the_join_steps(world, client):
    _case, session, room = open_room(world)
    client.force_login(world.applicant)
    response = client.get(reverse("session_room", args=[session.pk]))
    assert response.url == reverse("room_join", args=[room.pk])
    assert client.get(response.url).url == reverse("room_join_identity", args=[room.pk])


def test_outsider_cannot_open_a_session_room(world, client):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    session = schedule_session(world, case)
    client.force_login(world.outsider)
    assert client.get(reverse("session_room", args=[session.pk])).status_code == 404
    assert client.post(reverse("session_room", args=[session.pk])).status_code == 404


def test_the_case_page_links_a_participant_to_the_session_room(world, client):
    case, session, _room = open_room(world)
    client.force_login(world.applicant)
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert reverse("session_room", args=[session.pk]) in page.text


# --- the join steps ---------------------------------------------------------------------------------------


def test_party_walks_the_join_steps_into_the_waiting_room(world, client):
    _case, _session, room = open_room(world)
    response = walk_in(client, room, world.applicant, audio_only=True)
    assert response.url == reverse("room_page", args=[room.pk])
    member = RoomMember.objects.get(room=room, user=world.applicant)
    assert member.identity_checked_at and member.notices_acknowledged_at and member.audio_only
    assert member.state == RoomMemberState.WAITING
    consent = Consent.objects.filter(case=room.case, party=member.party, kind=ConsentKind.SEPARATE_SESSIONS).get()
    assert consent.granted
    page = client.get(response.url)
    assert page.status_code == 200
    config = page.context["config"]
    assert config["member"] == member.pk and config["ws_path"] == f"/ws/room/{room.pk}/"
    assert config["agreement_url"] == reverse("agreement_panel", args=[room.case_id])


def test_identity_step_shows_only_the_masked_phone_on_file(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    page = client.get(reverse("room_join_identity", args=[room.pk]))
    assert world.applicant.phone not in page.text
    assert world.applicant.phone[-4:] in page.text


def test_a_wrong_code_is_refused_and_the_step_stays(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    client.post(reverse("room_join_identity", args=[room.pk]), {"action": "send"})
    code = last_code(world.applicant.phone)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    page = client.post(reverse("room_join_identity", args=[room.pk]), {"action": "verify", "code": wrong})
    assert page.status_code == 200 and "rm-alert" in page.text
    assert RoomMember.objects.get(room=room, user=world.applicant).identity_checked_at is None
    assert client.get(reverse("room_page", args=[room.pk])).url == reverse("room_join_identity", args=[room.pk])


def test_the_other_party_cannot_use_a_code_sent_to_you(world, client):
    _case, _session, room = open_room(world)
    room_entry.room_identity_code_send(member=room_entry.room_member_get_or_create(room=room, user=world.applicant))
    code = last_code(world.applicant.phone)
    client.force_login(world.respondent)
    client.get(reverse("room_join", args=[room.pk]))
    client.post(reverse("room_join_identity", args=[room.pk]), {"action": "verify", "code": code})
    assert RoomMember.objects.get(room=room, user=world.respondent).identity_checked_at is None
    assert RoomMember.objects.get(room=room, user=world.applicant).identity_checked_at is None


def test_notices_not_all_acknowledged_keep_the_person_out(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    room_entry.room_identity_code_send(member=member)
    room_entry.room_identity_verify(member=member, code=last_code(world.applicant.phone))
    client.post(reverse("room_join_device", args=[room.pk]), {"audio_only": "0", "accept_rules": "1"})
    first = room_entry.room_notices_required()[0].code
    page = client.post(reverse("room_join_notices", args=[room.pk]), {"notice": [first], "consent_caucus": "yes"})
    assert page.status_code == 200 and "请阅读并逐项确认" in page.text
    assert RoomMember.objects.get(pk=member.pk).notices_acknowledged_at is None
    assert client.get(reverse("room_page", args=[room.pk])).url == reverse("room_join_notices", args=[room.pk])


def test_a_party_must_answer_the_caucus_question(world, client):
    _case, _session, room = open_room(world)
    response = walk_in(client, room, world.applicant, caucus="")
    assert response.status_code == 200 and "背对背" in response.text
    assert RoomMember.objects.get(room=room, user=world.applicant).notices_acknowledged_at is None


def test_the_join_steps_are_audited(world, client):
    _case, _session, room = open_room(world)
    walk_in(client, room, world.applicant)
    kinds = set(AuditEvent.objects.filter(case=room.case).values_list("kind", flat=True))
    assert {"room.member_entered", "room.identity_checked", "room.notices_acknowledged"} <= kinds


@pytest.mark.parametrize("name", ["room_join", "room_join_identity", "room_join_device", "room_join_notices",
                                  "room_page", "room_invite"])
def test_outsider_gets_404_on_every_room_page(world, client, name):
    _case, _session, room = open_room(world)
    client.force_login(world.outsider)
    assert client.get(reverse(name, args=[room.pk])).status_code == 404
    assert not RoomMember.objects.filter(room=room, user=world.outsider).exists()


def test_a_party_of_another_case_gets_404(world, client):
    _case, _session, room = open_room(world)
    stranger = UserFactory(real_name="另案当事人")
    other_case = world.new_case()
    other_case.parties.filter(role="applicant").update(user=stranger)
    client.force_login(stranger)
    assert client.get(reverse("room_join", args=[room.pk])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(world, client):
    _case, _session, room = open_room(world)
    response = client.get(reverse("room_join", args=[room.pk]))
    assert response.status_code == 302 and reverse("login") in response.url


def test_an_ended_room_says_so(world, client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    room_controls.room_end(room=room, actor=world.mediator, outcome="terminate", end_reason="too_far")
    client.force_login(world.applicant)
    page = client.get(reverse("room_join", args=[room.pk]))
    assert page.status_code == 409 and "本次调解已结束" in page.text


def test_a_removed_person_cannot_come_back_through_the_pages(world, client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    member = ready_member(room, world.applicant, admit_by=world.mediator)
    room_controls.room_remove(room=room, actor=world.mediator, member=member)
    client.force_login(world.applicant)
    page = client.get(reverse("room_page", args=[room.pk]))
    assert page.status_code == 409 and "移出" in page.text


# --- the invitation ------------------------------------------------------------------------------------------


def test_mediator_gets_the_invitation_link_and_qr_code(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.mediator)
    page = client.get(reverse("room_invite", args=[room.pk]))
    assert page.status_code == 200
    assert "<svg" in page.text
    assert f"http://testserver{reverse('room_join', args=[room.pk])}" in page.text


def test_a_party_cannot_see_the_invitation_page(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    assert client.get(reverse("room_invite", args=[room.pk])).status_code == 403


# --- the JSON API ---------------------------------------------------------------------------------------------


def test_api_sends_the_code_and_answers_with_the_masked_phone(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    answer = api(client, "room_api_code", room)
    assert answer.status_code == 200
    body = answer.json()
    assert body["sent"] is True and body["phone"].endswith(world.applicant.phone[-4:]) and "*" in body["phone"]


def test_api_token_with_the_code_and_the_notices_gives_a_single_use_token(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    api(client, "room_api_code", room)
    codes = [t.code for t in room_entry.room_notices_required()]
    answer = api(client, "room_api_token", room, {"code": last_code(world.applicant.phone), "notices": codes,
                                                  "audio_only": False})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ws_url"] == f"/ws/room/{room.pk}/?token={body['token']}" and body["expires_at"]
    member = room_entry.room_token_redeem(room_id=room.pk, token=body["token"])
    assert member.user == world.applicant
    with pytest.raises(exceptions.TokenSpent):
        room_entry.room_token_redeem(room_id=room.pk, token=body["token"])


def test_api_token_with_a_wrong_code_answers_otp_invalid(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    api(client, "room_api_code", room)
    code = last_code(world.applicant.phone)
    codes = [t.code for t in room_entry.room_notices_required()]
    answer = api(client, "room_api_token", room, {"code": f"{(int(code) + 1) % 1000000:06d}", "notices": codes})
    assert answer.status_code == 400 and answer.json()["error"] == "otp_invalid"


def test_api_token_without_every_notice_answers_notices_required(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    api(client, "room_api_code", room)
    answer = api(client, "room_api_token", room, {"code": last_code(world.applicant.phone), "notices": []})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "notices_required"
    assert body["required"] == [t.code for t in room_entry.room_notices_required()]


def test_api_refuses_a_malformed_body(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    answer = client.post(reverse("room_api_token", args=[room.pk]), data="{", content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid"
    answer = api(client, "room_api_token", room, {"code": 123456, "notices": "all"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid"


def test_api_answers_401_when_not_signed_in(world, client):
    _case, _session, room = open_room(world)
    answer = api(client, "room_api_code", room)
    assert answer.status_code == 401 and answer.json()["error"] == "not_signed_in"


@pytest.mark.parametrize("name", ["room_api_code", "room_api_token", "room_files"])
def test_api_answers_404_to_an_outsider(world, client, name):
    _case, _session, room = open_room(world)
    client.force_login(world.outsider)
    answer = api(client, name, room)
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_api_only_takes_posts(world, client):
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    assert client.get(reverse("room_api_code", args=[room.pk])).status_code == 405


# --- files ------------------------------------------------------------------------------------------------------


def test_an_admitted_party_uploads_a_file_into_the_room(world, client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    ready_member(room, world.applicant, admit_by=world.mediator)
    client.force_login(world.applicant)
    upload = SimpleUploadedFile("劳动合同.pdf", PDF, content_type="application/pdf")
    answer = client.post(reverse("room_files", args=[room.pk]), {"file": upload, "name": "劳动合同"})
    assert answer.status_code == 201, answer.content
    event = RoomEvent.objects.get(room=room, kind="file")
    assert answer.json()["seq"] == event.seq and event.payload["name"] == "劳动合同"


def test_a_waiting_party_cannot_upload_yet(world, client):
    _case, _session, room = open_room(world)
    ready_member(room, world.applicant)
    client.force_login(world.applicant)
    upload = SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")
    answer = client.post(reverse("room_files", args=[room.pk]), {"file": upload})
    assert answer.status_code == 400 and answer.json()["error"] == "refused"
    assert not RoomEvent.objects.filter(room=room, kind="file").exists()


def test_an_upload_without_a_file_is_refused(world, client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    ready_member(room, world.applicant, admit_by=world.mediator)
    client.force_login(world.applicant)
    answer = client.post(reverse("room_files", args=[room.pk]), {})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid"


# --- the demo world -----------------------------------------------------------------------------------------


def test_seed_demo_gives_the_demo_case_a_session_its_mediator_and_parties_can_enter(client, settings):
    from io import StringIO

    from django.core.management import call_command

    from mediation.management.commands.seed_demo import DEMO_CASE_TITLE
    from mediation.models import Case, MediationSession, User

    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", room_session=True, stdout=out)
    call_command("seed_demo", room_session=True, quiet=True)
    session = MediationSession.objects.get(case__title=DEMO_CASE_TITLE)  # the second run adds none
    assert reverse("session_room", args=[session.pk]) in out.getvalue()
    for username in ("mediator", "alice", "bob"):
        assert permissions.session_place(session=session, user=User.objects.get(username=username)) is not None
    client.login(request=HttpRequest(), username="mediator", password="yizhan-demo-2026")
    response = client.post(reverse("session_room", args=[session.pk]))
    assert response.status_code == 302
    assert Case.objects.get(title=DEMO_CASE_TITLE).status == CaseStatus.IN_MEDIATION


def test_seed_demo_schedules_no_session_unless_asked(settings):
    from django.core.management import call_command

    from mediation.models import MediationSession

    settings.DEBUG = True
    call_command("seed_demo", quiet=True)
    assert not MediationSession.objects.exists()


# --- what the review found ------------------------------------------------------------------------------------


def caucus_file(world, client, title: str):
    """A file the applicant shares in a caucus with the applicant's side."""
    case, room, _members = joint_room(world)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    client.force_login(world.applicant)
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    answer = client.post(reverse("room_files", args=[room.pk]), {"file": upload, "name": title})
    assert answer.status_code == 201, answer.content
    return case


def test_the_case_page_of_the_other_side_leaves_out_a_caucus_file_title_included(world, client):
    case = caucus_file(world, client, "我方底线两万元说明")
    client.force_login(world.respondent)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "底线两万元" not in page


def test_the_case_page_of_the_side_that_shared_a_caucus_file_lists_it(world, client):
    case = caucus_file(world, client, "我方底线两万元说明")
    for user in (world.applicant, world.mediator):
        client.force_login(user)
        assert "底线两万元" in client.get(reverse("case_detail", args=[case.pk])).content.decode()


def test_the_room_api_refuses_a_post_without_the_csrf_token(world):
    from django.test import Client

    _case, _session, room = open_room(world)
    ready_member(room, world.applicant)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.applicant)
    answer = browser.post(reverse("room_api_token", args=[room.pk]), data="{}", content_type="application/json")
    assert answer.status_code == 403
    browser.get(reverse("room_join_identity", args=[room.pk]))  # sets the csrftoken cookie
    answer = browser.post(reverse("room_api_token", args=[room.pk]), data="{}", content_type="application/json",
                          headers={"X-CSRFToken": browser.cookies["csrftoken"].value})
    assert answer.status_code != 403
