"""Scheduling mediation sessions (OMR 16-17): joint online, separate time slots (with every party's
consent), hybrid (a venue for whoever cannot join by phone) and in-person sessions.

Nobody is double-booked: a mediator, a party or an agent (a lawyer across *all* their cases) and a venue
each hold at most one scheduled session at any moment. Intervals are half-open, so back-to-back sessions
are fine and a one-minute overlap is not. The people's rows are locked (``SELECT ... FOR UPDATE`` on their
users, then the venue) before the check, so two mediators scheduling the same lawyer at once queue up and
the second one sees the first one's session.

Invitations, the 24-hour and 1-hour reminders, and the notices of a change are written to the outbox in
the same transaction as the change (see ``mediation.services.outbox``). E-mails carry a link to the
session page, where each participant downloads the ``.ics`` file or subscribes to their private feed;
the outbox sends no attachments.

Which case statuses allow scheduling: SCHEDULING, IN_MEDIATION and APPRAISAL_PAUSED (the clock is stopped
while an appraisal runs, but the parties may still meet). On an ACCEPTED case the first session *is* the
OMR 16 "arrange mediation" step, so scheduling it also moves the case to SCHEDULING through
``case_transition``; not on a one-sided application, where the respondent must first agree (OMR 15).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import calendar
from mediation import transitions as tr
from mediation.choices import (
    AttendanceMode,
    CaseStatus,
    ConsentKind,
    ParticipantRole,
    SessionKind,
    SessionPurpose,
    SessionStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.lifecycle import SCHEDULABLE_STATUSES, VERIFICATION_STATUSES
from mediation.models import (
    Agent,
    Case,
    CaseMediator,
    MediationSession,
    Party,
    SessionParticipant,
    User,
    Venue,
)
from mediation.permissions import case_roles
from mediation.scheduling_slots import Interval, Window, available, contains, free_slots, overlaps, working_days
from mediation.selectors.scheduling import (
    default_time_zone,
    participant_name,
    span_text,
    time_zones_for,
    windows_for,
    zone_label,
)
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.consents import consent_all_parties_granted
from mediation.services.session_notices import (
    VENUE_MODES,
    session_notify,
    session_reminders_enqueue,
    session_reminders_withdraw,
)

S = CaseStatus
MAX_DURATION = dt.timedelta(hours=12)
# For the free-slot search only: people who recorded no working hours are offered office hours on the
# court's working days, not 3 a.m. (scheduling itself does not restrict them).
DEFAULT_DAY = (dt.time(9, 0), dt.time(18, 0))
FREE_SLOT_NOTICE = dt.timedelta(hours=1)
WEEKDAYS = (
    gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"), gettext_lazy("周五"),
    gettext_lazy("周六"), gettext_lazy("周日"),
)


@dataclass(frozen=True)
class ParticipantSpec:
    """One person asked to take part. For a party without an account ``user`` is None (they are told by
    SMS at the number on the case); an agent carries the party it acts for."""

    role: str
    user: User | None = None
    party: Party | None = None
    attendance: str = AttendanceMode.ONLINE
    slot_starts_at: dt.datetime | None = None
    slot_ends_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        return participant_name(user=self.user, party=self.party if self.role != "agent" else None)

    @property
    def key(self) -> tuple[str, int | None, int | None]:
        return (self.role, self.user.pk if self.user else None, self.party.pk if self.party else None)


def session_participants_default(*, case: Case) -> list[ParticipantSpec]:
    """The presiding mediator, every party (its account when it has one) and every agent with an account."""
    specs: list[ParticipantSpec] = []
    presiding = (
        CaseMediator.objects.filter(case=case, is_active=True).select_related("mediator")
        .order_by("-presiding", "pk").first()
    )
    if presiding is not None:
        specs.append(ParticipantSpec(role=ParticipantRole.MEDIATOR, user=presiding.mediator))
    for party in Party.objects.filter(case=case).select_related("user").order_by("role", "pk"):
        specs.append(ParticipantSpec(role=ParticipantRole.PARTY, user=party.user, party=party))
    for agent in (
        Agent.objects.filter(party__case=case, user__isnull=False).select_related("user", "party")
        .order_by("party__role", "party_id", "pk")
    ):
        specs.append(ParticipantSpec(role=ParticipantRole.AGENT, user=agent.user, party=agent.party))
    return specs


# --- checks -----------------------------------------------------------------------------------------------


def _require_mediator(actor: User, case: Case) -> None:
    if tr.MEDIATOR not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案的调解员可以安排、改期或取消调解活动。"))


def _refuse_verification(session: MediationSession) -> None:
    if session.purpose == SessionPurpose.VERIFICATION:
        raise PermissionDenied(_("司法确认询问由法院安排，调解员不能改期或取消；请联系承办法官。"), case=session.case)


def case_allows_scheduling(case: Case) -> bool:
    """Whether sessions may be scheduled in the case's current status (see the module docstring)."""
    return case.status in SCHEDULABLE_STATUSES or (case.status == S.ACCEPTED and not case.one_sided)


