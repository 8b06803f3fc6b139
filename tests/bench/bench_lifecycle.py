"""Benchmarks of the lifecycle core (run by `make bench`, never by CI): what one status change costs
(compare-and-set, audit append, timer sync) and how fast the audit chain verifies.

The anchor, measured in the same run, is a bare single-row UPDATE on the same PostgreSQL: the
transition's cost is reported as a multiple of it, which travels between machines better than ms."""

from __future__ import annotations

import statistics
import time

import pytest
from django.db import connection, transaction

from mediation.audit_chain import verify_stream
from mediation.choices import CaseStatus
from mediation.models import Case
from mediation.services.audit import audit_append

pytestmark = pytest.mark.django_db

ROUNDS = 200


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _report(name: str, samples: list[float], anchor: float | None = None) -> None:
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    ratio = f"  ({p50 / anchor:.1f}x the anchor)" if anchor else ""
    print(f"{name:<48} p50 {p50 * 1000:7.3f} ms   p95 {p95 * 1000:7.3f} ms{ratio}")


def test_bench_transition_against_a_bare_update(world):
    case = world.new_case()
    anchor_samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE mediation_case SET updated_at = now() WHERE id = %s", [case.pk])
        anchor_samples.append(time.perf_counter() - start)
    anchor = statistics.median(anchor_samples)
    _report("anchor: bare single-row UPDATE", anchor_samples)

    samples = []
    for _ in range(ROUNDS // 4):
        fresh = world.new_case()
        for target in (CaseStatus.SUBMITTED, CaseStatus.AWAITING_SELECTION):
            row_case = Case.objects.get(pk=fresh.pk)
            start = time.perf_counter()
            world.drive(row_case, target)
            samples.append(time.perf_counter() - start)
    _report("case_transition (CAS + audit + timers)", samples, anchor)


def test_bench_audit_append_and_verify(world):
    stream = "bench.audit"
    samples = []
    for index in range(ROUNDS * 5):
        start = time.perf_counter()
        audit_append(kind="bench.event", actor=world.clerk, stream=stream, data={"i": index, "text": "调解记录"})
        samples.append(time.perf_counter() - start)
    _report("audit_append", samples)
    start = time.perf_counter()
    assert verify_stream(stream) is None
    elapsed = time.perf_counter() - start
    print(f"{'verify_stream':<48} {len(samples) / elapsed:,.0f} events/s over {len(samples)} events")
