"""The mediation room through the SFU (Janus) in real Chromium, inside the media namespace: the mediator on a
desktop viewport, both parties and the respondent's lawyer on 390x844 phones. Joint session: every page
decodes rising frames from every other; a caucus with the applicant's side: the respondent's side stops
receiving the applicant's and the mediator's frames (its pages left the joint Janus room) while the caucus
goes on; joint again: frames rise everywhere. janus.js and adapter.js come from our own static files and run
under the page's Content-Security-Policy (the ``browser`` guard fails on any violation).

The app server's half is the stand-in of tests/e2e/sfu_stand_in.py until wt-sfu's realtime/sfu.py lands.
Run inside the namespace: scripts/media-netns.sh exec NAME .venv/bin/pytest tests/e2e/test_sfu_room_phone.py"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.urls import reverse

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, guard_csp, off_loop, screenshot
from tests.e2e.sfu_stand_in import install_stand_in, janus_server  # noqa: F401 - fixture
from tests.room_support import joint_room

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

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


def test_joint_caucus_joint_through_janus_on_phones(
    asgi_live_server,
    world,
    sfu_browser,
    janus_server,  # noqa: F811
    monkeypatch,
    settings,
):
    from channels.layers import channel_layers

    from tests.realtime.test_aiortc_peer import session_cookie

    stand_in = install_stand_in(monkeypatch, settings, janus_server)
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
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookies[name], "url": asgi_live_server.url}]
        )
        context.set_default_timeout(120_000)  # a loaded 2-core machine: four Chromiums and Janus
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
        pages[name] = page
    for page in pages.values():
        page.wait_for_function("() => window.yizhanSfu.mode() === 'sfu' && window.yizhanSfu.phase() === 'joined'")
        assert page.evaluate("() => typeof window.Janus") == "function"  # loaded from our static, under CSP
        assert page.evaluate("() => window.yizhanRoom.peers()") == []  # no mesh connection on the SFU
    joint = stand_in.rooms[(room.pk, "joint")]
    assert {p.evaluate("() => window.yizhanSfu.room()") for p in pages.values()} == {joint}

    # Joint: everyone decodes everyone.
    try:
        for name, page in pages.items():
            for other in ids:
                if other != name:
                    receiving(page, ids[other])
    finally:
        for name, page in pages.items():
            print(
                name,
                ids[name],
                frames(page),
                page.evaluate("() => [window.yizhanSfu.phase(), window.yizhanSfu.layer(), window.yizhanSfu.history()]"),
            )
            screenshot(page, f"sfu-{name}-1-joint")

    # Caucus with the applicant: the respondent and the lawyer leave the joint room; their frames stop.
    try:
        caucus_then_joint(pages, ids, stand_in, room.pk, joint, janus_server)
    finally:
        for name, page in pages.items():
            print(
                name,
                page.evaluate("() => [window.yizhanSfu.phase(), window.yizhanSfu.room(), window.yizhanSfu.history()]"),
            )


def caucus_then_joint(pages, ids, stand_in, room_pk, joint, janus):  # type: ignore[no-untyped-def]
    pages["mediator"].click("button[data-cmd=caucus][data-side=applicant]")
    pages["respondent"].wait_for_selector("#rm-wait:has-text('单独沟通')")
    caucus = stand_in.rooms[(room_pk, "caucus")]
    for name in ("mediator", "applicant"):
        pages[name].wait_for_function(
            f"() => window.yizhanSfu.room() === {caucus} && window.yizhanSfu.phase() === 'joined'"
        )
    for name in ("respondent", "lawyer"):
        pages[name].wait_for_function(
            f"() => window.yizhanSfu.room() !== {joint} && window.yizhanSfu.room() !== {caucus}"
        )
        stopped(pages[name], ids["applicant"])
        stopped(pages[name], ids["mediator"])
    receiving(pages["applicant"], ids["mediator"])
    receiving(pages["mediator"], ids["applicant"])
    # The waiting side still sees each other (their own side's room).
    receiving(pages["respondent"], ids["lawyer"])
    for name, page in pages.items():
        screenshot(page, f"sfu-{name}-2-caucus-applicant")
    # Janus itself holds the caucus: only the mediator and the applicant are in its room.
    listing = janus.videoroom({"request": "listparticipants", "room": caucus})
    assert {int(p["display"]) for p in listing["participants"]} == {ids["mediator"], ids["applicant"]}

    # Joint again: everyone back in one room, frames rising everywhere.
    pages["mediator"].click("button[data-cmd=joint]")
    pages["respondent"].wait_for_selector("#rm-wait", state="hidden")
    for page in pages.values():
        page.wait_for_function(f"() => window.yizhanSfu.room() === {joint} && window.yizhanSfu.phase() === 'joined'")
    for name, page in pages.items():
        for other in ids:
            if other != name:
                receiving(page, ids[other])
    for name, page in pages.items():
        screenshot(page, f"sfu-{name}-3-joint-again")