def _require_schedulable(case: Case) -> None:
    if case_allows_scheduling(case):
        return
    if case.status == S.ACCEPTED:
        raise InvalidInput(_("单方申请的案件须先征得被申请人同意调解（OMR 15），再安排调解活动。"))
    raise InvalidInput(
        _("案件当前状态为“%(status)s”，不能安排调解活动。") % {"status": CaseStatus(case.status).label}
    )


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime, *, now: dt.datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidInput(_("时间须带时区。"))
    if ends_at <= starts_at:
        raise InvalidInput(_("结束时间须晚于开始时间。"))
    if ends_at - starts_at > MAX_DURATION:
        raise InvalidInput(_("一次调解活动不超过12小时，请分成几次安排。"))
    if starts_at <= now:
        raise InvalidInput(_("开始时间须晚于现在。"))


def _check_venue(case: Case, venue: Venue | None) -> None:
    if venue is None:
        return
    if not venue.is_active:
        raise InvalidInput(_("调解场所“%(name)s”已停用，请另选场所。") % {"name": venue.name})
    if venue.organisation_id not in {case.court_id, case.mediation_organisation_id}:
        raise InvalidInput(_("调解场所“%(name)s”不属于本案法院或调解组织。") % {"name": venue.name})


def _normalise(case: Case, kind: str, venue: Venue | None, specs: Sequence[ParticipantSpec],
               starts_at: dt.datetime, ends_at: dt.datetime) -> list[ParticipantSpec]:
    """Validate who takes part and how, by the session's kind (OMR 16); return the cleaned list."""
    if kind not in SessionKind.values:
        raise InvalidInput(_("请选择调解方式。"))
    unique: dict[tuple[str, int | None, int | None], ParticipantSpec] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    specs = list(unique.values())
    _check_people_belong(case, specs)

    if kind == SessionKind.IN_PERSON:
        if venue is None:
            raise InvalidInput(_("现场调解须选择调解场所。"))
        specs = [replace(s, attendance=AttendanceMode.IN_PERSON) for s in specs]
    elif kind == SessionKind.HYBRID:
        if venue is None:
            raise InvalidInput(_("线上线下结合的调解须选择调解场所，供无法使用手机参加的当事人到场（OMR 16）。"))
        if not any(s.attendance in VENUE_MODES for s in specs):
            raise InvalidInput(_("线上线下结合的调解须至少有一人到调解场所参加；如全部在线，请选择“同时在线调解”。"))
    elif kind == SessionKind.JOINT_ONLINE:
        if venue is not None or any(s.attendance in VENUE_MODES for s in specs):
            raise InvalidInput(_("同时在线调解不使用调解场所；如有人到场参加，请选择“线上线下结合”或“现场调解”。"))
    elif venue is None and any(s.attendance in VENUE_MODES for s in specs):
        raise InvalidInput(_("有人到场参加时须选择调解场所。"))

    if kind == SessionKind.SEPARATE_SLOTS:
        if not consent_all_parties_granted(case=case, kind=ConsentKind.SEPARATE_SESSIONS):
            raise InvalidInput(
                _("分别指定时间调解须经各方当事人同意（OMR 16）。尚有当事人未同意或已撤回同意，请改用其他方式。")
            )
        specs = _check_slots(specs, starts_at, ends_at)
    else:
        specs = [replace(s, slot_starts_at=None, slot_ends_at=None) for s in specs]
    return specs


