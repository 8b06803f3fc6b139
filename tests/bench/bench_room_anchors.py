"""The room socket beside its anchors, in one run (issue 15 items 3 and 7; run by `make bench`, never by CI).

Four servers take the same load one after the other, each a fresh uvicorn worker on the same Redis:
the project's room consumer on the core Redis layer, the same consumer on the pub/sub layer, the anchor
(a plain Channels app with the pub/sub layer that does nothing but fan out, tests/bench/anchor_asgi.py) and,
for the unloaded figure, the floor (Redis publish→subscribe, no server at all). The loads, from
bench_room_signaling: one room of four, one frame in flight at a time (fan-out p50/p99), and ROOMS rooms of
four at 2 frames a second per room for 20 s (p99 and frames lost). The room clients send their heartbeat
every second (as phones do); the anchor's and the floor's send none (the anchor has no heartbeat).

Every figure is recorded with the anchor's value from the same run and the load average (the machine is
shared: compare figures of one run, never across runs).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.bench.anchor_support import anchor_peer, anchor_rooms, redis_peer
from tests.bench.bench_room_signaling import loaded, room_peer, unloaded
from tests.bench.results_support import load_average, record_figure, size, smoke
from tests.bench.room_bench_support import ANCHOR_APP, cores, make_rooms, percentile, run_async, uvicorn_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ROOMS = int(os.environ.get("ROOM_BENCH_LOAD_ROOMS", "250"))
LAYERS = ("redis", "redis-pubsub")
GOAL_P50_MS, GOAL_P99_MS, GOAL_LOADED_P99_MS = 1.0, 1.5, 25.0


def _figures(result: tuple[list[float], int, int]) -> dict[str, float]:
    latencies, sent, lost = result
    return {"p50": percentile(latencies, 50) * 1000, "p99": percentile(latencies, 99) * 1000,
            "sent": sent, "lost": lost, "load": load_average()}


def measure(world: Any, rooms: int) -> dict[str, dict[str, dict[str, float]]]:
    """{server: {"unloaded": figures, "loaded": figures}} for the project on each layer, the anchor and
    the floor (unloaded only)."""
    out: dict[str, dict[str, dict[str, float]]] = {}

    def both(name: str, all_rooms: list[list[str]], peer: Any, **worker: Any) -> None:
        with uvicorn_worker(**worker) as server:
            out[name] = {"unloaded": _figures(run_async(unloaded(server, all_rooms[:1], peer)))}
            if smoke():  # the smoke run of `make test`: one worker for both loads
                out[name]["loaded"] = _figures(run_async(loaded(server, all_rooms[1:], peer)))
                return
        with uvicorn_worker(**worker) as server:  # a fresh worker: nothing left from the unloaded run
            out[name]["loaded"] = _figures(run_async(loaded(server, all_rooms[1:], peer)))

    for layer in LAYERS:
        both(layer, make_rooms(world, 1 + rooms), room_peer, layer=layer)
    plain = anchor_rooms(1 + rooms)
    both("anchor", plain, anchor_peer, app=ANCHOR_APP)
    out["floor"] = {"unloaded": _figures(run_async(unloaded(os.environ["REDIS_URL"], plain[:1], redis_peer)))}
    return out


def test_room_socket_beside_the_anchors(world):
    rooms = size(ROOMS, 2)
    out = measure(world, rooms)
    anchor, floor = out["anchor"], out["floor"]["unloaded"]
    print(f"\nroom socket beside the anchors, one uvicorn worker each, clients on the same machine ({cores()})")
    header = f"{'':<34} {'unloaded p50':>12} {'p99 ms':>8} {f'{rooms} rooms p50':>15} {'p99 ms':>9}"
    print(f"{header} {'lost':>6} {'load':>5}")
    for name in (*LAYERS, "anchor", "floor"):
        u, ld = out[name]["unloaded"], out[name].get("loaded")
        loaded_cols = (f"{ld['p50']:>15.2f} {ld['p99']:>9.2f} {ld['lost']:>6.0f} {ld['load']:>5.1f}" if ld
                       else f"{'':>15} {'':>9} {'':>6} {u['load']:>5.1f}")
        print(f"{name:<34} {u['p50']:>12.2f} {u['p99']:>8.2f} {loaded_cols}")
    for layer in LAYERS:
        bench = f"room_fan_out_{layer}"
        u, ld = out[layer]["unloaded"], out[layer]["loaded"]
        note = f"layer {layer}; floor (Redis publish→subscribe) p50 {floor['p50']:.3f} / p99 {floor['p99']:.3f} ms"
        record_figure(bench, "unloaded_p50", u["p50"], "ms", goal=GOAL_P50_MS, anchor_name="plain Channels + pubsub",
                      anchor_value=anchor["unloaded"]["p50"], note=note)
        record_figure(bench, "unloaded_p99", u["p99"], "ms", goal=GOAL_P99_MS, anchor_name="plain Channels + pubsub",
                      anchor_value=anchor["unloaded"]["p99"], note=note)
        record_figure(bench, "unloaded_p50_floor", u["p50"], "ms", anchor_name="Redis publish→subscribe",
                      anchor_value=floor["p50"])
        record_figure(bench, f"rooms_{rooms}_p99", ld["p99"], "ms", goal=GOAL_LOADED_P99_MS,
                      anchor_name="plain Channels + pubsub", anchor_value=anchor["loaded"]["p99"],
                      note=f"layer {layer}; {ld['sent']:.0f} frames, anchor {anchor['loaded']['sent']:.0f}")
        record_figure(bench, f"rooms_{rooms}_lost", ld["lost"], "frames", goal=0,
                      anchor_name="plain Channels + pubsub", anchor_value=anchor["loaded"]["lost"])
    # The bench proves its own plumbing: every server answered, and the floor delivered every frame.
    assert all(out[name]["unloaded"]["p50"] == out[name]["unloaded"]["p50"] for name in out)  # not NaN
    assert out["floor"]["unloaded"]["lost"] == 0
