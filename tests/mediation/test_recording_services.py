"""Consent-gated recording, at the service level (issue 14 item 2; no media: the SFU's part is in
tests/e2e/test_recording_room.py): refused without every consent and on the mesh; stopped at once on a
withdrawal, on a joiner who has not consented, on a space change; a caucus recorded only with the consent of
everyone in it; and who may watch."""

from __future__ import annotations

import pytest

from mediation import spaces
from mediation.choices import ConsentKind, RecordingStatus, RoomMemberState
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import AuditEvent, Consent, Party, Recording, RecordingFile, RoomEvent
from mediation.notices import RECORDING_NOTICE
from mediation.selectors.recordings import recording_file_for_user, recordings_for_case
from mediation.services import recording as rec
from mediation.services import room_controls
from tests.factories import UserFactory
from tests.room_support import joint_room, ready_member


@pytest.fixture
def sfu_mode(settings):
    settings.ROOM_MEDIA = "sfu"


def consent_all(room, *users):
    for user in users:
        rec.recording_consent(room=room, actor=user, granted=True)


def stops(room):
    return list(RoomEvent.objects.filter(room=room, kind="recording.stopped").values_list("payload", flat=True))


def test_refused_until_everyone_present_consented_and_the_version_shown_is_kept(world, sfu_mode):
    case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent)
    with pytest.raises(InvalidInput, match="王律师"):
        rec.recording_start(room=room, actor=world.mediator)
    assert not Recording.objects.exists()

    consent_all(room, world.lawyer)
    recording = rec.recording_start(room=room, actor=world.mediator)
    assert recording.space == spaces.JOINT and recording.status == RecordingStatus.RECORDING
    consent = Consent.objects.filter(room=room, user=world.lawyer).get()
    assert (consent.kind, consent.granted, consent.text.code) == (ConsentKind.RECORDING, True, RECORDING_NOTICE.code)
    assert "撤回" in consent.text.body and consent.text.version >= 1
    assert consent.party is None  # the lawyer answers for themselves, not as the respondent's consent
    assert Consent.objects.get(room=room, user=world.applicant).party.user == world.applicant
    assert RoomEvent.objects.filter(room=room, kind="recording.started", audience=spaces.ALL).exists()
    started = AuditEvent.objects.get(case=case, kind="recording.started")
    assert len(started.data["consents"]) == 4
    with pytest.raises(PermissionDenied):
        rec.recording_start(room=room, actor=world.applicant)  # only the presiding member


def test_refused_on_the_peer_mesh_with_nothing_claimed(world, settings):
    settings.ROOM_MEDIA = "mesh"
    case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent, world.lawyer)
    with pytest.raises(InvalidInput, match="无法录音录像"):
        rec.recording_start(room=room, actor=world.mediator)
    assert not Recording.objects.exists()
    assert not AuditEvent.objects.filter(case=case, kind="recording.started").exists()


def test_stops_at_once_when_anyone_withdraws(world, sfu_mode):
    case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent, world.lawyer)
    recording = rec.recording_start(room=room, actor=world.mediator)
    rec.recording_consent(room=room, actor=world.respondent, granted=False)
    recording.refresh_from_db()
    assert (recording.status, recording.stop_reason) == (RecordingStatus.PROCESSING, "withdrawn")
    assert [p["reason"] for p in stops(room)] == ["withdrawn"]
    assert AuditEvent.objects.filter(case=case, kind="recording.consent_withdrawn").exists()
    with pytest.raises(InvalidInput, match="李四"):
        rec.recording_start(room=room, actor=world.mediator)


def test_stops_when_someone_without_consent_is_admitted(world, sfu_mode):
    case, room, members = joint_room(world)
    room_controls.room_remove(room=room, actor=world.mediator, member=members["lawyer"])
    consent_all(room, world.mediator, world.applicant, world.respondent)
    recording = rec.recording_start(room=room, actor=world.mediator)
    newcomer = UserFactory(real_name="钱七")
    Party.objects.filter(case=case, user=world.applicant).update(user=newcomer)  # the applicant's account changed
    member = ready_member(room, newcomer, otp=False)
    assert member.state == RoomMemberState.WAITING
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.RECORDING  # waiting outside: not in the recorded space
    room_controls.room_admit(room=room, actor=world.mediator, member=member)
    recording.refresh_from_db()
    assert (recording.status, recording.stop_reason) == (RecordingStatus.PROCESSING, "joiner")
    assert member.pk in recording.present_members and newcomer.pk in recording.present_users