def _check_people_belong(case: Case, specs: Sequence[ParticipantSpec]) -> None:
    mediators = set(CaseMediator.objects.filter(case=case, is_active=True).values_list("mediator_id", flat=True))
    parties = {p.pk: p for p in Party.objects.filter(case=case)}
    agents = set(Agent.objects.filter(party__case=case, user__isnull=False).values_list("party_id", "user_id"))
    if not any(s.role == ParticipantRole.MEDIATOR for s in specs):
        raise InvalidInput(_("调解活动须有调解员参加。"))
    present = {s.party.pk for s in specs if s.role == ParticipantRole.PARTY and s.party is not None}
    if set(parties) - present:
        raise InvalidInput(_("调解活动须通知本案每一方当事人。"))
    helpers = False
    for s in specs:
        if s.role == ParticipantRole.MEDIATOR:
            ok = s.user is not None and s.user.pk in mediators
        elif s.role == ParticipantRole.PARTY:
            ok = s.party is not None and s.party.pk in parties and (s.user is None or s.user.pk == s.party.user_id)
        elif s.role == ParticipantRole.AGENT:
            ok = s.party is not None and s.user is not None and (s.party.pk, s.user.pk) in agents
        elif s.role in (ParticipantRole.INTERPRETER, ParticipantRole.HELPER):
            ok, helpers = s.user is not None, True
        else:
            ok = False
        if not ok:
            raise InvalidInput(_("%(name)s不是本案的调解员、当事人或代理人。") % {"name": s.name or _("参加人员")})
    if helpers and not consent_all_parties_granted(case=case, kind=ConsentKind.INVITED_PARTICIPANT):
        raise InvalidInput(_("邀请翻译人员或协助调解人员参加须经各方当事人同意。"))


def _check_slots(specs: list[ParticipantSpec], starts_at: dt.datetime, ends_at: dt.datetime) -> list[ParticipantSpec]:
    """Separate slots: each party its own window inside the session, no two parties at once; an agent
    shares the window of the party it acts for; mediators are there throughout."""
    party_slots: dict[int, Interval] = {}
    for s in specs:
        if s.role != ParticipantRole.PARTY or s.party is None:
            continue
        if s.slot_starts_at is None or s.slot_ends_at is None:
            raise InvalidInput(_("分别指定时间调解须为%(name)s指定时段。") % {"name": s.party.name})
        if s.slot_ends_at <= s.slot_starts_at:
            raise InvalidInput(_("%(name)s的时段结束时间须晚于开始时间。") % {"name": s.party.name})
        if s.slot_starts_at < starts_at or s.slot_ends_at > ends_at:
            raise InvalidInput(_("%(name)s的时段须在本次调解的起止时间之内。") % {"name": s.party.name})
        party_slots[s.party.pk] = (s.slot_starts_at, s.slot_ends_at)
    parties = [s for s in specs if s.role == ParticipantRole.PARTY and s.party is not None]
    for i, a in enumerate(parties):
        for b in parties[i + 1:]:
            assert a.party is not None
            assert b.party is not None
            if overlaps(party_slots[a.party.pk], party_slots[b.party.pk]):
                raise InvalidInput(
                    _("%(a)s与%(b)s的时段重叠；分别调解时各方当事人的时段不能重叠。")
                    % {"a": a.party.name, "b": b.party.name}
                )
    cleaned = []
    for s in specs:
        if s.role == ParticipantRole.AGENT and s.party is not None and s.party.pk in party_slots:
            s = replace(s, slot_starts_at=party_slots[s.party.pk][0], slot_ends_at=party_slots[s.party.pk][1])
        elif s.role != ParticipantRole.PARTY:
            s = replace(s, slot_starts_at=None, slot_ends_at=None)
        cleaned.append(s)
    return cleaned


