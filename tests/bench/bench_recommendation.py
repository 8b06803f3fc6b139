"""Benchmark of the explained recommendation (run by `make bench`, never by CI): one case ranked over a
roster of 10,000 mediators, with a past of 30,000 assignments. Goal: p95 ≤ 50 ms.

The data is bulk-inserted (statuses included) rather than walked through the services: a benchmark
measures the read, and 30,000 cases through the state machine would take minutes. The mediators' kept
figures (``MediatorCaseLoad``) are then computed by the rebuild the management command runs, as the
transitions would have left them."""

from __future__ import annotations

import random
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.choices import CaseOrigin, CaseStatus, MediatorKind, Role, RosterScope, Sector
from mediation.models import Case, CaseMediator, MediatorProfile, Membership, Organisation, RosterEntry, User
from mediation.recommendation import recommend_mediators
from mediation.services.mediator_load import mediator_load_rebuild
from tests import factories
from tests.bench.results_support import percentile, record_figure, size
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

MEDIATORS = size(10_000, 40)
PAST_CASES = size(30_000, 120)
RUNS = size(50, 3)
GOAL_P95_MS = 50.0
SECTORS = [Sector.LABOUR, Sector.FINANCE, Sector.FAMILY, Sector.TRAFFIC, Sector.CONTRACT, Sector.PROPERTY]
OUTCOMES = [CaseStatus.IN_MEDIATION, CaseStatus.ACCEPTED, CaseStatus.CLOSED_SETTLED, CaseStatus.JC_CONFIRMED,
            CaseStatus.TERMINATED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN]


def report(name: str, samples: list[float], queries: int | None = None) -> float:
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    extra = f"   {queries} queries" if queries is not None else ""
    print(f"\n{name:<56} p50 {p50 * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms{extra}")
    return p95 * 1000


def populate_roster(world, mediators: int = MEDIATORS, past_cases: int = PAST_CASES) -> None:
    """``mediators`` mediators in 20 organisations: 70 % on world.court's roster, 20 % on the intermediate
    court's regional roster (which applies to world.court), 10 % on world.other_court's. Past cases are
    assigned at random."""
    rng = random.Random(20260612)
    orgs = [OrganisationFactory(name=f"基准调解中心{i}", sector=SECTORS[i % len(SECTORS)], region_code="110101")
            for i in range(20)]
    password = factories.test_password_hash()
    users = User.objects.bulk_create([
        User(username=f"bench-m{i}", real_name=f"调解员{i:05d}", phone=f"137{i:08d}", password=password)
        for i in range(mediators)
    ])
    profiles = MediatorProfile.objects.bulk_create([
        MediatorProfile(
            user=user, kind=MediatorKind.INVITED, specialties=rng.sample(SECTORS, 2),
            languages=["zh"] + (["yue"] if i % 7 == 0 else []), regions=["110101" if i % 2 else "110000"],
            capacity=rng.choice([5, 10, 20]),
        )
        for i, user in enumerate(users)
    ])
    Membership.objects.bulk_create([
        Membership(user=user, organisation=orgs[i % len(orgs)], role=Role.MEDIATOR) for i, user in enumerate(users)
    ])
    mid: Organisation = world.court.parent
    entries = []
    for i, profile in enumerate(profiles):
        if i % 10 < 7:
            entries.append(RosterEntry(mediator=profile, court=world.court, scope=RosterScope.COURT))
        elif i % 10 < 9:
            entries.append(RosterEntry(mediator=profile, court=mid, scope=RosterScope.REGIONAL))
        else:
            entries.append(RosterEntry(mediator=profile, court=world.other_court, scope=RosterScope.COURT))
    RosterEntry.objects.bulk_create(entries)
    cases = Case.objects.bulk_create([
        Case(reference=f"BENCH{i:08d}", origin=CaseOrigin.PARTY_APPLICATION, dispute_type=rng.choice(SECTORS),
             title="基准案件", court=world.court, status=rng.choice(OUTCOMES))
        for i in range(past_cases)
    ])
    CaseMediator.objects.bulk_create([CaseMediator(case=case, mediator=rng.choice(users)) for case in cases])
    mediator_load_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def test_bench_recommendation_over_ten_thousand_mediators(world):
    populate_roster(world)
    case = world.new_case()
    recommend_mediators(case=case)  # warm up
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        recommendations = recommend_mediators(case=case)
        samples.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as queries:
        recommend_mediators(case=case)
    p95 = report(f"recommend_mediators over {MEDIATORS:,} mediators", samples, len(queries))
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        recommend_mediators(case=case, language="yue")
        samples.append(time.perf_counter() - start)
    language_p95 = report("  ... with the parties' language known", samples)
    note = f"{MEDIATORS:,} mediators, {PAST_CASES:,} past assignments, {len(queries)} queries"
    record_figure("recommendation", f"p95 ({MEDIATORS:,} mediators)", p95, "ms", goal=GOAL_P95_MS, note=note)
    record_figure("recommendation", f"p95, language known ({MEDIATORS:,} mediators)", language_p95, "ms",
                  goal=GOAL_P95_MS, note=note)
    assert len(recommendations) == 10
    for rec in recommendations[:3]:
        print(f"  {rec.mediator.user.real_name} {rec.score:5.1f}  " + "；".join(f"{label} +{points}"
                                                                        for label, points in rec.reasons))
