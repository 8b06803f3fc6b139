"""Benchmark of a reconnect storm (run by `make bench`, never by CI): 1,000 room sockets (250 rooms of four,
``RoomPeer`` without media) on one uvicorn worker with the Redis layer all lose their connection at the same
instant, as when a mobile network or a load balancer drops them, and come back at once with ``since`` and
their ``resume_token``. Reports the time from the cut to the last ``welcome``, and p50/p99 per socket.

Goal (issue 5): all rejoin within 1.5 s.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from realtime.peer import RoomPeer
from tests.bench.results_support import record_result
from tests.bench.room_bench_support import cores, make_rooms, percentile, run_async, uvicorn_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ROOMS = int(os.environ.get("ROOM_BENCH_STORM_ROOMS", "250"))
GOAL_SECONDS = 1.5


async def storm(server: str, rooms: list[list[str]]) -> tuple[float, list[float], float, int]:
    welcomed: dict[int, float] = {}
    everyone_back = asyncio.Event()
    expected = [0]

    def on_frame_for(index: int):  # type: ignore[no-untyped-def]
        def on_frame(frame: dict, received_at: float) -> None:  # type: ignore[type-arg]
            if frame.get("type") == "welcome":
                welcomed[index] = received_at
                if len(welcomed) == expected[0]:
                    everyone_back.set()
        return on_frame

    urls = [url for room in rooms for url in room]
    # Joins are slow on one worker (that is what this measures): the clients wait for their handshake and
    # allow silence for as long as the storm lasts. With the doc's 2 s and a 10 s handshake timeout they
    # give up and retry, the worker still serves the abandoned joins, and the storm never drains.
    peers = [RoomPeer(server=server, ws_url=url, media=False, dead_after=120, open_timeout=120,
                      on_frame=on_frame_for(n)) for n, url in enumerate(urls)]
    started = time.perf_counter()
    for n in range(0, len(peers), 20):
        await asyncio.gather(*(peer.start() for peer in peers[n:n + 20]))
    ramp = time.perf_counter() - started
    await asyncio.sleep(3)
    welcomed.clear()
    expected[0] = len(peers)
    cut = time.perf_counter()
    for peer in peers:
        peer.drop()
    try:
        async with asyncio.timeout(120):
            await everyone_back.wait()
    except TimeoutError:
        pass
    per_socket = [at - cut for at in welcomed.values()]
    missing = len(peers) - len(welcomed)
    await asyncio.gather(*(peer.close() for peer in peers))
    return max(per_socket, default=float("nan")), per_socket, len(peers) / ramp, missing


def test_reconnect_storm_of_a_thousand_sockets(world):
    rooms = make_rooms(world, ROOMS)
    with uvicorn_worker() as server:
        last, per_socket, join_rate, missing = run_async(storm(server, rooms))
    sockets = ROOMS * 4
    verdict = "meets" if last <= GOAL_SECONDS and not missing else "MISSES"
    print(f"\nroom reconnect storm, one uvicorn worker + Redis layer, clients on the same machine ({cores()})")
    print(f"initial joins (20 at a time)         {join_rate:8.0f} sockets/s")
    print(f"{sockets} sockets cut at once: last welcome after {last:6.2f} s   ({verdict} goal <= {GOAL_SECONDS} s)")
    print(f"per socket: p50 {percentile(per_socket, 50):6.2f} s, p99 {percentile(per_socket, 99):6.2f} s"
          f"{f', {missing} never came back within 120 s' if missing else ''}")
    record_result("room_reconnect_storm", {
        "sockets": sockets, "last_welcome_s": round(last, 3), "p50_s": round(percentile(per_socket, 50), 3),
        "p99_s": round(percentile(per_socket, 99), 3), "missing": missing, "initial_joins_per_s": round(join_rate, 1),
        "goal_s": GOAL_SECONDS, "met": bool(last <= GOAL_SECONDS and not missing),
        "load_average_1m": round(os.getloadavg()[0], 2),
    })