def _span(spec: ParticipantSpec | SessionParticipant, session_span: Interval) -> Interval:
    if spec.slot_starts_at is not None and spec.slot_ends_at is not None:
        return (spec.slot_starts_at, spec.slot_ends_at)
    return session_span


def _lock(user_ids: Iterable[int], venue: Venue | None) -> None:
    """Row locks in a fixed order (users by id, then the venue), so concurrent schedulings that share a
    person or a room queue up instead of both passing the conflict check."""
    ids = sorted(set(user_ids))
    if ids:
        list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    if venue is not None:
        list(Venue.objects.select_for_update().filter(pk=venue.pk).values_list("pk", flat=True))


def _check_conflicts(
    specs: Sequence[ParticipantSpec], venue: Venue | None, span: Interval, *, zones: dict[int, str],
    actor: User, exclude: Iterable[int] = (),
) -> None:
    """Refuse, naming the clash, if a person or the venue already has a scheduled session that overlaps.
    The other case's reference is named only to someone who holds a role on that case; anyone else learns
    that the person (or room) is taken at that time, not which case or court they are busy with."""
    wanted: dict[int, tuple[ParticipantSpec, Interval]] = {}
    for s in specs:
        if s.user is not None:
            mine = _span(s, span)
            if s.user.pk in wanted:  # the same person twice (say as party and agent): their whole presence
                other = wanted[s.user.pk][1]
                mine = (min(mine[0], other[0]), max(mine[1], other[1]))
            wanted[s.user.pk] = (s, mine)
    existing = (
        SessionParticipant.objects.filter(user_id__in=list(wanted), session__status=SessionStatus.SCHEDULED)
        .exclude(session_id__in=list(exclude))
        .annotate(
            busy_from=Coalesce("slot_starts_at", "session__starts_at"),
            busy_to=Coalesce("slot_ends_at", "session__ends_at"),
        )
        .filter(busy_from__lt=span[1], busy_to__gt=span[0])
        .select_related("session__case")
        .order_by("busy_from", "pk")
    )
    for row in existing:
        assert row.user_id is not None
        spec, mine = wanted[row.user_id]
        theirs: Interval = (row.busy_from, row.busy_to)
        if overlaps(mine, theirs):
            zone_name = zones.get(row.user_id, default_time_zone())
            when = span_text(theirs[0], theirs[1], zone_name)
            if case_roles(actor, row.session.case):
                raise InvalidInput(
                    _("时间冲突：%(who)s在%(when)s已有案件%(reference)s的调解安排，请另选时间。")
                    % {"who": spec.name, "when": when, "reference": row.session.case.reference}
                )
            raise InvalidInput(
                _("时间冲突：%(who)s在%(when)s已有其他调解安排，请另选时间。") % {"who": spec.name, "when": when}
            )
    if venue is not None:
        clash = (
            MediationSession.objects.filter(
                venue=venue, status=SessionStatus.SCHEDULED, starts_at__lt=span[1], ends_at__gt=span[0]
            ).exclude(pk__in=list(exclude)).select_related("case").order_by("starts_at").first()
        )
        if clash is not None:
            when = span_text(clash.starts_at, clash.ends_at, default_time_zone())
            if case_roles(actor, clash.case):
                raise InvalidInput(
                    _("场所冲突：调解场所“%(venue)s”在%(when)s已被案件%(reference)s使用，请另选时间或场所。")
                    % {"venue": venue.name, "when": when, "reference": clash.case.reference}
                )
            raise InvalidInput(
                _("场所冲突：调解场所“%(venue)s”在%(when)s已有其他调解安排，请另选时间或场所。")
                % {"venue": venue.name, "when": when}
            )


