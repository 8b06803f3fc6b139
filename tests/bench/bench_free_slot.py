"""Benchmark of the first-common-free-slot search (run by `make bench`, never by CI): a mediator and four
participants (two parties, two lawyers) over 30 working days, with 2,000 sessions already scheduled among a
hundred people. Goal: p95 ≤ 20 ms, queries included.

The existing sessions are bulk-inserted rather than scheduled through the service: the benchmark measures
the search, not 2,000 conflict checks."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.choices import AgentAuthority, AgentKind, CaseStatus, ParticipantRole, SessionKind
from mediation.models import Agent, MediationSession, Party, SessionParticipant, User, WorkingHours
from mediation.services.scheduling import session_first_free_slot, session_participants_default
from tests import factories
from tests.scheduling_support import BEIJING

pytestmark = pytest.mark.django_db

SESSIONS = 2_000
PEOPLE = 100
DAYS = 30
RUNS = 100
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=BEIJING)  # a Monday


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, samples: list[float], queries: int | None = None) -> None:
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    extra = f"   {queries} queries" if queries is not None else ""
    print(f"\n{name:<64} p50 {p50 * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms{extra}")


def populate(world, case) -> list[User]:
    """A hundred people (the case's five among them) and 2,000 sessions of 30 to 120 minutes on weekdays
    between 09:00 and 18:00 over the next six weeks, three people each; some keep working hours, one of
    the lawyers in London."""
    rng = random.Random(20260302)
    applicant_party = Party.objects.get(case=case, user=world.applicant)
    second_lawyer = factories.UserFactory(username="lawyer2", real_name="刘律师")
    Agent.objects.create(party=applicant_party, user=second_lawyer, name=second_lawyer.real_name,
                         kind=AgentKind.LAWYER, authority=AgentAuthority.GENERAL)
    ours = [world.mediator, world.applicant, world.respondent, world.lawyer, second_lawyer]
    password = factories.test_password_hash()
    others = User.objects.bulk_create([
        User(username=f"bench-p{i}", real_name=f"参加人{i:03d}", phone=f"136{i:08d}", password=password)
        for i in range(PEOPLE - len(ours))
    ])
    people = ours + others
    sessions, seats = [], []
    for _ in range(SESSIONS):
        day = START.date() + dt.timedelta(days=rng.randrange(42))
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(9), tzinfo=BEIJING) + dt.timedelta(minutes=15 * rng.randrange(30))
        sessions.append(MediationSession(
            case=case, kind=SessionKind.JOINT_ONLINE, starts_at=start,
            ends_at=start + dt.timedelta(minutes=rng.choice([30, 60, 90, 120])), created_by=world.mediator,
        ))
    sessions = MediationSession.objects.bulk_create(sessions)
    for session in sessions:
        for person in rng.sample(people, 3):
            seats.append(SessionParticipant(session=session, user=person, role=ParticipantRole.PARTY))
    SessionParticipant.objects.bulk_create(seats)
    hours = [WorkingHours(user=world.mediator, weekday=d, start=dt.time(8, 30), end=dt.time(17, 30))
             for d in range(5)]
    hours += [WorkingHours(user=world.lawyer, weekday=d, start=dt.time(1), end=dt.time(11),
                           time_zone="Europe/London") for d in range(5)]
    WorkingHours.objects.bulk_create(hours)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ours


def test_bench_first_free_slot_over_thirty_working_days(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    populate(world, case)
    assert len(session_participants_default(case=case)) == 5
    duration = dt.timedelta(hours=2)
    session_first_free_slot(case=case, duration=duration, days=DAYS, after=START)  # warm up
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        slot = session_first_free_slot(case=case, duration=duration, days=DAYS, after=START)
        samples.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as queries:
        session_first_free_slot(case=case, duration=duration, days=DAYS, after=START)
    report(f"first free slot, 1+4 people, {DAYS} working days, {SESSIONS:,} sessions", samples, len(queries))
    print(f"  found: {slot[0].astimezone(BEIJING):%Y-%m-%d %H:%M} Beijing" if slot else "  found: none")
    busy = SessionParticipant.objects.filter(user__in=[p.user for p in session_participants_default(case=case)])
    print(f"  the five hold {busy.count()} of the {SESSIONS:,} sessions' seats")
    assert _percentile(samples, 0.95) <= 0.020, "goal: p95 ≤ 20 ms"
