"""The benchmarks at tiny sizes, in `make test` (issue 15 item 7): each bench still runs, asserts what it
asserts, and records its figures in the report's shape. The figures prove nothing about speed: they go to a
temporary file, never var/bench. `make bench` runs the benches themselves, at full size."""

from __future__ import annotations

import json

import pytest

from tests.bench import bench_clerk_queue, bench_recommendation, bench_render, results_support
from tests.bench.bench_clerk_queue import test_bench_clerk_queue_with_100k_cases as test_clerk_queue_smoke
from tests.bench.bench_recommendation import (
    test_bench_recommendation_over_ten_thousand_mediators as test_recommendation_smoke,
)
from tests.bench.bench_render import test_render_a_chinese_agreement as test_render_smoke

pytestmark = pytest.mark.django_db

SMOKE_SIZES = {
    bench_clerk_queue: {"CASES": 300, "ROUNDS": 2},
    bench_recommendation: {"MEDIATORS": 40, "PAST_CASES": 120, "RUNS": 2},
    bench_render: {"RUNS": 1, "CONCURRENT": 2},
}
REPORT_KEYS = {"bench", "metric", "value", "unit", "anchor_name", "anchor_value", "goal", "goal_op", "met"}

__all__ = ["test_clerk_queue_smoke", "test_recommendation_smoke", "test_render_smoke"]


@pytest.fixture(autouse=True)
def _tiny(monkeypatch, tmp_path, request):
    monkeypatch.setenv("BENCH_SMOKE", "1")
    for module, sizes in SMOKE_SIZES.items():
        for name, value in sizes.items():
            monkeypatch.setattr(module, name, value)
    if request.node.name == "test_recommendation_smoke":
        # populate_roster's defaults are bound at import: pass the tiny sizes through them.
        populate = bench_recommendation.populate_roster
        monkeypatch.setattr(
            bench_recommendation, "populate_roster", lambda world: populate(world, mediators=40, past_cases=120)
        )
    log = tmp_path / "runs.jsonl"
    monkeypatch.setattr(results_support, "RUN_LOG", log)
    yield
    # Every smoke run recorded figures, and the report reads them in the shape.
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records, "the bench recorded no figure"
    assert all(record["smoke"] for record in records)
    results_support.write_report(log, tmp_path / "results.json", tmp_path / "report.md")
    summary = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["records"]
    assert summary
    assert all(set(row) >= REPORT_KEYS for row in summary)
    assert "| Bench | Figure |" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_the_report_takes_the_median_of_the_runs_and_says_whether_the_goal_is_met(tmp_path, monkeypatch):
    log = tmp_path / "runs.jsonl"
    monkeypatch.setattr(results_support, "RUN_LOG", log)
    for run, value in enumerate((30.0, 70.0, 40.0), start=1):
        monkeypatch.setenv("BENCH_RUN", str(run))
        results_support.record_figure("b", "p95", value, "ms", goal=50, anchor_name="plain", anchor_value=run)
    results_support.record_result("legacy", {"p99_ms": 12.5, "label": "text", "ok": True})
    results_support.write_report(log, tmp_path / "results.json", tmp_path / "report.md")
    rows = {row["bench"]: row for row in json.loads((tmp_path / "results.json").read_text())["records"]}
    assert (rows["b"]["value"], rows["b"]["runs"], rows["b"]["anchor_value"], rows["b"]["met"]) == (
        40.0,
        [30.0, 70.0, 40.0],
        2.0,
        True,
    )
    assert len(rows["b"]["load_averages"]) == 3
    assert (rows["legacy"]["metric"], rows["legacy"]["unit"], rows["legacy"]["met"]) == ("p99_ms", "ms", None)
    results_support.record_figure("b", "p95", 90.0, "ms", goal=50)
    results_support.record_figure("b", "p95", 95.0, "ms", goal=50)
    results_support.write_report(log, tmp_path / "results.json", tmp_path / "report.md")
    row = next(r for r in json.loads((tmp_path / "results.json").read_text())["records"] if r["bench"] == "b")
    assert row["met"] is False