def _check_working_hours(specs: Sequence[ParticipantSpec], span: Interval, *, hours: dict[int, list[Window]]) -> None:
    """Refuse a time outside someone's recorded working hours, in their own zone; no hours: no limit."""
    for s in specs:
        if s.user is None or not hours.get(s.user.pk):
            continue
        windows = hours[s.user.pk]
        mine = _span(s, span)
        if not contains(available(windows, mine[0], mine[1]), mine):
            zone_name = windows[0].time_zone
            raise InvalidInput(
                _("%(who)s的可参加时间为%(hours)s（%(zone)s）；本次安排为%(when)s，不在可参加时间内。")
                % {"who": s.name, "hours": hours_text(windows), "zone": zone_label(zone_name),
                   "when": span_text(mine[0], mine[1], zone_name)}
            )


def hours_text(windows: Sequence[Window]) -> str:
    """``周一至周五 09:00–18:00、周六 09:00–12:00``: runs of weekdays with the same hours joined."""
    by_time: dict[tuple[dt.time, dt.time], list[int]] = {}
    for w in windows:
        by_time.setdefault((w.start, w.end), []).append(w.weekday)
    parts = []
    for (start, end), days in by_time.items():
        days = sorted(set(days))
        runs: list[list[int]] = []
        for day in days:
            if runs and day == runs[-1][-1] + 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        names = [
            str(WEEKDAYS[run[0]]) if len(run) == 1
            else _("%(a)s至%(b)s") % {"a": WEEKDAYS[run[0]], "b": WEEKDAYS[run[-1]]}
            for run in runs
        ]
        parts.append(f"{'、'.join(names)} {start:%H:%M}–{end:%H:%M}")
    return "；".join(parts)


# --- writes -----------------------------------------------------------------------------------------------


def session_schedule(
    *,
    case: Case,
    actor: User,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    venue: Venue | None = None,
    participants: Sequence[ParticipantSpec] | None = None,
    note: str = "",
) -> MediationSession:
    """Schedule a session of ``case`` and invite everyone taking part (by default: the presiding mediator,
    every party and their agents). Refuses, with a message naming the clash, a time when a person or the
    venue is already booked, or outside someone's working hours."""
    _require_mediator(actor, case)
    _require_schedulable(case)
    now = timezone.now()
    _check_times(starts_at, ends_at, now=now)
    _check_venue(case, venue)
    specs = participants if participants is not None else session_participants_default(case=case)
    with transaction.atomic():
        case = _lock_schedulable_case(case)
        specs = _normalise(case, kind, venue, specs, starts_at, ends_at)
        user_ids = [s.user.pk for s in specs if s.user is not None]
        _lock(user_ids, venue)
        zones = time_zones_for(user_ids)
        span = (starts_at, ends_at)
        _check_conflicts(specs, venue, span, zones=zones, actor=actor)
        _check_working_hours(specs, span, hours=windows_for(user_ids))
        if case.status == S.ACCEPTED:
            case = _start_scheduling(case=case, actor=actor)
        session = MediationSession.objects.create(
            case=case, kind=kind, starts_at=starts_at, ends_at=ends_at, venue=venue, note=note.strip(),
            created_by=actor,
        )
        rows = _create_participants(session, specs, zones)
        audit_append(kind="session.scheduled", actor=actor, case=case, data=_audit_data(session, rows))
        session_notify(session, rows, template="session.invitation", kind="invite")
        session_reminders_enqueue(session, rows, now=now)
    return session


