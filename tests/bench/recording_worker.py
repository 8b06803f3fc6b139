"""The aiortc recorder of the recording bench, in a process of its own so its CPU is measured alone: it joins
the Janus room as a member that publishes nothing, subscribes to each feed and writes every track it receives
with aiortc's ``MediaRecorder`` (decode and re-encode: VP8 to WebM, Opus to Ogg), for ``seconds``, then exits.

    python -m tests.bench.recording_worker '{"media": {...}, "feeds": [1, 2], "seconds": 10, "out": "/tmp/x"}'
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamTrack

from realtime.sfu_peer import SfuPeer, Subscription


class RecordingPeer(SfuPeer):
    """A subscriber whose every received track goes to a ``MediaRecorder`` instead of being only counted."""

    out = Path(".")
    recorders: list[MediaRecorder] = []

    @staticmethod
    async def _count(track: MediaStreamTrack, subscription: Subscription) -> None:
        suffix = "webm" if track.kind == "video" else "ogg"
        recorder = MediaRecorder(str(RecordingPeer.out / f"feed{subscription.feed}-{track.kind}.{suffix}"))
        recorder.addTrack(track)
        RecordingPeer.recorders.append(recorder)
        await recorder.start()


async def main(spec: dict[str, Any]) -> None:
    RecordingPeer.out = Path(spec["out"])
    peer = RecordingPeer(spec["media"])
    await peer.join(publish=False)
    for feed in spec["feeds"]:
        await peer.subscribe(int(feed))
    print("ready", flush=True)
    await asyncio.sleep(float(spec["seconds"]))
    for recorder in RecordingPeer.recorders:
        with contextlib.suppress(Exception):
            await recorder.stop()
    await peer.close()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
