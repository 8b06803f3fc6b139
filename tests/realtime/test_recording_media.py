"""Consent-gated recording end to end through Janus (issue 14 item 2): two members of a real room publish
audio and video from the aiortc client (realtime/sfu_peer.py; not a browser: see decision D-recording-1 for
why) into the room's joint Janus room; the mediator starts the recording (every consent given), ~3 s later
stops it; Janus's per-track files become one WebM per participant and a combined one, each of which ffprobe
shows with a video and an audio stream lasting the recorded interval (within 5 %); their SHA-256 are on the
``Recording`` and in the audit trail, and ``verify_audit_chain`` is intact. Then the files are served with
Range to a participant and refused to an outsider."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from pathlib import Path

import pytest
from aiortc import AudioStreamTrack
from django.core.management import call_command

from mediation.choices import RecordingStatus
from mediation.models import AuditEvent, Recording
from mediation.services import recording as rec
from mediation.services.recording import probe
from realtime import sfu
from realtime.ice import ice_servers
from realtime.sfu_peer import SfuPeer
from tests.room_support import joint_room
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.media]


class Loop:
    """An event loop on its own thread for the aiortc peers, while the test's thread makes the room's calls
    (the database and the on-commit receivers stay on the test's connection)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def test_a_consented_recording_produces_verified_files(
    media_servers, settings, tmp_path, world, django_capture_on_commit_callbacks, client  # noqa: F811
):
    media_servers.settings(settings)
    settings.RECORDING_SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_ROOT = tmp_path / "media"
    case, room, members = joint_room(world)
    publishers = [members["applicant"], members["respondent"]]
    for member in members.values():
        sfu.admit(room_id=room.pk, member=member, caucus_side="")
    for user in (world.mediator, world.applicant, world.respondent, world.lawyer):
        rec.recording_consent(room=room, actor=user, granted=True)
    servers = ice_servers(member_id=members["applicant"].pk)

    loop = Loop()
    peers = [SfuPeer(sfu.media_descriptor(room_id=room.pk, member=m, caucus_side=""), ice_servers=servers)
             for m in publishers]

    async def publish() -> None:
        for peer in peers:
            await peer.join(audio=AudioStreamTrack())
        await asyncio.sleep(1.5)  # ICE and DTLS done, media flowing

    async def close() -> None:
        for peer in peers:
            await peer.close()

    try:
        loop.run(publish())
        with django_capture_on_commit_callbacks(execute=True):
            recording = rec.recording_start(room=room, actor=world.mediator)
        began = time.monotonic()
        time.sleep(3)
        with django_capture_on_commit_callbacks(execute=True):  # the stop, then the files (eager task)
            rec.recording_stop(room=room, actor=world.mediator)
            interval = time.monotonic() - began
    finally:
        loop.run(close())
        loop.stop()

    recording = Recording.objects.get(pk=recording.pk)
    assert recording.status == RecordingStatus.READY, recording.error
    files = list(recording.files.order_by("kind", "member_id"))
    assert sorted((f.kind, f.member_id) for f in files) == sorted(
        [("combined", None)] + [("participant", m.pk) for m in publishers]
    )
    for file in files:
        path = Path(settings.MEDIA_ROOT) / file.path
        duration, streams = probe(path)
        assert sorted(streams) == ["audio", "video"], (file.kind, streams)
        assert abs(duration - interval) <= 0.05 * interval, (file.kind, duration, interval)
        assert file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert not str(path).startswith(str(settings.STATIC_ROOT))
    audited = AuditEvent.objects.get(case=case, kind="recording.files")
    assert {f["sha256"] for f in audited.data["files"]} == {f.sha256 for f in files}
    call_command("verify_audit_chain")

    participant = files[-1]
    client.force_login(world.respondent)
    answer = client.get(f"/recordings/files/{participant.pk}/", HTTP_RANGE="bytes=0-99")
    assert answer.status_code == 206 and len(b"".join(answer.streaming_content)) == 100
    assert answer["Content-Range"].endswith(f"/{participant.size}")
    client.force_login(world.outsider)
    assert client.get(f"/recordings/files/{participant.pk}/").status_code == 404
