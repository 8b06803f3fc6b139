"""Benchmark (run by `make bench` inside the media namespace, never by CI): a five-person call (mediator, both
parties, a lawyer for each) in headless Chromium with the fake camera, the mesh and the SFU (Janus) measured in
the same run, the same room, the same machine:

- upload per participant: outbound-rtp ``bytesSent`` of all the page's connections over a steady interval
  (STEADY_S after every page decodes every other), in kbps;
- browser CPU: user+system time of this run's Chromium processes over that interval (% of one core), and
  Janus's on the SFU;
- on the SFU: join -> first remote frame, RUNS times: a page reopens the room and we time, in the page's clock,
  from navigation start and from the welcome to the first decoded frame from the mediator; p50 / p95.

Goals (issue 13): SFU upload <= 1/3 of the mesh's; first frame p50 <= 350 ms, p95 <= 700 ms.
Run: scripts/media-netns.sh exec NAME .venv/bin/pytest -q -s tests/bench/bench_media_upload.py
The SFU is the real one (MEDIA=sfu, realtime/sfu.py) against the Janus of tests/sfu_support.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.bench.results_support import record_result
from tests.bench.room_bench_support import cores, percentile
from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - fixture
from tests.e2e.conftest import PHONE, off_loop
from tests.e2e.test_sfu_room_phone import sfu_browser, use_sfu  # noqa: F401 - fixture
from tests.room_support import joint_room, ready_member
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.media]

STEADY_S = 10.0
RUNS = 7
TICK = os.sysconf("SC_CLK_TCK")
# Every RTCPeerConnection the page makes (the mesh's and janus.js's), for the byte counts.
KEEP_PCS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
})();"""
BYTES_SENT = """async () => {
  let sent = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState === "closed") continue;
    for (const r of (await pc.getStats()).values()) if (r.type === "outbound-rtp") sent += r.bytesSent || 0;
  }
  return sent;
}"""
FIRST_FRAME = """async (member) => {
  let welcomed = null;
  for (;;) {
    if (window.yizhanRoom && window.yizhanRoom.connected()) {
      if (welcomed === null) welcomed = performance.now();
      if (window.yizhanSfu && window.yizhanSfu.mode() === "sfu") {
        const frames = (await window.yizhanSfu.framesDecoded())[member] || 0;
        if (frames > 0) return [welcomed, performance.now()];
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}"""


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total


def _chromium_pids() -> list[int]:
    pids = []
    for pid in _descendants(os.getpid()):
        try:
            if "chrom" in Path(f"/proc/{pid}/comm").read_text():
                pids.append(pid)
        except OSError:
            continue
    return pids


def _everyone_receives(pages: dict[str, object], ids: dict[str, int], sfu: bool, timeout: float = 180.0) -> None:
    source = "window.yizhanSfu.framesDecoded()" if sfu else "window.yizhanRoom.framesDecoded()"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = []
        for name, page in pages.items():
            got = page.evaluate(f"async () => await {source}")  # type: ignore[attr-defined]
            missing += [(name, other) for other in ids if other != name and not got.get(str(ids[other]))]
        if not missing:
            return
        time.sleep(1)
    raise AssertionError(f"not everyone receives everyone: {missing}")


def _steady(pages: dict[str, object], janus_pid: int | None) -> dict[str, float]:
    chromium = _chromium_pids()
    sent0 = {name: page.evaluate(BYTES_SENT) for name, page in pages.items()}  # type: ignore[attr-defined]
    cpu0, janus0, t0 = _cpu_ticks(chromium), _cpu_ticks([janus_pid] if janus_pid else []), time.monotonic()
    time.sleep(STEADY_S)
    sent1 = {name: page.evaluate(BYTES_SENT) for name, page in pages.items()}  # type: ignore[attr-defined]
    cpu1, janus1, t1 = _cpu_ticks(chromium), _cpu_ticks([janus_pid] if janus_pid else []), time.monotonic()
    seconds = t1 - t0
    kbps = [(sent1[n] - sent0[n]) * 8 / seconds / 1000 for n in pages]
    return {
        "upload_kbps_per_participant": round(sum(kbps) / len(kbps), 1),
        "upload_kbps_max": round(max(kbps), 1),
        "browser_cpu_percent_of_core": round((cpu1 - cpu0) / TICK / seconds * 100, 1),
        "janus_cpu_percent_of_core": round((janus1 - janus0) / TICK / seconds * 100, 1) if janus_pid else None,
    }


