"""What the benchmarks record, and the one report `make bench` prints (issue 15 item 7).

Every figure is one record: bench, metric, value, unit, the anchor (name and value, measured in the same run),
the goal and whether it is met. A bench calls ``record_figure`` for each figure it measures (or, as older
benches do, ``record_result`` with a dict of named numbers, which become records without a goal). Records
are appended to var/bench/runs.jsonl with the run's number (``BENCH_RUN``, set by `make bench`, which runs
the benches ``BENCH_RUNS`` times) and the 1-minute load average when the figure was taken.
``python -m tests.bench.report`` then writes var/bench/results.json (the median of the runs per figure, with
every run's value and load average) and var/bench/report.md, and prints the table.

``BENCH_SMOKE=1`` (and ``smoke_sizes`` in tests/bench/test_bench_smoke.py) runs the benches at tiny sizes:
the figures then only prove the bench runs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parents[2] / "var" / "bench"
RUN_LOG = BENCH_DIR / "runs.jsonl"
RESULTS = BENCH_DIR / "results.json"
REPORT = BENCH_DIR / "report.md"

# Units of the legacy dict figures, by the end of their key.
_SUFFIX_UNITS = (("_ms", "ms"), ("_s", "s"), ("_kb", "KB"), ("_bytes", "B"), ("_per_s", "/s"), ("_pct", "%"))


def smoke() -> bool:
    return os.environ.get("BENCH_SMOKE") == "1"


def size(full: int, smoke_size: int) -> int:
    """``full`` in a benchmark run, ``smoke_size`` in the smoke run of `make test`."""
    return smoke_size if smoke() else full


def load_average() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux
        return math.nan


def record_figure(
    bench: str,
    metric: str,
    value: float,
    unit: str,
    *,
    goal: float | None = None,
    goal_op: str = "<=",
    anchor_name: str = "",
    anchor_value: float | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Append one figure of this run. ``goal_op`` is ``<=`` (lower is better) or ``>=``."""
    if goal_op not in ("<=", ">="):
        raise ValueError(goal_op)
    record = {
        "bench": bench,
        "metric": metric,
        "value": _number(value),
        "unit": unit,
        "anchor_name": anchor_name,
        "anchor_value": _number(anchor_value) if anchor_value is not None else None,
        "goal": goal,
        "goal_op": goal_op,
        "note": note,
        "run": int(os.environ.get("BENCH_RUN", "1")),
        "load_average": load_average(),
        "smoke": smoke(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RUN_LOG.parent.mkdir(parents=True, exist_ok=True)
    with RUN_LOG.open("a", encoding="utf-8") as log:
        log.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record


def record_result(name: str, figures: dict[str, Any]) -> None:
    """The older form: ``figures`` is a dict of named numbers (``p95_ms``: 12.3). Each number becomes a
    record of bench ``name``, its unit read from the key's end. A ``figures`` list of dicts in it is taken
    as ``record_figure`` keyword arguments (with ``metric``, ``value`` and ``unit``)."""
    for item in figures.get("figures", []) if isinstance(figures.get("figures"), list) else []:
        record_figure(name, **item)
    for key, value in figures.items():
        if key == "figures" or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        unit = next((unit for suffix, unit in _SUFFIX_UNITS if key.endswith(suffix)), "")
        record_figure(name, key, value, unit)
    print(f"recorded {name} in {RUN_LOG}")


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    return round(float(value), 3)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(samples: list[float], q: float) -> float:
    """The sample at quantile ``q`` (0-1), nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (bench, metric): the median over the runs, each run's value and load average."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault((record["bench"], record["metric"]), []).append(record)
    summary = []
    for (bench, metric), runs in grouped.items():
        runs.sort(key=lambda r: r["run"])
        value = median([r["value"] for r in runs])
        anchors = [r["anchor_value"] for r in runs if r.get("anchor_value") is not None]
        goal, op = runs[-1].get("goal"), runs[-1].get("goal_op", "<=")
        met = None if goal is None else (value <= goal if op == "<=" else value >= goal)
        summary.append(
            {
                "bench": bench,
                "metric": metric,
                "value": round(value, 3),
                "unit": runs[-1]["unit"],
                "anchor_name": runs[-1].get("anchor_name", ""),
                "anchor_value": round(median(anchors), 3) if anchors else None,
                "goal": goal,
                "goal_op": op,
                "met": met,
                "runs": [r["value"] for r in runs],
                "load_averages": [r["load_average"] for r in runs],
                "note": runs[-1].get("note", ""),
                "smoke": any(r.get("smoke") for r in runs),
            }
        )
    return summary


def _cell(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip()


def table(summary: list[dict[str, Any]]) -> str:
    lines = [
        "| Bench | Figure | Median | Runs | Load avg (1 min) | Anchor, same run | Goal | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary:
        runs = " / ".join(_cell(v, "") for v in row["runs"])
        loads = " / ".join(f"{load:.1f}" for load in row["load_averages"])
        anchor = f"{row['anchor_name']} {_cell(row['anchor_value'], row['unit'])}" if row["anchor_name"] else "—"
        goal = (
            f"{'≤' if row['goal_op'] == '<=' else '≥'} {_cell(row['goal'], row['unit'])}"
            if row["goal"] is not None
            else "—"
        )
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]]
        lines.append(
            f"| {row['bench']} | {row['metric']} | {_cell(row['value'], row['unit'])} | {runs} | {loads} "
            f"| {anchor} | {goal} | {met} |"
        )
    return "\n".join(lines)


def write_report(run_log: Path = RUN_LOG, results: Path = RESULTS, report: Path = REPORT) -> str:
    records = []
    if run_log.exists():
        records = [json.loads(line) for line in run_log.read_text(encoding="utf-8").splitlines() if line.strip()]
    summary = summarise(records)
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    runs = max((r["run"] for r in records), default=0)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {"generated_at": generated, "runs": runs, "cpus": os.cpu_count(), "records": summary},
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    text = (
        f"# Benchmarks ({generated}, {os.cpu_count()} CPUs, median of {runs} run(s))\n\n"
        "Each figure is the median of the runs; the runs' values and the load average while each was taken "
        "follow. Anchors are measured in the same run. Produced by `make bench` (tests/bench).\n\n"
        + table(summary)
        + "\n"
    )
    report.write_text(text, encoding="utf-8")
    return text
