"""Reads of issued documents, already filtered by permission."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from documents.models import Document, ExternalDocument
from mediation import transitions as tr
from mediation.choices import DocumentKind
from mediation.exceptions import NotFound
from mediation.models import Case, User
from mediation.permissions import case_roles

# The parties and their agents, the case's mediators, the court's clerks and judges, and the presiding
# organisation's administrator (who applies its seal). Nobody else, however senior elsewhere.
DOCUMENT_READERS = frozenset({tr.PARTY, tr.MEDIATOR, tr.CLERK, tr.JUDGE, tr.ORG_ADMIN})
# The court's ruling is the court's until the judge approved and sealed it: before that only the court sees it.
COURT_ROLES = frozenset({tr.CLERK, tr.JUDGE})
# The court's documents (the ruling, §C4; the 民事调解书, §C5): drafts of the court until the judge signs.
COURT_DOCUMENT_KINDS = frozenset({DocumentKind.RULING, DocumentKind.MEDIATION_DOCUMENT})


def document_released_to(user: User | None, document: Document) -> bool:
    """Whether ``user`` (already a reader of the case) may see ``document`` yet: a ruling not yet approved
    and sealed (or a 民事调解书 not yet approved) is a draft of the court, not shown to the parties, the mediator
    or the organisation."""
    if document.kind not in COURT_DOCUMENT_KINDS:
        return True
    return bool(case_roles(user, document.case) & COURT_ROLES) or document.signatures.exists()


def can_view_documents(user: User | None, case: Case) -> bool:
    return bool(case_roles(user, case) & DOCUMENT_READERS)


def documents_for_case(*, user: User, case: Case) -> QuerySet[Document]:
    """Every version of every document of ``case``, newest version first within each kind."""
    if not can_view_documents(user, case):
        raise NotFound(_("案件不存在或您无权查看。"))
    documents = Document.objects.filter(case=case).select_related("supersedes").order_by("kind", "-version")
    if not case_roles(user, case) & COURT_ROLES:
        documents = documents.exclude(kind__in=COURT_DOCUMENT_KINDS, signatures__isnull=True)
    return documents


def external_documents_for_case(*, user: User, case: Case) -> QuerySet[ExternalDocument]:
    """The rulings and 调解书 the court's own system pushed (``ExternalDocument``), for the same readers as the
    case's issued documents. They are the court's issued papers, never drafts: every reader sees them."""
    if not can_view_documents(user, case):
        raise NotFound(_("案件不存在或您无权查看。"))
    return ExternalDocument.objects.filter(case=case).select_related("issuing_court").order_by("received_at", "pk")


def external_document_get_for_user(*, user: User, pk: int) -> ExternalDocument:
    row = ExternalDocument.objects.select_related("case", "issuing_court").filter(pk=pk).first()
    if row is None or not can_view_documents(user, row.case):
        raise NotFound(_("文书不存在或您无权查看。"))
    return row


def document_get_for_user(*, user: User, pk: int) -> Document:
    document = Document.objects.select_related("case", "case__court", "case__mediation_organisation").filter(
        pk=pk
    ).first()
    if document is None or not can_view_documents(user, document.case) or not document_released_to(user, document):
        # The same answer for "absent" and "not yours": an outsider learns nothing from the id.
        raise NotFound(_("文书不存在或您无权查看。"))
    return document
