"""Issuing documents: build the frozen data, render it, hash and store the PDF, audit (legal-rules §B7, §C).

An issued ``Document`` is never edited. A correction is ``document_reissue``: the same kind rendered again
from the case as it now stands, as version n+1 pointing at version n (``supersedes``).

Signature boxes (for the signing step): every template gives each signer an empty box
``<div class="sig-box" id="sig-<field>">``. At render time the layout position of each box is read from
WeasyPrint and stored in ``Document.data["layout"]["signature_boxes"]`` as
``{field: {"page": <index from 0>, "rect": [x1, y1, x2, y2]}}`` in PDF points, origin at the bottom left of
the page (pyHanko's ``SigFieldSpec(box=..., on_page=...)`` takes exactly that). ``signature_boxes(document)``
returns it as ``{field: (page, (x1, y1, x2, y2))}``. The field names are
``party_<Party.pk>`` (one per party side: the party or an agent with special authority signs it, CPL 62),
``mediator_<User.pk>`` and ``org_<Organisation.pk>`` (the organisation's e-seal, a round box);
``Document.data["signers"]`` lists them in signing order with role, label, name and ids.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from documents import data as builders
from documents.models import Document
from documents.rendering import renderer
from mediation import lifecycle
from mediation import transitions as tr
from mediation.choices import DocumentKind
from mediation.exceptions import DomainError, InvalidInput, PermissionDenied, StaleState
from mediation.models import Agreement, Case, User
from mediation.permissions import case_roles
from mediation.services.audit import audit_append

logger = logging.getLogger(__name__)

# Who may issue or correct a document by hand: the case's mediator, the organisation's administrator and
# the court's clerk. The platform (actor None) issues what a status calls for.
ISSUER_ROLES = frozenset({tr.MEDIATOR, tr.ORG_ADMIN, tr.CLERK})
# The court's ruling is the deciding judge's document (legal-rules §C4): only a judge of the case's court issues
# or corrects it, and the platform issues it when the decision's status commits.
# So is the 民事调解书 (§C5): the judge prepares it from the effective agreement on a party's request.
KIND_ISSUER_ROLES: dict[str, frozenset[str]] = {DocumentKind.RULING: frozenset({tr.JUDGE}),
                                                DocumentKind.MEDIATION_DOCUMENT: frozenset({tr.JUDGE})}

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
CODE_LENGTH = 10
NEEDS_AGREEMENT = frozenset({DocumentKind.AGREEMENT, DocumentKind.JC_APPLICATION, DocumentKind.PRESIDING_PROOF,
                             DocumentKind.ENFORCEMENT_APPLICATION})

Box = tuple[int, tuple[float, float, float, float]]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def build_data(
    *, case: Case, kind: str, agreement: Agreement | None = None, notes: dict[str, str] | None = None,
    issuer: User | None = None,
) -> dict[str, Any]:
    """The frozen data for ``kind`` (see ``documents.data``). ``issuer`` is the judge who prepares a 民事调解书."""
    now = timezone.now()
    if kind in NEEDS_AGREEMENT:
        agreement = agreement or builders.latest_agreement(case)
        if agreement is None:
            raise InvalidInput(_("本案尚无调解协议，无法生成“%(kind)s”。") % {"kind": DocumentKind(kind).label})
        if agreement.case_id != case.pk:
            raise InvalidInput(_("该调解协议不属于本案。"))
    if kind == DocumentKind.AGREEMENT:
        assert agreement is not None
        return builders.agreement_document_data(case, agreement, now=now)
    if kind == DocumentKind.TRANSCRIPT:
        return builders.transcript_data(case, now=now)
    if kind == DocumentKind.JC_APPLICATION:
        assert agreement is not None
        return builders.jc_application_data(case, agreement, now=now)
    if kind == DocumentKind.PRESIDING_PROOF:
        assert agreement is not None
        if case.mediation_organisation_id is None:
            raise InvalidInput(_("本案没有调解组织主持调解，不出具主持调解的证明。"))
        return builders.presiding_proof_data(case, agreement, now=now)
    if kind == DocumentKind.ENFORCEMENT_APPLICATION:
        assert agreement is not None
        return builders.enforcement_application_data(case, agreement, now=now)
    if kind == DocumentKind.FAILURE_REPORT:
        return builders.failure_report_data(case, now=now, notes=notes)
    if kind == DocumentKind.RULING:
        return builders.ruling_data(case, now=now)
    if kind == DocumentKind.FEE_NOTICE:
        return builders.fee_notice_data(case, now=now, notes=notes)
    if kind == DocumentKind.MEDIATION_DOCUMENT:
        return builders.mediation_document_data(case, now=now, judge=issuer)
    raise InvalidInput(_("未知的文书种类：%(kind)s。") % {"kind": kind})


def render_document(*, data: dict[str, Any], code: str, version: int) -> tuple[bytes, int, dict[str, Box]]:
    """Render frozen data to (PDF, page count, signature boxes). Pure: the same data gives the same layout."""
    html = render_to_string(f"documents/{data['kind']}.html", {"d": data, "code": code, "version": version})
    result = renderer().render(html)
    return result.pdf, result.pages, result.signature_boxes


def _check_issuer(actor: User | None, case: Case, kind: str) -> None:
    if actor is None:
        return
    if kind in KIND_ISSUER_ROLES:
        if not case_roles(actor, case) & KIND_ISSUER_ROLES[kind]:
            raise PermissionDenied(_("%(kind)s只能由受理本案的人民法院的法官生成。")
                                   % {"kind": DocumentKind(kind).label})
        return
    if not case_roles(actor, case) & ISSUER_ROLES:
        raise PermissionDenied(_("只有本案的调解员、调解组织管理员或法院立案人员可以生成文书。"))


def _current(case: Case, kind: str) -> Document | None:
    return Document.objects.filter(case=case, kind=kind, superseded_by__isnull=True).order_by("-version").first()


def document_issue(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    agreement: Agreement | None = None,
    notes: dict[str, str] | None = None,
    reason: str = "",
) -> Document:
    """Issue ``kind`` for ``case``: frozen data, PDF, SHA-256, page count, a short verification code, the
    file in Django storage, and ``document.issued`` in the audit trail. If the kind was issued before, the
    new document is the next version and supersedes the current one. ``actor`` None is the platform.
    ``notes`` feed the failure report's narrative fields (``narrative``, ``failure_reasons``,
    ``cost_conduct``, ``court_matters``)."""
    _check_issuer(actor, case, kind)
    data = build_data(case=case, kind=kind, agreement=agreement, notes=notes, issuer=actor)
    previous = _current(case, kind)
    version = previous.version + 1 if previous is not None else 1
    code = new_code()
    pdf, pages, boxes = render_document(data=data, code=code, version=version)
    data["layout"] = {"signature_boxes": {name: {"page": page, "rect": list(rect)} for name, (page, rect) in
                                          boxes.items()}}
    digest = hashlib.sha256(pdf).hexdigest()
    name = default_storage.save(f"documents/{case.reference}/{kind}-v{version}-{code}.pdf", ContentFile(pdf))
    try:
        with transaction.atomic():
            # The case row orders concurrent issues of one case: the second sees the first's version.
            Case.objects.select_for_update().filter(pk=case.pk).first()
            if _current(case, kind) != previous:
                raise StaleState(_("该文书刚刚已由他人生成新版本，请刷新后查看。"))
            document = Document.objects.create(
                case=case, kind=kind, title=data["title"], number=data.get("number", ""), version=version,
                supersedes=previous, agreement_id=(data.get("agreement") or {}).get("id"), data=data, pdf=name,
                sha256=digest, size=len(pdf), pages=pages, code=code, issued_by=actor,
            )
            audit_append(
                kind="document.issued", actor=actor, case=case,
                data={"document": document.pk, "kind": kind, "title": document.title, "version": version,
                      "sha256": digest, "code": code, "pages": pages,
                      "supersedes": previous.pk if previous is not None else None, "reason": reason},
            )
    except (StaleState, IntegrityError) as exc:
        default_storage.delete(name)
        if isinstance(exc, IntegrityError):
            raise StaleState(_("该文书刚刚已由他人生成新版本，请刷新后查看。")) from exc
        raise
    return document


def document_reissue(*, document: Document, actor: User, reason: str) -> Document:
    """A correction: the same kind issued again from the case as it stands now, superseding ``document``.
    The old version stays, unchanged and verifiable; signatures on it do not carry over."""
    if not reason.strip():
        raise InvalidInput(_("请写明更正理由。"))
    current = _current(document.case, document.kind)
    if current is None or current.pk != document.pk:
        raise StaleState(_("该文书已有更新的版本，请在最新版本上更正。"))
    return document_issue(case=document.case, kind=document.kind, actor=actor, agreement=document.agreement,
                          notes=document.data.get("notes"), reason=reason.strip())


def signature_boxes(document: Document) -> dict[str, Box]:
    """Where each signer's box is: ``{field: (page index, (x1, y1, x2, y2) in PDF points)}``."""
    stored = (document.data.get("layout") or {}).get("signature_boxes") or {}
    return {name: (int(box["page"]), (box["rect"][0], box["rect"][1], box["rect"][2], box["rect"][3]))
            for name, box in stored.items()}


