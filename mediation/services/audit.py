"""Appending to the hash-chained audit trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from mediation.audit_anchor import head_mac
from mediation.audit_chain import GENESIS, canonical_data, event_hash
from mediation.models import AuditEvent, AuditHead, Case, User


def audit_append(
    *,
    kind: str,
    actor: User | None,
    case: Case | None = None,
    stream: str | None = None,
    data: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to ``stream`` (the case's stream by default), linked to the one before it.

    The stream's head row is locked for the rest of the transaction, so concurrent appends to one
    stream queue up instead of forking the chain.
    """
    if stream is None:
        if case is None:
            raise ValueError("audit_append needs a case or a stream")
        stream = case.audit_stream
    if not actor_label:
        actor_label = actor.display_name if actor is not None else "系统"
    payload = canonical_data(data)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(stream=stream)
        seq = head.seq + 1
        prev = head.hash or GENESIS
        created_at = timezone.now()
        digest = event_hash(
            stream=stream, seq=seq, kind=kind, case_id=case.pk if case else None,
            actor_id=actor.pk if actor else None, actor_label=actor_label, data=payload,
            created_at=created_at, prev_hash=prev,
        )
        event = AuditEvent.objects.create(
            stream=stream, seq=seq, case=case, kind=kind, actor=actor, actor_label=actor_label,
            data=payload, created_at=created_at, prev_hash=prev, hash=digest,
        )
        AuditHead.objects.filter(stream=stream).update(seq=seq, hash=digest, mac=head_mac(stream, seq, digest))
    return event
