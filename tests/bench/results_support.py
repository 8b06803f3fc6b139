"""Benchmarks record their figures in var/bench/results.json (one entry per benchmark, the latest run's, with
when it ran), beside what they print."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.conf import settings

RESULTS = Path(settings.BASE_DIR) / "var" / "bench" / "results.json"


def record_result(name: str, figures: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        results = {}
    results[name] = {**figures, "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {name} in {RESULTS}")
