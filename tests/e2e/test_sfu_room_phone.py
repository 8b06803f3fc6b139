"""The mediation room through the SFU (Janus) in real Chromium, inside the media namespace: the mediator on a
desktop viewport, both parties and the respondent's lawyer on 390x844 phones. Joint session: every page
decodes rising frames from every other; a caucus with the applicant's side: the respondent's side stops
receiving the applicant's and the mediator's frames (its pages left the joint Janus room) while the caucus
goes on, and the respondent's page, with its own janus.js, token and private id, is refused the caucus feed by
Janus (433, three ways); joint again: frames rise everywhere; a caucus with the respondent's side: the same
from the applicant's page. A network drop (nftables on the veth path, 5 s) shows 正在重新连接… and media comes
back; a stopped microphone is re-acquired onto the Janus publisher. janus.js and adapter.js come from our own
static files and run under the page's Content-Security-Policy (the ``browser`` guard fails on any violation).

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


ALL = ("mediator", "applicant", "respondent", "lawyer")


def open_room_pages(asgi_live_server, world, sfu_browser, servers, settings, names=ALL):  # type: ignore[no-untyped-def]
    """The mediator on a desktop viewport, both parties and the respondent's lawyer on phones (or the ``names``
    among them), in one room (SFU)."""
    from channels.layers import channel_layers

    from tests.realtime.test_aiortc_peer import session_cookie

    use_sfu(servers, settings)
    _case, room, members = off_loop(lambda: joint_room(world))
    ids = {name: m.pk for name, m in members.items() if name in names}
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
    for name in names:
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

        # Caucus with each side in turn: the other side goes to its own Janus room; frames from the caucus stop
        # there, and that side's page, with its own janus.js and everything the page holds, is refused by Janus.
        caucus(pages, ids, "applicant", inside=["mediator", "applicant"], outside=["respondent", "lawyer"])

        # Joint again: one room, frames rising everywhere.
        command(pages["mediator"], "button[data-cmd=joint]", pages["respondent"], "#rm-wait", state="hidden")
        settle(pages, [list(pages)])
        everyone_receives(pages, ids)
        for name, page in pages.items():
            screenshot(page, f"sfu-{name}-3-joint-again")

        caucus(pages, ids, "respondent", inside=["mediator", "respondent", "lawyer"], outside=["applicant"])
    finally:
        for name, page in pages.items():
            print(name, ids[name], frames(page), page.evaluate("() => window.yizhanSfu.history()"))


# Run in the excluded party's page: its own janus.js, its own Janus token and private id (from its own
# room), trying to receive the caucus: a subscriber join with the caucus publisher's feed, and a publisher
# join of the caucus room. Resolves with what Janus answered to each.
HOSTILE = """async ({ caucusRoom, feed }) => {
  const own = window.yizhanSfu.own();
  const attempt = (message) => new Promise((resolve) => {
    const janus = new window.Janus({
      server: own.server, token: own.token,
      success: () => janus.attach({
        plugin: "janus.plugin.videoroom",
        success: (handle) => handle.send({ message }),
        error: (error) => { resolve({ attachError: String(error) }); janus.destroy(); },
        onmessage: (msg, jsep) => {
          resolve({ event: msg.videoroom || null, code: msg.error_code || null, error: msg.error || null,
                    offered: Boolean(jsep) });
          janus.destroy();
        },
      }),
      error: (error) => resolve({ sessionError: String(error) }),
    });
    setTimeout(() => resolve({ timeout: true }), 15000);
  });
  return {
    subscribe: await attempt({ request: "join", room: caucusRoom, ptype: "subscriber", private_id: own.privateId,
                               streams: [{ feed }], token: own.token }),
    subscribeWithoutPrivateId: await attempt({ request: "join", room: caucusRoom, ptype: "subscriber",
                                               streams: [{ feed }], token: own.token }),
    publish: await attempt({ request: "join", room: caucusRoom, ptype: "publisher", display: "x",
                             token: own.token }),
  };
}"""


def command(mediator, button: str, page, selector: str, state: str = "visible") -> None:  # type: ignore[no-untyped-def]
    """The mediator clicks ``button`` until ``page`` shows ``selector``: on this loaded shared machine the Redis
    layer is at times unreachable and the server closes sockets (1011); a command sent just then is lost, and a
    person would click again (reconnect.js resends chat and record frames, not commands)."""
    for _attempt in range(4):
        mediator.wait_for_selector(button, timeout=60_000).click()
        try:
            page.wait_for_selector(selector, state=state, timeout=30_000)
            return
        except Exception as error:  # playwright's TimeoutError: click again
            print("command not seen yet:", button, error)
    page.wait_for_selector(selector, state=state, timeout=30_000)


def caucus(pages, ids, side: str, *, inside: list[str], outside: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The mediator starts a caucus with ``side``: ``outside`` stops receiving ``inside`` (its pages left the
    joint Janus room), the caucus goes on, and a subscription from an outside page's own JavaScript is refused."""
    command(pages["mediator"], f"button[data-cmd=caucus][data-side={side}]", pages[outside[0]],
            "#rm-wait:has-text('单独沟通')")
    settle(pages, [inside, outside])
    for name in outside:
        for other in inside:
            stopped(pages[name], ids[other])
    for name in inside:
        for other in inside:
            if other != name:
                receiving(pages[name], ids[other])
    if len(outside) > 1:
        receiving(pages[outside[0]], ids[outside[1]])  # the waiting side still sees each other
    own = pages["mediator"].evaluate("() => window.yizhanSfu.own()")
    answers = pages[outside[0]].evaluate(HOSTILE, {"caucusRoom": own["room"], "feed": own["feed"]})
    print("hostile page in the caucus of", side, answers)
    for attempt, answer in answers.items():
        assert answer.get("code") == 433 and not answer.get("offered"), (attempt, answer)  # 433: unauthorized
    stopped(pages[outside[0]], ids["mediator"])  # and it still receives nothing from the caucus
    for name, page in pages.items():
        screenshot(page, f"sfu-{name}-caucus-{side}")


