"""The failure report (§C8) once mediation ends without agreement, and what it reports (OMR 21; SIM 21; PML 26).

When a case is TERMINATED: a 委派 case is first handed to the referring court's filing queue (the court must file,
OMR 21(2)); then the report is issued, reading what the records show, and served on every party through the
e-service module with its receipts (PML 26: the report tells them the remedies that remain). When a party later
chooses online filing (REFER_TO_FILING, OMR 21(1)), the report is issued again, superseding the first, now stating
the hand-over with its date and court, and served again.
"""

from __future__ import annotations

import logging

from celery import shared_task

from documents.models import Document
from documents.services.issuing import document_issue, documents_for_transition
from documents.services.signing import document_latest_revision, serve_on_parties
from mediation.choices import CaseStatus, DocumentKind
from mediation.exceptions import DomainError
from mediation.models import Case
from mediation.services.filing import filing_hand_over_delegated

logger = logging.getLogger(__name__)


def _serve(document: Document, case: Case) -> None:
    data, _digest = document_latest_revision(document)
    serve_on_parties(document=document, case=case, data=data)


@shared_task(name="documents.tasks.failure_report_for_status")
def failure_report_for_status(*, case_id: int, status: str, actor_id: int | None) -> list[int]:
    """After TERMINATED or REFER_TO_FILING commits: hand a 委派 case to the court, issue (or re-issue) the failure
    report and serve it on every party. Returns the issued documents' ids."""
    case = Case.objects.select_related("court", "mediation_organisation").get(pk=case_id)
    issued: list[int] = []
    if status == CaseStatus.TERMINATED:
        try:
            filing_hand_over_delegated(case=case)
        except DomainError:
            logger.exception("case %s could not be handed to the court's filing queue", case_id)
        case.refresh_from_db()
        issued = documents_for_transition(case_id=case_id, status=status, actor_id=actor_id)
    elif status == CaseStatus.REFER_TO_FILING:
        current = Document.objects.filter(case=case, kind=DocumentKind.FAILURE_REPORT,
                                          superseded_by__isnull=True).order_by("-version").first()
        try:
            document = document_issue(case=case, kind=DocumentKind.FAILURE_REPORT, actor=None,
                                      notes=current.data.get("notes") if current is not None else None,
                                      reason="当事人选择在线立案，材料已提交法院立案队列（OMR 21(1)）")
        except DomainError:
            logger.exception("failure report for case %s could not be re-issued", case_id)
            return []
        issued = [document.pk]
    for document in Document.objects.filter(pk__in=issued, kind=DocumentKind.FAILURE_REPORT):
        _serve(document, case)
    return issued
