"""Benchmark (run by `make bench` inside the media namespace, never by CI): a five-person call (mediator, both
parties, a lawyer for each) in headless Chromium with the fake camera, the mesh and the SFU (Janus) measured in
the same run, the same room, the same machine:

- upload per participant: outbound-rtp ``bytesSent`` of all the page's connections over a steady interval
  (STEADY_S after every page decodes every other), in kbps;
- browser CPU: user+system time of this run's Chromium processes over that interval (% of one core), and
  Janus's on the SFU;
- on the SFU: join -> first remote frame, RUNS times: a page reopens the room and we time, in the page's clock,
  from navigation start and from the welcome to the first decoded frame from the mediator; p50 / p95.

- Janus CPU per forwarded stream and streams per core: Janus's utime+stime from /proc/<pid>/stat over the
  steady interval, divided by the streams it forwards (each of the 5 publishers' audio and video to the 4 others:
  40), at the bitrate measured on the subscribers' side (inbound-rtp ``bytesReceived``);
- where the first frame's time goes: the SFU client's own marks (``window.yizhanSfu.timeline()``: janus.js
  loaded, Janus session, publisher attached and joined, subscriber attached, Janus's offer, our answer, ICE
  connected, first track, first decoded frame), medians from navigation start;
- media back after a 3-second network drop: every packet of the namespace's veth path dropped with nftables
  for 3 s (tests/media_support.py; the kernel here has no netem), then the time from the restore until frames
  from the mediator rise again on a party's page, DROPS times; p50 / p95.

Goals (issue 13): SFU upload <= 1/3 of the mesh's; first frame p50 <= 350 ms, p95 <= 700 ms; media back after a
3 s drop p95 <= 2 s.
Run: scripts/media-netns.sh exec NAME .venv/bin/pytest -q -s tests/bench/bench_media_upload.py
The SFU is the real one (MEDIA=sfu, realtime/sfu.py) against the Janus of tests/sfu_support.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.bench.results_support import record_figure, record_result, size
from tests.bench.room_bench_support import cores, percentile
from tests.e2e.asgi_server import asgi_live_server  # noqa: F401 - fixture
from tests.e2e.conftest import PHONE, off_loop
from tests.e2e.test_sfu_room_phone import drop_and_back, sfu_browser, use_sfu  # noqa: F401 - fixture
from tests.room_support import joint_room, ready_member
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e, pytest.mark.media]

STEADY_S = 10.0
RUNS = 7
DROPS = size(7, 2)
BENCH = "media.sfu_vs_mesh_5_person"
# Streams Janus forwards in the 5-person call: each publisher's audio and video to each of the 4 others.
FORWARDED = 5 * 4 * 2
MARKS = ("loaded", "session", "attached", "joined", "subAttached", "offer", "answer", "iceConnected",
         "track-video", "firstFrame")
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


# Bytes sent per simulcast layer (outbound-rtp rid: h, m, l; "" for a single encoding), with its frame size.
BY_LAYER = """async () => {
  const out = {};
  for (const pc of window.__pcs) {
    if (pc.connectionState === "closed") continue;
    for (const r of (await pc.getStats()).values()) {
      if (r.type !== "outbound-rtp" || r.kind !== "video") continue;
      const key = r.rid || "";
      out[key] = out[key] || { bytes: 0, width: 0 };
      out[key].bytes += r.bytesSent || 0;
      out[key].width = Math.max(out[key].width, r.frameWidth || 0);
    }
  }
  return out;
}"""
BYTES_RECEIVED = BYTES_SENT.replace("outbound-rtp", "inbound-rtp").replace("bytesSent", "bytesReceived")


def _steady(pages: dict[str, object], janus_pid: int | None) -> dict[str, Any]:
    chromium = _chromium_pids()
    got0 = {name: page.evaluate(BYTES_RECEIVED) for name, page in pages.items()}  # type: ignore[attr-defined]
    layers0 = {name: page.evaluate(BY_LAYER) for name, page in pages.items()}  # type: ignore[attr-defined]
    sent0 = {name: page.evaluate(BYTES_SENT) for name, page in pages.items()}  # type: ignore[attr-defined]
    cpu0, janus0, t0 = _cpu_ticks(chromium), _cpu_ticks([janus_pid] if janus_pid else []), time.monotonic()
    time.sleep(STEADY_S)
    sent1 = {name: page.evaluate(BYTES_SENT) for name, page in pages.items()}  # type: ignore[attr-defined]
    got1 = {name: page.evaluate(BYTES_RECEIVED) for name, page in pages.items()}  # type: ignore[attr-defined]
    layers1 = {name: page.evaluate(BY_LAYER) for name, page in pages.items()}  # type: ignore[attr-defined]
    cpu1, janus1, t1 = _cpu_ticks(chromium), _cpu_ticks([janus_pid] if janus_pid else []), time.monotonic()
    seconds = t1 - t0
    kbps = [(sent1[n] - sent0[n]) * 8 / seconds / 1000 for n in pages]
    down = [(got1[n] - got0[n]) * 8 / seconds / 1000 for n in pages]
    layers: dict[str, dict[str, float]] = {}
    for n in pages:
        for rid, now in layers1[n].items():
            was = layers0[n].get(rid, {"bytes": 0})
            entry = layers.setdefault(rid or "single", {"kbps": 0.0, "width": 0})
            entry["kbps"] += (now["bytes"] - was["bytes"]) * 8 / seconds / 1000 / len(pages)
            entry["width"] = max(entry["width"], now["width"])
    return {
        "video_layers_per_participant": {
            k: {"kbps": round(v["kbps"], 1), "width": v["width"]} for k, v in layers.items()
        },
        "download_kbps_per_participant": round(sum(down) / len(down), 1),
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
    # On an overloaded shared machine the mesh's 10 connections may not all come up (its signaling goes through
    # the Redis layer): the SFU's figures are still taken, and the ratio is left out.
    mesh: dict[str, Any] | None = None
    if os.environ.get("MEDIA_BENCH_MESH", "1") != "0":  # MEDIA_BENCH_MESH=0: the SFU's figures only
        contexts, pages = open_all()
        try:
            _everyone_receives(pages, ids, sfu=False)
            time.sleep(3)
            mesh = _steady(pages, None)
        except AssertionError as error:
            print("mesh not measured:", error)
        for context in contexts:
            context.close()  # type: ignore[attr-defined]

    use_sfu(media_servers, settings)
    contexts, pages = open_all()
    _everyone_receives(pages, ids, sfu=True)
    time.sleep(3)
    janus = [p for p in _descendants(os.getpid()) if Path(f"/proc/{p}/comm").read_text().strip() == "janus"]
    sfu = _steady(pages, janus[0] if janus else None)

    from_navigation, from_welcome = [], []
    marks: dict[str, list[float]] = {}
    party = pages["applicant"]
    for _ in range(RUNS):
        party.goto(url)  # type: ignore[attr-defined]
        welcomed, first = party.evaluate(FIRST_FRAME, ids["mediator"])  # type: ignore[attr-defined]
        from_navigation.append(first)
        from_welcome.append(first - welcomed)
        timeline = party.evaluate("() => window.yizhanSfu.timeline()")  # type: ignore[attr-defined]
        timeline["welcome"] = welcomed
        timeline["join"] = timeline.get("join", welcomed)
        for name, at in timeline.items():
            marks.setdefault(name, []).append(at)

    # Network drops: the party's page, frames from the mediator (who is on the same cut path).
    party.wait_for_timeout(3000)  # type: ignore[attr-defined]
    drops, shown = [], 0
    for _ in range(DROPS):
        seen, back = drop_and_back(party, ids["mediator"], seconds=3.0)
        drops.append(back)
        shown += int(seen)
        party.wait_for_timeout(3000)  # type: ignore[attr-defined]
    for context in contexts:
        context.close()  # type: ignore[attr-defined]

    ratio = sfu["upload_kbps_per_participant"] / mesh["upload_kbps_per_participant"] if mesh else float("nan")
    janus_cpu = sfu["janus_cpu_percent_of_core"] or 0.0
    per_stream = janus_cpu / FORWARDED
    stream_kbps = sfu["download_kbps_per_participant"] * 5 / FORWARDED
    figures = {
        "participants": 5,
        "steady_seconds": STEADY_S,
        "machine": cores(),
        "mesh": mesh,
        "sfu": sfu,
        "sfu_to_mesh_upload": round(ratio, 3) if mesh else None,
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
        "janus_cpu_percent_per_forwarded_stream": round(per_stream, 3),
        "janus_streams_per_core": round(100 / per_stream) if per_stream else None,
        "forwarded_stream_kbps": round(stream_kbps, 1),
        "first_frame_marks_p50_ms": {name: round(percentile(at, 50)) for name, at in sorted(marks.items())},
        "media_back_after_3s_drop_s": {
            "p50": round(percentile(drops, 50), 2),
            "p95": round(percentile(drops, 95), 2),
            "drops": DROPS,
            "reconnecting_shown": shown,
        },
        "load_average_1m": round(os.getloadavg()[0], 2),
        "goals": "SFU upload <= 1/3 of the mesh; first frame p50 <= 350 ms, p95 <= 700 ms; media back p95 <= 2 s",
    }
    mesh = mesh or {"upload_kbps_per_participant": None, "browser_cpu_percent_of_core": None}
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
    print(
        f"Janus {janus_cpu} % of a core for {FORWARDED} forwarded streams ({stream_kbps:.0f} kbps each on average): "
        f"{per_stream:.3f} % per stream, about {figures['janus_streams_per_core']} streams per core"
    )
    print("first frame marks, p50 ms from navigation:", figures["first_frame_marks_p50_ms"])
    print(
        f"media back after a 3 s drop: p50 {figures['media_back_after_3s_drop_s']['p50']} s, "
        f"p95 {figures['media_back_after_3s_drop_s']['p95']} s over {DROPS} drops; 正在重新连接… shown in "
        f"{shown} of {DROPS}"
    )
    print(json.dumps(figures, ensure_ascii=False))
    if mesh["upload_kbps_per_participant"]:
        record_figure(BENCH, "upload_sfu_to_mesh", ratio, "ratio", goal=1 / 3,
                      anchor_name="mesh_upload_kbps", anchor_value=mesh["upload_kbps_per_participant"])
    record_figure(BENCH, "first_frame_p50", percentile(from_navigation, 50), "ms", goal=350,
                  note="from navigation start, SFU")
    record_figure(BENCH, "first_frame_p95", percentile(from_navigation, 95), "ms", goal=700,
                  note="from navigation start, SFU")
    record_figure(BENCH, "first_frame_after_welcome_p50", percentile(from_welcome, 50), "ms",
                  note="welcome -> first frame: Janus session, joins, offer/answer, ICE, DTLS, keyframe")
    record_figure(BENCH, "media_back_after_3s_drop_p95", percentile(drops, 95), "s", goal=2.0,
                  anchor_name="drop_s", anchor_value=3.0, note=f"{DROPS} drops, nftables on the veth path")
    record_figure(BENCH, "janus_cpu_per_forwarded_stream", per_stream, "% of a core",
                  anchor_name="forwarded_stream_kbps", anchor_value=stream_kbps)
    if per_stream:
        record_figure(BENCH, "janus_streams_per_core", 100 / per_stream, "streams", anchor_name="forwarded_stream_kbps",
                      anchor_value=stream_kbps)
    record_result(BENCH, {k: v for k, v in figures.items() if k != "load_average_1m"})
