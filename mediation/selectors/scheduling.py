"""Reads of mediation sessions, already filtered by who may see them, with each time in the viewer's zone.

The case's mediators and its court and organisation staff see every session of the case; a party or an
agent sees the sessions their side takes part in. Only a session's own participants who still hold a role
on the case (or were invited as interpreter or helper) download its ``.ics`` file or see it in their feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import scheduling_slots as slots
from mediation import transitions as tr
from mediation.choices import AttendanceMode, ParticipantRole, SessionKind, SessionPurpose, SessionStatus
from mediation.exceptions import NotFound
from mediation.models import Agent, Case, MediationSession, Party, SessionParticipant, User, WorkingHours
from mediation.permissions import case_roles
from mediation.scheduling_slots import Window
from mediation.selectors.cases import case_list_for_user

STAFF_ROLES = frozenset({tr.MEDIATOR, tr.CLERK, tr.JUDGE, tr.ORG_ADMIN})
# Invited interpreters and helpers hold no role on the case: their invitation is their only tie to it.
# Everyone else (mediator, party, agent) must still hold a role on the case to get a session's .ics.
ROLELESS_PARTICIPANTS = (ParticipantRole.INTERPRETER, ParticipantRole.HELPER)
FEED_PAST = dt.timedelta(days=90)


# --- time zones and times as text -------------------------------------------------------------------------


def default_time_zone() -> str:
    return str(settings.TIME_ZONE)


def time_zones_for(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's own time zone: the zone of their working hours, else Beijing time. One query."""
    zones: dict[int, str] = {}
    for user_id, zone_name in (
        WorkingHours.objects.filter(user_id__in=set(user_ids)).order_by("user_id", "weekday", "start")
        .values_list("user_id", "time_zone")
    ):
        zones.setdefault(user_id, zone_name)
    return zones


def user_time_zone(user: User) -> str:
    return time_zones_for([user.pk]).get(user.pk, default_time_zone())


def windows_for(user_ids: Iterable[int]) -> dict[int, list[Window]]:
    """Everyone's recorded working hours, in one query."""
    found: dict[int, list[Window]] = {}
    for row in WorkingHours.objects.filter(user_id__in=set(user_ids)).order_by("weekday", "start"):
        found.setdefault(row.user_id, []).append(Window(row.weekday, row.start, row.end, row.time_zone))
    return found


def local_text(moment: dt.datetime, time_zone: str, *, with_date: bool = True) -> str:
    local = timezone.localtime(moment, _zone(time_zone))
    if not with_date:
        return f"{local:%H:%M}"
    return _("%(y)d年%(m)d月%(d)d日 %(h)02d:%(min)02d") % {
        "y": local.year, "m": local.month, "d": local.day, "h": local.hour, "min": local.minute,
    }


def zone_label(time_zone: str) -> str:
    return _("北京时间") if time_zone in {"Asia/Shanghai", "Asia/Chongqing", "PRC"} else _("%(zone)s 时间") % {
        "zone": time_zone
    }


def span_text(start: dt.datetime, end: dt.datetime, time_zone: str) -> str:
    """``2026年3月5日 14:00–15:30（北京时间）``, in ``time_zone``; the end's date is shown when it differs."""
    zone = _zone(time_zone)
    same_day = timezone.localtime(start, zone).date() == timezone.localtime(end, zone).date()
    return _("%(start)s–%(end)s（%(zone)s）") % {
        "start": local_text(start, time_zone), "end": local_text(end, time_zone, with_date=not same_day),
        "zone": zone_label(time_zone),
    }


def _zone(name: str) -> dt.tzinfo:
    try:
        return slots.zone(name)
    except (KeyError, ValueError):
        return timezone.get_default_timezone()


@dataclass(frozen=True)
class SessionRow:
    """What a page shows of one session to one viewer."""

    session: MediationSession
    when: str  # the whole session, in the viewer's zone
    my_slot: str  # the viewer's own separate slot, if any
    venue: str
    participants: list[tuple[str, str, str]]  # (role label, name, attendance label)
    mine: bool  # the viewer takes part: may download the .ics
    superseded: bool  # rescheduled: a newer session replaces it
    upcoming: bool
    ics_url: str

    @property
    def kind_label(self) -> str:
        if self.session.purpose == SessionPurpose.VERIFICATION:
            return _("%(purpose)s（视频，法官主持）") % {"purpose": SessionPurpose(self.session.purpose).label}
        return str(SessionKind(self.session.kind).label)


def _my_party_ids(user: User, case: Case) -> set[int]:
    own = set(Party.objects.filter(case=case, user=user).values_list("pk", flat=True))
    return own | set(Agent.objects.filter(party__case=case, user=user).values_list("party_id", flat=True))


