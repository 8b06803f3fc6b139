"""Benchmark of room signaling (run by `make bench`, never by CI): one uvicorn worker with the Redis channel
layer, rooms of four admitted members (``RoomPeer`` sockets without media, heartbeats on), and in each room
2 signal frames a second relayed from one member to another (round robin). Reports the relay latency
(send to receive, one clock: clients and server share the machine) at p50/p99 and the frames lost, for 100
and 250 rooms, and the unloaded p99 (one room, one frame in flight at a time).

Goals (issue 5): p99 <= 10 ms at 100 rooms and <= 25 ms at 250 rooms with no loss; unloaded p99 <= 1.5 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from realtime.peer import RoomPeer
from tests.bench.results_support import record_result
from tests.bench.room_bench_support import bench_layer, cores, make_rooms, percentile, run_async, uvicorn_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

RATE_PER_ROOM = 2.0  # signal frames a second
SECONDS = 20.0
UNLOADED_FRAMES = 500
SETTLE = 3.0  # seconds after the last join for its presence frames to settle
STRAGGLERS = 2.0  # seconds after the last frame sent for the last ones to arrive


class Meter:
    """Timestamps each signal frame when sent and when the addressee receives it."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.arrived = asyncio.Event()

    def on_frame(self, frame: dict[str, Any], received_at: float) -> None:
        if frame.get("type") != "signal":
            return
        key = ((frame.get("data") or {}).get("candidate") or {}).get("sdpMid")
        sent = self.sent.pop(key, None)
        if sent is not None:
            self.latencies.append(received_at - sent)
            self.arrived.set()

    async def signal(self, sender: Any, to: int, key: str) -> None:
        self.sent[key] = time.perf_counter()
        with contextlib.suppress(ConnectionError, ConnectionClosed):  # a socket that dropped: counted as lost
            await sender.send({"type": "signal", "to": to,
                               "data": {"candidate": {"candidate": "", "sdpMid": key, "sdpMLineIndex": 0}}})


def room_peer(*, server: str, ws_url: str, on_frame: Any) -> Any:
    return RoomPeer(server=server, ws_url=ws_url, media=False, dead_after=30, on_frame=on_frame)


async def connect_all(server: str, rooms: list[list[str]], meter: Meter, peer: Any = room_peer) -> list[list[Any]]:
    """Connect every member, 20 at a time (a ramp, not a storm: that is the other benchmark). Joins are slow
    on one worker (see the reconnect benchmark), so the clients allow 30 s of silence while the ramp lasts
    rather than the doc's 2 s, which would make them reconnect and feed the queue."""
    peers = [[peer(server=server, ws_url=url, on_frame=meter.on_frame) for url in room] for room in rooms]
    flat = [one for room in peers for one in room]
    for n in range(0, len(flat), 20):
        await asyncio.gather(*(one.start() for one in flat[n:n + 20]))
    await asyncio.sleep(SETTLE)  # let the joins' presence frames settle
    for one in flat:
        one.dead_after = None
    return peers


async def loaded(server: str, rooms: list[list[str]], peer: Any = room_peer) -> tuple[list[float], int, int]:
    meter = Meter()
    peers = await connect_all(server, rooms, meter, peer)
    loop = asyncio.get_running_loop()
    started = loop.time() + 0.1
    count = [0]

    async def room_traffic(index: int, members: list[Any]) -> None:
        ids = [one.member_id for one in members]
        offset = index / len(peers) / RATE_PER_ROOM  # spread the rooms over one period
        n = 0
        while True:
            due = started + offset + n / RATE_PER_ROOM
            if due - started > SECONDS:
                return
            await asyncio.sleep(max(0.0, due - loop.time()))
            await meter.signal(members[n % 4], ids[(n + 1) % 4], f"{index}.{n}")
            count[0] += 1
            n += 1

    await asyncio.gather(*(room_traffic(i, members) for i, members in enumerate(peers)))
    await asyncio.sleep(STRAGGLERS)
    lost = len(meter.sent)
    await asyncio.gather(*(one.close() for room in peers for one in room))
    return meter.latencies, count[0], lost


async def unloaded(server: str, rooms: list[list[str]], peer: Any = room_peer) -> tuple[list[float], int, int]:
    meter = Meter()
    (members,) = await connect_all(server, rooms, meter, peer)
    ids = [one.member_id for one in members]
    lost = 0
    for n in range(UNLOADED_FRAMES):
        meter.arrived.clear()
        await meter.signal(members[n % 4], ids[(n + 1) % 4], f"u.{n}")
        try:
            async with asyncio.timeout(1):
                await meter.arrived.wait()
        except TimeoutError:
            lost += 1
        await asyncio.sleep(0.005)
    await asyncio.gather(*(one.close() for one in members))
    return meter.latencies, UNLOADED_FRAMES, lost


def report(label: str, latencies: list[float], sent: int, lost: int, goal_ms: float) -> str:
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    verdict = "meets" if p99 <= goal_ms and lost == 0 else "MISSES"
    return (f"{label:<28} {sent:>7} {p50:>8.2f} {p99:>8.2f} {lost:>6}   {verdict} goal p99 <= {goal_ms:g} ms"
            + ("" if label.startswith("unloaded") else ", no loss"))


def figures_of(result: tuple[list[float], int, int], *, goal_p99_ms: float) -> dict[str, Any]:
    latencies, sent, lost = result
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    return {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3), "sent": sent, "lost": lost,
            "goal_p99_ms": goal_p99_ms, "met": bool(p99 <= goal_p99_ms and lost == 0)}


# ROOM_BENCH_SIZES="100,250" by default; the goals are for those two sizes.
SIZES = [int(n) for n in os.environ.get("ROOM_BENCH_SIZES", "100,250").split(",")]
GOALS_MS = {100: 10.0, 250: 25.0}


def test_room_signaling_latency_on_one_worker(world):
    all_rooms = make_rooms(world, 1 + sum(SIZES))
    figures: dict[str, Any] = {}
    with uvicorn_worker() as server:
        result = run_async(unloaded(server, all_rooms[:1]))
        lines = [report("unloaded, 1 room", *result, goal_ms=1.5)]
        figures["unloaded"] = figures_of(result, goal_p99_ms=1.5)
    used = 1
    for size in SIZES:
        with uvicorn_worker() as server:  # a fresh worker each time: no lingering sockets from the last run
            result = run_async(loaded(server, all_rooms[used:used + size]))
        used += size
        lines.append(report(f"{size} rooms x 4, 2 msg/s/room", *result, goal_ms=GOALS_MS.get(size, 25.0)))
        figures[f"rooms_{size}"] = figures_of(result, goal_p99_ms=GOALS_MS.get(size, 25.0))
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    layer = bench_layer()
    bench = "room_signaling" if layer == "redis-pubsub" else f"room_signaling_{layer}"
    record_result(bench, {**figures, "layer": layer})
    print(f"\nroom signaling relay, one uvicorn worker + Redis layer, clients on the same machine ({cores()})")
    print(f"{'':<28} {'frames':>7} {'p50 ms':>8} {'p99 ms':>8} {'lost':>6}")
    for line in lines:
        print(line)
