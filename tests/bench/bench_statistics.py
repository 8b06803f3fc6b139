"""Benchmark of the court leader's dashboard (run by `make bench`, never by CI): the high court's page over 1,000
cases, then over 100,000, at the same number of queries. Goal: p95 ≤ 200 ms at 100,000. The page reads the
pre-computed daily counters (built here as the beat task's first run does, and timed); the live computation
over 100,000 cases is timed too, for comparison. The figures go to var/bench/results.json as well.

Cases, their audit events (created, submitted, accepted, and an outcome for most), clocks, presiding mediators
and frozen agreements are bulk-created in the shapes the services leave them (the audit chain's hashes are not
computed: the statistics never read them), spread over three courts, twelve months and six dispute types."""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediation.choices import (
    AgreementScope,
    AgreementStatus,
    AgreementVariant,
    CaseOrigin,
    CaseStatus,
    Role,
    Sector,
    TimerKind,
    TimerStatus,
    TimerUnit,
)
from mediation.models import (
    Agreement,
    AuditEvent,
    Case,
    CaseMediator,
    StatisticsCounter,
    StatisticsCounterState,
    Timer,
)
from mediation.services.statistics_counters import statistics_counters_refresh
from tests.bench.results_support import record_result
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db

ROUNDS = 20
GOAL = 0.2
BATCH = 5_000
TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 1, 1, 9, 0, tzinfo=TZ)
TYPES = [Sector.LABOUR, Sector.FINANCE, Sector.TRAFFIC, Sector.FAMILY, Sector.CONTRACT, Sector.PROPERTY]
ORIGINS = [CaseOrigin.PARTY_APPLICATION, CaseOrigin.DELEGATED, CaseOrigin.DELEGATED, CaseOrigin.ENTRUSTED]
# (final status, outcome audit kind) in a cycle: most settle, some fail or are withdrawn, some are still open.
OUTCOMES = [
    (CaseStatus.CLOSED_SETTLED, "case.agreement_signed"), (CaseStatus.TERMINATED, "case.terminate"),
    (CaseStatus.CLOSED_SETTLED, "case.agreement_signed"), (CaseStatus.WITHDRAWN, "case.withdraw"),
    (CaseStatus.IN_MEDIATION, ""), (CaseStatus.CLOSED_SETTLED, "case.agreement_signed"),
    (CaseStatus.RETURNED, "case.return"),
]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _report(name: str, samples: list[float]) -> float:
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    print(f"{name:<52} p50 {p50 * 1000:8.2f} ms   p95 {p95 * 1000:8.2f} ms")
    return p95


def _populate(world, *, first: int, count: int) -> None:
    courts = [world.court, world.other_court, world.court.parent]
    for start in range(first, first + count, BATCH):
        cases, plans = [], []
        for index in range(start, min(start + BATCH, first + count)):
            received = START + dt.timedelta(days=(index * 7) % 365, minutes=index % 600)
            status, outcome = OUTCOMES[index % len(OUTCOMES)]
            cases.append(Case(
                reference=f"STAT{index:09d}", origin=ORIGINS[index % len(ORIGINS)], court=courts[index % 3],
                dispute_type=TYPES[index % len(TYPES)], title=f"纠纷 {index}", status=status,
                mediation_organisation=world.partner if index % 2 else world.other_partner,
                status_changed_at=received, court_case_number="（2025）京0101民初1号" if index % 4 == 3 else "",
            ))
            plans.append((received, outcome, index))
        created = Case.objects.bulk_create(cases)
        events, timers, mediators, agreements = [], [], [], []
        for case, (received, outcome, index) in zip(created, plans, strict=True):
            stream = f"case.{case.pk}"
            kinds = [("case.created", received), ("case.submit", received)]
            if outcome != "case.return":
                kinds.append(("case.accept_for_mediation", received + dt.timedelta(hours=2)))
            if outcome:
                kinds.append((outcome, received + dt.timedelta(days=3 + index % 40)))
            for seq, (kind, at) in enumerate(kinds, start=1):
                events.append(AuditEvent(stream=stream, seq=seq, case=case, kind=kind, actor=None, data={},
                                         created_at=at, prev_hash="0" * 64, hash=uuid.uuid4().hex * 2))
            if outcome not in ("case.return",):
                mediators.append(CaseMediator(case=case, mediator=world.mediator))
                accepted = received + dt.timedelta(hours=2)
                late = index % 10 == 0
                timers.append(Timer(
                    case=case, kind=TimerKind.MEDIATOR_ACCEPTANCE, unit=TimerUnit.WORKING_DAYS, length=3,
                    started_at=accepted, due_at=accepted + dt.timedelta(days=3),
                    status=TimerStatus.FIRED if late else TimerStatus.STOPPED,
                    fired_at=accepted + dt.timedelta(days=3) if late else None,
                    stopped_at=None if late else accepted + dt.timedelta(days=1),
                ))
            if outcome == "case.agreement_signed":
                agreements.append(Agreement(
                    case=case, status=AgreementStatus.FROZEN, variant=AgreementVariant.DELEGATED,
                    scope=AgreementScope.PARTIAL if index % 5 == 0 else AgreementScope.FULL, created_by=world.mediator,
                ))
        AuditEvent.objects.bulk_create(events)
        CaseMediator.objects.bulk_create(mediators)
        Timer.objects.bulk_create(timers)
        Agreement.objects.bulk_create(agreements)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _time_page(client, url: str, rounds: int = ROUNDS) -> list[float]:
    client.get(url)  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return samples