def verification_session_schedule(
    *, case: Case, actor: User, starts_at: dt.datetime, ends_at: dt.datetime, note: str = ""
) -> MediationSession:
    """The judge schedules the joint verification session of an accepted confirmation application (Interp 356:
    the court notifies both parties to appear together; by video, OLR 3(3)). The judge presides; every party
    and every agent with an account is invited through the outbox like any session; the case's mediator is no
    participant. Only a judge of the case's court, only while the application is under review."""
    if tr.JUDGE not in case_roles(actor, case):
        raise PermissionDenied(_("只有受理法院的法官可以安排司法确认询问。"), case=case)
    now = timezone.now()
    _check_times(starts_at, ends_at, now=now)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status not in VERIFICATION_STATUSES:
            raise InvalidInput(
                _("案件当前状态为“%(status)s”，只有受理后审查中的司法确认申请才能安排询问。")
                % {"status": CaseStatus(case.status).label}
            )
        specs = [ParticipantSpec(role=ParticipantRole.JUDGE, user=actor)]
        specs += [s for s in session_participants_default(case=case) if s.role != ParticipantRole.MEDIATOR]
        if not any(s.role == ParticipantRole.PARTY for s in specs):
            raise InvalidInput(_("本案没有当事人，无法安排询问。"))
        user_ids = [s.user.pk for s in specs if s.user is not None]
        _lock(user_ids, None)
        zones = time_zones_for(user_ids)
        span = (starts_at, ends_at)
        _check_conflicts(specs, None, span, zones=zones, actor=actor)
        _check_working_hours(specs, span, hours=windows_for(user_ids))
        session = MediationSession.objects.create(
            case=case, kind=SessionKind.JOINT_ONLINE, purpose=SessionPurpose.VERIFICATION, starts_at=starts_at,
            ends_at=ends_at, note=note.strip(), created_by=actor,
        )
        rows = _create_participants(session, specs, zones)
        audit_append(kind="session.verification_scheduled", actor=actor, case=case,
                     data={**_audit_data(session, rows), "purpose": session.purpose})
        session_notify(session, rows, template="session.verification_invitation", kind="invite")
        session_reminders_enqueue(session, rows, now=now)
    return session


def verification_session_cancel(*, session: MediationSession, reason: str, actor: User) -> MediationSession:
    """A judge of the case's court cancels a verification session not yet held, with a reason: the pending
    reminders are withdrawn and everyone invited is told (the same notices as any cancelled session)."""
    case = session.case
    if session.purpose != SessionPurpose.VERIFICATION:
        raise InvalidInput(_("这不是司法确认询问；调解活动由调解员取消。"))
    if tr.JUDGE not in case_roles(actor, case):
        raise PermissionDenied(_("只有受理法院的法官可以取消司法确认询问。"), case=case)
    return _cancel(session=session, reason=reason, actor=actor)


def session_reschedule(
    *, session: MediationSession, starts_at: dt.datetime, ends_at: dt.datetime, reason: str, actor: User
) -> MediationSession:
    """Move a scheduled session: a new session replaces it (same people, same kind, iCalendar SEQUENCE + 1),
    the old one is cancelled with the reason and its pending reminders withdrawn, and everyone is told.
    Separate slots keep their place relative to the start."""
    case = session.case
    _require_mediator(actor, case)
    _refuse_verification(session)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("改期须写明理由。"))
    _require_schedulable(case)
    now = timezone.now()
    _check_times(starts_at, ends_at, now=now)
    with transaction.atomic():
        case = _lock_schedulable_case(case)
        old = MediationSession.objects.select_related("venue").get(pk=session.pk)
        if old.status != SessionStatus.SCHEDULED:
            raise StaleState(_("该调解活动已取消或已改期，请刷新页面。"))
        shift = starts_at - old.starts_at
        old_rows = list(old.participants.select_related("user", "party").order_by("pk"))
        specs = [
            ParticipantSpec(
                role=p.role, user=p.user, party=p.party, attendance=p.attendance,
                slot_starts_at=p.slot_starts_at + shift if p.slot_starts_at else None,
                slot_ends_at=p.slot_ends_at + shift if p.slot_ends_at else None,
            )
            for p in old_rows
        ]
        if any(s.slot_ends_at is not None and s.slot_ends_at > ends_at for s in specs):
            raise InvalidInput(_("改期后的时长容不下各方的分别调解时段；请取消本次调解后重新安排。"))
        user_ids = [s.user.pk for s in specs if s.user is not None]
        _lock(user_ids, old.venue)
        if MediationSession.objects.filter(pk=old.pk, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.CANCELLED, cancel_reason=reason
        ) != 1:
            raise StaleState(_("该调解活动已取消或已改期，请刷新页面。"))
        zones = time_zones_for(user_ids)
        span = (starts_at, ends_at)
        _check_conflicts(specs, old.venue, span, zones=zones, actor=actor, exclude=[old.pk])
        _check_working_hours(specs, span, hours=windows_for(user_ids))
        new = MediationSession.objects.create(
            case=case, kind=old.kind, starts_at=starts_at, ends_at=ends_at, venue=old.venue, note=old.note,
            rescheduled_from=old, created_by=actor, sequence=old.sequence + 1,
        )
        rows = _create_participants(new, specs, zones)
        session_reminders_withdraw(old)
        audit_append(
            kind="session.rescheduled", actor=actor, case=case,
            data={**_audit_data(new, rows), "from_session": old.pk, "previous_starts_at": old.starts_at.isoformat(),
                  "previous_ends_at": old.ends_at.isoformat(), "reason": reason},
        )
        session_notify(new, rows, template="session.rescheduled", kind="invite",
                extra={"reason": reason, "previous_start": old.starts_at})
        session_reminders_enqueue(new, rows, now=now)
    return new


