"""Recordings on the case page and their playback (issue 14 item 2): shown and streamed to those who were in the
recorded space and to the judges of the case's court; 404 to an outsider, a party of another case, another
court's judge, and a party for a caucus they were not in. The room page carries the consent box and the
(hidden until recording) 录制中 badge."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from mediation.choices import RecordingStatus
from mediation.models import AuditEvent, Party, RecordingFile
from mediation.services import recording as rec
from mediation.services import room_controls
from tests.factories import UserFactory
from tests.frontend.test_rooms_views import walk_in
from tests.room_support import joint_room, open_room

pytestmark = pytest.mark.django_db

BODY = bytes(range(256)) * 40


@pytest.fixture
def caucus_file(world, settings, tmp_path):
    """A finished recording of the respondent's caucus with one file in private storage."""
    settings.ROOM_MEDIA = "sfu"
    settings.MEDIA_ROOT = tmp_path
    _case, room, _m = joint_room(world)
    for user in (world.mediator, world.respondent, world.lawyer):
        rec.recording_consent(room=room, actor=user, granted=True)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="respondent")
    recording = rec.recording_start(room=room, actor=world.mediator)
    rec.recording_stop(room=room, actor=world.mediator)
    recording.refresh_from_db()
    recording.status = RecordingStatus.READY
    recording.save(update_fields=["status"])
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "combined.webm").write_bytes(BODY)
    return RecordingFile.objects.create(
        recording=recording, kind="combined", path="recordings/combined.webm",
        sha256=hashlib.sha256(BODY).hexdigest(), size=len(BODY), duration=3.0, streams=["video", "audio"],
    )


def test_those_present_and_the_court_see_it_on_the_case_page_and_play_it(world, client, caucus_file):
    case = caucus_file.recording.case
    url = reverse("recording_file", args=[caucus_file.pk])
    for user in (world.respondent, world.lawyer, world.mediator, world.judge):
        client.force_login(user)
        page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert 'id="recordings"' in page and caucus_file.sha256 in page and url in page
        assert "录音录像不代替调解笔录" in page and "无争议的事实仍须以书面方式确认" in page
        whole = client.get(url)
        assert whole.status_code == 200 and b"".join(whole.streaming_content) == BODY
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and b"".join(part.streaming_content) == BODY[100:200]
    assert part["Content-Range"] == f"bytes 100-199/{len(BODY)}"
    assert client.get(url, HTTP_RANGE=f"bytes={len(BODY) + 5}-").status_code == 416
    assert AuditEvent.objects.filter(case=case, kind="recording.viewed").count() == 4  # not the range reads


def test_playback_refused_to_an_outsider_another_cases_party_another_court_and_the_side_outside_the_caucus(
    world, client, caucus_file
):
    case = caucus_file.recording.case
    other_party = UserFactory(real_name="他案当事人")
    Party.objects.filter(case=world.new_case(), user=world.applicant).update(user=other_party)
    url = reverse("recording_file", args=[caucus_file.pk])
    for user in (world.outsider, other_party, world.other_judge, world.applicant):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
        page = client.get(reverse("case_detail", args=[case.pk]))
        assert url not in page.content.decode()
    client.logout()
    assert client.get(url).status_code == 302  # sign in first


def test_the_room_page_has_the_consent_box_and_the_hidden_badge(world, client):
    _case, _session, room = open_room(world)
    response = walk_in(client, room, world.applicant)
    page = client.get(response.url).content.decode()
    assert 'id="rm-recmark" role="status" hidden' in page
    assert 'data-rec="consent"' in page and 'data-rec="start"' not in page  # starting is the mediator's
    assert "录音录像告知（第" in page and "可以随时撤回同意" in page
    assert "录音录像不代替本笔录" in page  # OMR 22, in the record area
