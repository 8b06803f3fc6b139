"""Background rendering of the documents a case's status calls for (run after the status commits)."""

from __future__ import annotations

from celery import shared_task

# Filled in by the documents work: which statuses produce which documents.
DOCUMENT_STATUSES: frozenset[str] = frozenset()


@shared_task(name="documents.tasks.documents_for_transition")
def documents_for_transition(*, case_id: int, status: str, actor_id: int | None) -> list[int]:
    """Render and issue the documents for ``status``; returns the new documents' ids."""
    return []
