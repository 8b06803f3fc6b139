"""What people are told about their mediation sessions, through the outbox in the caller's transaction:
invitations, the 24-hour and 1-hour reminders, notices of a change, and the cancellation of a case's sessions
when its status leaves them behind.

Below both ``case_transition`` (which cancels sessions in its transaction, see
``mediation.lifecycle.cancels_sessions``) and the scheduling service (which moves an ACCEPTED case to
SCHEDULING), so neither imports the other in a circle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from mediation.choices import (
    AttendanceMode,
    MessageChannel,
    ParticipantRole,
    SessionKind,
    SessionPurpose,
    SessionStatus,
)
from mediation.models import Agent, Case, MediationSession, SessionParticipant, User
from mediation.selectors.scheduling import span_text
from mediation.services.audit import audit_append
from mediation.services.outbox import outbox_cancel, outbox_enqueue

REMINDERS = (("remind24", dt.timedelta(hours=24)), ("remind1", dt.timedelta(hours=1)))
VENUE_MODES = frozenset({AttendanceMode.VENUE, AttendanceMode.IN_PERSON})


# --- notifications (the outbox) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contact:
    who: str  # stable per person within the session, for idempotency keys
    user: User | None
    phone: str
    email: str


def _contacts(
    session: MediationSession, rows: Sequence[SessionParticipant]
) -> list[tuple[_Contact, SessionParticipant]]:
    agent_phones = dict(
        Agent.objects.filter(party__case_id=session.case_id, user__isnull=False).values_list("user_id", "phone")
    )
    seen: set[str] = set()
    found = []
    for p in rows:
        who = f"u{p.user_id}" if p.user_id else f"p{p.party_id}"
        if who in seen:
            continue
        seen.add(who)
        user, party = p.user, p.party
        phone = (user.phone if user else "") or (party.phone if party and p.role == ParticipantRole.PARTY else "")
        if not phone and p.role == ParticipantRole.AGENT and p.user_id:
            phone = agent_phones.get(p.user_id, "") or ""
        email = (user.email if user else "") or (party.email if party and p.role == ParticipantRole.PARTY else "")
        found.append((_Contact(who=who, user=user, phone=phone.strip(), email=email.strip()), p))
    return found


def session_url(session: MediationSession) -> str:
    return urljoin(str(settings.SITE_URL), reverse("session_list", kwargs={"case_id": session.case_id}))


def _context(session: MediationSession, p: SessionParticipant, *, reminder: bool = False) -> dict[str, object]:
    case = session.case
    start = p.slot_starts_at if reminder and p.slot_starts_at else session.starts_at
    venue = ""
    if session.venue is not None and (p.attendance in VENUE_MODES or session.kind == SessionKind.IN_PERSON):
        venue = f"{session.venue.name}（{session.venue.address}）"
    slot = ""
    if p.slot_starts_at and p.slot_ends_at:
        with translation.override(settings.LANGUAGE_CODE):
            slot = span_text(p.slot_starts_at, p.slot_ends_at, p.time_zone)
    return {
        "reference": case.reference, "title": case.title, "start": start, "time_zone": p.time_zone,
        "kind": SessionPurpose(session.purpose).label if session.purpose != SessionPurpose.MEDIATION
        else SessionKind(session.kind).label, "venue": venue, "slot": slot, "link": session_url(session),
    }


def session_notify(
    session: MediationSession, rows: Sequence[SessionParticipant], *, template: str, kind: str,
    extra: dict[str, object] | None = None,
) -> None:
    """One message per person and channel: SMS to their phone, e-mail when known, in-app when they have an
    account. Keys name the session and the person, so a retried request writes nothing twice."""
    for contact, p in _contacts(session, rows):
        context = {**_context(session, p), **(extra or {})}
        for channel, address in _channels(contact, email=True):
            outbox_enqueue(
                channel=channel, address=address, template=template, context=context, recipient=contact.user,
                case=session.case, idempotency_key=f"session:{session.pk}:{kind}:{contact.who}:{channel}",
            )


def session_reminders_enqueue(
    session: MediationSession, rows: Sequence[SessionParticipant], *, now: dt.datetime
) -> None:
    """The 24-hour and 1-hour reminders, due then (by SMS and in-app); one that would already be due is
    skipped: the invitation has just told them."""
    for contact, p in _contacts(session, rows):
        start = p.slot_starts_at or session.starts_at
        for label, ahead in REMINDERS:
            due = start - ahead
            if due <= now:
                continue
            template = "session.reminder_24h" if label == "remind24" else "session.reminder_1h"
            if session.purpose == SessionPurpose.VERIFICATION:
                template = "session.verification_reminder"
            context = _context(session, p, reminder=True)
            for channel, address in _channels(contact, email=False):
                outbox_enqueue(
                    channel=channel, address=address, template=template, context=context, recipient=contact.user,
                    case=session.case, deliver_after=due,
                    idempotency_key=f"session:{session.pk}:{label}:{contact.who}:{channel}",
                )


def session_reminders_withdraw(session: MediationSession) -> None:
    for label, _ahead in REMINDERS:
        outbox_cancel(idempotency_key_prefix=f"session:{session.pk}:{label}:")


def _channels(contact: _Contact, *, email: bool) -> list[tuple[str, str]]:
    channels: list[tuple[str, str]] = []
    if contact.phone:
        channels.append((MessageChannel.SMS, contact.phone))
    if email and contact.email:
        channels.append((MessageChannel.EMAIL, contact.email))
    if contact.user is not None:
        channels.append((MessageChannel.IN_APP, ""))
    return channels


def sessions_cancel_for_case(*, case: Case, reason: str, actor: User | None) -> list[MediationSession]:
    """Cancel every scheduled session of ``case`` that has not yet ended, withdraw their pending reminders
    and tell everyone: called by ``case_transition`` when the case moves to a status in which sessions no
    longer make sense (``mediation.lifecycle.cancels_sessions``). Runs in the caller's transaction."""
    now = timezone.now()
    cancelled = []
    for session in (
        MediationSession.objects.select_for_update().filter(case=case, status=SessionStatus.SCHEDULED, ends_at__gt=now)
        .order_by("pk")
    ):
        MediationSession.objects.filter(pk=session.pk).update(
            status=SessionStatus.CANCELLED, cancel_reason=reason, sequence=F("sequence") + 1
        )
        session.refresh_from_db()
        session.case = case
        rows = list(session.participants.select_related("user", "party").order_by("pk"))
        session_reminders_withdraw(session)
        audit_append(
            kind="session.cancelled", actor=actor, case=case,
            data={"session": session.pk, "starts_at": session.starts_at.isoformat(), "reason": reason,
                  "case_status": case.status},
        )
        session_notify(session, rows, template="session.cancelled", kind="cancel", extra={"reason": reason})
        cancelled.append(session)
    return cancelled
