"""Benchmark of the clerk's intake queue (run by `make bench`, never by CI): one court with 100,000 cases,
a fifth of them waiting for the court (submitted, awaiting selection, assigned), each with its clocks, and
the others with the stopped or lapsed clocks of their past (260,000 timers in all).

The data is written with bulk_create, bypassing the services (no audit trail, no transitions): going
through ``case_transition`` for 100,000 cases would take many minutes, and the queue only reads cases,
parties and timers. The rows are shaped as the services would leave them (a running court-designation
clock from submission, a choice window while awaiting selection, an acceptance clock while assigned).

Reports p50/p95 of the first page and of a deep page (goal p95 <= 50 ms, issue 15), and checks that the page
costs the same queries at 100,000 cases as with a handful: the count is measured on the first cases, not
written down (it once said 10 while the page, which had since gained the court-filed section, cost 11).

The sort key ``Case.next_due_at`` is what the timer service keeps; bulk-created rows get it from the same
function the service calls (``case_next_due_refresh``), timed here as the rebuild command's cost."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mediation.choices import CaseOrigin, CaseStatus, PartyRole, Sector, TimerKind, TimerStatus, TimerUnit
from mediation.models import Case, CaseMediator, Party, Timer
from mediation.services.timers import case_next_due_refresh
from tests.bench.results_support import percentile, record_figure, size

pytestmark = pytest.mark.django_db

CASES = size(100_000, 400)
FIRST = 40  # populated first, to count the page's queries on a small queue
ROUNDS = size(40, 3)
BATCH = 5_000
GOAL_P95_MS = 50.0

# One in five cases waits for the court; the rest are further along or closed.
CYCLE = (
    CaseStatus.SUBMITTED, CaseStatus.AWAITING_SELECTION, CaseStatus.ASSIGNED, CaseStatus.AWAITING_SELECTION,
    CaseStatus.IN_MEDIATION, CaseStatus.CLOSED_SETTLED, CaseStatus.CLOSED_PERFORMED, CaseStatus.TERMINATED,
    CaseStatus.CLOSED_UNRESOLVED, CaseStatus.RETURNED, CaseStatus.IN_MEDIATION, CaseStatus.SCHEDULING,
    CaseStatus.CLOSED_SETTLED, CaseStatus.CLOSED_PERFORMED, CaseStatus.PERFORMANCE_TRACKING,
    CaseStatus.CLOSED_SETTLED, CaseStatus.WITHDRAWN, CaseStatus.CLOSED_PERFORMED, CaseStatus.COURT_MUST_FILE,
    CaseStatus.CLOSED_SETTLED,
)
# Cases further along keep the clocks they had, stopped or lapsed: the timer table holds every case's history.
HISTORY = [(TimerKind.COURT_DESIGNATION, 3, TimerStatus.STOPPED), (TimerKind.SELECTION_WINDOW, 2, TimerStatus.FIRED),
           (TimerKind.MEDIATOR_ACCEPTANCE, 3, TimerStatus.STOPPED)]
CLOCKS = {
    CaseStatus.SUBMITTED: [(TimerKind.COURT_DESIGNATION, 3)],
    CaseStatus.AWAITING_SELECTION: [(TimerKind.SELECTION_WINDOW, 2), (TimerKind.COURT_DESIGNATION, 3)],
    CaseStatus.ASSIGNED: [(TimerKind.MEDIATOR_ACCEPTANCE, 3)],
}


def _report(name: str, samples: list[float]) -> float:
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    print(f"{name:<52} p50 {p50 * 1000:8.2f} ms   p95 {p95 * 1000:8.2f} ms")
    return p95 * 1000


def _populate(world, first: int, last: int) -> int:
    now = timezone.now()
    waiting = 0
    for start in range(first, last, BATCH):
        cases = []
        for index in range(start, min(start + BATCH, last)):
            status = CYCLE[index % len(CYCLE)]
            cases.append(Case(
                reference=f"BENCH{index:09d}", origin=CaseOrigin.PARTY_APPLICATION, court=world.court,
                dispute_type=Sector.LABOUR, title=f"劳动报酬纠纷 {index}", status=status,
                mediation_organisation=world.partner, status_changed_at=now - dt.timedelta(minutes=index),
            ))
        created = Case.objects.bulk_create(cases)
        parties, timers, assignments = [], [], []
        for offset, case in enumerate(created):
            parties += [
                Party(case=case, role=PartyRole.APPLICANT, name=f"申请人{case.pk}", phone="13900000001"),
                Party(case=case, role=PartyRole.RESPONDENT, name=f"被申请人{case.pk}", phone="13900000002"),
            ]
            for kind, length in CLOCKS.get(case.status, []):
                # Spread the due moments from 10 days ago to 10 days ahead: some overdue, most not.
                due = now + dt.timedelta(hours=(start + offset) % 480 - 240)
                timers.append(Timer(
                    case=case, kind=kind, unit=TimerUnit.WORKING_DAYS, length=length,
                    started_at=due - dt.timedelta(days=length), due_at=due, status=TimerStatus.RUNNING,
                ))
            if case.status not in CLOCKS:
                for kind, length, status in HISTORY:
                    old = now - dt.timedelta(days=30 + (start + offset) % 300)
                    timers.append(Timer(
                        case=case, kind=kind, unit=TimerUnit.WORKING_DAYS, length=length, status=status,
                        started_at=old - dt.timedelta(days=length), due_at=old,
                        fired_at=old if status == TimerStatus.FIRED else None,
                        stopped_at=old if status == TimerStatus.STOPPED else None,
                    ))
            if case.status == CaseStatus.ASSIGNED:
                assignments.append(CaseMediator(case=case, mediator=world.mediator))
            waiting += case.status in CLOCKS
        Party.objects.bulk_create(parties)
        Timer.objects.bulk_create(timers)
        CaseMediator.objects.bulk_create(assignments)
    return waiting


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _time_page(client, url: str) -> list[float]:
    client.get(url)  # warm up
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return samples


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries]


def test_bench_clerk_queue_with_100k_cases(world, client):
    client.force_login(world.clerk)
    url = reverse("intake_queue")
    waiting = _populate(world, 0, FIRST)
    case_next_due_refresh()
    small = _queries(client, url)

    start = time.perf_counter()
    waiting += _populate(world, FIRST, CASES)
    populated = time.perf_counter() - start
    start = time.perf_counter()
    case_next_due_refresh()
    rebuilt = time.perf_counter() - start
    _analyze()
    print(f"\npopulated {CASES:,} cases ({waiting:,} waiting for the court) in {populated:.1f} s; "
          f"next_due_at of every case computed in {rebuilt:.1f} s")

    first_page = _queries(client, url)
    assert "BENCH" in client.get(url).content.decode()
    last = (waiting + 24) // 25
    deep_page = _queries(client, f"{url}?page={last}")
    assert len(first_page) == len(small), [q[:120] for q in first_page]
    assert len(deep_page) == len(small), [q[:120] for q in deep_page]
    print(f"{'queries per page (a few cases, first and last page)':<52} {len(first_page)}")

    bench = "clerk_queue"
    first_p95 = _report("clerk queue, first page (25 rows)", _time_page(client, url))
    last_p95 = _report(f"clerk queue, last page ({last})", _time_page(client, f"{url}?page={last}"))
    note = f"{CASES:,} cases, {waiting:,} waiting"
    record_figure(bench, f"first page p95 ({CASES:,} cases)", first_p95, "ms", goal=GOAL_P95_MS, note=note)
    record_figure(bench, f"last page p95 ({CASES:,} cases)", last_p95, "ms", goal=GOAL_P95_MS, note=note)
    record_figure(bench, "queries per page", len(first_page), "", goal=len(small),
                  note="the same count as on a queue of a few cases")
    record_figure(bench, "next_due_at rebuild, every case", rebuilt, "s", note=note)
