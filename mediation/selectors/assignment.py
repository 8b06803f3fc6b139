"""Reads about who mediates a case (OMR 10-13): who is eligible and how loaded, whom a user acts for, the joint
choice in progress and whether the court must still wait for it. Used by the assignment services and the pages
alike, so both answer the same."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.choices import (
    AgentAuthority,
    CaseStatus,
    MediatorStatus,
    RecusalDecision,
    RosterScope,
    TimerKind,
    TimerStatus,
)
from mediation.lifecycle import OPEN_STATUSES
from mediation.models import (
    Case,
    CaseMediator,
    MediatorChoice,
    MediatorProfile,
    Party,
    RecusalRequest,
    RosterEntry,
    Timer,
    User,
)
from mediation.selectors.roster import mediators_eligible_for_case

S = CaseStatus


# --- Eligibility and load ------------------------------------------------------------


def _competent_courts(case: Case) -> tuple[int, list[int]]:
    """The case's court and its ancestors (the courts whose regional or national rosters apply, OMR 28)."""
    return case.court_id, [court.pk for court in case.court.ancestors()]


def _roster_filter(case: Case) -> Q:
    """Roster entries that make a mediator selectable for ``case`` (OMR 9(2), 27-28): the court's own roster
    (including mediators adopted from a higher court with their consent), the regional or national rosters of
    the courts above it, and the national roster."""
    own, ancestors = _competent_courts(case)
    return Q(court_id=own) | Q(court_id__in=ancestors, scope__in=[RosterScope.REGIONAL, RosterScope.NATIONAL]) | Q(
        scope=RosterScope.NATIONAL
    )


def mediator_load(mediator: User) -> int:
    """The number of unfinished cases ``mediator`` is actively assigned to."""
    return (
        CaseMediator.objects.filter(mediator=mediator, is_active=True, case__status__in=OPEN_STATUSES)
        .values("case_id")
        .distinct()
        .count()
    )


def _recused_mediator_ids(case: Case) -> set[int]:
    return set(
        RecusalRequest.objects.filter(case=case, decision=RecusalDecision.GRANTED).values_list("mediator_id", flat=True)
    )


def _released_mediator_ids(case: Case) -> set[int]:
    """Mediators whose assignment on ``case`` ended (declined, lapsed, replaced or recused): not offered
    again, as in the recommendation."""
    return set(CaseMediator.objects.filter(case=case, is_active=False).values_list("mediator_id", flat=True))


def mediator_eligibility_problem(*, case: Case, mediator: User, on: dt.date | None = None) -> str:
    """Why ``mediator`` cannot be chosen or designated for ``case``, or ``""`` if they can.

    Eligible means: an active profile, a certificate valid today, on the competent court's roster (OMR 9(2)),
    not recused from or otherwise released by this case, and below their capacity; and the roster selectors'
    answer (``mediation.selectors.roster.mediators_eligible_for_case``) is required too, so the choice page, the
    directory and the recommendation agree.
    """
    on = on or timezone.localdate()
    name = mediator.display_name
    profile = MediatorProfile.objects.filter(user=mediator).first()
    if profile is None:
        return _("%(name)s 不是在册调解员。") % {"name": name}
    if profile.status != MediatorStatus.ACTIVE:
        return _("%(name)s 的调解员资格目前为“%(status)s”，不能选定。") % {
            "name": name, "status": MediatorStatus(profile.status).label,
        }
    if not profile.certificate_valid_on(on):
        return _("%(name)s 的调解员证书已于 %(date)s 到期，不能选定。") % {
            "name": name, "date": profile.certificate_valid_until,
        }
    if not RosterEntry.objects.filter(_roster_filter(case), mediator=profile, is_active=True).exists():
        return _(
            "%(name)s 不在本案管辖法院（%(court)s）确认的调解员名册内，请选择该院名册内的调解员"
            "（《人民法院在线调解规则》第九条第二项）。"
        ) % {"name": name, "court": case.court.name}
    if mediator.pk in _recused_mediator_ids(case):
        return _("%(name)s 已因回避退出本案，不能再次选定。") % {"name": name}
    if mediator.pk in _released_mediator_ids(case):
        return _("%(name)s 已退出本案（不予接受、期满未确认接受或被更换），请选择其他调解员。") % {"name": name}
    if mediator_load(mediator) >= profile.capacity:
        return _("%(name)s 目前承办的案件已达上限（%(capacity)s 件），请选择其他调解员。") % {
            "name": name, "capacity": profile.capacity,
        }
    if not mediators_eligible_for_case(case=case).filter(pk=profile.pk).exists():
        return _("%(name)s 不在本案可选的调解员范围内，请选择其他调解员。") % {"name": name}
    return ""


