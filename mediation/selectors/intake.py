"""Reads for the court intake queue, a partner organisation's queue and a mediator's dashboard, each
already limited to what the user may act on, with the legal clocks of every case on the page.

Every list here costs a constant number of queries whatever the number of rows: the clocks and parties
are prefetched, and the holiday overrides for counting working days are loaded once per page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Window
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mediation import calendar
from mediation.choices import (
    CaseStatus,
    MediatorStatus,
    OrganisationKind,
    PartyRole,
    Role,
    SessionStatus,
    TimerKind,
    TimerStatus,
    TimerUnit,
)
from mediation.exceptions import NotFound
from mediation.lifecycle import CLERK_QUEUE_STATUSES, MEDIATOR_DASHBOARD_STATUSES, TIMER_RULES
from mediation.models import Case, CaseMediator, MediationSession, Membership, Organisation, Party, Timer, User

S = CaseStatus
PAGE_SIZE = 25

INTAKE_STAFF_ROLES = (Role.CLERK, Role.COURT_PRESIDENT)


# --- Clocks -----------------------------------------------------------------------------------------------


def live_timer_q(*, timer: str = "", case: str = "case__", paused: bool = True) -> Q:
    """Timers that still matter for the case as it stands: running or paused ones, and a lapsed one while
    the case is still where that clock lapsed: in the same stay in the status it ran in, or, for a clock
    counted once per case (the court's 3 working days to designate), as long as the case is in its statuses.

    "The same stay" is ``fired_at >= status_changed_at``: the sweep fires a clock before any transition its
    lapse causes, so a clock that lapsed in an earlier stay (a choice window before a mediator was
    designated and then declined) is not shown again. A clock that runs over two statuses and lapsed in the
    first is no longer shown once the case moves to the second (the mediator has acted, if late).

    ``paused=False`` leaves paused clocks out (for sorting). ``timer`` and ``case`` are lookup prefixes, so
    one rule serves queries rooted at Timer (the prefetch) and at Case (the sort key).
    """
    lapsed = Q()
    for rule in TIMER_RULES.values():
        if rule.started_by_service:
            continue
        where = Q(**{f"{timer}kind": rule.kind, f"{case}status__in": rule.runs_during})
        if not rule.once_per_case:
            where &= Q(**{f"{timer}fired_at__gte": F(f"{case}status_changed_at")})
        lapsed |= where
    open_statuses = [TimerStatus.RUNNING, TimerStatus.PAUSED] if paused else [TimerStatus.RUNNING]
    # A contact request's clocks belong to the request (its own ledger and queue), not to the case's clocks.
    ledger = [rule.kind for rule in TIMER_RULES.values() if rule.started_by_service]
    return (Q(**{f"{timer}status__in": open_statuses}) | (Q(**{f"{timer}status": TimerStatus.FIRED}) & lapsed)) & ~Q(
        **{f"{timer}kind__in": ledger}
    )


def _by_urgency(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` ordered by the earliest due moment among their live clocks that count (not paused), so
    overdue cases come first, then those due soonest; cases without a clock last, oldest first.

    The key is ``Case.next_due_at``, which the timer service keeps (``case_next_due_refresh``), so the sort
    reads the (court, status, next_due_at, created_at, id) index instead of joining every case to its timers.
    """
    return cases.order_by(F("next_due_at").asc(nulls_last=True), "created_at", "pk")


@dataclass(frozen=True)
class Clock:
    """One legal clock as a dashboard shows it."""

    kind: str
    label: str
    unit: str
    due_at: dt.datetime
    last_day: dt.date
    paused: bool
    lapsed: bool  # the sweep has fired it
    overdue: bool
    days: int  # working or calendar days, by ``unit``: left when not overdue, late when overdue
    source: str

    @property
    def left_text(self) -> str:
        working = self.unit == TimerUnit.WORKING_DAYS
        if self.paused:
            return _("已中止计算")
        if self.overdue:
            if self.days == 0:
                return _("已届满")
            if working:
                return ngettext("已逾期 %(n)d 个工作日", "已逾期 %(n)d 个工作日", self.days) % {"n": self.days}
            return ngettext("已逾期 %(n)d 日", "已逾期 %(n)d 日", self.days) % {"n": self.days}
        if self.days == 0:
            return _("今日届满")
        if working:
            return ngettext("剩余 %(n)d 个工作日", "剩余 %(n)d 个工作日", self.days) % {"n": self.days}
        return ngettext("剩余 %(n)d 日", "剩余 %(n)d 日", self.days) % {"n": self.days}


def clock_for(timer: Timer, *, now: dt.datetime, overrides: calendar.Overrides) -> Clock:
    """How ``timer`` stands at ``now``: days left (or late) in its own unit, counted as CPL 85 counts them."""
    today = calendar.local_day(now)
    last = calendar.last_day(timer.due_at)
    paused = timer.status == TimerStatus.PAUSED
    overdue = not paused and timer.due_at <= now
    working = timer.unit == TimerUnit.WORKING_DAYS
    if overdue:
        days = calendar.working_days_between(last, today, overrides=overrides) if working else (today - last).days
    elif working:
        days = calendar.working_days_between(today, last, overrides=overrides)
    else:
        days = (last - today).days
    return Clock(
        kind=timer.kind, label=str(TimerKind(timer.kind).label), unit=timer.unit, due_at=timer.due_at,
        last_day=last, paused=paused, lapsed=timer.status == TimerStatus.FIRED, overdue=overdue,
        days=max(days, 0), source=timer.source,
    )


# --- Pages ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    case: Case
    clocks: list[Clock]
    applicants: list[Party]
    respondents: list[Party]
    # For an organisation's queue: the organisation's mediators who may take this case now.
    mediators: list[User] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return any(clock.overdue for clock in self.clocks)


@dataclass(frozen=True)
class CasePage:
    page: Page
    rows: list[CaseRow]
    # Courts whose clerk the user is (accept, return, refer need the CLERK role on the case).
    clerk_court_ids: frozenset[int] = frozenset()
    courts: list[Organisation] = field(default_factory=list)


def _with_clocks(cases: QuerySet[Case]) -> QuerySet[Case]:
    live = Timer.objects.filter(live_timer_q()).order_by("due_at", "pk")
    return cases.select_related("court", "mediation_organisation").prefetch_related(
        Prefetch("timers", queryset=live, to_attr="live_timers"),
        Prefetch("parties", queryset=Party.objects.order_by("role", "pk"), to_attr="party_list"),
        Prefetch(
            "mediator_assignments",
            queryset=CaseMediator.objects.filter(is_active=True).select_related("mediator").order_by("-presiding"),
            to_attr="active_mediators",
        ),
    )


def _rows(cases: Iterable[Case], *, now: dt.datetime) -> list[CaseRow]:
    overrides = calendar.load_overrides()  # one query for the page, whatever the number of clocks
    rows = []
    for case in cases:
        parties: list[Party] = case.party_list  # type: ignore[attr-defined]
        timers: list[Timer] = case.live_timers  # type: ignore[attr-defined]
        rows.append(
            CaseRow(
                case=case,
                clocks=[clock_for(timer, now=now, overrides=overrides) for timer in timers],
                applicants=[p for p in parties if p.role == PartyRole.APPLICANT],
                respondents=[p for p in parties if p.role == PartyRole.RESPONDENT],
            )
        )
    return rows


class _CountedPaginator(Paginator):
    """A paginator told its count: the count came with the page's ids, in the same query."""

    def __init__(self, object_list: list[int], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _page_number(value: str | int | None) -> int:
    """As ``Paginator.get_page``: anything but a positive whole number is the first page."""
    try:
        number = int(value) if value not in (None, "") else 1
    except (TypeError, ValueError):
        return 1
    return max(number, 1)


def case_rows_page(
    cases: QuerySet[Case], page_number: str | int | None, *, now: dt.datetime
) -> tuple[Page, list[CaseRow]]:
    """One page of ``cases``, most urgent first, as rows with their clocks and parties.

    Two steps: the page's ids are sorted on a narrow query (``_by_urgency``, from an index), which also
    counts every matching case in the same scan (a window count: the sort reads them all anyway), then only
    those cases are loaded in full with their prefetches. A page past the end costs one more count and
    shows the last page, as ``Paginator.get_page`` does (tests/bench/bench_clerk_queue.py)."""
    number = _page_number(page_number)
    order = _by_urgency(cases).annotate(total=Window(Count("pk"))).values_list("pk", "total")

    def fetch(page: int) -> list[tuple[int, int]]:
        return list(order[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])

    found = fetch(number)
    if found:
        total = found[0][1]
    else:
        total = cases.count() if number > 1 else 0
        last = max(1, -(-total // PAGE_SIZE))
        if number > last:
            number = last
            found = fetch(number) if total else []
    ids = [pk for pk, _total in found]
    paginator = _CountedPaginator(ids, PAGE_SIZE, count=total)
    page = Page(ids, number, paginator)
    loaded = {case.pk: case for case in _with_clocks(Case.objects.filter(pk__in=ids))}
    return page, _rows([loaded[pk] for pk in ids if pk in loaded], now=now)


def _staff_court_ids(user: User, roles: Iterable[str]) -> set[int]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(
        Membership.objects.filter(
            user=user, is_active=True, role__in=list(roles), organisation__kind=OrganisationKind.COURT
        ).values_list("organisation_id", flat=True)
    )


def intake_queue_for_clerk(
    *, user: User, page_number: str | int | None = 1, now: dt.datetime | None = None
) -> CasePage:
    """The court's intake queue: its cases awaiting acceptance, designation or the mediator's answer, most
    urgent clock first (overdue ones on top). For clerks and presidents of a court; anyone else is refused."""
    now = now or timezone.now()
    memberships = list(
        Membership.objects.filter(
            user=user, is_active=True, role__in=INTAKE_STAFF_ROLES, organisation__kind=OrganisationKind.COURT
        ).select_related("organisation")
    ) if user.is_authenticated and user.is_active else []
    if not memberships:
        raise NotFound(_("只有人民法院立案/诉讼服务人员可以查看立案审查队列。"))
    court_ids = {m.organisation_id for m in memberships}
    courts = sorted({m.organisation.pk: m.organisation for m in memberships}.values(), key=lambda c: c.name)
    cases = Case.objects.filter(court_id__in=court_ids, status__in=CLERK_QUEUE_STATUSES)
    page, rows = case_rows_page(cases, page_number, now=now)
    return CasePage(
        page=page, rows=rows, courts=courts,
        clerk_court_ids=frozenset(m.organisation_id for m in memberships if m.role == Role.CLERK),
    )


def _mediator_membership_exists(user: User) -> bool:
    return Membership.objects.filter(user=user, is_active=True, role=Role.MEDIATOR).exists()


def mediator_dashboard(*, user: User, page_number: str | int | None = 1, now: dt.datetime | None = None) -> CasePage:
    """A mediator's open cases (active assignments only, D12), most urgent clock first."""
    now = now or timezone.now()
    if not user.is_authenticated or not user.is_active or not _mediator_membership_exists(user):
        raise NotFound(_("只有调解员可以查看调解员工作台。"))
    assigned = CaseMediator.objects.filter(mediator=user, is_active=True).values("case_id")
    cases = Case.objects.filter(pk__in=assigned, status__in=MEDIATOR_DASHBOARD_STATUSES)
    page, rows = case_rows_page(cases, page_number, now=now)
    return CasePage(page=page, rows=rows)


def mediator_sessions_today(*, user: User, now: dt.datetime | None = None) -> list[MediationSession]:
    """The sessions of the mediator's own cases on today's date in Beijing time, in order: what the day holds
    (issue 17 item 13). Cancelled ones are left out; held ones stay, marked by their status."""
    now = now or timezone.now()
    day = calendar.local_day(now)
    start = calendar.day_end(day - dt.timedelta(days=1))
    assigned = CaseMediator.objects.filter(mediator=user, is_active=True).values("case_id")
    return list(
        MediationSession.objects.filter(case_id__in=assigned, starts_at__gte=start, starts_at__lt=calendar.day_end(day))
        .exclude(status=SessionStatus.CANCELLED).select_related("case").order_by("starts_at", "pk")
    )


def org_queue_for_admin(*, user: User, page_number: str | int | None = 1, now: dt.datetime | None = None) -> CasePage:
    """Cases referred to the user's organisation(s) that wait for a mediator, with each organisation's
    mediators who may take one (active membership, active roster status, certificate valid today)."""
    now = now or timezone.now()
    org_ids = (
        set(
            Membership.objects.filter(user=user, is_active=True, role=Role.ORG_ADMIN).values_list(
                "organisation_id", flat=True
            )
        )
        if user.is_authenticated and user.is_active
        else set()
    )
    if not org_ids:
        raise NotFound(_("只有调解组织管理员可以查看本组织的待分配案件。"))
    has_active_mediator = CaseMediator.objects.filter(case_id=OuterRef("pk"), is_active=True)
    cases = Case.objects.filter(mediation_organisation_id__in=org_ids, status=S.AWAITING_SELECTION).exclude(
        Exists(has_active_mediator)
    )
    page, rows = case_rows_page(cases, page_number, now=now)
    mediators_by_org: dict[int, list[User]] = {org_id: [] for org_id in org_ids}
    for membership in _assignable_memberships(org_ids=org_ids, today=calendar.local_day(now)):
        mediators_by_org[membership.organisation_id].append(membership.user)
    rows = [
        dataclasses.replace(row, mediators=mediators_by_org.get(row.case.mediation_organisation_id or 0, []))
        for row in rows
    ]
    return CasePage(page=page, rows=rows)


def _assignable_memberships(*, org_ids: Iterable[int], today: dt.date) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(
            organisation_id__in=list(org_ids), role=Role.MEDIATOR, is_active=True, user__is_active=True,
            user__mediator_profile__status=MediatorStatus.ACTIVE,
        )
        .filter(
            Q(user__mediator_profile__certificate_valid_until__isnull=True)
            | Q(user__mediator_profile__certificate_valid_until__gte=today)
        )
        .select_related("user")
        .order_by("user__real_name", "user_id")
    )


def mediator_is_assignable_for_organisation(*, mediator: User, organisation: Organisation, today: dt.date) -> bool:
    """Whether ``mediator`` is one of ``organisation``'s mediators who may take a case today."""
    return _assignable_memberships(org_ids=[organisation.pk], today=today).filter(user=mediator).exists()


# --- Single cases and choices -----------------------------------------------------------------------------


def intake_case_for_clerk(*, user: User, case_id: int) -> Case:
    """A case of a court where the user is intake staff; the same refusal for absent and not yours."""
    court_ids = _staff_court_ids(user, INTAKE_STAFF_ROLES)
    case = Case.objects.select_related("court", "mediation_organisation").filter(
        pk=case_id, court_id__in=court_ids
    ).first()
    if case is None:
        raise NotFound(_("案件不存在或不属于您所在法院。"))
    return case


def org_case_for_admin(*, user: User, case_id: int) -> Case:
    """A case referred to an organisation the user administers."""
    if not user.is_authenticated or not user.is_active:
        raise NotFound(_("案件不存在或未转交您所在的调解组织。"))
    org_ids = Membership.objects.filter(user=user, is_active=True, role=Role.ORG_ADMIN).values("organisation_id")
    case = Case.objects.select_related("court", "mediation_organisation").filter(
        pk=case_id, mediation_organisation_id__in=org_ids
    ).first()
    if case is None:
        raise NotFound(_("案件不存在或未转交您所在的调解组织。"))
    return case


def court_list_for_clerk(*, user: User) -> QuerySet[Organisation]:
    """The courts where the user may create referrals (the CLERK role)."""
    return Organisation.objects.filter(pk__in=_staff_court_ids(user, [Role.CLERK])).order_by("name")


def organisation_list_eligible_for_court(*, court: Organisation | int) -> QuerySet[Organisation]:
    """Mediation organisations a court may refer cases to: active, not a court, and either set up under
    the court (its child) or with at least one active mediator on the court's roster (OMR 27; SIM 5-6)."""
    court_id = court if isinstance(court, int) else court.pk
    on_roster = Membership.objects.filter(
        organisation_id=OuterRef("pk"), role=Role.MEDIATOR, is_active=True,
        user__mediator_profile__status=MediatorStatus.ACTIVE,
        user__mediator_profile__roster_entries__court_id=court_id,
        user__mediator_profile__roster_entries__is_active=True,
    )
    return (
        Organisation.objects.exclude(kind=OrganisationKind.COURT)
        .filter(is_active=True)
        .filter(Q(parent_id=court_id) | Exists(on_roster))
        .order_by("name")
    )


def organisation_list_eligible_for_clerk(*, user: User) -> QuerySet[Organisation]:
    """The organisations eligible for any court where the user is a clerk (the referral form's choices)."""
    court_ids = _staff_court_ids(user, [Role.CLERK])
    if not court_ids:
        return Organisation.objects.none()
    ids: set[int] = set()
    for court_id in court_ids:
        ids |= set(organisation_list_eligible_for_court(court=court_id).values_list("pk", flat=True))
    return Organisation.objects.filter(pk__in=ids).order_by("name")
