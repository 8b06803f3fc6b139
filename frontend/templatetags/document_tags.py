"""The 文书 block on the case page: the case's current documents, who still signs, and a progress note while
a document the status calls for is still being generated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from documents.models import Document, ExternalDocument
from documents.selectors import can_view_documents, document_released_to
from documents.services.issuing import kinds_for
from documents.services.signing import document_sign_options, document_signed_slots, document_slots
from mediation.choices import DocumentKind
from mediation.lifecycle import DOCUMENT_STATUSES
from mediation.models import Case, User

register = template.Library()

# A document the status calls for and still missing after this long is reported instead of spun on.
GENERATION_PATIENCE = dt.timedelta(minutes=5)


@register.inclusion_tag("frontend/documents/_case_block.html", takes_context=True)
def case_documents(context: dict[str, Any], case: Case) -> dict[str, Any]:
    user = context["request"].user
    if not isinstance(user, User) or not can_view_documents(user, case):
        return {"hidden": True, "rows": []}
    current = Document.objects.filter(case=case, superseded_by__isnull=True).select_related(
        "case", "agreement"
    ).order_by("kind", "-version")
    rows = []
    signable = (DocumentKind.AGREEMENT, DocumentKind.JC_APPLICATION, DocumentKind.RULING)
    for document in current:
        if not document_released_to(user, document):
            continue
        slots = document_slots(document) if document.kind in signable else []
        rows.append({
            "document": document, "total": len(slots), "signed": len(document_signed_slots(document)) if slots else 0,
            "mine": bool(document_sign_options(document=document, user=user)),
        })
    missing = []
    if case.status in DOCUMENT_STATUSES:
        issued = {d.kind for d in current}
        missing = [str(DocumentKind(k).label) for k in kinds_for(case, case.status) if k not in issued]
    recent = case.status_changed_at is not None and timezone.now() - case.status_changed_at < GENERATION_PATIENCE
    names = "、".join(missing)
    external = list(ExternalDocument.objects.filter(case=case).select_related("issuing_court")
                    .order_by("received_at", "pk"))
    return {"rows": rows, "external": external, "generating": names if missing and recent else "",
            "stalled": names if missing and not recent else ""}
