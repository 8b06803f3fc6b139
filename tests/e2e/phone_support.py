"""What the browser tests do on a phone again and again: open a phone, sign in, check the page fits, pass a
room's way in (one-time code, device check, notices), and watch a peer's video frames."""

from __future__ import annotations

import time

from tests.e2e.conftest import PHONE, off_loop, screenshot
from tests.factories import TEST_PASSWORD
from tests.room_support import last_code


def new_phone(browser, viewport: dict[str, int] = PHONE):  # type: ignore[no-untyped-def]
    """A fresh phone-sized page in its own context (its own cookies), Chinese locale."""
    context = browser.new_context(viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    return context.new_page()


def sign_in(page, base: str, username: str, *, password: str = TEST_PASSWORD, next_path: str = "") -> None:
    """Sign in with a password and wait until the page shows a signed-in header (its 退出 link)."""
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("text=退出")


def fits(page) -> bool:
    """Nothing sticks out sideways: the page is no wider than the phone."""
    return bool(page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"])


def pass_room_checks(page, *, phone: str, party: bool, shots: str = "") -> None:
    """From a room's identity page into the room: the session code sent to ``phone``, the device check, the
    notices (and, for a party, yes to the caucus question). ``shots`` prefixes a screenshot of each step."""
    page.wait_for_selector("h1:has-text('身份核验')")
    page.click("button[value=send]")
    page.wait_for_selector("#id_code")
    page.fill("#id_code", off_loop(lambda: last_code(phone)))
    if shots:
        screenshot(page, f"{shots}-1-identity")
    page.click("button[value=verify]")
    page.wait_for_selector("h1:has-text('入会前自检')")
    page.wait_for_function("() => document.getElementById('device-preview').srcObject !== null")
    assert fits(page)
    if shots:
        screenshot(page, f"{shots}-2-device")
    page.check("input[name=accept_rules]")
    page.click(".rm-device-form button[data-enter]")
    page.wait_for_selector("h1:has-text('调解告知事项')")
    for box in page.locator("input[name=notice]").all():
        box.check()
    if party:
        page.check("input[name=consent_caucus][value=yes]")
    if shots:
        screenshot(page, f"{shots}-3-notices")
    page.click("form.stack > button.primary")
    page.wait_for_selector("#room")
    page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")


def frames(page) -> dict[int, int]:
    return {int(k): v for k, v in page.evaluate("window.yizhanRoom.framesDecoded()").items()}


def peers(page) -> list[int]:
    return list(page.evaluate("window.yizhanRoom.peers()"))


def receiving(page, member: int, *, timeout: float = 20.0) -> None:
    """``page`` decodes video frames from ``member``, and the count keeps rising."""
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        count = frames(page).get(member, 0)
        if first is None and count > 0:
            first = count
        elif first is not None and count > first + 5:
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"no rising frames from member {member}: {frames(page)} peers={peers(page)}")


def not_receiving(page, member: int, *, timeout: float = 10.0) -> None:
    """No connection to ``member`` at all, and it stays so: nothing of theirs can be decoded."""
    page.wait_for_function(f"() => !window.yizhanRoom.peers().includes({member})", timeout=timeout * 1000)
    assert member not in frames(page)
    page.wait_for_timeout(1000)
    assert member not in peers(page) and member not in frames(page)


def draw_signature(page) -> None:
    """Draw a scribble on the signing pad, as a finger would, once the page has stopped scrolling to it."""
    pad = page.locator("#sign-pad")
    pad.scroll_into_view_if_needed()
    page.wait_for_function("() => Math.abs(document.getElementById('sign-pad').getBoundingClientRect().top"
                           " - (window.__lastTop ?? (window.__lastTop = -1))) < 0.5"
                           " || (window.__lastTop = document.getElementById('sign-pad').getBoundingClientRect().top,"
                           " false)", polling=100)  # wait until the smooth scroll has settled
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for fx, fy in [(0.2, 0.25), (0.3, 0.65), (0.42, 0.2), (0.55, 0.7), (0.68, 0.3), (0.85, 0.55)]:
        page.mouse.move(x + w * fx, y + h * fy, steps=6)
    page.mouse.up()