def sessions_for_case(*, user: User, case: Case) -> list[SessionRow]:
    """The sessions of ``case`` that ``user`` may see, newest chain heads first, in the viewer's zone.
    The caller has already checked that ``user`` holds a role on the case (``case_get_for_user``)."""
    roles = case_roles(user, case)
    if not roles:
        raise NotFound(_("案件不存在或您无权查看。"))
    sessions = (
        MediationSession.objects.filter(case=case)
        .select_related("venue", "case")
        .prefetch_related("participants__user", "participants__party")
        .order_by("-starts_at", "-pk")
    )
    superseded = set(
        MediationSession.objects.filter(case=case, rescheduled_from__isnull=False)
        .values_list("rescheduled_from_id", flat=True)
    )
    staff = bool(roles & STAFF_ROLES)
    party_ids = set() if staff else _my_party_ids(user, case)
    viewer_zone = user_time_zone(user)
    now = timezone.now()
    rows = []
    for session in sessions:
        people = list(session.participants.all())
        mine = next((p for p in people if p.user_id == user.pk), None)
        if not staff and mine is None and not any(p.party_id in party_ids for p in people):
            continue
        zone_name = mine.time_zone if mine is not None else viewer_zone
        slot = (
            span_text(mine.slot_starts_at, mine.slot_ends_at, zone_name)
            if mine is not None and mine.slot_starts_at and mine.slot_ends_at else ""
        )
        venue = f"{session.venue.name}（{session.venue.address}）" if session.venue else ""
        rows.append(SessionRow(
            session=session, when=span_text(session.starts_at, session.ends_at, zone_name), my_slot=slot,
            venue=venue, participants=[_person(p) for p in people], mine=mine is not None,
            superseded=session.pk in superseded,
            upcoming=session.status == SessionStatus.SCHEDULED and session.ends_at > now,
            ics_url=reverse("session_ics", kwargs={"case_id": case.pk, "session_id": session.pk}) if mine else "",
        ))
    return rows


def participant_name(*, user: User | None, party: Party | None) -> str:
    """The account's real name; else the party's name on the case, not the masked number that names an
    account made by phone sign-in (only an agent's own account has no party name to fall back on)."""
    if user is not None and (user.real_name or party is None or not party.name):
        return user.display_name
    return party.name if party is not None else ""


def _person(p: SessionParticipant) -> tuple[str, str, str]:
    name = participant_name(user=p.user, party=p.party if p.role != "agent" else None)
    if p.role == "agent" and p.party is not None:
        name = _("%(name)s（%(party)s的代理人）") % {"name": name, "party": p.party.name}
    attendance = "" if p.attendance == AttendanceMode.ONLINE else str(AttendanceMode(p.attendance).label)
    return (p.get_role_display(), name, attendance)


def session_get_for_case(*, case: Case, session_id: int) -> MediationSession:
    """A session of ``case`` (the caller has checked the case); NotFound when there is none."""
    session = MediationSession.objects.select_related("case", "venue").filter(case=case, pk=session_id).first()
    if session is None:
        raise NotFound(_("调解活动不存在或您无权查看。"))
    return session


def session_get_for_participant(*, user: User, case_id: int, session_id: int) -> tuple[MediationSession,
                                                                                        SessionParticipant]:
    """A session and ``user``'s place in it; the same refusal whether it is absent or not theirs."""
    row = (
        SessionParticipant.objects.filter(session_id=session_id, session__case_id=case_id, user=user)
        .select_related("session__case", "session__venue").order_by("pk").first()
        if user.is_authenticated and user.is_active else None
    )
    if row is None or (row.role not in ROLELESS_PARTICIPANTS and not case_roles(user, row.session.case)):
        # A replaced mediator or a removed agent stays on the session's list but no longer gets its file.
        raise NotFound(_("调解活动不存在或您无权查看。"))
    return row.session, row


def feed_sessions_for_user(*, user: User) -> QuerySet[MediationSession]:
    """The sessions of ``user``'s private calendar feed: those they take part in, and every session of the
    cases they mediate; the current version of each (not the ones replaced by a reschedule); from 90 days
    ago on."""
    since = timezone.now() - FEED_PAST
    current_cases = case_list_for_user(user=user).order_by().values("pk")
    mine = (
        Q(participants__user=user, case_id__in=current_cases)
        | Q(participants__user=user, participants__role__in=ROLELESS_PARTICIPANTS)
        | Q(case__mediator_assignments__mediator=user, case__mediator_assignments__is_active=True)
    )
    ids = MediationSession.objects.filter(mine, ends_at__gte=since).values("pk")
    return (
        MediationSession.objects.filter(pk__in=ids, rescheduled_to__isnull=True)
        .select_related("case", "venue")
        .prefetch_related("participants")
        .order_by("starts_at", "pk")
    )


def viewer_time_zone(user: User) -> str:
    return user_time_zone(user) if user.is_authenticated else default_time_zone()
