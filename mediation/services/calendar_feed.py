"""Calendars: the ``.ics`` invitation of one session, and each person's private iCalendar feed.

A session and its reschedules share one UID (``session-<first id>@<site>``) and count up SEQUENCE, so a
calendar app moves the event instead of adding a second one, and shows it cancelled when it is. Times
are UTC. Summaries name the case reference and the kind of session, never what is being negotiated.

The feed URL's secret is a random token (``CalendarFeedToken``); rotating it revokes the old URL at once.
A wrong token is a plain 404: there is nothing to enumerate.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from email.utils import parseaddr
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from mediation.choices import AttendanceMode, SessionKind, SessionStatus
from mediation.models import CalendarFeedToken, MediationSession, SessionParticipant, User
from mediation.selectors.scheduling import span_text
from mediation.services.audit import audit_append
from mediation.services.session_notices import session_url

TOKEN_BYTES = 32  # 43 URL-safe characters


def _host() -> str:
    return urlsplit(str(settings.SITE_URL)).hostname or "yizhan"


def calendar_uid(root_id: int) -> str:
    return f"session-{root_id}@{_host()}"


# --- tokens -----------------------------------------------------------------------------------------------


def calendar_feed_token_for(*, user: User) -> CalendarFeedToken:
    """The user's feed token, made on first use."""
    with transaction.atomic():
        existing = CalendarFeedToken.objects.select_for_update().filter(user=user).first()
        if existing is not None:
            return existing
        token = CalendarFeedToken.objects.create(user=user, token=secrets.token_urlsafe(TOKEN_BYTES))
        audit_append(kind="calendar.feed_created", actor=user, stream=f"user.{user.pk}", data={"feed": token.pk})
    return token


def calendar_feed_rotate(*, user: User) -> CalendarFeedToken:
    """A new secret for the user's feed: the old URL stops working at once."""
    with transaction.atomic():
        token, created = CalendarFeedToken.objects.select_for_update().get_or_create(
            user=user, defaults={"token": secrets.token_urlsafe(TOKEN_BYTES)}
        )
        if not created:
            token.token = secrets.token_urlsafe(TOKEN_BYTES)
            token.save(update_fields=["token"])
        audit_append(kind="calendar.feed_rotated", actor=user, stream=f"user.{user.pk}", data={"feed": token.pk})
    return token


def calendar_feed_user(*, token: str) -> User | None:
    """Whose feed ``token`` opens, or None (unknown, revoked, or an inactive account)."""
    if not token or len(token) > 64:
        return None
    row = CalendarFeedToken.objects.select_related("user").filter(token=token).first()
    if row is None or not row.user.is_active:
        return None
    return row.user


def calendar_feed_url(token: CalendarFeedToken) -> str:
    return urljoin(str(settings.SITE_URL), reverse("calendar_feed", kwargs={"token": token.token}))


# --- iCalendar --------------------------------------------------------------------------------------------


def _calendar(*, method: str | None = None, name: str = "") -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Yizhan//Online Mediation//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _event(session: MediationSession, mine: SessionParticipant | None, *, root_id: int, now: dt.datetime) -> Event:
    """One VEVENT: the person's own slot when they have one (separate slots), else the whole session."""
    case = session.case
    start, end = session.starts_at, session.ends_at
    if mine is not None and mine.slot_starts_at and mine.slot_ends_at:
        start, end = mine.slot_starts_at, mine.slot_ends_at
    kind = str(SessionKind(session.kind).label)
    event = Event()
    event.add("uid", calendar_uid(root_id))
    event.add("sequence", session.sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", start.astimezone(dt.UTC))
    event.add("dtend", end.astimezone(dt.UTC))
    event.add("summary", _("调解：案件%(reference)s（%(kind)s）") % {"reference": case.reference, "kind": kind})
    lines = [_("案件编号：%(reference)s") % {"reference": case.reference}]
    if case.court_case_number:
        lines.append(_("法院案号：%(number)s") % {"number": case.court_case_number})
    lines.append(_("方式：%(kind)s") % {"kind": kind})
    zone_name = mine.time_zone if mine is not None else str(settings.TIME_ZONE)
    lines.append(_("时间：%(when)s") % {"when": span_text(session.starts_at, session.ends_at, zone_name)})
    if mine is not None and mine.slot_starts_at and mine.slot_ends_at:
        lines.append(_("您的时段：%(slot)s") % {"slot": span_text(mine.slot_starts_at, mine.slot_ends_at, zone_name)})
    if session.status == SessionStatus.CANCELLED and session.cancel_reason:
        lines.append(_("已取消：%(reason)s") % {"reason": session.cancel_reason})
    lines.append(_("详情及入口：%(url)s") % {"url": session_url(session)})
    event.add("description", "\n".join(lines))
    attends_venue = mine is None or mine.attendance != AttendanceMode.ONLINE
    if session.venue is not None and (attends_venue or session.kind == SessionKind.IN_PERSON):
        event.add("location", f"{session.venue.name}，{session.venue.address}")
    else:
        event.add("location", _("线上（一站平台）"))
    event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
    event.add("url", session_url(session))
    _name, address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
    organizer = vCalAddress(f"mailto:{address or 'noreply@' + _host()}")
    organizer.params["cn"] = vText(_("一站调解平台"))
    event.add("organizer", organizer)
    return event


def _roots(sessions: Iterable[MediationSession]) -> dict[int, int]:
    """Each session's chain root, from one query over the sessions of the cases involved."""
    sessions = list(sessions)
    case_ids = {s.case_id for s in sessions}
    parent = dict(
        MediationSession.objects.filter(case_id__in=case_ids).values_list("pk", "rescheduled_from_id")
    )
    roots = {}
    for s in sessions:
        node = s.pk
        while parent.get(node) is not None:
            node = parent[node]
        roots[s.pk] = node
    return roots


def session_ics(*, session: MediationSession, participant: SessionParticipant) -> bytes:
    """The invitation file for one participant: METHOD REQUEST, or CANCEL once the session is cancelled."""
    now = timezone.now()
    method = "CANCEL" if session.status == SessionStatus.CANCELLED else "REQUEST"
    cal = _calendar(method=method)
    root = _roots([session])[session.pk]
    cal.add_component(_event(session, participant, root_id=root, now=now))
    return cal.to_ical()


def user_feed_ics(*, user: User, sessions: Iterable[MediationSession]) -> bytes:
    """The private feed: one event per session chain, cancelled ones marked so."""
    now = timezone.now()
    cal = _calendar(name=_("一站调解日程"))
    sessions = list(sessions)
    roots = _roots(sessions)
    for session in sessions:
        mine = next((p for p in session.participants.all() if p.user_id == user.pk), None)
        cal.add_component(_event(session, mine, root_id=roots[session.pk], now=now))
    return cal.to_ical()