def everyone_receives(pages, ids) -> None:  # type: ignore[no-untyped-def]
    for name, page in pages.items():
        for other in ids:
            if other != name:
                receiving(page, ids[other])


MARK_RECONNECTING = """(member) => {
  const tile = document.querySelector(`#rm-tiles [data-member='${member}']`);
  return document.getElementById("rm-net").dataset.q === "reconnecting"
    && Boolean(tile && tile.classList.contains("reconnecting"))
    && tile.querySelector(".rm-q").textContent.includes("正在重新连接");
}"""


def drop_and_back(page, member: int, *, seconds: float = 3.0, timeout: float = 30.0) -> tuple[bool, float]:  # type: ignore[no-untyped-def]
    """Cut the namespace's media path (every packet to or from the veth addresses) for ``seconds``, then restore
    it. Returns whether ``page`` showed "正在重新连接…" for ``member`` (its tile and the room's mark) during the
    cut or before its media came back, and the seconds from the restore until frames from ``member`` rise again
    on ``page``."""
    from tests.media_support import cut_media_path, restore_media_path

    shown = False
    try:
        cut_media_path()
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            shown = shown or bool(page.evaluate(MARK_RECONNECTING, member))
            time.sleep(0.1)
    finally:
        restore_media_path()
    restored = time.monotonic()
    base = frames(page).get(member, 0)
    while time.monotonic() - restored < timeout:
        if frames(page).get(member, 0) > base:
            return shown, time.monotonic() - restored
        shown = shown or bool(page.evaluate(MARK_RECONNECTING, member))
        time.sleep(0.05)
    return shown, float("inf")


def sound_rising(page, member: int, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """``page`` plays sound from ``member`` through Janus: the received audio energy rises between two samples."""
    deadline = time.monotonic() + timeout
    last = page.evaluate("() => window.yizhanSfu.audioEnergy()").get(str(member), 0)
    while time.monotonic() < deadline:
        page.wait_for_timeout(700)
        now = page.evaluate("() => window.yizhanSfu.audioEnergy()").get(str(member), 0)
        if now > last > 0:
            return
        last = now
    raise AssertionError(f"no sound from member {member}")


def test_network_drop_and_a_stopped_microphone_come_back_through_janus(
    asgi_live_server,
    world,
    sfu_browser,
    media_servers,  # noqa: F811
    settings,
):
    """Issue 13 item 5 on the SFU, in the namespace: every packet of the veth path dropped for 5 s (nftables;
    no netem on this kernel), the party's page shows 正在重新连接… on the mediator's tile and in the room's mark,
    and frames rise again after the restore (the time is the bench's figure, tests/bench/bench_media_upload.py).
    Then the party's microphone track stops (as iOS stops it for a phone call): re-opened, put on the Janus
    publisher's sender, and the mediator hears it again."""
    pages, ids = open_room_pages(
        asgi_live_server, world, sfu_browser, media_servers, settings, names=("mediator", "applicant")
    )
    mediator, alice = pages["mediator"], pages["applicant"]
    try:
        settle(pages, [list(pages)])
        receiving(alice, ids["mediator"])
        receiving(mediator, ids["applicant"])
        alice.wait_for_timeout(2500)  # a packet check after media flowed (the mark needs one)

        # 5 s here (the bench measures the 3 s drop): the packet check runs each second, and a loaded machine
        # (two xdist workers) delays the page's timers; the mark must show however slow the page is.
        shown, back = drop_and_back(alice, ids["mediator"], seconds=5.0)
        print("media back after a 5 s drop:", round(back, 2), "s")
        assert shown, "正在重新连接… was not shown during the drop"
        assert back < 15, back  # the bench measures the figure; here: it comes back at all, soon
        receiving(alice, ids["mediator"])
        receiving(mediator, ids["applicant"])
        alice.wait_for_function(f"(m) => !({MARK_RECONNECTING})(m)", arg=ids["mediator"], timeout=15000)
        screenshot(alice, "sfu-applicant-after-drop")

        mediator.click("#rm-tap")  # the first tap turns the sound on (the browser measures what it plays)
        sound_rising(mediator, ids["applicant"])
        old = alice.evaluate("window.yizhanRoom.localAudio().id")
        assert old in alice.evaluate("window.yizhanSfu.sendersCarry()")
        alice.evaluate("window.yizhanRoom.localAudio().stop()")
        alice.wait_for_function(
            f"() => window.yizhanRoom.localAudio() && window.yizhanRoom.localAudio().id !== '{old}'"
            " && window.yizhanRoom.localAudio().readyState === 'live'",
            timeout=10000,
        )
        new = alice.evaluate("window.yizhanRoom.localAudio().id")
        alice.wait_for_function(f"() => window.yizhanSfu.sendersCarry().includes('{new}')", timeout=10000)
        assert old not in alice.evaluate("window.yizhanSfu.sendersCarry()")
        alice.wait_for_selector("#rm-mic-state:has-text('麦克风正常')")
        sound_rising(mediator, ids["applicant"])  # the mediator hears the new microphone through Janus
    finally:
        for name, page in pages.items():
            print(name, ids[name], frames(page), page.evaluate("() => window.yizhanSfu.history()"))
