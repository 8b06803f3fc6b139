"""The documents a status calls for (``mediation.lifecycle.STATUS_DOCUMENTS``) are rendered in the background
once the status has committed."""

from __future__ import annotations

from typing import Any

from documents.services.failure import failure_report_for_status
from documents.services.issuing import documents_for_transition, enforcement_application_refresh
from documents.services.mediation_document import (
    mediation_document_mark_effective,
    mediation_document_requested_notify,
)
from mediation import lifecycle, signals
from mediation.choices import CaseStatus

# The failure report's statuses: a hand-over to the court first where the court must file, then the report, then
# its service on every party (``documents.services.failure``).
FAILURE_STATUSES = frozenset({CaseStatus.TERMINATED, CaseStatus.REFER_TO_FILING})


def on_case_status_changed(*, case_id: int, new: str, actor_id: int | None, **_: Any) -> None:
    if new in FAILURE_STATUSES:
        failure_report_for_status.delay(case_id=case_id, status=new, actor_id=actor_id)
    elif new in lifecycle.DOCUMENT_STATUSES:
        documents_for_transition.delay(case_id=case_id, status=new, actor_id=actor_id)


def on_enforcement_default_added(*, case_id: int, **_: Any) -> None:
    enforcement_application_refresh.delay(case_id=case_id)


def connect() -> None:
    signals.case_status_changed.connect(on_case_status_changed, dispatch_uid="documents.for_status")
    signals.enforcement_default_added.connect(on_enforcement_default_added, dispatch_uid="documents.enforcement")
    signals.mediation_document_requested.connect(mediation_document_requested_notify,
                                                 dispatch_uid="documents.mediation_document_requested")
    signals.mediation_document_effective.connect(mediation_document_mark_effective,
                                                 dispatch_uid="documents.mediation_document_effective")