def _build_counters() -> float:
    started = time.perf_counter()
    statistics_counters_refresh()  # the beat task's first run: every day before today
    return time.perf_counter() - started


def test_bench_court_leader_dashboard_1k_and_100k_cases(world, client):
    leader = UserFactory(real_name="高院院长")
    add_member(leader, world.high_court, Role.COURT_PRESIDENT)
    client.force_login(leader)
    url = reverse("statistics_dashboard", args=["court", world.high_court.pk])

    _populate(world, first=0, count=1_000)
    build_small = _build_counters()
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    p95_small = _report("court dashboard, 1,000 cases (counters)", _time_page(client, url))

    started = time.perf_counter()
    _populate(world, first=1_000, count=99_000)
    print(f"populated 100,000 cases in {time.perf_counter() - started:.1f} s "
          f"({AuditEvent.objects.count():,} audit events)")
    StatisticsCounterState.objects.all().delete()
    build_large = _build_counters()
    rows = StatisticsCounter.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{'counters built from scratch (1,000 / 100,000 cases)':<52} {build_small:.2f} s / {build_large:.2f} s"
          f" ({rows:,} counter rows)")
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    queries = len(large)
    assert queries == len(small), "the dashboard's query count must not grow with the data"
    print(f"{'queries per page (1,000 and 100,000 alike)':<52} {queries}")
    for query in sorted(large.captured_queries, key=lambda q: -float(q["time"]))[:3]:
        print(f"  slowest: {float(query['time']) * 1000:7.1f} ms  {query['sql'][:110]}")
    p95_large = _report("court dashboard, 100,000 cases (counters)", _time_page(client, url))
    # The same page computed live over every case (what the counters replace), a few rounds only.
    StatisticsCounterState.objects.all().delete()
    p95_live = _report("court dashboard, 100,000 cases (live, 5 rounds)", _time_page(client, url, rounds=5))
    met = p95_large <= GOAL
    print(f"{'p95 goal 200 ms at 100,000 cases':<52} {'met' if met else 'NOT met'} "
          f"({p95_large / max(p95_small, 1e-9):.1f}× the 1,000-case page)")
    record_result("statistics.court_dashboard", {
        "goal": "p95 <= 200 ms at 100,000 cases, constant query count",
        "goal_p95_ms": GOAL * 1000, "met": met,
        "p95_ms_1k": round(p95_small * 1000, 2), "p95_ms_100k": round(p95_large * 1000, 2),
        "p95_ms_100k_live": round(p95_live * 1000, 2), "queries_per_page": queries,
        "counter_rows_100k": rows, "counter_build_s_1k": round(build_small, 2),
        "counter_build_s_100k": round(build_large, 2),
    })
