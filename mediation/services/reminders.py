"""Reminders before a legal clock lapses: one SMS (and an in-app message for those with an account) to the
people who must act, once per timer, through the outbox.

Run after every timer sweep (``mediation.tasks.sweep_due_timers`` and ``manage.py sweep_timers``); the outbox
worker (``mediation.tasks.deliver_outbox``) delivers them with retries.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from mediation import calendar
from mediation import notification_templates as nt
from mediation.choices import MessageChannel, PartyRole, Role, TimerKind, TimerStatus
from mediation.models import Case, CaseMediator, Membership, Party, Timer, User
from mediation.services.audit import audit_append
from mediation.services.outbox import outbox_enqueue
from mediation.validators import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_AHEAD = dt.timedelta(hours=24)

PARTIES = "parties"
CLERKS = "clerks"
MEDIATORS = "mediators"
JUDGES = "judges"

# Who must act before each clock lapses (legal-rules §B4).
RECIPIENTS: dict[str, tuple[str, ...]] = {
    TimerKind.SELECTION_WINDOW: (PARTIES,),  # the parties choose jointly (OMR 10)
    TimerKind.COURT_DESIGNATION: (CLERKS,),  # the court designates (OMR 10)
    TimerKind.MEDIATOR_ACCEPTANCE: (MEDIATORS,),  # accept or decline (OMR 12)
    TimerKind.RESPONDENT_CONTACT: (MEDIATORS,),  # help reach the respondent (OMR 15)
    TimerKind.MEDIATION_PERIOD: (MEDIATORS, PARTIES),  # agree, or agree to extend (OMR 24-25)
    TimerKind.JC_APPLICATION_WINDOW: (PARTIES,),  # apply jointly for confirmation (CPL 205)
    TimerKind.JC_ACCEPTANCE: (JUDGES,),  # decide on acceptance (JC-2011 4)
    TimerKind.JC_SUPPLEMENT: (PARTIES,),  # supply what the court asked for (Interp 354)
    TimerKind.JC_DECISION: (JUDGES,),  # rule, or ask the president to extend (JC-2011 5)
    TimerKind.JC_CEILING: (JUDGES,),  # the statutory limit (CPL 187)
    TimerKind.JC_OBJECTION: (PARTIES,),  # object to the ruling (Interp 372)
    TimerKind.COURT_FILED_PERIOD: (MEDIATORS, PARTIES),  # agree, or both consent to the one extension (§A12 art. 3)
    TimerKind.FILING_FEE: (PARTIES,),  # pay the filing fee (§A12 art. 6)
}

# Marked for translation here, translated when the message is written (always in Chinese, see reminder_text).
_HINTS: dict[str, str] = {
    TimerKind.SELECTION_WINDOW: gettext_noop("请双方当事人在期限内共同选择调解员，逾期由人民法院指定。"),
    TimerKind.COURT_DESIGNATION: gettext_noop("请在期限内为本案指定调解员。"),
    TimerKind.MEDIATOR_ACCEPTANCE: gettext_noop("请在期限内确认接受，或写明理由不予接受；逾期将退回重新指定。"),
    TimerKind.RESPONDENT_CONTACT: gettext_noop("请在期限内协助征询被申请人的调解意愿。"),
    TimerKind.MEDIATION_PERIOD: gettext_noop("期限届满未达成调解协议、且各方未同意延长的，调解终结。"),
    TimerKind.JC_APPLICATION_WINDOW: gettext_noop("如需申请司法确认，请双方当事人在期限内共同提出申请。"),
    TimerKind.JC_ACCEPTANCE: gettext_noop("请在期限内决定是否受理该司法确认申请。"),
    TimerKind.JC_SUPPLEMENT: gettext_noop(
        "请在期限内补正法院要求的材料；无正当理由逾期未补正的，法院可以按撤回申请处理。"
    ),
    TimerKind.JC_DECISION: gettext_noop("请在期限内作出裁定；有特殊情况需要延长的，报请院长批准。"),
    TimerKind.JC_CEILING: gettext_noop("特别程序案件应当在立案之日起三十日内审结。"),
    TimerKind.COURT_FILED_PERIOD: gettext_noop(
        "期限届满未达成调解协议、且双方未同意延长的，案件转入审理程序；经双方同意可以延长一次三十日。"
    ),
    TimerKind.FILING_FEE: gettext_noop("请在期限内交纳案件受理费；未按期交纳的，按撤诉处理。"),
    TimerKind.JC_OBJECTION: gettext_noop("当事人对确认裁定有异议的，应当在收到裁定之日起十五日内提出。"),
}


@dataclass(frozen=True)
class Recipient:
    role: str  # party, clerk or mediator
    phone: str
    user_id: int | None
    party_role: str = ""


def timers_remind(*, now: dt.datetime | None = None, ahead: dt.timedelta = DEFAULT_AHEAD) -> int:
    """Remind the people responsible for each running timer due within ``ahead`` of ``now`` and not yet
    reminded; return how many timers were reminded.

    Each timer is claimed with a conditional update on ``reminded_at IS NULL``, and in the same transaction
    its messages are written to the outbox (an SMS to each recipient's number, an in-app message to each
    recipient with an account) and a ``timer.reminded`` event records the masked numbers and the outbox
    rows. Overlapping runs remind a timer once; a run that breaks half-way leaves the timer unclaimed for
    the next sweep; the outbox retries a message the gateway refuses. A failure for one timer does not stop
    the others.
    """
    now = now or timezone.now()
    due = list(
        Timer.objects.filter(
            status=TimerStatus.RUNNING, reminded_at__isnull=True, due_at__gt=now, due_at__lte=now + ahead,
            kind__in=list(RECIPIENTS),  # a contact request's clocks tell their own people (contact_requests)
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
    with transaction.atomic():
        claimed = Timer.objects.filter(
            pk=timer_id, status=TimerStatus.RUNNING, reminded_at__isnull=True, due_at__gt=now
        ).update(reminded_at=now)
        if claimed != 1:  # another run took it, or it stopped meanwhile
            return False
        timer = Timer.objects.select_related("case", "case__court").get(pk=timer_id)
        case = timer.case
        recipients = recipients_for(timer)
        users = User.objects.in_bulk([r.user_id for r in recipients if r.user_id is not None])
        context = reminder_context(timer)
        outcomes = []
        notified_users: set[int] = set()
        for recipient in recipients:
            user = users.get(recipient.user_id) if recipient.user_id is not None else None
            outcome: dict[str, object] = {
                "role": recipient.role, "phone": mask_phone(recipient.phone), "user": recipient.user_id,
            }
            if recipient.party_role:
                outcome["party_role"] = recipient.party_role
            if recipient.phone:
                message = outbox_enqueue(
                    channel=MessageChannel.SMS, address=recipient.phone, template=nt.TIMER_REMINDER,
                    context=context, idempotency_key=f"timer-reminder:{timer.pk}:{recipient.phone}",
                    recipient=user, case=case, language=settings.LANGUAGE_CODE,
                )
                outcome.update(queued=True, message=message.pk)
            else:
                logger.warning("Timer %s: a %s of case %s has no phone number to remind", timer_id, recipient.role,
                               case.pk)
                outcome.update(queued=False, error="no_phone")
            if user is not None and user.pk not in notified_users:
                notified_users.add(user.pk)
                in_app = outbox_enqueue(
                    channel=MessageChannel.IN_APP, address="", template=nt.TIMER_REMINDER, context=context,
                    idempotency_key=f"timer-reminder:{timer.pk}:user{user.pk}", recipient=user, case=case,
                    language=settings.LANGUAGE_CODE,
                )
                outcome["in_app"] = in_app.pk
            outcomes.append(outcome)
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
        elif group == JUDGES:
            judges = Membership.objects.filter(
                organisation_id=case.court_id, role=Role.JUDGE, is_active=True, user__is_active=True
            ).select_related("user").order_by("user_id")
            found.extend(Recipient(role="judge", phone=m.user.phone, user_id=m.user_id) for m in judges)
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


def reminder_context(timer: Timer) -> dict[str, object]:
    """What the reminder template needs: the case reference, the clock, when it lapses in Beijing time, what
    to do, and the case's page."""
    with translation.override(settings.LANGUAGE_CODE):
        when = due_text(timer.due_at)
    return {
        "reference": timer.case.reference,
        "what": TimerKind(timer.kind).label,
        "when": when,
        "hint": gettext_lazy(_HINTS[timer.kind]),  # the msgids are marked in _HINTS
        "link": nt.site_url("case_detail", args=(timer.case_id,)),
    }


def reminder_text(timer: Timer) -> str:
    """The message, in Chinese whatever language the sweep runs in (without the link)."""
    context = {**reminder_context(timer), "link": ""}
    return nt.render(template=nt.TIMER_REMINDER, context=context, language=settings.LANGUAGE_CODE).body


def due_text(due_at: dt.datetime) -> str:
    """``2026年3月5日24时`` for a period that ends with its last day (the usual case), else the local time."""
    local = timezone.localtime(due_at, timezone.get_default_timezone())
    if local.time() == dt.time.min:
        day = calendar.last_day(due_at)
        return _("%(y)d年%(m)d月%(d)d日24时") % {"y": day.year, "m": day.month, "d": day.day}
    return _("%(y)d年%(m)d月%(d)d日%(h)d时%(min)02d分") % {
        "y": local.year, "m": local.month, "d": local.day, "h": local.hour, "min": local.minute,
    }
