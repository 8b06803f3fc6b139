"""Benchmark of the explained recommendation (run by `make bench`, never by CI): one case ranked over a
roster of 10,000 mediators, with a past of 30,000 assignments. Goal: p95 ≤ 50 ms.

The data is bulk-inserted (statuses included) rather than walked through the services: a benchmark
measures the read, and 30,000 cases through the state machine would take minutes."""

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
from tests import factories
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

MEDIATORS = 10_000
PAST_CASES = 30_000
RUNS = 50
SECTORS = [Sector.LABOUR, Sector.FINANCE, Sector.FAMILY, Sector.TRAFFIC, Sector.CONTRACT, Sector.PROPERTY]
OUTCOMES = [CaseStatus.IN_MEDIATION, CaseStatus.ACCEPTED, CaseStatus.CLOSED_SETTLED, CaseStatus.JC_CONFIRMED,
            CaseStatus.TERMINATED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, samples: list[float], queries: int | None = None) -> None:
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    extra = f"   {queries} queries" if queries is not None else ""
    print(f"\n{name:<56} p50 {p50 * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms{extra}")


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
    report(f"recommend_mediators over {MEDIATORS:,} mediators", samples, len(queries))
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        recommend_mediators(case=case, language="yue")
        samples.append(time.perf_counter() - start)
    report("  ... with the parties' language known", samples)
    assert len(recommendations) == 10
    for rec in recommendations[:3]:
        print(f"  {rec.mediator.user.real_name} {rec.score:5.1f}  " + "；".join(f"{label} +{points}"
                                                                        for label, points in rec.reasons))
