"""The phone realities in a real browser (headless Chromium, fake camera and microphone), on the mesh; the SFU
client (room/sfu.js) calls the same functions (media.js, quality.js):

- the socket opens while the camera starts: the welcome arrives before getUserMedia resolves, and the camera's
  video still reaches the other side (issue 15 item 5);
- echo cancellation, noise suppression and automatic gain are on the microphone track;
- a microphone track that stops (iOS after a phone call, Siri, a screen lock) is opened again and put on every
  sender: a new live track, and the other side's received audio energy rises again;
- a network change restarts ICE: the tile and the room's mark say "正在重新连接…", then back to a quality mark
  with frames rising;
- a refused camera leads in with audio only and the browser's own instructions; refused camera and microphone
  offer listen only;
- a WeChat in-app browser gets the page that says how to open the link in the phone's browser, with a working copy
  button.
Screenshots at 360×640 and 390×844 in tests/e2e/artifacts/."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, guard_csp, off_loop, screenshot
from tests.e2e.phone_support import fits, new_phone, receiving, sign_in
from tests.room_support import open_room, ready_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SMALL = {"width": 360, "height": 640}
PHONE = {"width": 390, "height": 844}
WECHAT = (
    "Mozilla/5.0 (Linux; Android 12; V2049A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230405 "
    "MicroMessenger/8.0.35.2360(0x2800235B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Mobile Safari/537.36"
)
# The camera answers late, as when a person reads the permission prompt: the first getUserMedia waits 2.5 s.
SLOW_CAMERA = """(() => {
  const md = navigator.mediaDevices;
  if (!md) return;
  const original = md.getUserMedia.bind(md);
  let first = true;
  md.getUserMedia = (constraints) => {
    if (!first) return original(constraints);
    first = false;
    return new Promise((resolve) => setTimeout(resolve, 2500)).then(() => original(constraints));
  };
})();"""


def both_sizes(page, name: str) -> None:
    """The page as it is, at 360×640 and at 390×844."""
    before = page.viewport_size
    for size, label in ((SMALL, "360"), (PHONE, "390")):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        assert fits(page), f"{name} sticks out sideways at {label}"
        screenshot(page, f"phone-{name}-{label}")
    page.set_viewport_size(before)


def audio_energy(page, member: int) -> float:
    return float(page.evaluate("window.yizhanRoom.audioReceived()").get(str(member), 0))


def sound_rising(page, member: int, timeout: float = 20.0) -> None:
    """``page`` plays sound from ``member``: the received audio energy rises between two samples."""
    deadline = time.monotonic() + timeout
    last = audio_energy(page, member)
    while time.monotonic() < deadline:
        page.wait_for_timeout(700)
        now = audio_energy(page, member)
        if now > last > 0:
            return
        last = now
    raise AssertionError(f"no sound from member {member}")


RECONNECTING = """() => {
  const tile = document.querySelector("#rm-tiles [data-member='MEMBER']");
  const net = document.getElementById("rm-net");
  return Boolean(tile && tile.classList.contains("reconnecting")
    && tile.querySelector(".rm-q").textContent === "正在重新连接…"
    && net.dataset.q === "reconnecting" && net.textContent.includes("正在重新连接…"));
}"""


def two_in_room(world: Any) -> tuple[Any, int, int]:
    def setup():  # type: ignore[no-untyped-def]
        _case, _session, room = open_room(world)
        mediator = ready_member(room, world.mediator)
        applicant = ready_member(room, world.applicant, admit_by=world.mediator)
        return room, mediator.pk, applicant.pk

    return off_loop(setup)


def test_socket_first_then_a_stopped_microphone_and_a_network_change_come_back(asgi_live_server, world, browser):
    room, m_id, a_id = two_in_room(world)
    base = asgi_live_server.url
    mediator, alice = new_phone(browser), new_phone(browser, SMALL)
    sign_in(mediator, base, world.mediator.username)
    sign_in(alice, base, world.applicant.username)
    mediator.goto(f"{base}/rooms/{room.pk}/")
    mediator.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")

    # Issue 15 item 5: the welcome does not wait for the camera.
    alice.add_init_script(SLOW_CAMERA)
    alice.goto(f"{base}/rooms/{room.pk}/")
    alice.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
    assert alice.evaluate("window.yizhanRoom.state.timeline.media") is None, "welcomed while the camera is opening"
    alice.wait_for_function("() => window.yizhanRoom.state.timeline.media !== undefined")
    timeline = alice.evaluate("window.yizhanRoom.state.timeline")
    assert timeline["welcome"] < timeline["media"], timeline
    assert timeline["media"] - timeline["start"] >= 2500
    receiving(mediator, a_id)  # the late camera still reaches the connection made before it
    receiving(alice, m_id)

    # Echo cancellation, noise suppression and automatic gain on the microphone.
    settings = alice.evaluate("window.yizhanRoom.localAudio().getSettings()")
    assert settings.get("echoCancellation") is True
    assert settings.get("noiseSuppression") is True
    assert settings.get("autoGainControl") is True
    alice.wait_for_selector("#rm-mic-state:has-text('麦克风正常')")

    # The microphone track stops (as iOS stops it for a phone call): opened again, on every sender, sound resumes.
    mediator.click("#rm-tap")  # the first tap turns the sound on (the browser measures what it plays)
    sound_rising(mediator, a_id)  # the fake microphone's beeps are heard before the stop
    old = alice.evaluate("window.yizhanRoom.localAudio().id")
    alice.evaluate("window.yizhanRoom.localAudio().stop()")
    alice.wait_for_function(
        f"() => window.yizhanRoom.localAudio() && window.yizhanRoom.localAudio().id !== '{old}'"
        " && window.yizhanRoom.localAudio().readyState === 'live'",
        timeout=10000,
    )
    new = alice.evaluate("window.yizhanRoom.localAudio().id")
    assert alice.evaluate("window.yizhanRoom.state.reacquired.audio") == 1
    carried = alice.evaluate("window.yizhanRoom.sendersCarry()")
    assert carried and all(new in ids and old not in ids for ids in carried), carried
    alice.wait_for_selector("#rm-mic-state:has-text('麦克风正常')")
    sound_rising(mediator, a_id)  # the mediator hears the new microphone

    # A network change (Wi-Fi ↔ 4G fires `online`): ICE restarts; the mediator's tile and the room's mark say
    # "正在重新连接…" at once, until a stats sample taken wholly after the restart shows frames or sound. On this
    # shared test machine a starved page may also lose its socket (and rebuild its connections) meanwhile: then
    # the network change is sent again.
    shown = False
    for _attempt in range(3):
        for page in (alice, mediator):
            page.evaluate("window.dispatchEvent(new Event('online'))")
        try:
            alice.wait_for_function(RECONNECTING.replace("MEMBER", str(m_id)), timeout=8000)
            shown = True
            break
        except Exception:
            print("links", alice.evaluate("JSON.stringify(window.yizhanRoom.links())"))
    assert shown, "the reconnecting state was not shown"
    both_sizes(alice, "reconnecting")
    alice.wait_for_selector(f"#rm-tiles [data-member='{m_id}']:not(.reconnecting)", timeout=15000)
    alice.wait_for_function("() => document.getElementById('rm-net').dataset.q !== 'reconnecting'", timeout=15000)
    alice.wait_for_function(  # a quality mark again once a sample is in (网络良好 / 一般 / 较差)
        f"() => ['good', 'fair', 'poor'].includes("
        f"document.querySelector(\"#rm-tiles [data-member='{m_id}'] .rm-q\").dataset.q)",
        timeout=15000,
    )
    receiving(alice, m_id)
    receiving(mediator, a_id)
    both_sizes(alice, "reconnected")


def launch_without_permissions(playwright):  # type: ignore[no-untyped-def]
    """Chromium whose permission prompts are not answered yes: what is not granted is refused."""
    args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    return browser, guard_csp(browser)


def test_a_refused_camera_leads_in_with_audio_only_and_a_refused_microphone_to_listen_only(asgi_live_server, world):
    from playwright.sync_api import sync_playwright

    room, m_id, a_id = two_in_room(world)
    base = asgi_live_server.url
    with sync_playwright() as playwright:
        browser, violations = launch_without_permissions(playwright)
        try:
            granted = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
            granted.grant_permissions(["camera", "microphone"])
            mediator = granted.new_page()
            sign_in(mediator, base, world.mediator.username)
            mediator.goto(f"{base}/rooms/{room.pk}/")
            mediator.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")

            # Camera refused, microphone allowed: in with audio only, the Android instructions shown.
            mic_only = browser.new_context(
                viewport=SMALL, is_mobile=True, has_touch=True, locale="zh-CN", user_agent=ANDROID_CHROME
            )
            mic_only.grant_permissions(["microphone"])
            alice = mic_only.new_page()
            sign_in(alice, base, world.applicant.username)
            alice.goto(f"{base}/rooms/{room.pk}/")
            alice.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
            alice.wait_for_selector("#rm-media-note:has-text('未获得摄像头权限')")
            assert alice.evaluate("window.yizhanRoom.state.audioOnly") is True
            assert alice.get_attribute("#rm-media-help", "data-browser") == "android"
            assert alice.is_visible("#rm-media-help [data-help-for=android]")
            assert not alice.is_visible("#rm-media-help [data-help-for=ios]")
            assert not alice.is_visible("#rm-media-listen"), "the microphone works: no need to only listen"
            assert alice.evaluate("window.yizhanRoom.localAudio() !== undefined")
            mediator.wait_for_selector(f"#rm-tiles [data-member='{a_id}'].no-video")
            assert alice.evaluate("window.yizhanRoom.state.you.state") == "admitted"
            both_sizes(alice, "camera-denied")
            mic_only.close()

            # Nothing allowed: the way in is listen only, never a dead end.
            nothing = browser.new_context(
                viewport=SMALL, is_mobile=True, has_touch=True, locale="zh-CN", user_agent=ANDROID_CHROME
            )
            bob = nothing.new_page()
            sign_in(bob, base, world.applicant.username)
            bob.goto(f"{base}/rooms/{room.pk}/")
            bob.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
            bob.wait_for_selector("#rm-media-note:has-text('未获得摄像头和麦克风权限')")
            both_sizes(bob, "all-denied")
            bob.click("#rm-media-listen")
            bob.wait_for_selector("#rm-mic-state:has-text('仅收听')")
            assert bob.is_hidden("#rm-media-note")
            receiving(bob, m_id)  # hears and sees the mediator
            assert bob.text_content("#rm-audio") == "打开摄像头和麦克风"  # the way back to the devices
            both_sizes(bob, "listen-only")
            nothing.close()
            granted.close()
        finally:
            browser.close()
    assert violations == []


def test_wechat_in_app_browser_is_told_to_open_the_link_in_the_phone_browser(asgi_live_server, world, browser):
    room, _m_id, _a_id = two_in_room(world)
    base = asgi_live_server.url
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", user_agent=WECHAT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    sign_in(page, base, world.applicant.username)
    link = f"{base}/rooms/{room.pk}/join/"
    page.goto(link)
    page.wait_for_selector("h1:has-text('请在手机浏览器中打开')")
    assert "点右上角 ··· → 在浏览器打开" in page.text_content("#inapp")
    assert "您正在微信内打开调解室链接" in page.text_content("#inapp")
    assert page.input_value("#inapp-link") == link
    page.click("#inapp-copy")
    page.wait_for_selector("#inapp-copied:has-text('已复制')")
    assert page.evaluate("navigator.clipboard.readText()") == link
    both_sizes(page, "inapp-wechat")
    page.click("#inapp-continue")  # going on here anyway: into the room (the way in was done), remembered
    page.wait_for_selector("#room")
    page.goto(link)
    page.wait_for_selector("#room")
    context.close()
