"""Reminders before a legal clock lapses: one SMS to the people who must act, once per timer.

Run after every timer sweep (``mediation.tasks.sweep_due_timers`` and ``manage.py sweep_timers``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mediation import calendar
from mediation.choices import PartyRole, Role, TimerKind, TimerStatus
from mediation.models import Case, CaseMediator, Membership, Party, Timer
from mediation.services.audit import audit_append
from mediation.validators import mask_phone

if TYPE_CHECKING:
    from mediation.adapters.sms import SmsBackend

logger = logging.getLogger(__name__)

DEFAULT_AHEAD = dt.timedelta(hours=24)

PARTIES = "parties"
CLERKS = "clerks"
MEDIATORS = "mediators"

# Who must act before each clock lapses (legal-rules §B4).
RECIPIENTS: dict[str, tuple[str, ...]] = {
    TimerKind.SELECTION_WINDOW: (PARTIES,),  # the parties choose jointly (OMR 10)
    TimerKind.COURT_DESIGNATION: (CLERKS,),  # the court designates (OMR 10)
    TimerKind.MEDIATOR_ACCEPTANCE: (MEDIATORS,),  # accept or decline (OMR 12)
    TimerKind.RESPONDENT_CONTACT: (MEDIATORS,),  # help reach the respondent (OMR 15)
    TimerKind.MEDIATION_PERIOD: (MEDIATORS, PARTIES),  # agree, or agree to extend (OMR 24-25)
    TimerKind.JC_APPLICATION_WINDOW: (PARTIES,),  # apply jointly for confirmation (CPL 205)
}

# Marked for translation here, translated when the message is written (always in Chinese, see reminder_text).
_HINTS: dict[str, str] = {
    TimerKind.SELECTION_WINDOW: gettext_noop("请双方当事人在期限内共同选择调解员，逾期由人民法院指定。"),
    TimerKind.COURT_DESIGNATION: gettext_noop("请在期限内为本案指定调解员。"),
    TimerKind.MEDIATOR_ACCEPTANCE: gettext_noop("请在期限内确认接受，或写明理由不予接受；逾期将退回重新指定。"),
    TimerKind.RESPONDENT_CONTACT: gettext_noop("请在期限内协助征询被申请人的调解意愿。"),
    TimerKind.MEDIATION_PERIOD: gettext_noop("期限届满未达成调解协议、且各方未同意延长的，调解终结。"),
    TimerKind.JC_APPLICATION_WINDOW: gettext_noop("如需申请司法确认，请双方当事人在期限内共同提出申请。"),
}


@dataclass(frozen=True)
class Recipient:
    role: str  # party, clerk or mediator
    phone: str
    user_id: int | None
    party_role: str = ""


def _sms_backend() -> SmsBackend:
    from mediation.adapters.sms import get_sms_backend  # read the setting at call time

    return get_sms_backend()


def timers_remind(*, now: dt.datetime | None = None, ahead: dt.timedelta = DEFAULT_AHEAD) -> int:
    """Remind the people responsible for each running timer due within ``ahead`` of ``now`` and not yet
    reminded; return how many timers were reminded.

    Each timer is claimed with a conditional update on ``reminded_at IS NULL`` before anything is sent,
    so overlapping runs remind it once. Then one SMS goes to each recipient (by ``RECIPIENTS``), and a
    ``timer.reminded`` event records the masked numbers and whether each was handed to the gateway. A
    failure for one recipient is logged and the others still get theirs; a failure for one timer does not
    stop the others.

    Delivery is at most once: a failed message is not retried, and a process that dies between the claim
    and the send loses that reminder. A proper outbox with retries comes with a later issue.
    """
    now = now or timezone.now()
    due = list(
        Timer.objects.filter(
            status=TimerStatus.RUNNING, reminded_at__isnull=True, due_at__gt=now, due_at__lte=now + ahead
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    )
    reminded = 0
    for timer_id in due:
        try:
            reminded += _remind(timer_id=timer_id, now=now)
        except Exception:
            # One broken timer must not hold back the others' reminders.
            logger.exception("Reminding timer %s failed", timer_id)
    return reminded


def _remind(*, timer_id: int, now: dt.datetime) -> bool:
    claimed = Timer.objects.filter(
        pk=timer_id, status=TimerStatus.RUNNING, reminded_at__isnull=True, due_at__gt=now
    ).update(reminded_at=now)
    if claimed != 1:  # another run took it, or it stopped meanwhile
        return False
    timer = Timer.objects.select_related("case", "case__court").get(pk=timer_id)
    case = timer.case
    text = reminder_text(timer)
    backend = _sms_backend()
    outcomes = []
    for recipient in recipients_for(timer):
        outcome: dict[str, object] = {
            "role": recipient.role, "phone": mask_phone(recipient.phone), "user": recipient.user_id,
        }
        if recipient.party_role:
            outcome["party_role"] = recipient.party_role
        if not recipient.phone:
            logger.warning("Timer %s: a %s of case %s has no phone number to remind", timer_id, recipient.role, case.pk)
            outcome.update(delivered=False, error="no_phone")
        else:
            try:
                outcome.update(delivered=True, message_id=backend.send(phone=recipient.phone, text=text))
            except Exception as exc:
                logger.exception("Reminder for timer %s to %s failed", timer_id, mask_phone(recipient.phone))
                outcome.update(delivered=False, error=type(exc).__name__)
        outcomes.append(outcome)
    with transaction.atomic():
        audit_append(
            kind="timer.reminded", actor=None, case=case,
            data={
                "timer": timer.pk, "kind": timer.kind, "due_at": timer.due_at.isoformat(),
                "due_date": calendar.last_day(timer.due_at).isoformat(), "recipients": outcomes,
            },
        )
    return True


def recipients_for(timer: Timer) -> list[Recipient]:
    """Who is reminded of ``timer``: each phone number once, in the order of ``RECIPIENTS``."""
    case: Case = timer.case
    found: list[Recipient] = []
    for group in RECIPIENTS[timer.kind]:
        if group == PARTIES:
            for party in Party.objects.filter(case=case).select_related("user").order_by("role", "pk"):
                phone = party.phone or (party.user.phone if party.user else "")
                found.append(
                    Recipient(role="party", phone=phone, user_id=party.user_id, party_role=PartyRole(party.role))
                )
        elif group == CLERKS:
            clerks = Membership.objects.filter(
                organisation_id=case.court_id, role=Role.CLERK, is_active=True, user__is_active=True
            ).select_related("user").order_by("user_id")
            found.extend(Recipient(role="clerk", phone=m.user.phone, user_id=m.user_id) for m in clerks)
        elif group == MEDIATORS:
            assignments = CaseMediator.objects.filter(case=case, is_active=True).select_related("mediator")
            found.extend(
                Recipient(role="mediator", phone=a.mediator.phone, user_id=a.mediator_id)
                for a in assignments.order_by("-presiding", "pk")
            )
    unique: list[Recipient] = []
    seen: set[str] = set()
    for recipient in found:
        if recipient.phone and recipient.phone in seen:
            continue
        seen.add(recipient.phone)
        unique.append(recipient)
    return unique


def reminder_text(timer: Timer) -> str:
    """The message, in Chinese whatever language the sweep runs in: the case reference, the clock, when it
    lapses in Beijing time, and what to do."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("案件%(reference)s：%(what)s将于%(when)s届满。%(hint)s") % {
            "reference": timer.case.reference,
            "what": TimerKind(timer.kind).label,
            "when": due_text(timer.due_at),
            "hint": _(_HINTS[timer.kind]),
        }


def due_text(due_at: dt.datetime) -> str:
    """``2026年3月5日24时`` for a period that ends with its last day (the usual case), else the local time."""
    local = timezone.localtime(due_at, timezone.get_default_timezone())
    if local.time() == dt.time.min:
        day = calendar.last_day(due_at)
        return _("%(y)d年%(m)d月%(d)d日24时") % {"y": day.year, "m": day.month, "d": day.day}
    return _("%(y)d年%(m)d月%(d)d日%(h)d时%(min)02d分") % {
        "y": local.year, "m": local.month, "d": local.day, "h": local.hour, "min": local.minute,
    }
