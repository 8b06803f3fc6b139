"""`python -m tests.bench.report`: var/bench/runs.jsonl → var/bench/results.json and report.md, and the table
printed (run by `make bench` after the runs; see tests/bench/results_support.py)."""

from __future__ import annotations

from tests.bench.results_support import REPORT, RESULTS, write_report

if __name__ == "__main__":
    print(write_report())
    print(f"written: {RESULTS} and {REPORT}")