def test_a_consenting_joiner_keeps_the_recording_going(world, sfu_mode):
    case, room, members = joint_room(world)
    room_controls.room_remove(room=room, actor=world.mediator, member=members["lawyer"])
    consent_all(room, world.mediator, world.applicant, world.respondent)
    recording = rec.recording_start(room=room, actor=world.mediator)
    newcomer = UserFactory(real_name="钱七")
    Party.objects.filter(case=case, user=world.applicant).update(user=newcomer)
    member = ready_member(room, newcomer, otp=False)
    rec.recording_consent(room=room, actor=newcomer, granted=True)
    room_controls.room_admit(room=room, actor=world.mediator, member=member)
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.RECORDING


def test_a_caucus_is_recorded_only_with_the_consent_of_everyone_in_it(world, sfu_mode):
    _case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent, world.lawyer)
    joint = rec.recording_start(room=room, actor=world.mediator)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="respondent")
    joint.refresh_from_db()
    assert (joint.status, joint.stop_reason) == (RecordingStatus.PROCESSING, "space_changed")
    assert not Recording.objects.filter(status=RecordingStatus.RECORDING).exists()  # nothing carries over

    rec.recording_consent(room=room, actor=world.lawyer, granted=False)
    with pytest.raises(InvalidInput, match="背对背沟通须经在场每一个人同意"):
        rec.recording_start(room=room, actor=world.mediator)
    # The applicant, waiting outside, withdraws: that is not needed for the respondent's caucus.
    rec.recording_consent(room=room, actor=world.applicant, granted=False)
    rec.recording_consent(room=room, actor=world.lawyer, granted=True)
    caucus = rec.recording_start(room=room, actor=world.mediator)
    assert (caucus.space, caucus.caucus_side) == (spaces.CAUCUS, "respondent")
    assert world.applicant.pk not in caucus.present_users and world.respondent.pk in caucus.present_users
    rec.recording_consent(room=room, actor=world.applicant, granted=True)
    rec.recording_consent(room=room, actor=world.respondent, granted=False)
    caucus.refresh_from_db()
    assert caucus.stop_reason == "withdrawn"


def test_the_room_ending_stops_the_recording(world, sfu_mode):
    _case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent, world.lawyer)
    recording = rec.recording_start(room=room, actor=world.mediator)
    rec.recording_stop(room=room, actor=world.mediator)
    recording.refresh_from_db()
    assert recording.stop_reason == "mediator"
    with pytest.raises(InvalidInput):
        rec.recording_stop(room=room, actor=world.mediator)


def _ready_file(recording, kind="combined"):
    recording.status = RecordingStatus.READY
    recording.save(update_fields=["status"])
    return RecordingFile.objects.create(recording=recording, kind=kind, path="recordings/x.webm", sha256="0" * 64,
                                        size=1, duration=1.0, streams=["video", "audio"])


def test_playback_for_those_present_and_the_court_only(world, sfu_mode):
    case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent, world.lawyer)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="respondent")
    caucus = rec.recording_start(room=room, actor=world.mediator)
    rec.recording_stop(room=room, actor=world.mediator)
    file = _ready_file(Recording.objects.get(pk=caucus.pk))

    for allowed in (world.mediator, world.respondent, world.lawyer, world.judge):
        assert recording_file_for_user(user=allowed, pk=file.pk) == file
    other_case = world.new_case()
    stranger = UserFactory(real_name="他案当事人")
    Party.objects.filter(case=other_case, user=world.applicant).update(user=stranger)
    for refused in (world.applicant, world.outsider, stranger, world.other_judge, world.clerk):
        with pytest.raises(NotFound):
            recording_file_for_user(user=refused, pk=file.pk)
    assert recordings_for_case(user=world.applicant, case=case) == []
    assert [r.pk for r in recordings_for_case(user=world.judge, case=case)] == [caucus.pk]


def test_nothing_recorded_is_said_so_and_never_claimed(world, sfu_mode, settings, tmp_path):
    settings.RECORDING_SPOOL_DIR = tmp_path
    case, room, _m = joint_room(world)
    consent_all(room, world.mediator, world.applicant, world.respondent, world.lawyer)
    recording = rec.recording_start(room=room, actor=world.mediator)
    rec.recording_stop(room=room, actor=world.mediator)
    rec.recording_process(recording.pk)  # Janus left no files in the spool directory
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.FAILED and not recording.files.exists()
    assert AuditEvent.objects.filter(case=case, kind="recording.failed").exists()
    assert not AuditEvent.objects.filter(case=case, kind="recording.files").exists()

    # Janus refusing the start: the recording is stopped as failed, in the room and the audit trail.
    second = rec.recording_start(room=room, actor=world.mediator)
    rec.recording_media_failed(recording_id=second.pk, error="Janus 426: no such room")
    second.refresh_from_db()
    assert (second.status, second.stop_reason) == (RecordingStatus.FAILED, "media_error")
    assert stops(room)[-1]["reason"] == "media_error"
