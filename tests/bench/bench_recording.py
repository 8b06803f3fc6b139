"""Recording CPU per participant, the two ways the issue names, side by side in one run (issue 14 item 2):

- **Janus per-track recording** (``enable_recording`` through the Admin API: Janus writes the RTP it already
  forwards into ``.mjr`` files, no decoding): Janus's own CPU while recording, minus its CPU over the same
  interval with the same publishers and recording off (forwarding only); plus the work after the stop that the
  Celery task does (``janus-pp-rec`` and ffmpeg's stream-copy mux, per second of recording).
- **An aiortc participant that records** (``tests/bench/recording_worker.py``: subscribes to every feed and
  writes each track with aiortc's ``MediaRecorder``, which decodes and re-encodes): that process's CPU.

``PUBLISHERS`` aiortc publishers (a synthetic 320x240 camera at 15 fps and a silent microphone, in this test's
process) publish into one Janus room for each phase of ``SECONDS``. CPU is read from /proc (utime + stime),
as a percentage of one core, divided by the number of participants recorded. Real cameras (640x480 and up,
30 fps) cost an encoder more, and Janus no more per packet: the ratio here is the lower bound of the gap.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiortc import AudioStreamTrack

from mediation import spaces
from mediation.services.recording import _participant_file, _segments
from realtime import sfu
from realtime.sfu_peer import SfuPeer
from tests.bench.results_support import record_figure, size
from tests.sfu_support import media_servers  # noqa: F401 - fixture

pytestmark = [pytest.mark.media]

PUBLISHERS = 3
SECONDS = 10.0
ROOM = 9_900
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def janus_pid(config_dir: Path) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "janus" in cmdline.split("\0")[0] and str(config_dir) in cmdline:
                return int(entry.name)
    raise LookupError("the test's Janus process is not running")


def member(pk: int) -> spaces.MemberInfo:
    return spaces.MemberInfo(pk=pk, user_id=pk, role="party", side="applicant", state=spaces.ADMITTED)


def test_recording_cpu_per_participant_janus_versus_aiortc(media_servers, settings, tmp_path):  # noqa: F811
    media_servers.settings(settings)
    publishers, seconds = size(PUBLISHERS, 1), float(size(int(SECONDS), 2))
    janus = janus_pid(media_servers.out)
    members = [member(ROOM * 10 + i) for i in range(publishers + 1)]
    for who in members:
        sfu.admit(room_id=ROOM, member=who, caucus_side="")
    janus_room = sfu.janus_room_id(ROOM, spaces.JOINT)
    assert janus_room is not None
    admin = media_servers.admin

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

    peers = [SfuPeer(sfu.media_descriptor(room_id=ROOM, member=m, caucus_side="")) for m in members[:publishers]]

    async def publish() -> None:
        for peer in peers:
            await peer.join(audio=AudioStreamTrack())
        await asyncio.sleep(2)

    async def close() -> None:
        for peer in peers:
            await peer.close()

    def janus_cpu_over(interval: float) -> float:
        before = cpu_seconds(janus)
        time.sleep(interval)
        return cpu_seconds(janus) - before

    try:
        run(publish())
        forwarding = janus_cpu_over(seconds)
        spool = tmp_path / "spool"
        spool.mkdir()
        admin.record(janus_room, on=True, rec_dir=str(spool))
        recording = janus_cpu_over(seconds)
        admin.record(janus_room, on=False)

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        work, out = tmp_path / "work", tmp_path / "out"
        work.mkdir()
        out.mkdir()
        for feed, segments in _segments(spool).items():
            _participant_file(segments[0], work, out / f"{feed}.webm")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        processing = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        assert len(list(out.glob("*.webm"))) == publishers

        listener = members[publishers]
        spec = {"media": sfu.media_descriptor(room_id=ROOM, member=listener, caucus_side=""),
                "feeds": [m.pk for m in members[:publishers]], "seconds": seconds + 2, "out": str(tmp_path)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.recording_worker", json.dumps(spec)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        )
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        time.sleep(1)  # the subscriptions' ICE and the first keyframes
        before = cpu_seconds(worker.pid)
        time.sleep(seconds)
        aiortc_cpu = cpu_seconds(worker.pid) - before
        worker.wait(timeout=60)
        worker.stdout.close()
        assert worker.returncode == 0
        assert list(tmp_path.glob("feed*-video.webm")), "the aiortc recorder wrote nothing"
    finally:
        run(close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    def pct(cpu: float) -> float:
        return 100.0 * cpu / seconds / publishers

    janus_pct = max(pct(recording - forwarding), 0.0)
    aiortc_pct = pct(aiortc_cpu)
    processing_pct = 100.0 * processing / seconds / publishers
    print(f"per participant: janus recording {janus_pct:.2f} % of a core (forwarding {pct(forwarding):.2f} %), "
          f"after-stop processing {processing_pct:.2f} %, aiortc recorder {aiortc_pct:.2f} %")
    bench = "recording"
    record_figure(bench, "janus_recording_cpu_per_participant", janus_pct, "% core",
                  anchor_name="janus_forwarding_cpu_per_participant", anchor_value=pct(forwarding),
                  note=f"{publishers} publishers, {seconds:.0f} s, extra CPU of Janus with recording on")
    record_figure(bench, "janus_after_stop_processing_cpu_per_participant", processing_pct, "% core",
                  note="janus-pp-rec + ffmpeg stream-copy mux, CPU seconds per second recorded")
    record_figure(bench, "aiortc_recorder_cpu_per_participant", aiortc_pct, "% core",
                  anchor_name="janus_recording_cpu_per_participant", anchor_value=janus_pct,
                  note="aiortc subscriber + MediaRecorder (decode and re-encode), its own process")
