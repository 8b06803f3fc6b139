"""Ranking the mediators a case may have, with the reasons shown on screen ("为什么推荐").

Only mediators on the competent court's roster are considered (OMR 9(2): own, adopted, and the regional
and national rosters above it), and only those available: active, certificate valid, below capacity,
and not already designated for this case once (a mediator who declined or was replaced is not offered
again). The score is the sum of the reasons' points, 0-100:

- specialty matches the dispute type, 30;
- one of the mediator's organisations works in that sector, 15;
- spare capacity, up to 30 (30 × (1 − open cases / capacity));
- past settlement rate, up to 25, smoothed towards 50 % with a weight of five cases, so a newcomer
  starts at the middle rather than at zero;
- when the parties' language is known, speaking it is worth 10 and the others are scaled by 0.9.

Queries: the court's ancestors, the candidates (with their matches computed in the database and the case
figures the transitions keep, ``MediatorCaseLoad``: open load and past outcomes), then the top profiles
with their details: at most five, whatever the roster's size or the platform's history.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from mediation.choices import Role, Sector
from mediation.models import Case, CaseMediator, MediatorProfile, Membership, RosterEntry
from mediation.selectors.roster import (
    LANGUAGE_LABELS,
    available_mediators,
    court_ancestor_ids,
    json_list_contains,
    roster_entries_for_court_q,
    with_directory_details,
)

SPECIALTY_POINTS = 30.0
SECTOR_POINTS = 15.0
LOAD_POINTS = 30.0
SETTLEMENT_POINTS = 25.0
LANGUAGE_POINTS = 10.0
# With a known language, the other factors share the remaining 90 points.
LANGUAGE_SCALE = (100.0 - LANGUAGE_POINTS) / 100.0
PRIOR_RATE = 0.5
PRIOR_WEIGHT = 5.0


@dataclass(frozen=True)
class Recommendation:
    mediator: MediatorProfile
    score: float
    reasons: list[tuple[str, float]] = field(default_factory=list)
    load: int = 0


class _Candidate(NamedTuple):
    profile_id: int
    user_id: int
    capacity: int
    specialty: bool
    sector: bool
    language: bool
    load: int
    settled: int
    finished: int


def _smoothed_rate(settled: int, finished: int) -> float:
    return (settled + PRIOR_RATE * PRIOR_WEIGHT) / (finished + PRIOR_WEIGHT)


def _reasons(candidate: _Candidate, *, case: Case, language: str | None) -> list[tuple[str, float]]:
    scale = LANGUAGE_SCALE if language else 1.0
    sector = Sector(case.dispute_type).label if case.dispute_type in Sector.values else case.dispute_type
    reasons: list[tuple[str, float]] = [
        (_("擅长%(sector)s") % {"sector": sector}, round(SPECIALTY_POINTS * scale, 1)) if candidate.specialty
        else (_("未登记擅长%(sector)s") % {"sector": sector}, 0.0),
        (_("所在调解组织属于%(sector)s领域") % {"sector": sector}, round(SECTOR_POINTS * scale, 1))
        if candidate.sector else (_("所在调解组织不属于%(sector)s领域") % {"sector": sector}, 0.0),
    ]
    if language:
        label = str(LANGUAGE_LABELS.get(language, language))
        reasons.append(
            (_("会说当事人使用的%(language)s") % {"language": label}, LANGUAGE_POINTS) if candidate.language
            else (_("不会说当事人使用的%(language)s") % {"language": label}, 0.0)
        )
    reasons.append((
        _("当前在办 %(load)d 件，上限 %(capacity)d 件") % {"load": candidate.load, "capacity": candidate.capacity},
        round(LOAD_POINTS * scale * (1 - candidate.load / candidate.capacity), 1),
    ))
    settlement = round(SETTLEMENT_POINTS * scale * _smoothed_rate(candidate.settled, candidate.finished), 1)
    if candidate.finished:
        reasons.append((
            _("以往调解成功率 %(rate)d%%（办结 %(finished)d 件，成功 %(settled)d 件）") % {
                "rate": round(100 * candidate.settled / candidate.finished), "finished": candidate.finished,
                "settled": candidate.settled,
            },
            settlement,
        ))
    else:
        reasons.append((_("尚无办结案件，按平均水平计"), settlement))
    return reasons


def _rows(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """Run a ``values_list`` queryset and return the driver's plain tuples. The SQL is still the ORM's;
    skipping Django's per-row iterator saves about a third of the Python time on a roster of thousands.
    Only for columns that need no conversion (ids, integers, booleans)."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _ranked(*, case: Case, language: str | None, limit: int) -> list[_Candidate]:
    """The best ``limit`` candidates, best first. One query over the roster (candidates with their matches
    and their kept case figures); the scoring loop stays in plain tuples, since it runs once per
    mediator on the roster."""
    court = case.court
    on_roster = RosterEntry.objects.filter(is_active=True, court__is_active=True).filter(
        roster_entries_for_court_q(court, court_ancestor_ids(court))
    )
    in_sector = Membership.objects.filter(
        role=Role.MEDIATOR, is_active=True, organisation__sector=case.dispute_type
    ).values("user_id")
    designated_before = CaseMediator.objects.filter(case=case).values("mediator_id")
    # ``x IN (subquery)`` rather than correlated EXISTS: PostgreSQL hashes each subquery once instead of
    # probing it for every one of thousands of rows.
    candidates = (
        available_mediators()
        .filter(pk__in=on_roster.values("mediator_id"), capacity__gt=0)
        .exclude(user_id__in=designated_before)
        .annotate(
            specialty_match=ExpressionWrapper(json_list_contains("specialties", case.dispute_type),
                                              output_field=BooleanField()),
            sector_match=ExpressionWrapper(Q(user_id__in=in_sector), output_field=BooleanField()),
            language_match=ExpressionWrapper(json_list_contains("languages", language), output_field=BooleanField())
            if language else Value(False),
            # The figures the transitions keep (``MediatorCaseLoad``); a mediator never assigned has no row.
            load=Coalesce("user__case_load__open_cases", 0),
            settled=Coalesce("user__case_load__settled_cases", 0),
            finished=Coalesce("user__case_load__finished_cases", 0),
        )
        .values_list("pk", "user_id", "capacity", "specialty_match", "sector_match", "language_match",
                     "load", "settled", "finished")
    )
    scale = LANGUAGE_SCALE if language else 1.0
    specialty_points, sector_points = SPECIALTY_POINTS * scale, SECTOR_POINTS * scale
    load_points, settlement_points = LOAD_POINTS * scale, SETTLEMENT_POINTS * scale
    language_points = LANGUAGE_POINTS if language else 0.0
    scored = []
    for profile_id, user_id, capacity, specialty, sector, speaks, load, settled, finished in _rows(candidates):
        if load >= capacity:
            continue  # at or over capacity: not offered at all
        points = (
            (specialty_points if specialty else 0.0)
            + (sector_points if sector else 0.0)
            + (language_points if speaks else 0.0)
            + load_points * (1 - load / capacity)
            + settlement_points * (settled + PRIOR_RATE * PRIOR_WEIGHT) / (finished + PRIOR_WEIGHT)
        )
        # Ties go to the lighter load, then to the longer-serving profile.
        scored.append((-round(points, 6), load, profile_id, user_id, capacity, specialty, sector, speaks, settled,
                       finished))
    return [
        _Candidate(profile_id, user_id, capacity, bool(specialty), bool(sector), bool(speaks), load, settled, finished)
        for _points, load, profile_id, user_id, capacity, specialty, sector, speaks, settled, finished
        in heapq.nsmallest(limit, scored)
    ]


def recommend_mediators(*, case: Case, limit: int = 10, language: str | None = None) -> list[Recommendation]:
    """The best ``limit`` mediators for ``case``, best first, each with the reasons for its score.

    ``language`` is the parties' language when known (a code such as ``yue``); otherwise language does
    not count. Ties go to the lighter load, then to the longer-serving profile.
    """
    language = language or None
    top = _ranked(case=case, language=language, limit=limit)
    if not top:
        return []
    details = with_directory_details(MediatorProfile.objects.filter(pk__in=[c.profile_id for c in top]))
    profiles = {profile.pk: profile for profile in details}
    recommendations = []
    for candidate in top:
        reasons = _reasons(candidate, case=case, language=language)
        # The score shown is the sum of the points shown, so the explanation adds up on screen.
        recommendations.append(Recommendation(
            mediator=profiles[candidate.profile_id], score=round(sum(points for _label, points in reasons), 1),
            reasons=reasons, load=candidate.load,
        ))
    return recommendations
