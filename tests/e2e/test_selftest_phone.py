"""The pre-join self-test in a real phone browser (390×844, then 360×640), inside the media namespace: the page
runs its network test against the server's aiortc echo peer (through the real ASGI server) to a verdict the
server stores; with 30 % loss applied in the namespace the verdict becomes 网络太弱, with the path shaped to
300 kbit/s 建议仅用语音; the rules accepted, the way goes on to the notices. One page for all three runs (the
"重新检测" button), so the browser starts once."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.choices import CaseStatus
from mediation.models import SelfTest
from mediation.services import room_entry
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, new_phone, sign_in
from tests.netlimits_support import bandwidth, packet_loss
from tests.room_support import last_code, schedule_session

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

VERDICT = "#selftest-verdict"


# The camera refused, the microphone allowed (as a phone's site settings can have it).
CAMERA_REFUSED = """
const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (c) => (c && c.video)
  ? Promise.reject(new DOMException("Permission denied", "NotAllowedError")) : real(c);
"""


def checked_member(world, user=None) -> Any:  # type: ignore[no-untyped-def]
    """An open room and the applicant (or ``user`` in the applicant's room) past the identity step."""
    user = user or world.applicant
    room = getattr(world, "_selftest_room", None)
    if room is None:
        case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
        session = schedule_session(world, case)
        room = world._selftest_room = room_entry.room_for_session(session=session, actor=world.mediator)
    member = room_entry.room_member_get_or_create(room=room, user=user)
    room_entry.room_identity_code_send(member=member)
    return room_entry.room_identity_verify(member=member, code=last_code(user.phone))


def run_to_verdict(page, runs_before: int, *, timeout_ms: int = 25_000) -> str:  # type: ignore[no-untyped-def]
    """Wait for the page's self-test run number ``runs_before + 1`` to end; its verdict."""
    page.wait_for_function(f"() => window.yizhanSelfTest && window.yizhanSelfTest.runs > {runs_before}",
                           timeout=timeout_ms)
    return str(page.get_attribute(VERDICT, "data-verdict"))


def latest(member) -> SelfTest:  # type: ignore[no-untyped-def]
    return off_loop(lambda: SelfTest.objects.filter(session=member.room.session, user=member.user)
                    .order_by("-created_at", "-id").first())


def test_the_self_test_reaches_a_verdict_that_weak_networks_change(asgi_live_server, world, browser):
    member = off_loop(lambda: checked_member(world))
    base = asgi_live_server.url
    page = new_phone(browser)
    sign_in(page, base, world.applicant.username)
    page.goto(f"{base}/rooms/{member.room_id}/join/device/")
    page.wait_for_selector("h1:has-text('入会前自检')")

    assert run_to_verdict(page, 0) == "good", page.inner_text(VERDICT)
    row = latest(member)
    assert row.verdict == "good" and row.camera_ok and row.microphone_ok
    assert row.rtt_ms is not None and row.rtt_ms < 100 and row.loss_percent == 0
    assert row.up_kbps >= 500 and row.down_kbps >= 500 and 0 < row.duration_ms < 15_000
    assert "视频良好" in page.inner_text(VERDICT) and fits(page)
    page.wait_for_function("() => document.getElementById('device-preview').srcObject !== null")
    # the test sound and its question
    page.click("[data-play]")
    page.wait_for_selector("[data-ask]:not([hidden])")
    page.click("[data-heard=yes]")
    screenshot(page, "selftest-390x844-good")
    page.set_viewport_size({"width": 360, "height": 640})
    assert fits(page)
    screenshot(page, "selftest-360x640-good")

    with packet_loss(30):
        page.click("[data-rerun]")
        verdict = run_to_verdict(page, 1)
    assert verdict == "too_weak", page.inner_text(VERDICT)
    weak = latest(member)
    assert weak.verdict == "too_weak" and weak.pk != row.pk
    # measured: round-trip loss far above the limit; or, when the handshake itself did not get through within
    # the page's time limit, no path at all (both are 网络太弱)
    assert (weak.loss_percent or 0) >= 15 or weak.rtt_ms is None, (weak.loss_percent, weak.rtt_ms)
    assert page.inner_text("[data-enter]") == "仍要进入（仅音频）"
    assert page.is_checked("input[name=audio_only][value='1']")
    screenshot(page, "selftest-360x640-too-weak")

    with bandwidth(300):
        page.click("[data-rerun]")
        verdict = run_to_verdict(page, 2)
    assert verdict == "audio_only", page.inner_text(VERDICT)
    slow = latest(member)
    assert slow.verdict == "audio_only" and min(slow.up_kbps, slow.down_kbps) < 500
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "selftest-390x844-audio-only")

    page.check("input[name=accept_rules]")
    page.click("[data-enter]")
    page.wait_for_selector("h1:has-text('调解告知事项')")
    accepted = latest(member)
    assert accepted.pk == slow.pk and accepted.rules_accepted_at is not None and accepted.speaker_ok

    # Never a dead end: with the camera refused the self-test runs audio only, and the way in stays open.
    other = off_loop(lambda: checked_member(world, world.respondent))
    refused = new_phone(browser)
    refused.context.add_init_script(CAMERA_REFUSED)
    sign_in(refused, base, world.respondent.username)
    refused.goto(f"{base}/rooms/{other.room_id}/join/device/")
    assert run_to_verdict(refused, 0) == "audio_only", refused.inner_text(VERDICT)
    no_camera = latest(other)
    assert not no_camera.camera_ok and no_camera.microphone_ok and no_camera.rtt_ms is not None
    assert refused.is_checked("input[name=audio_only][value='1']")
    assert "仅音频" in refused.inner_text("[data-device-check]")
    refused.check("input[name=accept_rules]")
    refused.click("[data-enter]")
    refused.wait_for_selector("h1:has-text('调解告知事项')")
