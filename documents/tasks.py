"""Background rendering of the documents a case's status calls for (run after the status commits).

SIGNING → the agreement (its variant from the agreement) and the record of the sessions;
AGREEMENT_EFFECTIVE → the joint confirmation application (not for 委托 cases, which end in a court 调解书,
OMR 20) and, when an organisation presided, its proof of presiding; TERMINATED → the failure report
(OMR 21). Idempotent: a kind already issued for the case (for the agreement: for that agreement version)
is not issued again; corrections are ``document_reissue``.
"""

from __future__ import annotations

import logging

from celery import shared_task

from mediation.choices import CaseOrigin, CaseStatus, DocumentKind

logger = logging.getLogger(__name__)

STATUS_DOCUMENTS: dict[str, tuple[str, ...]] = {
    CaseStatus.SIGNING: (DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT),
    CaseStatus.AGREEMENT_EFFECTIVE: (DocumentKind.JC_APPLICATION, DocumentKind.PRESIDING_PROOF),
    CaseStatus.TERMINATED: (DocumentKind.FAILURE_REPORT,),
}
DOCUMENT_STATUSES: frozenset[str] = frozenset(STATUS_DOCUMENTS)


def kinds_for(case: object, status: str) -> list[str]:
    from mediation.models import Case

    assert isinstance(case, Case)
    kinds = list(STATUS_DOCUMENTS.get(status, ()))
    if case.origin == CaseOrigin.ENTRUSTED and DocumentKind.JC_APPLICATION in kinds:
        kinds.remove(DocumentKind.JC_APPLICATION)
    if case.mediation_organisation_id is None and DocumentKind.PRESIDING_PROOF in kinds:
        kinds.remove(DocumentKind.PRESIDING_PROOF)
    return kinds


@shared_task(name="documents.tasks.documents_for_transition")
def documents_for_transition(*, case_id: int, status: str, actor_id: int | None) -> list[int]:
    """Render and issue the documents for ``status``; returns the new documents' ids."""
    from documents import data as builders
    from documents.models import Document
    from documents.services.issuing import document_issue
    from mediation.exceptions import DomainError, StaleState
    from mediation.models import Case, User

    case = Case.objects.select_related("court", "mediation_organisation").get(pk=case_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    issued: list[int] = []
    for kind in kinds_for(case, status):
        existing = Document.objects.filter(case=case, kind=kind)
        agreement = None
        if kind == DocumentKind.AGREEMENT:
            agreement = builders.latest_agreement(case)
            existing = existing.filter(agreement=agreement)
        if existing.exists():
            continue
        try:
            # Only mediators and the platform move a case into these statuses, so the actor may issue.
            document = document_issue(case=case, kind=kind, actor=actor, agreement=agreement)
        except StaleState:
            continue  # a concurrent run issued it first
        except DomainError:
            logger.exception("document %s for case %s at %s could not be issued", kind, case_id, status)
            continue
        issued.append(document.pk)
    return issued
