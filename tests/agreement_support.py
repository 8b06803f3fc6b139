"""A typical labour agreement drafted through the services, for the agreement, documents and signing tests.

``draft_labour_agreement(world)`` walks a new case to IN_MEDIATION, has the mediator draft two clauses (the
employer pays the wages by bank transfer before a deadline; the worker waives the remaining claims) and, unless
told otherwise, has both parties assent to both; ``open_signing`` then freezes it and moves the case to SIGNING.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from mediation.choices import CaseStatus, ClauseKind, PartyRole
from mediation.models import Agreement, Case, Party
from mediation.services.agreements import (
    agreement_clause_add,
    agreement_clause_assent,
    agreement_open_signing,
    agreement_start,
    agreement_update,
)

FACTS = "申请人自2025年6月起在被申请人处工作，被申请人拖欠申请人2026年3月至5月工资共计12,000元。"
DISPUTED = "被申请人是否应支付拖欠的工资及支付期限。"


def parties_of(case: Case) -> tuple[Party, Party]:
    """(applicant, respondent) of a case made by ``world.new_case``."""
    return (
        Party.objects.get(case=case, role=PartyRole.APPLICANT),
        Party.objects.get(case=case, role=PartyRole.RESPONDENT),
    )


def draft_labour_agreement(world, case: Case | None = None, *, assent: bool = True) -> Agreement:
    case = case or world.new_case()
    if case.status != CaseStatus.AGREEMENT_DRAFT:
        case = world.drive(case, CaseStatus.IN_MEDIATION)
    agreement = agreement_start(case=case, actor=world.mediator)
    agreement = agreement_update(agreement=agreement, actor=world.mediator, facts=FACTS, disputed_matters=DISPUTED)
    applicant, respondent = parties_of(case)
    agreement_clause_add(
        agreement=agreement, actor=world.mediator, kind=ClauseKind.PAYMENT, obligor=respondent, obligee=applicant,
        subject="2026年3月至5月拖欠的工资", amount=Decimal("12000.00"), method="银行转账",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        breach="逾期未付的，被申请人另行支付违约金1,000元",
    )
    agreement_clause_add(
        agreement=agreement, actor=world.mediator, kind=ClauseKind.OTHER,
        text="申请人放弃其他请求，双方就本案劳动报酬纠纷再无其他争议。",
    )
    if assent:
        assent_all(world, agreement)
    agreement.refresh_from_db()
    return agreement


def assent_all(world, agreement: Agreement) -> None:
    """Both parties assent, in person, to every clause as it reads now."""
    applicant, respondent = parties_of(agreement.case)
    for clause in agreement.clauses.order_by("number"):
        agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant)
        agreement_clause_assent(clause=clause, actor=world.respondent, party=respondent)


def open_signing(world, agreement: Agreement) -> Agreement:
    """Freeze the agreement and move the case to SIGNING, as the mediator does."""
    return agreement_open_signing(agreement=agreement, actor=world.mediator)
