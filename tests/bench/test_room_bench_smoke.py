"""The room benchmarks beside their anchors at tiny sizes, in `make test` (issue 15 item 7): two rooms of
four under load on the project's worker (the pub/sub layer only), the anchor app and the Redis floor, and a storm of
three rooms on the project and on the anchor. The figures go to a temporary file and prove only that the
bench and its anchors run, deliver every frame and welcome every socket again."""

from __future__ import annotations

import json

import pytest

from tests.bench import bench_room_anchors, bench_room_reconnect, bench_room_signaling, results_support

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_SMOKE", "1")
    for module, name, value in [
        (bench_room_signaling, "SECONDS", 1.0), (bench_room_signaling, "UNLOADED_FRAMES", 10),
        (bench_room_signaling, "SETTLE", 0.3), (bench_room_signaling, "STRAGGLERS", 0.5),
        (bench_room_reconnect, "SETTLE", 0.3), (bench_room_anchors, "LAYERS", ("redis-pubsub",)),
    ]:
        monkeypatch.setattr(module, name, value)
    log = tmp_path / "runs.jsonl"
    monkeypatch.setattr(results_support, "RUN_LOG", log)
    return log


def _records(log):
    return {(r["bench"], r["metric"]): r for r in map(json.loads, log.read_text(encoding="utf-8").splitlines())}


def test_room_socket_and_anchors_smoke(world, tiny):
    bench_room_anchors.test_room_socket_beside_the_anchors(world)
    records = _records(tiny)
    for bench in ("room_fan_out_redis-pubsub",):
        assert records[(bench, "rooms_2_lost")]["value"] == 0
        assert records[(bench, "rooms_2_lost")]["anchor_value"] == 0  # the anchor delivered every frame too
        assert records[(bench, "unloaded_p99")]["anchor_name"] == "plain Channels + pubsub"
        assert records[(bench, "unloaded_p99")]["anchor_value"] > 0


def test_reconnect_storm_beside_the_anchor_smoke(world, tiny):
    bench_room_reconnect.test_reconnect_storm_of_a_thousand_sockets(world)
    records = _records(tiny)
    assert records[("room_reconnect_storm", "missing")]["value"] == 0
    assert records[("room_reconnect_storm", "missing")]["anchor_value"] == 0
    assert records[("room_reconnect_storm", "last_welcome_12_sockets")]["anchor_value"] > 0
