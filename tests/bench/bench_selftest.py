"""Benchmark of the pre-join self-test (issue 14): time to a verdict on a phone page in headless Chromium
against the server's aiortc echo peer, inside the media namespace (run by `make bench`, never by CI).

The first run starts when the page is opened (navigation, camera and microphone, the offer, ICE, DTLS, the
probes, the rate windows up and down, the result stored); each further run is the page's "重新检测" button
(which also opens the devices again). Timed in the test's clock, from the goto or the click to the page
showing the stored verdict. p95 over RUNS runs; the anchor is the p50, and the page's own ``duration_ms``
(network test only, as stored on the SelfTest row) is recorded beside it.

Goal (issue 14): p95 <= 8 s.
"""

from __future__ import annotations

import time

import pytest

from mediation.models import SelfTest
from tests.bench.results_support import percentile, record_figure, size
from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - fixture
from tests.e2e.conftest import browser, off_loop  # noqa: F401 - fixtures
from tests.e2e.phone_support import new_phone, sign_in
from tests.e2e.test_selftest_phone import checked_member, run_to_verdict

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.media]

RUNS = 12
GOAL_MS = 8000.0


def test_bench_selftest_time_to_verdict(asgi_live_server, world, browser):  # noqa: F811 - fixtures
    runs = size(RUNS, 2)
    member = off_loop(lambda: checked_member(world))
    base = asgi_live_server.url
    page = new_phone(browser)
    sign_in(page, base, world.applicant.username)
    samples: list[float] = []
    started = time.monotonic()
    page.goto(f"{base}/rooms/{member.room_id}/join/device/")
    for run in range(runs):
        if run:
            started = time.monotonic()
            page.click("[data-rerun]")
        assert run_to_verdict(page, run) == "good"
        samples.append((time.monotonic() - started) * 1000)
    stored = off_loop(lambda: list(SelfTest.objects.filter(user=member.user).values_list("duration_ms", flat=True)))
    assert len(stored) == runs
    p95, p50 = percentile(samples, 0.95), percentile(samples, 0.50)
    note = f"{runs} runs on one phone page (first from page open, then 重新检测); 2 cores, media namespace"
    record_figure("selftest", "self-test to a verdict p95", p95, "ms", goal=GOAL_MS,
                  anchor_name="p50", anchor_value=p50, note=note)
    network_p95 = percentile([float(v) for v in stored], 0.95)
    record_figure("selftest", "network test (stored duration_ms) p95", network_p95, "ms")
    assert p95 <= GOAL_MS * 2, f"p95 {p95:.0f} ms"  # the goal is reported; twice it fails the bench
