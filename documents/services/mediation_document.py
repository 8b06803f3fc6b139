"""The court's 民事调解书 in a court-filed case (legal-rules §A12 art. 4, §B13, §C5; CPL 100; Interp 133, 149).

A party's express request moves the case to MEDIATION_DOCUMENT_REQUESTED (``services.court_filed``); the court's
judges are told (``mediation_document_requested_notify``). A judge of the case's court prepares the document
from the effective agreement on the court's page (``mediation_document_prepare``), then approves it on the
signing page by signing as 审判员 with the court's e-seal following in the same transaction, exactly as a ruling
(``documents.services.signing``: both are court documents). The sealed document is served on every party by
e-service requiring sign-for; once every party has signed for it, it takes effect at the last sign-for and the
case moves to performance tracking (``services.court_filed.mediation_document_signed_for``), which this module
mirrors on the document row (``mediation_document_mark_effective``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from documents.models import Document, DocumentSignature
from documents.services.issuing import document_issue
from mediation import notification_templates as nt
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, DocumentKind, MessageChannel, Role
from mediation.exceptions import InvalidInput, PermissionDenied, TransitionNotAllowed
from mediation.models import Case, Membership, User
from mediation.permissions import case_roles
from mediation.services.audit import audit_append
from mediation.services.outbox import outbox_enqueue


def current_mediation_document(case: Case) -> Document | None:
    return Document.objects.filter(case=case, kind=DocumentKind.MEDIATION_DOCUMENT,
                                   superseded_by__isnull=True).order_by("-version").first()


def mediation_document_prepare(*, case: Case, actor: User) -> Document:
    """A judge of the case's court prepares the 民事调解书 from the effective agreement (§C5), while the party's
    request waits. A draft not yet signed may be prepared again (the new version supersedes it); a signed one
    may not. Refused to everyone but a judge of the case's court, and outside the request's status."""
    case = Case.objects.select_related("court", "mediation_organisation").get(pk=case.pk)
    if tr.JUDGE not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案管辖法院的法官可以制作民事调解书。"), case=case)
    if case.origin != CaseOrigin.COURT_FILED:
        raise InvalidInput(_("本案不是立案后委托调解案件，不出具民事调解书。"))
    if case.status != CaseStatus.MEDIATION_DOCUMENT_REQUESTED:
        raise TransitionNotAllowed(
            _("案件当前为“%(status)s”：当事人申请出具民事调解书后、调解书生效前才能制作。")
            % {"status": case.get_status_display()}
        )
    current = current_mediation_document(case)
    if current is not None and current.signatures.exists():
        raise InvalidInput(_("本案的民事调解书已经签发并送达，不能重新制作。"))
    return document_issue(case=case, kind=DocumentKind.MEDIATION_DOCUMENT, actor=actor,
                          reason="prepared again" if current is not None else "")


def mediation_document_requested_notify(*, case_id: int, **_ignored: Any) -> None:
    """Tell the court's judges (in the app) that a party asked for a 民事调解书, with the court's page as link."""
    case = Case.objects.select_related("court").get(pk=case_id)
    judges = (Membership.objects.filter(organisation_id=case.court_id, role=Role.JUDGE, is_active=True,
                                        user__is_active=True).select_related("user").order_by("user_id"))
    context = {
        "subject": _("申请出具民事调解书：%(number)s") % {"number": case.court_case_number or case.reference},
        "text": _("案件%(number)s（%(title)s）的当事人申请出具民事调解书，请审查调解协议并制作、签发。")
        % {"number": case.court_case_number or case.reference, "title": case.title},
        "link": nt.site_url("court_filed_court", args=(case.pk,)),
    }
    with transaction.atomic():
        for membership in judges:
            outbox_enqueue(channel=MessageChannel.IN_APP, address="", template=nt.GENERIC, recipient=membership.user,
                           case=case, context=context,
                           idempotency_key=f"mediation_document:{case.pk}:requested:{membership.user_id}")


def mediation_document_mark_effective(*, case_id: int, sha256: str, effective_at: Any, **_ignored: Any) -> None:
    """Record on the document the time it took effect (every party signed for it; CPL 100)."""
    signature = DocumentSignature.objects.filter(document__case_id=case_id, sha256=sha256,
                                                 document__kind=DocumentKind.MEDIATION_DOCUMENT).first()
    if signature is None:
        return
    at = effective_at if isinstance(effective_at, dt.datetime) else parse_datetime(str(effective_at))
    with transaction.atomic():
        Document.objects.filter(pk=signature.document_id, effective_at__isnull=True).update(effective_at=at)
        audit_append(kind="document.effective", actor=None, case=signature.document.case,
                     data={"document": signature.document_id, "title": signature.document.title,
                           "effective_at": at, "rule": "CPL 100; Interp 149"})
