"""The filing-fee notice of a court-filed case that failed in mediation (legal-rules §A12 arts. 5-6, §B13):
before the case goes back to trial the court notifies the plaintiffs to pay the filing fee by a deadline; paid,
trial resumes (``mediation.services.court_filed.court_filed_fee_paid``); unpaid at the deadline, the FILING_FEE
clock moves the case to DEEMED_WITHDRAWN (``lifecycle.TIMER_RULES``).

Here because the notice is a document (``documents.data.fee_notice_data``, ``fee_notice.html``): issuing it
and serving it (``mediation.services.service.document_serve``) happen in the same transaction as the move to
FEE_PENDING and the start of the clock, so a notice that cannot be served leaves the case as it was.
"""

from __future__ import annotations

import decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from documents.models import Document
from documents.services.issuing import document_issue
from mediation.choices import CaseOrigin, CaseStatus, DocumentKind, PartyRole, TimerKind
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import Case, ServiceRecord, User
from mediation.permissions import may_take_action
from mediation.services.cases import case_transition
from mediation.services.service import document_serve
from mediation.services.timers import timer_start_ordered

MAX_DAYS = 30  # a deadline the court sets; longer than a month would only prolong the case (§A12 art. 1)


def _amount(value: Any) -> decimal.Decimal:
    try:
        amount = decimal.Decimal(str(value).replace(",", "").strip())
    except (decimal.InvalidOperation, ValueError):
        raise InvalidInput(_("案件受理费“%(value)s”不是有效的金额。") % {"value": value}) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(decimal.Decimal("0.01")) or amount >= 10**10:
        raise InvalidInput(_("案件受理费应为大于0的金额（元），最多两位小数。"))
    return amount


def _days(value: Any) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(_("交费期限须为整数天数。")) from None
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_("交费期限须为1至%(max)d日。") % {"max": MAX_DAYS})
    return days


def fee_notice_issue(*, case: Case, actor: User, amount: Any, days: Any) -> tuple[Document, list[ServiceRecord]]:
    """The court's clerk issues the fee notice of a court-filed case whose mediation ended without agreement,
    and serves it on every plaintiff (applicant); the case moves to FEE_PENDING and the payment clock starts.
    Every plaintiff must be reachable by electronic service for the litigation stage: otherwise nothing is
    written and the clerk is told who is missing."""
    value = _amount(amount)
    length = _days(days)
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("court").get(pk=case.pk)
        if locked.origin != CaseOrigin.COURT_FILED:
            raise InvalidInput(_("本案不是立案后委托调解案件，不适用交纳案件受理费通知。"))
        if not may_take_action(actor, locked, "issue_fee_notice"):
            raise PermissionDenied(_("只有本案管辖法院的书记员（立案/诉讼服务人员）可以发出交费通知。"))
        if locked.status != CaseStatus.TERMINATED:
            raise StaleState(
                _("案件当前状态为“%(status)s”：调解终结后、转入审理前才能发出交费通知。")
                % {"status": CaseStatus(locked.status).label}
            )
        payers = list(locked.parties.filter(role=PartyRole.APPLICANT).select_related("user").order_by("pk"))
        if not payers:
            raise InvalidInput(_("本案没有原告（申请人），无法发出交费通知。"))
        locked = case_transition(
            case=locked, to=CaseStatus.FEE_PENDING, actor=actor, action="issue_fee_notice",
            data={"amount": str(value), "days": length},
        )
        assert locked.status_changed_at is not None
        timer_start_ordered(case=locked, kind=TimerKind.FILING_FEE, length=length, actor=actor,
                            at=locked.status_changed_at)
        document = document_issue(case=locked, kind=DocumentKind.FEE_NOTICE, actor=actor,
                                  notes={"amount": str(value)})
        with document.pdf.open("rb") as handle:
            pdf = handle.read()
        records = [
            document_serve(case=locked, recipient=payer, document_title=document.title, actor=actor,
                           document_bytes=pdf, document_number=document.number)
            for payer in payers
        ]
    return document, records