# --- The documents a status produces (``mediation.lifecycle.STATUS_DOCUMENTS``), after it commits ------------


def kinds_for(case: Case, status: str) -> list[str]:
    """The document kinds ``status`` produces for ``case``."""
    return lifecycle.documents_for_status(
        origin=case.origin, has_organisation=case.mediation_organisation_id is not None, status=status
    )


@shared_task(name="documents.tasks.documents_for_transition")
def documents_for_transition(*, case_id: int, status: str, actor_id: int | None) -> list[int]:
    """Render and issue the documents for ``status``; returns the new documents' ids.

    Idempotent: a kind already issued for the case (for the agreement: for that agreement version) is not
    issued again; corrections are ``document_reissue``.
    """
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
            # Mediators and the platform move a case into these statuses, and the court's judge into the decided
            # ones (whose ruling is the judge's), so the actor may issue.
            document = document_issue(case=case, kind=kind, actor=actor, agreement=agreement)
        except StaleState:
            continue  # a concurrent run issued it first
        except DomainError:
            logger.exception("document %s for case %s at %s could not be issued", kind, case_id, status)
            continue
        issued.append(document.pk)
    return issued


@shared_task(name="documents.tasks.enforcement_application_refresh")
def enforcement_application_refresh(*, case_id: int) -> int | None:
    """Issue the 强制执行申请书 again after a further default (``signals.enforcement_default_added``): the new
    version supersedes the old and asks for every defaulted obligation. Returns the new document's id, or None
    when it could not be issued (logged)."""
    case = Case.objects.select_related("court", "mediation_organisation").get(pk=case_id)
    try:
        document = document_issue(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION, actor=None,
                                  reason="further default reported")
    except DomainError:
        logger.exception("enforcement application for case %s could not be issued again", case_id)
        return None
    return document.pk