def session_cancel(*, session: MediationSession, reason: str, actor: User) -> MediationSession:
    """Cancel a scheduled session with a reason: its pending reminders are withdrawn and everyone told."""
    _require_mediator(actor, session.case)
    _refuse_verification(session)
    return _cancel(session=session, reason=reason, actor=actor)


def _cancel(*, session: MediationSession, reason: str, actor: User) -> MediationSession:
    case = session.case
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("取消须写明理由。"))
    now = timezone.now()
    with transaction.atomic():
        updated = MediationSession.objects.filter(
            pk=session.pk, status=SessionStatus.SCHEDULED, ends_at__gt=now
        ).update(status=SessionStatus.CANCELLED, cancel_reason=reason, sequence=F("sequence") + 1)
        if updated != 1:
            current = MediationSession.objects.filter(pk=session.pk).values_list("status", flat=True).first()
            if current == SessionStatus.SCHEDULED:
                raise InvalidInput(_("该调解活动已经结束，不能取消。"))
            raise StaleState(_("该调解活动已取消或已改期，请刷新页面。"))
        session.refresh_from_db()
        rows = list(session.participants.select_related("user", "party").order_by("pk"))
        session_reminders_withdraw(session)
        audit_append(
            kind="session.cancelled", actor=actor, case=case,
            data={"session": session.pk, "starts_at": session.starts_at.isoformat(), "reason": reason},
        )
        session_notify(session, rows, template="session.cancelled", kind="cancel", extra={"reason": reason})
    return session


