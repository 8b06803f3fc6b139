"""Benchmark of join to first remote frame in headless Chromium (run by `make bench`, never by CI): the
mediator's page is in the room; the party's page (the second joiner, already admitted once) opens the room
page and we time, in the page's own clock, from navigation start to the first decoded video frame from the
mediator (``getStats()`` ``framesDecoded`` through ``window.yizhanRoom``). That covers the page load, the
fake camera, the socket and ``welcome``, the offer/answer, ICE, DTLS and the first decode. p50 over runs.

Goal (issue 5): p50 <= 350 ms.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mediation.choices import CaseStatus, SessionKind
from mediation.services.scheduling import session_schedule
from tests.bench.room_bench_support import cores, percentile
from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - fixture
from tests.e2e.conftest import PHONE, browser, off_loop  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.redis]

RUNS = 7
GOAL_MS = 350.0
# Resolves with [welcome, first frame]: performance.now() when the socket had its welcome, and when the
# first frame from ``member`` had been decoded (polled every 5 ms).
FIRST_FRAME = """async (member) => {
  let welcomed = null;
  for (;;) {
    if (window.yizhanRoom && window.yizhanRoom.connected()) {
      if (welcomed === null) welcomed = performance.now();
      const frames = (await window.yizhanRoom.framesDecoded())[member] || 0;
      if (frames > 0) return [welcomed, performance.now()];
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}"""


def _prepare(world, settings):  # type: ignore[no-untyped-def]
    from channels.layers import channel_layers

    from tests.realtime.test_aiortc_peer import session_cookie

    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    start = timezone.now() + dt.timedelta(minutes=5)
    session_schedule(case=case, actor=world.mediator, kind=SessionKind.JOINT_ONLINE, starts_at=start,
                     ends_at=start + dt.timedelta(hours=1))
    debug, settings.DEBUG = settings.DEBUG, True  # join_link runs only with DEBUG on
    try:
        for user in (world.mediator, world.applicant):  # records the identity check and notices
            out = io.StringIO()
            call_command("join_link", "--case", case.reference, "--as", user.username, stdout=out)
    finally:
        settings.DEBUG = debug
    room_id = int(re.search(r"/ws/room/(\d+)/", out.getvalue()).group(1))  # type: ignore[union-attr]
    cookies = {user.pk: session_cookie(user) for user in (world.mediator, world.applicant)}
    channel_layers.backends.clear()  # see tests/realtime/test_aiortc_peer.py: fresh_channel_layer
    return room_id, cookies


def test_join_to_first_remote_frame_in_chromium(world, settings, asgi_live_server, browser):  # noqa: F811
    room_id, cookies = off_loop(lambda: _prepare(world, settings))
    url = asgi_live_server.url + reverse("room_page", args=[room_id])

    def page_for(user):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookies[user.pk],
                              "url": asgi_live_server.url}])
        return context, context.new_page()

    mediator_context, mediator = page_for(world.mediator)
    party_context, party = page_for(world.applicant)
    try:
        mediator.goto(url)
        mediator.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
        me = mediator.evaluate("() => window.yizhanRoom.state.you.member")
        party.goto(url)  # the first time the party waits to be admitted
        party.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
        them = party.evaluate("() => window.yizhanRoom.state.you.member")
        mediator.locator(f'button[data-cmd="admit"][data-member="{them}"]').click()
        party.evaluate(FIRST_FRAME, me)
        welcomes, timings = [], []
        for _ in range(RUNS):
            party.goto(url)  # a fresh join each time: new page, socket, connection
            welcomed, first = party.evaluate(FIRST_FRAME, me)
            welcomes.append(welcomed)
            timings.append(first)
    finally:
        party_context.close()
        mediator_context.close()
    p50 = percentile(timings, 50)
    verdict = "meets" if p50 <= GOAL_MS else "MISSES"
    print(f"\njoin to first remote frame, headless Chromium, second joiner ({cores()}), {RUNS} runs")
    print(f"p50 {p50:6.0f} ms, min {min(timings):6.0f} ms, max {max(timings):6.0f} ms   ({verdict} goal p50 <= "
          f"{GOAL_MS:g} ms)")
    after_welcome = [t - w for t, w in zip(timings, welcomes, strict=True)]
    print(f"of which page load to welcome p50 {percentile(welcomes, 50):6.0f} ms; welcome to first frame (offer, "
          f"answer, ICE, DTLS, decode) p50 {percentile(after_welcome, 50):6.0f} ms")
