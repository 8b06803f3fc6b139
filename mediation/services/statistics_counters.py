"""The pre-computed statistics counters (D37): each local day's raw counters per slice, built with the
same queries the live figures use (``selectors/statistics._collect`` over every case, grouped by day), so a
figure from the counters is the figure computed live.

- ``statistics_counters_refresh`` (Celery beat, every ``STATISTICS_COUNTERS_SECONDS``): the first run builds
  every day before today; later runs recompute the last ``STATISTICS_COUNTERS_LOOKBACK_DAYS`` days up to
  today's midnight (a service that becomes effective, a clock that closes or a room event late for an earlier
  day changes that day's counters) and move ``counted_until`` to today. Everything from ``counted_until`` on
  is computed live by the selector.
- ``statistics_counters_refresh_case`` (after each status change of a case, ``case_status_changed``):
  recomputes every counted day the case has counted something on, so a change that moves an earlier
  counter (the case's presiding mediator, its agreement frozen as partial) is in the next report.

Each recompute replaces whole days in one transaction, under a lock on the state row, so readers see the old
day or the new one, never half of each.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from mediation.choices import SessionStatus, TimerStatus
from mediation.models import (
    AuditEvent,
    Case,
    CaseMediator,
    ContactRequest,
    MediationSession,
    Room,
    SelfTest,
    ServiceRecord,
    StatisticsCounter,
    StatisticsCounterState,
    Timer,
)
from mediation.selectors import statistics as st

BUILD_DIMENSIONS = (st.COURT, st.ORGANISATION, st.SECTOR, st.MEDIATOR, st.DISPUTE_TYPE, st.DAY)
_EVERYTHING = st.StatisticsScope(st.PLATFORM, 0, "platform")


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=_zone())


def _today(now: dt.datetime | None) -> dt.date:
    return (now or timezone.now()).astimezone(_zone()).date()


def _compute(start: dt.datetime | None, end: dt.datetime) -> list[StatisticsCounter]:
    summed: dict[tuple[Any, ...], float] = defaultdict(float)
    for key, counter, amount in st._collect(scope=_EVERYTHING, dimensions=BUILD_DIMENSIONS, start=start, end=end):
        summed[(*key, counter)] += amount
    return [
        StatisticsCounter(court_id=court, organisation_id=org, sector=sector, mediator_id=mediator,
                          dispute_type=dispute_type, day=day, counter=counter, amount=amount)
        for (court, org, sector, mediator, dispute_type, day, counter), amount in summed.items()
        if amount and day is not None
    ]


def _state_locked() -> StatisticsCounterState | None:
    return StatisticsCounterState.objects.select_for_update().order_by("pk").first()


def statistics_counters_rebuild(*, now: dt.datetime | None = None) -> int:
    """Build every day before today from scratch; returns the number of counter rows."""
    until = _midnight(_today(now))
    with transaction.atomic():
        state = _state_locked()
        rows = _compute(None, until)
        StatisticsCounter.objects.all().delete()
        StatisticsCounter.objects.bulk_create(rows, batch_size=5000)
        if state is None:
            StatisticsCounterState.objects.create(counted_until=until, refreshed_at=timezone.now())
        else:
            state.counted_until, state.refreshed_at = until, timezone.now()
            state.save(update_fields=["counted_until", "refreshed_at"])
    return len(rows)


def statistics_counters_refresh(*, now: dt.datetime | None = None) -> int:
    """Recompute the last few days and count up to today's midnight; the first run builds everything."""
    today = _today(now)
    with transaction.atomic():
        state = _state_locked()
        if state is None:
            return statistics_counters_rebuild(now=now)
        counted = state.counted_until.astimezone(_zone()).date()
        first = min(counted, today) - dt.timedelta(days=settings.STATISTICS_COUNTERS_LOOKBACK_DAYS)
        rows = _replace_days(first, today)
        # Older days of cases whose slice moved since the last run without a status change (another court or
        # organisation, another presiding mediator, an edited dispute type): the look-back does not reach them.
        for day in sorted(d for d in _days_of_cases(_cases_touched_since(state.refreshed_at)) if d < first):
            rows += _replace_days(day, day + dt.timedelta(days=1))
        state.counted_until, state.refreshed_at = _midnight(today), timezone.now()
        state.save(update_fields=["counted_until", "refreshed_at"])
    return rows