def test_upload_and_cpu_sfu_against_mesh_and_first_frame(
    asgi_live_server,  # noqa: F811
    world,
    sfu_browser,  # noqa: F811
    media_servers,  # noqa: F811
    settings,
):
    from channels.layers import channel_layers

    from mediation.choices import AgentAuthority, AgentKind, PartyRole
    from mediation.models import Agent, Party
    from tests.realtime.test_aiortc_peer import session_cookie

    def setup():  # type: ignore[no-untyped-def]
        case, room, members = joint_room(world)
        applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
        Agent.objects.create(
            party=applicant,
            user=world.outsider,
            name=world.outsider.real_name or "赵律师",
            kind=AgentKind.LAWYER,
            authority=AgentAuthority.SPECIAL,
            license_number="11101202610000002",
        )
        members["applicant_lawyer"] = ready_member(room, world.outsider, admit_by=world.mediator, otp=False)
        return room, members

    room, members = off_loop(setup)
    ids = {name: m.pk for name, m in members.items()}
    users = {
        "mediator": world.mediator,
        "applicant": world.applicant,
        "respondent": world.respondent,
        "lawyer": world.lawyer,
        "applicant_lawyer": world.outsider,
    }
    cookies = off_loop(lambda: {name: session_cookie(user) for name, user in users.items()})
    channel_layers.backends.clear()
    url = asgi_live_server.url + reverse("room_page", args=[room.pk])

    def open_all() -> tuple[list[object], dict[str, object]]:
        contexts, pages = [], {}
        for name in users:
            context = sfu_browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")  # type: ignore[attr-defined]
            context.set_default_timeout(180_000)
            context.add_init_script(KEEP_PCS)
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookies[name], "url": asgi_live_server.url}]
            )
            page = context.new_page()
            page.goto(url)
            contexts.append(context)
            pages[name] = page
        return contexts, pages

    # The mesh (no media in the welcome), then the SFU, one after the other in this run.
    contexts, pages = open_all()
    _everyone_receives(pages, ids, sfu=False)
    time.sleep(3)
    mesh = _steady(pages, None)
    for context in contexts:
        context.close()  # type: ignore[attr-defined]

    use_sfu(media_servers, settings)
    contexts, pages = open_all()
    _everyone_receives(pages, ids, sfu=True)
    time.sleep(3)
    janus = [p for p in _descendants(os.getpid()) if Path(f"/proc/{p}/comm").read_text().strip() == "janus"]
    sfu = _steady(pages, janus[0] if janus else None)

    from_navigation, from_welcome = [], []
    party = pages["applicant"]
    for _ in range(RUNS):
        party.goto(url)  # type: ignore[attr-defined]
        welcomed, first = party.evaluate(FIRST_FRAME, ids["mediator"])  # type: ignore[attr-defined]
        from_navigation.append(first)
        from_welcome.append(first - welcomed)
    for context in contexts:
        context.close()  # type: ignore[attr-defined]

    ratio = sfu["upload_kbps_per_participant"] / mesh["upload_kbps_per_participant"]
    figures = {
        "participants": 5,
        "steady_seconds": STEADY_S,
        "machine": cores(),
        "mesh": mesh,
        "sfu": sfu,
        "sfu_to_mesh_upload": round(ratio, 3),
        "first_frame_from_navigation_ms": {
            "p50": round(percentile(from_navigation, 50)),
            "p95": round(percentile(from_navigation, 95)),
            "runs": RUNS,
        },
        "first_frame_from_welcome_ms": {
            "p50": round(percentile(from_welcome, 50)),
            "p95": round(percentile(from_welcome, 95)),
            "runs": RUNS,
        },
        "goals": "SFU upload <= 1/3 of the mesh; first frame p50 <= 350 ms, p95 <= 700 ms",
    }
    print(
        f"\n5-person call, fake camera ({cores()}): upload per participant mesh "
        f"{mesh['upload_kbps_per_participant']} kbps, SFU {sfu['upload_kbps_per_participant']} kbps "
        f"(ratio {ratio:.2f}); browser CPU mesh {mesh['browser_cpu_percent_of_core']} %, "
        f"SFU {sfu['browser_cpu_percent_of_core']} % (+ Janus {sfu['janus_cpu_percent_of_core']} %)"
    )
    print(
        f"SFU join -> first remote frame: from navigation p50 {figures['first_frame_from_navigation_ms']['p50']} ms "
        f"p95 {figures['first_frame_from_navigation_ms']['p95']} ms; from welcome p50 "
        f"{figures['first_frame_from_welcome_ms']['p50']} ms p95 {figures['first_frame_from_welcome_ms']['p95']} ms"
    )
    record_result("media.sfu_vs_mesh_5_person", figures)