def case_mediators_eligible(*, case: Case, limit: int = 50) -> list[MediatorProfile]:
    """Mediators who may be chosen for ``case``, most specialised first: the choice page's list when the
    recommendation module is not available. One query for the roster, one for the loads."""
    today = timezone.localdate()
    gone = _recused_mediator_ids(case) | _released_mediator_ids(case)
    profiles = list(
        MediatorProfile.objects.filter(
            Q(certificate_valid_until__isnull=True) | Q(certificate_valid_until__gte=today),
            status=MediatorStatus.ACTIVE,
            roster_entries__in=RosterEntry.objects.filter(_roster_filter(case), is_active=True),
        )
        .exclude(user_id__in=gone)
        .select_related("user")
        .distinct()
        .order_by("user__real_name", "pk")[: limit * 2]
    )
    loads = _loads([p.user_id for p in profiles])
    available = [p for p in profiles if loads.get(p.user_id, 0) < p.capacity]
    available.sort(key=lambda p: case.dispute_type not in (p.specialties or []))
    return available[:limit]


def _loads(user_ids: list[int]) -> dict[int, int]:
    rows = (
        CaseMediator.objects.filter(mediator_id__in=user_ids, is_active=True, case__status__in=OPEN_STATUSES)
        .values("mediator_id")
        .annotate(n=Count("case_id", distinct=True))
    )
    return {row["mediator_id"]: row["n"] for row in rows}


def parties_acting_for(*, case: Case, user: User, authorised: bool = False) -> list[Party]:
    """The parties of ``case`` that ``user`` acts for: in person, or as an agent (with special authority
    when ``authorised``, CPL 62)."""
    agent_filter = Q(agents__user=user)
    if authorised:
        agent_filter &= Q(agents__authority=AgentAuthority.SPECIAL)
    return list(Party.objects.filter(Q(user=user) | agent_filter, case=case).distinct().order_by("role", "pk"))


def selection_window(case: Case) -> Timer | None:
    """The running 2-working-day joint-choice clock (OMR 10), if the parties may still choose."""
    return (
        Timer.objects.filter(case=case, kind=TimerKind.SELECTION_WINDOW, status=TimerStatus.RUNNING)
        .order_by("-pk")
        .first()
    )


def current_choices(case: Case) -> list[MediatorChoice]:
    """The parties' picks in the current selection round (made since the case last entered selection)."""
    since = case.status_changed_at
    choices = MediatorChoice.objects.filter(case=case).select_related("party", "mediator")
    if since is not None:
        choices = choices.filter(chosen_at__gte=since)
    return list(choices.order_by("party__role", "party_id"))


def designation_waits_for_parties(case: Case) -> bool:
    """Whether the court or organisation must still leave the choice to the parties (OMR 10: they choose
    first): a case with a respondent, whose 2-working-day window is running and not yet due, where not every
    party has deferred to the court. A one-sided application is designated at once."""
    if case.one_sided or case.status != S.AWAITING_SELECTION:
        return False
    window = selection_window(case)
    if window is None or window.due_at <= timezone.now():
        return False
    party_ids = set(case.parties.values_list("pk", flat=True))
    deferred = {choice.party_id for choice in current_choices(case) if choice.defer_to_court}
    return not party_ids <= deferred
