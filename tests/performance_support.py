"""An agreement with a schedule: two payments (the second an "instalment" a month later), a performance clause
without a deadline and a waiver, taken to effect through the services; then either left unconfirmed (performance
tracking once the 30-day window closes) or confirmed by the court and served (CPL 206; Interp 372)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.utils import timezone

from mediation.choices import CaseStatus, ClauseKind
from mediation.models import Case, Obligation
from mediation.services.agreements import agreement_clause_add
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_application_receive,
    confirmation_rule,
    confirmation_ruling_served,
)
from mediation.services.timer_sweep import timers_sweep
from tests.agreement_support import assent_all, draft_labour_agreement, open_signing, parties_of

S = CaseStatus
RULING_NUMBER = "（2026）京0101民特12号"
START = (2026, 3, 2, 10)  # a Monday
FIRST_DUE = dt.date(2026, 4, 1)  # draft_labour_agreement: today + 30 days
SECOND_DUE = dt.date(2026, 5, 1)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_default_timezone())


def effective(world) -> Case:
    """A case whose agreement took effect on START (call under time_machine at START)."""
    agreement = draft_labour_agreement(world, assent=False)
    applicant, respondent = parties_of(agreement.case)
    agreement_clause_add(
        agreement=agreement, actor=world.mediator, kind=ClauseKind.PERFORMANCE, obligor=respondent,
        obligee=applicant, subject="为申请人出具离职证明",
    )
    agreement_clause_add(
        agreement=agreement, actor=world.mediator, kind=ClauseKind.PAYMENT, obligor=respondent, obligee=applicant,
        subject="经济补偿金（第二期）", amount=Decimal("3000.00"), method="银行转账", deadline=SECOND_DUE,
    )
    assent_all(world, agreement)
    agreement.refresh_from_db()
    open_signing(world, agreement)
    return world.drive(Case.objects.get(pk=agreement.case_id), S.AGREEMENT_EFFECTIVE)


def unconfirmed(world, traveller: time_machine.Coordinates) -> Case:
    """Nobody applied for confirmation: the 30-day window closed and tracking began (an ordinary contract)."""
    case = world.drive(effective(world), S.CLOSED_SETTLED)
    traveller.move_to(local(2026, 4, 2, 9))
    timers_sweep()
    case = Case.objects.get(pk=case.pk)
    assert case.status == S.PERFORMANCE_TRACKING
    return case


def confirmed(world, traveller: time_machine.Coordinates) -> Case:
    """Confirmed by the court on START, ruling served; the 15-day objection window closed into tracking."""
    case = world.drive(effective(world), S.CLOSED_SETTLED)
    confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64)
    case = Case.objects.get(pk=case.pk)
    confirmation_accept(case=case, actor=world.judge, case_number=RULING_NUMBER)
    confirmation_rule(case=Case.objects.get(pk=case.pk), actor=world.judge, confirm=True)
    confirmation_ruling_served(case=Case.objects.get(pk=case.pk), actor=world.clerk)
    traveller.move_to(local(2026, 3, 20, 9))
    timers_sweep()
    case = Case.objects.get(pk=case.pk)
    assert case.status == S.PERFORMANCE_TRACKING, case.status
    return case


def obligations(case: Case) -> list[Obligation]:
    return list(Obligation.objects.filter(case=case).order_by("number"))
