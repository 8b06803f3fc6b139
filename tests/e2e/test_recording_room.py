"""Consent-gated recording from real browsers' streams (issue 14 item 2): the mediator (desktop) and the applicant
(a 390x844 phone) in one room through Janus, Chromium's fake camera and microphone publishing. Both consent on
the page (the respondent and the lawyer, admitted but offline, through the service); the mediator starts
recording; both pages show the 录制中 badge; ~5 s later the mediator stops it. Janus's files become a WebM per
participant and a combined one, each with an audio and a video stream whose ffprobe duration is within 5 % of
the recorded interval (Janus's answers to the start and the stop); their hashes are in the audit trail and
``verify_audit_chain`` is intact.
Run inside the namespace: scripts/media-netns.sh exec NAME .venv/bin/pytest tests/e2e/test_recording_room.py"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from mediation.choices import RecordingStatus
from mediation.models import AuditEvent, Recording
from mediation.services import recording as rec
from mediation.services.recording import probe
from tests.e2e.conftest import PHONE, off_loop, screenshot
from tests.e2e.test_sfu_room_phone import DESKTOP, receiving, settle, sfu_browser, use_sfu  # noqa: F401 - fixture
from tests.room_support import joint_room
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = off_loop(predicate)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_a_recording_from_browsers_streams(
    asgi_live_server, world, sfu_browser, media_servers, settings, tmp_path  # noqa: F811
):
    from channels.layers import channel_layers

    from tests.realtime.test_aiortc_peer import session_cookie

    use_sfu(media_servers, settings)
    settings.RECORDING_SPOOL_DIR = tmp_path / "spool"
    settings.MEDIA_ROOT = tmp_path / "media"
    case, room, members = off_loop(lambda: joint_room(world))
    ids = {name: m.pk for name, m in members.items()}
    users = {"mediator": world.mediator, "applicant": world.applicant}
    cookies = off_loop(lambda: {name: session_cookie(user) for name, user in users.items()})
    channel_layers.backends.clear()
    url = asgi_live_server.url + reverse("room_page", args=[room.pk])
    pages = {}
    for name in users:
        phone = name != "mediator"
        context = sfu_browser.new_context(viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone,
                                          locale="zh-CN")
        context.set_default_timeout(120_000)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookies[name],
                              "url": asgi_live_server.url}])
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
        pages[name] = page
    settle(pages, [list(pages)])
    receiving(pages["mediator"], ids["applicant"])
    receiving(pages["applicant"], ids["mediator"])

    # Starting before everyone present consented is refused, on the page.
    pages["mediator"].click("button[data-rec=start]")
    pages["mediator"].wait_for_selector("#rm-rec-status:has-text('尚未同意')")
    for page in pages.values():
        page.click("button[data-rec=consent]")
        page.wait_for_selector("#rm-rec-mine:has-text('您已同意录音录像')")
    offline = (world.respondent, world.lawyer)  # admitted, not connected: they answer through the service
    off_loop(lambda: [rec.recording_consent(room=room, actor=u, granted=True) for u in offline])
    screenshot(pages["applicant"], "recording-applicant-1-consented")

    pages["mediator"].click("button[data-rec=start]")
    for page in pages.values():
        page.wait_for_selector("#rm-recmark", state="visible")
    screenshot(pages["applicant"], "recording-applicant-2-recording")
    screenshot(pages["mediator"], "recording-mediator-2-recording")
    time.sleep(5)
    pages["mediator"].click("button[data-rec=stop]")
    for page in pages.values():
        page.wait_for_selector("#rm-recmark", state="hidden")
    screenshot(pages["applicant"], "recording-applicant-3-stopped")

    recording = _wait_for(lambda: Recording.objects.filter(room=room).exclude(
        status=RecordingStatus.PROCESSING).first())
    assert recording.status == RecordingStatus.READY, recording.error
    # The interval Janus recorded: from its answer to the start to its answer to the stop.
    interval = (recording.media_stopped_at - recording.media_started_at).total_seconds()
    files = off_loop(lambda: list(recording.files.all()))
    found = {(f.kind, f.member_id): probe(Path(settings.MEDIA_ROOT) / f.path) for f in files}
    assert sorted((f.kind, f.member_id) for f in files) == [
        ("combined", None), *sorted(("participant", ids[n]) for n in users)
    ]
    for file in files:
        duration, streams = probe(Path(settings.MEDIA_ROOT) / file.path)
        assert sorted(streams) == ["audio", "video"], (file.kind, streams)
        assert abs(duration - interval) <= 0.05 * interval, (found, interval)
    audited = off_loop(lambda: AuditEvent.objects.get(case=case, kind="recording.files"))
    assert {f["sha256"] for f in audited.data["files"]} == {f.sha256 for f in files}
    off_loop(lambda: call_command("verify_audit_chain"))

    # The case page plays them, for the applicant who was present.
    case_page = pages["applicant"]
    case_page.goto(asgi_live_server.url + reverse("case_detail", args=[case.pk]) + "#recordings")
    case_page.wait_for_selector("#recordings video")
    screenshot(case_page, "recording-applicant-4-case-page")
