"""Process-pool worker of bench_render: a long-lived renderer per process. Imports no Django model, so a
spawned process needs no settings."""

from __future__ import annotations

import time

from documents.rendering import Renderer

_worker: Renderer | None = None


def start_worker(html: str) -> None:
    global _worker
    _worker = Renderer()
    _worker.render(html)  # warm: fonts loaded, caches filled, as in a worker that has served before


def render_in_worker(html: str, submitted: float) -> tuple[float, float, int]:
    """(submission to PDF, render alone, size). ``perf_counter`` is system-wide on Linux (CLOCK_MONOTONIC)."""
    assert _worker is not None
    started = time.perf_counter()
    pdf = _worker.render(html).pdf
    done = time.perf_counter()
    return done - submitted, done - started, len(pdf)
