"""The staff's live view in a real browser (issue 14 item 3), on a tablet and a phone: drawn from the page's
JSON under the site's CSP, refreshed without a reload (a new quality report shows up and the time of the last
update moves on), and a message sent to one participant from the dialog."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import caches
from django.urls import reverse

from mediation.choices import SelfTestVerdict
from mediation.models import RoomEvent, SelfTest
from mediation.services import live_view, room_entry
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, new_phone, sign_in
from tests.room_support import joint_room, open_room, ready_member, schedule_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
_caches = itertools.count()


@pytest.fixture(autouse=True)
def live_cache(settings):
    settings.CACHES = {**settings.CACHES, "live": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                   "LOCATION": f"live-e2e-{next(_caches)}"}}


def test_the_live_view_refreshes_itself_and_sends_a_message(live_server, world, browser):
    def prepare() -> dict[str, int]:
        _case, room, members = joint_room(world, otp=False)
        for name, member in members.items():
            room_entry.room_presence_set(member=member, channel=f"c-{name}")
        room_entry.room_presence_clear(member_id=members["lawyer"].pk, channel="c-lawyer")
        live_view.room_presence_dropped(member_id=members["lawyer"].pk)
        live_view.room_quality_report(member_id=members["applicant"].pk, level="good", rtt_ms=48, loss_pct=0.2)
        live_view.room_quality_report(member_id=members["respondent"].pk, level="fair", rtt_ms=380, loss_pct=4)
        SelfTest.objects.create(session=room.session, user=world.applicant, verdict=SelfTestVerdict.GOOD)
        SelfTest.objects.create(session=room.session, user=world.respondent, verdict=SelfTestVerdict.AUDIO_ONLY)
        schedule_session(world, world.drive(world.new_case(), "scheduling"))  # later today, room not open
        return {"applicant": members["applicant"].pk, "respondent": members["respondent"].pk}

    ids = off_loop(prepare)
    context = browser.new_context(viewport=TABLET, device_scale_factor=2, has_touch=True, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    sign_in(page, live_server.url, world.clerk.username, next_path=reverse("live_view"))
    page.goto(f"{live_server.url}{reverse('live_view')}")
    page.wait_for_selector(".lv-session")
    assert page.locator(".lv-session").count() == 2
    text = page.text_content("#lv-sessions") or ""
    for shown in ("共同调解中", "未开启", "在会中", "正在重连", "视频良好", "建议仅用语音", "未自检",
                  "良好 · 时延 48 毫秒", "一般 · 时延 380 毫秒 · 丢包 4%", "已断开"):
        assert shown in text, shown
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    screenshot(page, "live-view-1024x768")

    # The applicant's line gets worse: the board shows it without a reload, with a later update time.
    first = page.get_attribute("[data-live-view]", "data-updated-at")
    page.evaluate("() => { window.__same_page = true; }")
    off_loop(lambda: live_view.room_quality_report(member_id=ids["applicant"], level="poor", rtt_ms=900, loss_pct=11))
    page.wait_for_function("() => document.querySelector('#lv-sessions').textContent.includes('较差 · 时延 900 毫秒')",
                           timeout=12_000)
    assert page.evaluate("() => window.__same_page === true")
    assert page.get_attribute("[data-live-view]", "data-updated-at") != first

    # A message to the respondent from the dialog.
    page.click(f"button.lv-msg[data-member='{ids['respondent']}']")
    page.fill("#lv-text", "您好，您的网络较差，建议改为仅音频。")
    page.click("#lv-send")
    page.wait_for_selector("#lv-sent:not([hidden])")
    event = off_loop(lambda: RoomEvent.objects.get(kind="staff.message"))
    assert event.payload["text"] == "您好，您的网络较差，建议改为仅音频。"

    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector(".lv-session")
    assert fits(page)
    screenshot(page, "live-view-390x844")
    assert errors == []
    context.close()


def test_the_room_reports_its_quality_and_shows_the_staff_message(asgi_live_server, world, browser):
    """The room's side in a phone browser: its quality reports reach the live cache, and a message from staff
    appears as a notice to that person."""
    def setup():  # type: ignore[no-untyped-def]
        _case, _session, room = open_room(world)
        ready_member(room, world.mediator, otp=False)
        return room, ready_member(room, world.applicant, admit_by=world.mediator, otp=False)

    room, member = off_loop(setup)
    base = asgi_live_server.url
    alice = new_phone(browser, PHONE)
    sign_in(alice, base, world.applicant.username)
    alice.goto(f"{base}/rooms/{room.pk}/")
    alice.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
    # No peer yet: nothing measured, and that is what the first report says (not the room mark's 良好).
    for _ in range(50):
        report = caches["live"].get(f"room-quality:{member.pk}")
        if report:
            break
        alice.wait_for_timeout(200)
    assert report and report["level"] == "none" and report["rtt_ms"] is None
    off_loop(lambda: live_view.room_staff_message(actor=world.org_admin, member_id=member.pk,
                                                  text="请在调解开始前戴上耳机。"))
    alice.wait_for_selector("#rm-staff-note:not([hidden])")
    assert "请在调解开始前戴上耳机。" in (alice.text_content("#rm-staff-note") or "")
    assert "工作人员周主任" in (alice.text_content("#rm-staff-note-from") or "")
    screenshot(alice, "live-view-room-notice-390x844")
    alice.click("#rm-staff-note-close")
    alice.wait_for_selector("#rm-staff-note", state="hidden")
    alice.context.close()
