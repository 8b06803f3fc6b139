"""A case brought to each decision on its confirmation application, with the court's ruling issued (the
platform's task for the decided status, ``documents_for_transition``, as the receiver runs it after commit)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from documents.models import Document
from documents.services.issuing import documents_for_transition
from mediation.choices import CaseStatus, DismissalGround, DocumentKind, NotAcceptGround
from mediation.models import Case
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_allow_withdrawal,
    confirmation_application_receive,
    confirmation_deem_withdrawn,
    confirmation_not_accept,
    confirmation_request_supplement,
    confirmation_rule,
)
from tests.agreement_support import draft_labour_agreement

S = CaseStatus
NUMBER = "（2026）京0101民特7号"
VARIANTS = ("confirmed", "dismissed", "not_accepted", "withdrawn", "deemed_withdrawn")


def decided(world, variant: str, *, number: str = NUMBER) -> Case:
    """A case with an agreement, its joint application received, and the judge's decision ``variant``."""
    case = world.new_case()
    draft_labour_agreement(world, case)
    case = world.drive(Case.objects.get(pk=case.pk), S.CLOSED_SETTLED)
    confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64)
    case = Case.objects.get(pk=case.pk)
    judge = world.judge
    if variant == "not_accepted":
        confirmation_not_accept(case=case, actor=judge, ground=NotAcceptGround.OWNERSHIP, note="协议第二条涉及房屋确权")
    elif variant == "deemed_withdrawn":
        confirmation_request_supplement(case=case, actor=judge, items="补充被申请人的营业执照复印件", days=3)
        with time_machine.travel(timezone.now() + dt.timedelta(days=5), tick=False):
            confirmation_deem_withdrawn(case=Case.objects.get(pk=case.pk), actor=judge)
    else:
        confirmation_accept(case=case, actor=judge, case_number=number)
        case = Case.objects.get(pk=case.pk)
        if variant == "confirmed":
            confirmation_rule(case=case, actor=judge, confirm=True)
        elif variant == "dismissed":
            confirmation_rule(case=case, actor=judge, confirm=False, ground=DismissalGround.UNCLEAR,
                              note="协议第一条的履行方式不明确")
        else:
            confirmation_allow_withdrawal(case=case, actor=judge, note="申请人于审查期间书面申请撤回")
    return Case.objects.get(pk=case.pk)


def issued_ruling(world, case: Case) -> Document:
    """What the receiver does once the decision commits: the ruling, the judge as its issuer. (Where commits
    run their callbacks, as in a browser test, the receiver has issued it already.)"""
    documents_for_transition(case_id=case.pk, status=case.status, actor_id=world.judge.pk)
    return Document.objects.get(case=case, kind=DocumentKind.RULING)
