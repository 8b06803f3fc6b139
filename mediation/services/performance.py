"""Performance after an agreement takes effect (PML 31-33; CPL 250; legal-rules §B3, §B4 T15).

The schedule of obligations is made when the agreement takes effect (``services.obligations``). Against it:
the obligor uploads proof of performance, the obligee confirms receipt or reports a default, and the platform
reminds the obligor before each due date. Each side acts only for itself: the obligor cannot confirm its own
payment, the obligee cannot upload the obligor's proof.

A default moves the case to ENFORCEMENT_ELIGIBLE (whose status renders the 强制执行申请书) only when the case
holds an enforceable title (``selectors.performance.enforceable_title``) and CPL 250's two years have not
run out. On an agreement nobody confirmed, the default is recorded and the case stays in performance
tracking: the agreement binds as a contract and the obligee may sue on it (PML 32-33), which the case page
explains. Above ``cases``: it moves cases.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import lifecycle, signals
from mediation import notification_templates as nt
from mediation.choices import CaseStatus, EvidenceKind, MessageChannel, ObligationStatus
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, StaleState
from mediation.models import Case, Obligation, PaymentProof, User
from mediation.permissions import can_view_case
from mediation.selectors.performance import (
    REMINDER_DAYS_AHEAD,
    enforceable_title,
    enforcement_limit,
    parties_acting,
)
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.evidence import evidence_upload
from mediation.services.outbox import outbox_enqueue
from mediation.signals import send_on_commit
from mediation.validators import clean_single_line, mask_phone

logger = logging.getLogger(__name__)

OPEN = (ObligationStatus.OPEN, ObligationStatus.PROOF_SUBMITTED)
NOTE_MAX = 500


def obligation_get_for_user(*, user: User, case_id: int, obligation_id: int) -> Obligation:
    """The obligation, if ``user`` may see its case; absent and not yours read the same (NotFound)."""
    obligation = (
        Obligation.objects.select_related("case", "case__court", "obligor", "obligee")
        .filter(pk=obligation_id, case_id=case_id).first()
    )
    if obligation is None or not can_view_case(user, obligation.case):
        raise NotFound(_("履行事项不存在或您无权查看。"))
    return obligation


def _locked(obligation: Obligation) -> tuple[Case, Obligation]:
    """Lock the case row, then the obligation (the order case_transition uses), and re-read both."""
    case = Case.objects.select_for_update().get(pk=obligation.case_id)
    return case, Obligation.objects.select_for_update().get(pk=obligation.pk)


def _require_open(case: Case, obligation: Obligation) -> None:
    if case.status not in lifecycle.PERFORMANCE_STATUSES:
        raise InvalidInput(_("案件当前状态为“%(s)s”，不能登记履行情况。") % {"s": case.get_status_display()})
    if obligation.status not in OPEN:
        raise StaleState(_("该履行事项已是“%(s)s”，无需再次登记。请刷新页面查看。")
                         % {"s": obligation.get_status_display()})


def _require_obligee(actor: User, case: Case, obligation: Obligation) -> None:
    if obligation.obligee_id is None or obligation.obligee_id not in parties_acting(
        user=actor, case=case, authorised=True
    ):
        raise PermissionDenied(_("只有权利人本人或其特别授权的代理人可以确认收到履行或报告未履行；"
                                 "义务人履行后请上传履行凭证，由权利人确认。"))


def _facts(obligation: Obligation) -> dict[str, Any]:
    return {"obligation": obligation.pk, "clause": obligation.number,
            "amount": str(obligation.amount) if obligation.amount is not None else None,
            "due_date": obligation.due_date.isoformat() if obligation.due_date else None}


def obligation_confirm_receipt(*, obligation: Obligation, actor: User) -> Obligation:
    """The obligee confirms it received what the clause promised. When every obligation is confirmed, the
    platform closes the case as performed (PML 31)."""
    with transaction.atomic():
        case, obligation = _locked(obligation)
        _require_obligee(actor, case, obligation)
        _require_open(case, obligation)
        obligation.status = ObligationStatus.PERFORMED
        obligation.confirmed_at = timezone.now()
        obligation.confirmed_by = actor
        obligation.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        audit_append(kind="performance.confirmed", actor=actor, case=case, data={**_facts(obligation),
                                                                                 "rule": "PML 31"})
        all_done = not Obligation.objects.filter(case=case).exclude(status=ObligationStatus.PERFORMED).exists()
        if all_done and case.status == CaseStatus.PERFORMANCE_TRACKING:
            case_transition(case=case, to=CaseStatus.CLOSED_PERFORMED, actor=None,
                            data={"basis": "every obligation confirmed by the obligee"})
    return obligation


def obligation_report_default(*, obligation: Obligation, actor: User, note: str = "") -> Obligation:
    """The obligee reports that the obligation was not performed by its due date.

    With an enforceable title and within CPL 250's two years, a case in performance tracking becomes eligible
    for enforcement (and its 强制执行申请书 is rendered). Without a title the default is recorded and the case
    stays where it is: the agreement binds as a contract (PML 32-33). The audit event says which applied.
    """
    note = clean_single_line(note)
    if len(note) > NOTE_MAX:
        raise InvalidInput(_("情况说明不能超过%(n)d个字。") % {"n": NOTE_MAX})
    today = timezone.localdate()
    with transaction.atomic():
        case, obligation = _locked(obligation)
        _require_obligee(actor, case, obligation)
        _require_open(case, obligation)
        if obligation.due_date is not None and today <= obligation.due_date:
            raise InvalidInput(
                _("履行期限至%(d)s届满，期限届满后仍未履行的，才能报告未履行。")
                % {"d": f"{obligation.due_date:%Y-%m-%d}"}
            )
        obligation.status = ObligationStatus.DEFAULTED
        obligation.defaulted_at = timezone.now()
        obligation.defaulted_by = actor
        obligation.default_note = note
        obligation.save(update_fields=["status", "defaulted_at", "defaulted_by", "default_note"])
        title = enforceable_title(case)
        limit = enforcement_limit(case, title)
        lapsed = title is not None and limit.lapsed(today)
        if title is None:
            outcome = "contract_only"
        elif lapsed:
            outcome = "limit_lapsed"
        elif case.status == CaseStatus.PERFORMANCE_TRACKING:
            outcome = "enforcement_eligible"
        elif case.status == CaseStatus.ENFORCEMENT_ELIGIBLE:
            outcome = "enforcement_added"  # the application is issued again with this obligation too
        else:
            outcome = "recorded"
        audit_append(
            kind="performance.default_reported", actor=actor, case=case,
            data={**_facts(obligation), "note": note, "outcome": outcome, "enforceable": title is not None,
                  "title": title.number if title is not None else "",
                  "limit_last_day": limit.last_day.isoformat() if limit.last_day else None,
                  "rule": "CPL 250; PML 32-33"},
        )
        if outcome == "enforcement_added":
            send_on_commit(signals.enforcement_default_added, case_id=case.pk, obligation_id=obligation.pk)
        if outcome == "enforcement_eligible":
            assert title is not None
            assert limit.last_day is not None
            case_transition(case=case, to=CaseStatus.ENFORCEMENT_ELIGIBLE, actor=None,
                            data={"obligation": obligation.pk, "title": title.number,
                                  "limit_last_day": limit.last_day.isoformat()})
    return obligation


def obligation_proof_upload(*, obligation: Obligation, actor: User, file: File[Any]) -> PaymentProof:
    """The obligor (in person or through an agent) uploads proof it performed: type by content, size limit,
    SHA-256 storage and audit as for any evidence (``services.evidence``). The obligee then confirms."""
    with transaction.atomic():
        case, obligation = _locked(obligation)
        if obligation.obligor_id is None or obligation.obligor_id not in parties_acting(
            user=actor, case=case, authorised=False
        ):
            raise PermissionDenied(_("只有义务人一方可以上传本项的履行凭证；权利人收到履行后请直接确认。"))
        _require_open(case, obligation)
        evidence = evidence_upload(
            actor=actor, file=file, case=case, kind=EvidenceKind.PAYMENT_PROOF,
            title=_("履行凭证（调解协议第%(n)s条）") % {"n": obligation.number},
        )
        proof = PaymentProof.objects.create(obligation=obligation, evidence=evidence, uploaded_by=actor)
        if obligation.status == ObligationStatus.OPEN:
            obligation.status = ObligationStatus.PROOF_SUBMITTED
            obligation.save(update_fields=["status"])
        audit_append(kind="performance.proof_uploaded", actor=actor, case=case,
                     data={**_facts(obligation), "evidence": evidence.pk, "sha256": evidence.sha256,
                           "size": evidence.size, "content_type": evidence.content_type})
    return proof


def defaults_escalate(*, now: dt.datetime | None = None) -> int:
    """Move to ENFORCEMENT_ELIGIBLE each case in performance tracking that holds a reported default, an
    enforceable title and time left under CPL 250: a default reported before tracking began (during the
    parties' objection window, Interp 372) is acted on once it begins. Runs with the timer sweep; returns how
    many cases moved. A case that fails is logged and left for the next sweep."""
    today = timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()
    case_ids = list(
        Case.objects.filter(status=CaseStatus.PERFORMANCE_TRACKING, obligations__status=ObligationStatus.DEFAULTED)
        .values_list("pk", flat=True).distinct()
    )
    moved = 0
    for case_id in case_ids:
        try:
            with transaction.atomic():
                case = Case.objects.select_for_update().get(pk=case_id)
                if case.status != CaseStatus.PERFORMANCE_TRACKING:
                    continue
                title = enforceable_title(case)
                limit = enforcement_limit(case, title)
                if title is None or limit.last_day is None or limit.lapsed(today):
                    continue
                case_transition(case=case, to=CaseStatus.ENFORCEMENT_ELIGIBLE, actor=None,
                                data={"title": title.number, "limit_last_day": limit.last_day.isoformat(),
                                      "basis": "default reported before performance tracking began"})
                moved += 1
        except Exception:
            logger.exception("Escalating the default of case %s failed", case_id)
    return moved


# --- Reminders before each due date ----------------------------------------------------------------------------

AHEAD = "ahead"
ON_DAY = "due"


def obligations_remind(*, now: dt.datetime | None = None) -> int:
    """Remind the obligor of each open obligation ``REMINDER_DAYS_AHEAD`` days before its due date and on the
    day itself: an SMS to the party's number and an in-app message to its account, through the outbox, each
    once (claimed by a conditional update, so overlapping sweeps send one). Runs with the timer sweep.
    Returns how many reminders were sent."""
    now = now or timezone.now()
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    base = Obligation.objects.filter(
        status=ObligationStatus.OPEN, due_date__isnull=False, case__status__in=lifecycle.PERFORMANCE_STATUSES,
        obligor__isnull=False,
    )
    work = [
        (pk, ON_DAY) for pk in base.filter(due_date=today, reminded_due_at__isnull=True).values_list("pk", flat=True)
    ] + [
        (pk, AHEAD) for pk in base.filter(
            due_date__gt=today, due_date__lte=today + dt.timedelta(days=REMINDER_DAYS_AHEAD),
            reminded_ahead_at__isnull=True,
        ).values_list("pk", flat=True)
    ]
    sent = 0
    for pk, which in work:
        try:
            sent += _remind(obligation_id=pk, which=which, now=now)
        except Exception:
            logger.exception("Reminding obligation %s failed", pk)
    return sent


def _remind(*, obligation_id: int, which: str, now: dt.datetime) -> bool:
    field = "reminded_due_at" if which == ON_DAY else "reminded_ahead_at"
    with transaction.atomic():
        claimed = Obligation.objects.filter(pk=obligation_id, status=ObligationStatus.OPEN,
                                            **{f"{field}__isnull": True}).update(**{field: now})
        if claimed != 1:
            return False
        obligation = Obligation.objects.select_related("case", "obligor", "obligor__user").get(pk=obligation_id)
        assert obligation.due_date is not None
        assert obligation.obligor is not None
        case, party = obligation.case, obligation.obligor
        due = obligation.due_date
        when = (_("为今日（%(y)d年%(m)d月%(d)d日）") if which == ON_DAY else _("至%(y)d年%(m)d月%(d)d日届满")) % {
            "y": due.year, "m": due.month, "d": due.day}
        context = {"reference": case.reference, "number": str(obligation.number), "when": when,
                   "link": nt.site_url("case_detail", args=(case.pk,))}
        key = f"obligation:{obligation.pk}:{which}"
        phone = party.phone or (party.user.phone if party.user else "")
        outcome: dict[str, Any] = {"party": party.pk, "phone": mask_phone(phone)}
        if phone:
            message = outbox_enqueue(channel=MessageChannel.SMS, address=phone, template=nt.OBLIGATION_REMINDER,
                                     context=context, idempotency_key=f"{key}:sms", recipient=party.user, case=case,
                                     language=settings.LANGUAGE_CODE)
            outcome["sms"] = message.pk
        if party.user is not None:
            in_app = outbox_enqueue(channel=MessageChannel.IN_APP, address="", template=nt.OBLIGATION_REMINDER,
                                    context=context, idempotency_key=f"{key}:app", recipient=party.user, case=case,
                                    language=settings.LANGUAGE_CODE)
            outcome["in_app"] = in_app.pk
        audit_append(kind="performance.reminded", actor=None, case=case,
                     data={**_facts(obligation), "which": which, **outcome})
    return True
