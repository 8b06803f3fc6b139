"""The staff's live view of today's sessions (issue 14 item 3, HMCTS's "command centre"): for each session the
room's state, and for each participant where they stand (waiting, in, reconnecting, left), their latest
self-test verdict and the connection quality their room client last reported.

Who sees which sessions: an organisation admin the sessions of cases their organisation mediates; a clerk or
judge of a court their court's cases; a court president (院长) their court and the courts below it, as the
statistics do (``statistics.court_ids_below``). Nobody else: not mediators (the room is theirs already),
parties, other courts or platform admins.

Presence comes from the database (the member's state, and ``online_channel`` for an open socket); the two
facts that change every few seconds come from the "live" cache (decision D54): the quality report
of each member (``quality_key``) and the moment a member's socket dropped without leaving (``dropped_key``),
which is what tells "reconnecting" from "never connected". Both expire by themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.choices import (
    ConnectionQuality,
    LivePresence,
    ParticipantRole,
    PartyRole,
    Role,
    RoomMemberState,
    RoomStatus,
    SelfTestVerdict,
    SessionStatus,
)
from mediation.exceptions import NotFound, PermissionDenied
from mediation.models import MediationSession, Membership, RoomMember, SessionParticipant, User
from mediation.selectors.selftest import latest_self_tests
from mediation.selectors.statistics import court_ids_below

logger = logging.getLogger(__name__)
M = RoomMemberState
# The most sessions one page shows (a court's whole day fits; more is a sign of a wrong scope).
MAX_SESSIONS = 200
COURT_STAFF = (Role.CLERK, Role.JUDGE, Role.COURT_PRESIDENT)


def live_cache() -> BaseCache:
    return caches["live"]


def quality_key(member_id: int) -> str:
    return f"room-quality:{member_id}"


def dropped_key(member_id: int) -> str:
    return f"room-dropped:{member_id}"


# --- scope -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveScope:
    """The cases whose sessions a person may watch: by court (the case's court) or by mediating organisation."""

    court_ids: frozenset[int]
    organisation_ids: frozenset[int]
    labels: tuple[str, ...]

    def session_filter(self) -> Q:
        return Q(case__court_id__in=sorted(self.court_ids)) | Q(
            case__mediation_organisation_id__in=sorted(self.organisation_ids))

    def covers(self, *, court_id: int, organisation_id: int | None) -> bool:
        return court_id in self.court_ids or (organisation_id is not None and organisation_id in self.organisation_ids)


def live_view_scope_for_user(*, user: User | None) -> LiveScope | None:
    """What ``user`` may watch, or None when they may watch nothing (the page and the JSON refuse them)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    memberships = list(
        Membership.objects.filter(user=user, is_active=True, role__in=(Role.ORG_ADMIN, *COURT_STAFF))
        .select_related("organisation").order_by("organisation__name", "role")
    )
    courts: set[int] = set()
    organisations: set[int] = set()
    labels: list[str] = []
    for membership in memberships:
        org = membership.organisation
        if membership.role == Role.ORG_ADMIN and not org.is_court:
            organisations.add(org.pk)
        elif membership.role == Role.COURT_PRESIDENT and org.is_court:
            courts |= court_ids_below(org.pk)
        elif membership.role in (Role.CLERK, Role.JUDGE) and org.is_court:
            courts.add(org.pk)
        else:
            continue
        label = org.short_name or org.name
        if label not in labels:
            labels.append(label)
    if not courts and not organisations:
        return None
    return LiveScope(frozenset(courts), frozenset(organisations), tuple(labels))


def live_view_scope_required(*, user: User | None) -> LiveScope:
    scope = live_view_scope_for_user(user=user)
    if scope is None:
        raise PermissionDenied(_("在线调解实时看板只对调解组织管理员和法院工作人员开放。"))
    return scope


def live_view_member_get(*, user: User | None, member_id: int) -> RoomMember:
    """A room member whose session ``user`` may watch; one ``NotFound`` for "absent" and "not yours"."""
    scope = live_view_scope_required(user=user)
    member = (
        RoomMember.objects.select_related("room", "room__case", "user")
        .filter(pk=member_id).first()
    )
    if member is None or not scope.covers(court_id=member.room.case.court_id,
                                          organisation_id=member.room.case.mediation_organisation_id):
        raise NotFound(_("该参加人员不存在或不在您可查看的范围内。"))
    return member


# --- the board ---------------------------------------------------------------------------------------------------


def today_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Today in the court's time zone (``TIME_ZONE``), as an aware half-open interval."""
    zone = ZoneInfo(settings.TIME_ZONE)
    day = (now or timezone.now()).astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def presence_of(member: RoomMember | None, *, dropped: bool) -> str:
    """Where a participant stands: no member row yet (未进入), left/refused/removed (已离开), or waiting/in
    with a socket; without a socket, "reconnecting" only when their socket dropped recently without leaving
    (``dropped``), else they opened the way in and never connected: still 未进入."""
    if member is None:
        return LivePresence.NOT_JOINED
    if member.state not in (M.WAITING, M.ADMITTED):
        return LivePresence.LEFT
    if not member.online_channel:
        return LivePresence.RECONNECTING if dropped else LivePresence.NOT_JOINED
    return LivePresence.WAITING if member.state == M.WAITING else LivePresence.IN


def _quality_row(report: Any, presence: str, now: float) -> dict[str, Any]:
    """The member's own reported quality; 已断开 while their socket is away, 未测得 without a fresh report."""
    level: str
    if presence == LivePresence.RECONNECTING:
        level = ConnectionQuality.LOST
    elif presence in (LivePresence.WAITING, LivePresence.IN) and isinstance(report, dict):
        reported = report.get("level")
        level = reported if reported in ConnectionQuality.values else ConnectionQuality.NONE
    else:
        level = ConnectionQuality.NONE
    fresh = isinstance(report, dict) and presence in (LivePresence.WAITING, LivePresence.IN)
    return {
        "level": level, "label": str(ConnectionQuality(level).label),
        "rtt_ms": report.get("rtt_ms") if fresh else None,
        "loss_pct": report.get("loss_pct") if fresh else None,
        "age_s": max(0, int(now - float(report.get("at", now)))) if fresh else None,
    }


_ROLE_ORDER = {ParticipantRole.MEDIATOR: 0, ParticipantRole.JUDGE: 0, ParticipantRole.PARTY: 1,
               ParticipantRole.AGENT: 2}


def live_sessions(*, user: User | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The board as JSON-ready data: today's sessions in ``user``'s scope that are scheduled or live (a room
    open, whatever day it began), each with its participants. A constant number of queries (six) and one
    cache read, whatever the number of sessions. Refuses anyone without a scope."""
    scope = live_view_scope_required(user=user)
    now = now or timezone.now()
    start, end = today_bounds(now)
    sessions = list(
        MediationSession.objects.filter(scope.session_filter())
        .filter(Q(status=SessionStatus.SCHEDULED, starts_at__gte=start, starts_at__lt=end)
                | Q(room__status=RoomStatus.OPEN))
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("case", "room").order_by("starts_at", "pk")[:MAX_SESSIONS]
    )
    ids = [s.pk for s in sessions]
    members_by_session: dict[int, dict[int, RoomMember]] = defaultdict(dict)
    for found in RoomMember.objects.filter(room__session_id__in=ids).select_related("room").order_by("pk"):
        members_by_session[found.room.session_id][found.user_id] = found
    invited: dict[int, list[SessionParticipant]] = defaultdict(list)
    for participant in (SessionParticipant.objects.filter(session_id__in=ids, user__isnull=False)
                        .select_related("user", "party").order_by("pk")):
        invited[participant.session_id].append(participant)
    tests = latest_self_tests(ids)
    member_ids = [m.pk for by_user in members_by_session.values() for m in by_user.values()]
    try:
        cached = live_cache().get_many([quality_key(pk) for pk in member_ids] + [dropped_key(pk) for pk in member_ids])
        cache_ok = True
    except Exception:  # the cache (Redis) is away: presence from the database only, and the page says so
        logger.warning("live view: the live cache is unreachable", exc_info=True)
        cached, cache_ok = {}, False
    clock = time.time()

    rows = []
    for session in sessions:
        room = getattr(session, "room", None)
        members = members_by_session.get(session.pk, {})
        people: dict[int, dict[str, Any]] = {}
        for participant in invited.get(session.pk, []):
            assert participant.user is not None
            people.setdefault(participant.user_id or 0, {
                "name": participant.party.name if participant.role == ParticipantRole.PARTY and participant.party
                and participant.party.name else participant.user.display_name,
                "role": participant.role, "side": participant.party.role if participant.party else "",
            })
        for user_id, row in members.items():
            people[user_id] = {"name": row.display_name, "role": row.role, "side": row.side}
        participants = []
        for user_id, person in people.items():
            member = members.get(user_id)
            presence = presence_of(member, dropped=member is not None and dropped_key(member.pk) in cached)
            test = tests.get((session.pk, user_id))
            report = cached.get(quality_key(member.pk)) if member is not None else None
            messageable = (member is not None and room is not None and room.status == RoomStatus.OPEN
                           and member.state in (M.WAITING, M.ADMITTED))
            participants.append({
                "user": user_id,
                "member": member.pk if messageable and member is not None else None,
                "name": person["name"],
                "role": person["role"], "role_label": str(ParticipantRole(person["role"]).label),
                "side_label": str(PartyRole(person["side"]).label) if person["side"] else "",
                "presence": presence, "presence_label": str(LivePresence(presence).label),
                "verdict": test.verdict if test else "",
                "verdict_label": str(SelfTestVerdict(test.verdict).label) if test else _("未自检"),
                "quality": _quality_row(report, presence, clock),
            })
        participants.sort(key=lambda p: (_ROLE_ORDER.get(p["role"], 3), p["name"]))
        if room is None:
            room_state, room_label = "not_open", _("未开启")
        elif room.status == RoomStatus.ENDED:
            room_state, room_label = "ended", _("已结束")
        elif room.caucus_side:
            room_state = "caucus"
            room_label = _("背对背调解中（%(side)s）") % {"side": PartyRole(room.caucus_side).label}
        else:
            room_state, room_label = "joint", _("共同调解中")
        if room is not None and room.status == RoomStatus.OPEN and room.locked:
            room_label = _("%(state)s · 已锁定") % {"state": room_label}
        rows.append({
            "id": session.pk, "case": session.case_id, "case_title": session.case.title,
            "case_number": session.case.court_case_number or session.case.reference,
            "starts_at": timezone.localtime(session.starts_at).strftime("%H:%M"),
            "ends_at": timezone.localtime(session.ends_at).strftime("%H:%M"),
            "kind_label": str(session.get_kind_display()),
            "room": room_state, "room_label": str(room_label),
            "waiting": sum(1 for p in participants if p["presence"] == LivePresence.WAITING),
            "reconnecting": sum(1 for p in participants if p["presence"] == LivePresence.RECONNECTING),
            "participants": participants,
        })
    return {"updated_at": timezone.localtime(now).strftime("%H:%M:%S"), "scope": list(scope.labels),
            "sessions": rows, "live_cache": cache_ok}