def _replace_days(first: dt.date, end: dt.date) -> int:
    """Recompute the days ``first`` ≤ day < ``end`` (inside the caller's transaction)."""
    if end <= first:
        return 0
    rows = _compute(_midnight(first), _midnight(end))
    StatisticsCounter.objects.filter(day__gte=first, day__lt=end).delete()
    StatisticsCounter.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _case_days(case_id: int) -> set[dt.date]:
    return _days_of_cases([case_id])


def _days_of_cases(case_ids: Iterable[int]) -> set[dt.date]:
    """Every local day on which any of ``case_ids`` may have counted something (the same dates ``_collect``
    uses), in one query per source table however many cases."""
    ids = sorted(set(case_ids))
    if not ids:
        return set()
    zone = _zone()

    def days(rows: Iterable[dt.date | None]) -> set[dt.date]:
        return {day for day in rows if day is not None}

    found = days(AuditEvent.objects.filter(case_id__in=ids, kind__in=[*st._EVENT_COUNTERS, *st._OUTCOME_KINDS])
                 .annotate(d=TruncDate("created_at", tzinfo=zone)).values_list("d", flat=True).distinct())
    found |= days(MediationSession.objects.filter(case_id__in=ids, status=SessionStatus.HELD)
                  .annotate(d=TruncDate("starts_at", tzinfo=zone)).values_list("d", flat=True).distinct())
    found |= days(ServiceRecord.objects.filter(case_id__in=ids)
                  .annotate(d=TruncDate("created_at", tzinfo=zone)).values_list("d", flat=True).distinct())
    found |= days(Timer.objects.filter(Q(status__in=(TimerStatus.STOPPED, TimerStatus.FIRED)), case_id__in=ids)
                  .annotate(d=TruncDate(Coalesce("stopped_at", "fired_at"), tzinfo=zone))
                  .values_list("d", flat=True).distinct())
    found |= days(Room.objects.filter(case_id__in=ids)
                  .annotate(d=TruncDate("opened_at", tzinfo=zone)).values_list("d", flat=True).distinct())
    found |= days(ContactRequest.objects.filter(case_id__in=ids)
                  .annotate(d=TruncDate("created_at", tzinfo=zone)).values_list("d", flat=True).distinct())
    found |= days(SelfTest.objects.filter(session__case_id__in=ids)
                  .annotate(d=TruncDate("session__starts_at", tzinfo=zone)).values_list("d", flat=True).distinct())
    return found


def _cases_touched_since(since: dt.datetime) -> set[int]:
    """Cases whose row was saved (court, organisation, dispute type: ``updated_at``), whose mediators changed,
    or which had any audited act since ``since``: every way a case's slice can move."""
    touched = set(Case.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    touched |= set(CaseMediator.objects.filter(Q(assigned_at__gte=since) | Q(ended_at__gte=since))
                   .values_list("case_id", flat=True))
    touched |= set(AuditEvent.objects.filter(created_at__gte=since, case_id__isnull=False)
                   .values_list("case_id", flat=True).distinct())
    return touched


def statistics_counters_refresh_case(*, case_id: int) -> int:
    """Recompute every already-counted day ``case_id`` counted something on; nothing before the first build."""
    with transaction.atomic():
        state = _state_locked()
        if state is None:
            return 0
        counted = state.counted_until.astimezone(_zone()).date()
        rows = 0
        for day in sorted(d for d in _case_days(case_id) if d < counted):
            rows += _replace_days(day, day + dt.timedelta(days=1))
    return rows


@shared_task(name="mediation.tasks.statistics_counters_refresh")
def refresh_statistics_counters() -> int:
    return statistics_counters_refresh()


@shared_task(name="mediation.tasks.statistics_counters_refresh_case")
def refresh_statistics_counters_for_case(case_id: int) -> int:
    return statistics_counters_refresh_case(case_id=case_id)


def on_case_status_changed(sender: object = None, *, case_id: int, **kwargs: object) -> None:
    """``case_status_changed`` receiver (after the commit): refresh the case's counted days in a task."""
    refresh_statistics_counters_for_case.delay(case_id)
