"""The mediation room through the SFU (Janus) in real Chromium, inside the media namespace: the mediator on a
desktop viewport, both parties and the respondent's lawyer on 390x844 phones. Joint session: every page
decodes rising frames from every other; a caucus with the applicant's side: the respondent's side stops
receiving the applicant's and the mediator's frames (its pages left the joint Janus room) while the caucus
goes on; joint again: frames rise everywhere. janus.js and adapter.js come from our own static files and run
under the page's Content-Security-Policy (the ``browser`` guard fails on any violation).

The app server's half is the real one (MEDIA=sfu, realtime/sfu.py) against the Janus of tests/sfu_support.py.
Run inside the namespace: scripts/media-netns.sh exec NAME .venv/bin/pytest tests/e2e/test_sfu_room_phone.py"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator

import pytest
from django.urls import reverse

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, guard_csp, off_loop, screenshot
from tests.room_support import joint_room
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
# Inside the namespace: no loopback pairing; host candidates as addresses, not mDNS names (Janus ignores those).
SFU_ARGS = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"] + [
    "--disable-features=WebRtcHideLocalIpsWithMdns"
]


@pytest.fixture
def sfu_browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=SFU_ARGS, headless=True)
        violations = guard_csp(browser)
        yield browser
        browser.close()
        assert not violations, violations


def frames(page) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return {int(k): v for k, v in page.evaluate("() => window.yizhanSfu.framesDecoded()").items()}


def receiving(page, member: int, *, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    """``page`` decodes video from ``member`` through Janus, and the count keeps rising."""
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        count = frames(page).get(member, 0)
        if first is None and count > 0:
            first = count
        elif first is not None and count > first + 5:
            return
        page.wait_for_timeout(300)
    raise AssertionError(
        f"no rising frames from {member}: {frames(page)} room={page.evaluate('() => window.yizhanSfu.room()')}"
    )


def stopped(page, member: int, *, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Nothing new from ``member`` reaches ``page``: over 2 s its frame count does not move."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = frames(page).get(member, 0)
        page.wait_for_timeout(2000)
        after = frames(page).get(member, 0)
        if after == before:
            return
    raise AssertionError(f"frames from {member} still rising: {frames(page)}")


def use_sfu(servers, settings) -> None:  # type: ignore[no-untyped-def]
    """MEDIA=sfu against these servers; the page may open Janus's WebSocket (its own port: connect-src)."""
    servers.settings(settings)
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = [*policy["DIRECTIVES"]["connect-src"], servers.janus.ws_url.rstrip("/")]
    settings.CONTENT_SECURITY_POLICY = policy


def rooms(pages) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        name: page.evaluate("() => [window.yizhanSfu.phase(), window.yizhanSfu.room()]") for name, page in pages.items()
    }


def settle(pages, together: list[list[str]], timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Every page joined; the names in each group share a Janus room, and the groups' rooms differ."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = rooms(pages)
        if all(phase == "joined" for phase, _ in now.values()):
            groups = [{now[name][1] for name in group} for group in together]
            if all(len(g) == 1 for g in groups) and len(set().union(*groups)) == len(groups):
                return
        time.sleep(0.5)
    raise AssertionError(f"rooms not settled: {rooms(pages)}")


def open_room_pages(asgi_live_server, world, sfu_browser, servers, settings):  # type: ignore[no-untyped-def]
    """The mediator on a desktop viewport, both parties and the respondent's lawyer on phones, in one room (SFU)."""
    from channels.layers import channel_layers

    from tests.realtime.test_aiortc_peer import session_cookie

    use_sfu(servers, settings)
    _case, room, members = off_loop(lambda: joint_room(world))
    ids = {name: m.pk for name, m in members.items()}
    users = {
        "mediator": world.mediator,
        "applicant": world.applicant,
        "respondent": world.respondent,
        "lawyer": world.lawyer,
    }
    cookies = off_loop(lambda: {name: session_cookie(user) for name, user in users.items()})
    channel_layers.backends.clear()
    url = asgi_live_server.url + reverse("room_page", args=[room.pk])

    pages = {}
    for name in ("mediator", "applicant", "respondent", "lawyer"):
        phone = name != "mediator"
        context = sfu_browser.new_context(
            viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone, locale="zh-CN"
        )
        context.set_default_timeout(120_000)  # a loaded 2-core machine: four Chromiums and Janus
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookies[name], "url": asgi_live_server.url}]
        )
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
        pages[name] = page
    return pages, ids


def test_joint_caucus_joint_through_janus_on_phones(
    asgi_live_server,
    world,
    sfu_browser,
    media_servers,  # noqa: F811
    settings,
):
    pages, ids = open_room_pages(asgi_live_server, world, sfu_browser, media_servers, settings)
    try:
        settle(pages, [list(pages)])
        for page in pages.values():
            assert page.evaluate("() => window.yizhanSfu.mode()") == "sfu"
            assert page.evaluate("() => typeof window.Janus") == "function"  # loaded from our static, under CSP
            assert page.evaluate("() => window.yizhanRoom.peers()") == []  # no mesh connection on the SFU

        # Joint: everyone decodes everyone.
        everyone_receives(pages, ids)
        for name, page in pages.items():
            screenshot(page, f"sfu-{name}-1-joint")

        # Caucus with the applicant: the respondent's side goes to its own Janus room; frames from the caucus stop.
        pages["mediator"].click("button[data-cmd=caucus][data-side=applicant]")
        pages["respondent"].wait_for_selector("#rm-wait:has-text('单独沟通')")
        settle(pages, [["mediator", "applicant"], ["respondent", "lawyer"]])
        for name in ("respondent", "lawyer"):
            stopped(pages[name], ids["applicant"])
            stopped(pages[name], ids["mediator"])
        receiving(pages["applicant"], ids["mediator"])
        receiving(pages["mediator"], ids["applicant"])
        receiving(pages["respondent"], ids["lawyer"])  # the waiting side still sees each other
        for name, page in pages.items():
            screenshot(page, f"sfu-{name}-2-caucus-applicant")

        # Joint again: one room, frames rising everywhere.
        pages["mediator"].click("button[data-cmd=joint]")
        pages["respondent"].wait_for_selector("#rm-wait", state="hidden")
        settle(pages, [list(pages)])
        everyone_receives(pages, ids)
        for name, page in pages.items():
            screenshot(page, f"sfu-{name}-3-joint-again")
    finally:
        for name, page in pages.items():
            print(name, ids[name], frames(page), page.evaluate("() => window.yizhanSfu.history()"))


def everyone_receives(pages, ids) -> None:  # type: ignore[no-untyped-def]
    for name, page in pages.items():
        for other in ids:
            if other != name:
                receiving(page, ids[other])
