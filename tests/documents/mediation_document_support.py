"""A court-filed case whose party asked for a 民事调解书 (legal-rules §A12 art. 4, §C5), with an effective agreement."""

from __future__ import annotations

from documents.models import Document
from documents.services.mediation_document import mediation_document_prepare
from mediation.choices import CaseStatus, ClauseKind
from mediation.models import Case
from mediation.services.agreements import agreement_clause_add, agreement_clause_assent
from mediation.services.court_filed import court_filed_materials_receive, mediation_document_request
from tests.agreement_support import draft_labour_agreement, open_signing, parties_of
from tests.court_filed_support import both_consent, filed_case

NUMBER = "（2026）京0101民初88号"
COSTS = "案件受理费50元，减半收取25元，由被告负担。"


def requested(world, *, costs: bool = True) -> Case:
    """A court-filed case (number ``NUMBER``), mediated to an effective agreement (with a costs clause when
    ``costs``), and the respondent's lawyer's request for a 民事调解书."""
    case = filed_case(world, to=CaseStatus.ACCEPTED)
    Case.objects.filter(pk=case.pk).update(court_case_number=NUMBER, claims="判令被告支付拖欠工资12,000元")
    both_consent(world, case)
    court_filed_materials_receive(case=Case.objects.get(pk=case.pk), actor=world.mediator)
    case = world.drive(Case.objects.get(pk=case.pk), CaseStatus.IN_MEDIATION)
    agreement = draft_labour_agreement(world, case, assent=True)
    if costs:
        clause = agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.COSTS, text=COSTS)
        applicant, respondent = parties_of(case)
        agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant)
        agreement_clause_assent(clause=clause, actor=world.respondent, party=respondent)
    agreement.refresh_from_db()
    open_signing(world, agreement)  # frozen: its clauses become the obligations when it takes effect
    case = world.drive(Case.objects.get(pk=case.pk), CaseStatus.AGREEMENT_EFFECTIVE)
    return mediation_document_request(case=case, actor=world.lawyer)


def prepared(world, case: Case) -> Document:
    return mediation_document_prepare(case=case, actor=world.judge)
