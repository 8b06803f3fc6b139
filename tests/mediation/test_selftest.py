"""The pre-join self-test (issue 14 item 1): the verdict's thresholds (a pure function), the stored and audited
row, the room's rules accepted with the version shown, the mediator's view of each verdict in the room's
welcome and member events, and the JSON endpoints' refusals (outsider, another case's party, not signed in,
before the identity step)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from mediation import spaces
from mediation.choices import SelfTestVerdict
from mediation.models import AuditEvent, NoticeAcknowledgement, RoomEvent, RoomMember, SelfTest
from mediation.notices import ROOM_RULES
from mediation.selectors.rooms import room_snapshot
from mediation.selectors.selftest import latest_self_tests
from mediation.services import room_entry
from mediation.services.room_events import member_payload
from mediation.services.selftest import (
    GOOD_MAX_LOSS,
    GOOD_MAX_RTT_MS,
    GOOD_MIN_KBPS,
    TOO_WEAK_KBPS,
    TOO_WEAK_LOSS,
    TOO_WEAK_RTT_MS,
    Measurement,
    selftest_advice,
    selftest_record,
    selftest_rules_accept,
    selftest_verdict,
)
from tests.factories import UserFactory
from tests.room_support import last_code, open_room, ready_member

GOOD = Measurement(camera_ok=True, microphone_ok=True, rtt_ms=40, loss_percent=Decimal(0), up_kbps=3000,
                   down_kbps=3000)


def _with(**changes) -> Measurement:  # type: ignore[no-untyped-def]
    return Measurement(**{**GOOD.__dict__, **changes})


# --- the verdict: a pure function --------------------------------------------------------------------------


def test_a_clean_path_with_a_camera_is_good():
    assert selftest_verdict(GOOD) == SelfTestVerdict.GOOD


@pytest.mark.parametrize(("changes", "verdict"), [
    # at each good limit: still good; one step past it: audio only
    ({"rtt_ms": GOOD_MAX_RTT_MS}, SelfTestVerdict.GOOD),
    ({"rtt_ms": GOOD_MAX_RTT_MS + 1}, SelfTestVerdict.AUDIO_ONLY),
    ({"loss_percent": GOOD_MAX_LOSS}, SelfTestVerdict.GOOD),
    ({"loss_percent": GOOD_MAX_LOSS + Decimal("0.01")}, SelfTestVerdict.AUDIO_ONLY),
    ({"up_kbps": GOOD_MIN_KBPS}, SelfTestVerdict.GOOD),
    ({"up_kbps": GOOD_MIN_KBPS - 1}, SelfTestVerdict.AUDIO_ONLY),
    ({"down_kbps": GOOD_MIN_KBPS - 1}, SelfTestVerdict.AUDIO_ONLY),
    # at each too-weak limit: too weak; one step before it: audio only
    ({"rtt_ms": TOO_WEAK_RTT_MS - 1}, SelfTestVerdict.AUDIO_ONLY),
    ({"rtt_ms": TOO_WEAK_RTT_MS}, SelfTestVerdict.TOO_WEAK),
    ({"loss_percent": TOO_WEAK_LOSS - Decimal("0.01")}, SelfTestVerdict.AUDIO_ONLY),
    ({"loss_percent": TOO_WEAK_LOSS}, SelfTestVerdict.TOO_WEAK),
    ({"up_kbps": TOO_WEAK_KBPS}, SelfTestVerdict.AUDIO_ONLY),
    ({"up_kbps": TOO_WEAK_KBPS - 1}, SelfTestVerdict.TOO_WEAK),
    ({"down_kbps": TOO_WEAK_KBPS - 1}, SelfTestVerdict.TOO_WEAK),
    # devices and the unmeasured path
    ({"camera_ok": False}, SelfTestVerdict.AUDIO_ONLY),
    ({"camera_ok": False, "loss_percent": Decimal(40)}, SelfTestVerdict.TOO_WEAK),
    ({"rtt_ms": None}, SelfTestVerdict.AUDIO_ONLY),
    ({"up_kbps": None}, SelfTestVerdict.AUDIO_ONLY),
    ({"reachable": False, "rtt_ms": None}, SelfTestVerdict.TOO_WEAK),
])
def test_the_weakest_measure_decides(changes, verdict):
    assert selftest_verdict(_with(**changes)) == verdict


def test_every_verdict_says_what_to_do():
    assert "视频" in selftest_advice(SelfTestVerdict.GOOD)
    assert "仅音频" in selftest_advice(SelfTestVerdict.AUDIO_ONLY)
    assert "重新检测" in selftest_advice(SelfTestVerdict.TOO_WEAK) and "仍要进入" in selftest_advice(
        SelfTestVerdict.TOO_WEAK)


# --- the row, the audit trail, the rules ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_is_stored_with_the_server_s_verdict_and_audited(world):
    _case, session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    row = selftest_record(member=member, measurement=_with(loss_percent=Decimal("20.456")))
    assert row.verdict == SelfTestVerdict.TOO_WEAK and row.loss_percent == Decimal("20.46")
    assert row.session_id == session.pk and row.user_id == world.applicant.pk
    event = AuditEvent.objects.get(kind="room.selftest_recorded", case=room.case)
    assert event.data["verdict"] == "too_weak" and event.data["selftest"] == row.pk
    better = selftest_record(member=member, measurement=GOOD)
    assert latest_self_tests([session.pk])[(session.pk, world.applicant.pk)].pk == better.pk


@pytest.mark.django_db
def test_accepting_the_rules_records_the_version_shown_on_the_latest_run(world):
    _case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    selftest_record(member=member, measurement=GOOD)
    row = selftest_rules_accept(member=member, speaker_ok=True)
    ack = NoticeAcknowledgement.objects.get(user=world.applicant, text__code=ROOM_RULES.code)
    assert row.rules_version == f"{ROOM_RULES.code}@{ack.text.version}" and row.rules_accepted_at is not None
    assert row.speaker_ok is True
    assert AuditEvent.objects.filter(kind="room.rules_accepted", case=room.case).exists()
    # a later run keeps the acceptance; a person whose page could run nothing still gets a row
    assert selftest_record(member=member, measurement=GOOD).rules_accepted_at == row.rules_accepted_at
    lawyer = room_entry.room_member_get_or_create(room=room, user=world.lawyer)
    bare = selftest_rules_accept(member=lawyer)
    assert bare.verdict == SelfTestVerdict.AUDIO_ONLY and bare.rtt_ms is None and bare.rules_accepted_at


@pytest.mark.django_db
def test_forged_measurements_out_of_range_are_refused(world):
    from mediation.exceptions import InvalidInput

    _case, _session, room = open_room(world)
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    for bad in (_with(loss_percent=Decimal(101)), _with(rtt_ms=-1), _with(up_kbps=10**9)):
        with pytest.raises(InvalidInput):
            selftest_record(member=member, measurement=bad)
    assert not SelfTest.objects.exists()


# --- what the mediator sees ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mediator_sees_each_waiting_person_s_latest_verdict_and_the_parties_do_not(world):
    _case, _session, room = open_room(world)
    mediator = ready_member(room, world.mediator)
    applicant = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    selftest_record(member=applicant, measurement=_with(camera_ok=False))
    applicant = ready_member(room, world.applicant)  # now waiting
    respondent = ready_member(room, world.respondent)  # waiting, no self-test
    welcome = room_snapshot(member=mediator)
    by_member = {m["member"]: m for m in welcome["members"]}
    assert by_member[applicant.pk]["selftest"] == "audio_only"
    assert by_member[respondent.pk]["selftest"] is None
    assert all("selftest" not in m for m in room_snapshot(member=respondent)["members"])
    # live: a member.selftest event for the mediators; a later member event carries the verdict too
    told = RoomEvent.objects.get(room=room, kind="member.selftest")
    assert told.payload == {"member": applicant.pk, "selftest": "audio_only"} and told.audience == spaces.MEDIATORS
    assert member_payload(applicant)["selftest"] == "audio_only"


# --- the endpoints: who may post ------------------------------------------------------------------------------


def _identity_checked(world, room):  # type: ignore[no-untyped-def]
    """The applicant's member row, past the identity step (the self-test's endpoints need it)."""
    member = room_entry.room_member_get_or_create(room=room, user=world.applicant)
    room_entry.room_identity_code_send(member=member)
    room_entry.room_identity_verify(member=member, code=last_code(world.applicant.phone))
    return member


def _post(client, name, room, body):  # type: ignore[no-untyped-def]
    return client.post(reverse(name, args=[room.pk]), data=json.dumps(body), content_type="application/json")


RESULT = {"camera_ok": True, "microphone_ok": True, "reachable": True, "rtt_ms": 30, "loss_permille": 0,
          "up_kbps": 2000, "down_kbps": 2000, "duration_ms": 5000}
OFFER = {"type": "offer", "sdp": "v=0\r\n"}


@pytest.mark.django_db
def test_a_checked_party_stores_a_result_and_gets_the_verdict(world, client):
    _case, _session, room = open_room(world)
    _identity_checked(world, room)
    client.force_login(world.applicant)
    response = _post(client, "room_selftest_result", room, {**RESULT, "loss_permille": 80})
    assert response.status_code == 201, response.content
    assert response.json()["verdict"] == "audio_only" and response.json()["label"] == "建议仅用语音"
    assert SelfTest.objects.get().loss_percent == Decimal("8.00")
    assert _post(client, "room_selftest_result", room, {**RESULT, "rtt_ms": "fast"}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["room_selftest_result", "room_selftest_offer"])
def test_outsiders_and_another_case_s_party_cannot_post(world, client, name):
    _case, _session, room = open_room(world)
    stranger = UserFactory(real_name="另案当事人")
    other_case = world.new_case()
    other_case.parties.filter(role="applicant").update(user=stranger)
    body = RESULT if name == "room_selftest_result" else OFFER
    assert _post(client, name, room, body).status_code == 401  # not signed in
    for user in (world.outsider, stranger):
        client.force_login(user)
        assert _post(client, name, room, body).status_code == 404
    assert not RoomMember.objects.filter(room=room, user__in=[world.outsider, stranger]).exists()
    # a member of the room before the identity step
    client.force_login(world.applicant)
    assert _post(client, name, room, body).status_code == 403
    assert not SelfTest.objects.exists()


@pytest.mark.django_db
def test_the_offer_endpoint_needs_the_csrf_token(world):
    from django.test import Client

    _case, _session, room = open_room(world)
    _identity_checked(world, room)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.applicant)
    assert _post(client, "room_selftest_offer", room, OFFER).status_code == 403
    assert _post(client, "room_selftest_result", room, RESULT).status_code == 403
    assert not SelfTest.objects.exists()


@pytest.mark.django_db
def test_the_step_cannot_be_passed_without_accepting_the_rules(world, client):
    _case, _session, room = open_room(world)
    _identity_checked(world, room)
    client.force_login(world.applicant)
    page = client.get(reverse("room_join_device", args=[room.pk]))
    assert page.status_code == 200 and "调解室规则和参加人声明" in page.text and "听到了吗" in page.text
    refused = client.post(reverse("room_join_device", args=[room.pk]), {"audio_only": "1"})
    assert refused.status_code == 200 and "请阅读调解室规则" in refused.text
    assert not SelfTest.objects.exists()
    done = client.post(reverse("room_join_device", args=[room.pk]),
                       {"audio_only": "1", "accept_rules": "1", "speaker_ok": "0"})
    assert done.url == reverse("room_join_notices", args=[room.pk])
    row = SelfTest.objects.get()
    assert row.rules_accepted_at is not None and row.speaker_ok is False