def _lock_schedulable_case(case: Case) -> Case:
    """Lock the case row (before any person or venue, always in that order) and re-check its status, so a
    session cannot be written after a concurrent transition has ended the case: ``case_transition``'s
    update waits for this lock, and then cancels what was scheduled (``sessions_cancel_for_case``)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _require_schedulable(locked)
    return locked


def _start_scheduling(*, case: Case, actor: User) -> Case:
    return case_transition(case=case, to=S.SCHEDULING, actor=actor)


def _create_participants(
    session: MediationSession, specs: Sequence[ParticipantSpec], zones: dict[int, str]
) -> list[SessionParticipant]:
    rows = [
        SessionParticipant(
            session=session, user=s.user, party=s.party, role=s.role, attendance=s.attendance,
            slot_starts_at=s.slot_starts_at, slot_ends_at=s.slot_ends_at,
            time_zone=zones.get(s.user.pk, default_time_zone()) if s.user is not None else default_time_zone(),
        )
        for s in specs
    ]
    return SessionParticipant.objects.bulk_create(rows)


def _audit_data(session: MediationSession, rows: Sequence[SessionParticipant]) -> dict[str, object]:
    return {
        "session": session.pk, "kind": session.kind, "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(), "venue": session.venue.name if session.venue else "",
        "sequence": session.sequence,
        "participants": [
            {"role": p.role, "user": p.user_id, "party": p.party_id, "attendance": p.attendance,
             **({"slot_starts_at": p.slot_starts_at.isoformat()} if p.slot_starts_at else {}),
             **({"slot_ends_at": p.slot_ends_at.isoformat()} if p.slot_ends_at else {})}
            for p in rows
        ],
    }


# --- the free-slot search ---------------------------------------------------------------------------------


def session_free_slots(
    *,
    case: Case,
    duration: dt.timedelta,
    days: int = 10,
    after: dt.datetime | None = None,
    venue: Venue | None = None,
    participants: Sequence[ParticipantSpec] | None = None,
    limit: int = 5,
    granularity: dt.timedelta = dt.timedelta(minutes=15),
) -> list[Interval]:
    """Slots of ``duration`` within the next ``days`` working days when the mediator, every participant
    with an account (and the venue, if given) are free and within their working hours.

    A constant number of queries whatever the number of people or days: the participants (three), the
    holiday overrides, everyone's sessions, the venue's sessions, everyone's working hours.
    """
    after = after or timezone.now() + FREE_SLOT_NOTICE
    specs = participants if participants is not None else session_participants_default(case=case)
    user_ids = sorted({s.user.pk for s in specs if s.user is not None})
    court_zone = default_time_zone()
    overrides = calendar.load_overrides(since=calendar.local_day(after) - dt.timedelta(days=1))

    def is_working_day(day: dt.date) -> bool:
        return calendar.is_working_day(day, overrides=overrides)

    dates = working_days(after, days, is_working_day, court_zone)
    if not dates:
        return []
    until = calendar.day_end(dates[-1])
    busy: dict[tuple[str, int], list[Interval]] = {}
    for user_id, b0, b1 in (
        SessionParticipant.objects.filter(user_id__in=user_ids, session__status=SessionStatus.SCHEDULED)
        .annotate(
            busy_from=Coalesce("slot_starts_at", "session__starts_at"),
            busy_to=Coalesce("slot_ends_at", "session__ends_at"),
        )
        .filter(busy_from__lt=until, busy_to__gt=after)
        .values_list("user_id", "busy_from", "busy_to")
    ):
        busy.setdefault(("user", user_id), []).append((b0, b1))
    if venue is not None:
        busy[("venue", venue.pk)] = list(
            MediationSession.objects.filter(
                venue=venue, status=SessionStatus.SCHEDULED, starts_at__lt=until, ends_at__gt=after
            ).values_list("starts_at", "ends_at")
        )
    recorded = windows_for(user_ids)
    default = [Window(day, DEFAULT_DAY[0], DEFAULT_DAY[1], court_zone) for day in range(7)]
    hours = {("user", user_id): recorded.get(user_id) or default for user_id in user_ids}
    return free_slots(
        busy=busy, hours=hours, duration=duration, after=after, days=days, is_working_day=is_working_day,
        granularity=granularity, court_time_zone=court_zone, limit=limit,
    )


def session_first_free_slot(
    *,
    case: Case,
    duration: dt.timedelta,
    days: int = 10,
    after: dt.datetime | None = None,
    venue: Venue | None = None,
    participants: Sequence[ParticipantSpec] | None = None,
) -> Interval | None:
    """The first common free slot (see ``session_free_slots``), or None within the horizon."""
    found = session_free_slots(
        case=case, duration=duration, days=days, after=after, venue=venue, participants=participants, limit=1
    )
    return found[0] if found else None


def venues_for_case(*, case: Case) -> list[Venue]:
    """The active venues of the case's court and mediation organisation."""
    orgs = [pk for pk in (case.court_id, case.mediation_organisation_id) if pk]
    return list(Venue.objects.filter(organisation_id__in=orgs, is_active=True).order_by("organisation_id", "name"))

