"""Hashing and verification of the audit chain (shared by the writer and the verifier)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64


def canonical_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """Round-trip through JSON so what is hashed is exactly what the database gives back."""
    result: dict[str, Any] = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, ensure_ascii=False))
    return result


def event_hash(
    *,
    stream: str,
    seq: int,
    kind: str,
    case_id: int | None,
    actor_id: int | None,
    actor_label: str,
    data: dict[str, Any],
    created_at: dt.datetime,
    prev_hash: str,
) -> str:
    payload = {
        "stream": stream,
        "seq": seq,
        "kind": kind,
        "case": case_id,
        "actor": actor_id,
        "actor_label": actor_label,
        "data": data,
        "at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "prev": prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    stream: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq}: {self.problem}"


def verify_stream(stream: str) -> ChainBreak | None:
    """Walk one stream in order and return its first broken link, or None if it is intact."""
    from mediation.models import AuditEvent, AuditHead

    expected_seq = 1
    prev = GENESIS
    for event in AuditEvent.objects.filter(stream=stream).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainBreak(stream, expected_seq, f"event missing or renumbered (found #{event.seq} next)")
        if event.prev_hash != prev:
            return ChainBreak(stream, event.seq, "does not link to the previous event (deleted, inserted or reordered)")
        recomputed = event_hash(
            stream=event.stream, seq=event.seq, kind=event.kind, case_id=event.case_id, actor_id=event.actor_id,
            actor_label=event.actor_label, data=event.data, created_at=event.created_at, prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return ChainBreak(stream, event.seq, "content does not match its hash (edited)")
        prev = event.hash
        expected_seq += 1
    head = AuditHead.objects.filter(stream=stream).first()
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or (head.hash or GENESIS) != prev):
        return ChainBreak(stream, last_seq + 1, f"chain head says #{head.seq}; events after #{last_seq} are missing")
    return None


def verify_all() -> list[ChainBreak]:
    """The first break of every stream that has one, and what the anchors (keyed heads, signed checkpoints of
    every head: mediation.audit_anchor) say, including streams that vanished."""
    from mediation.audit_anchor import verify_anchor
    from mediation.models import AuditEvent, AuditHead

    streams = set(AuditEvent.objects.values_list("stream", flat=True).distinct())
    streams |= set(AuditHead.objects.values_list("stream", flat=True))
    breaks = [verify_stream(stream) for stream in sorted(streams)]
    found = [b for b in breaks if b is not None]
    # A chain recomputed whole is consistent in itself: only the anchors outside the database show it.
    broken_streams = {b.stream for b in found}
    return found + [b for b in verify_anchor() if b.stream not in broken_streams]
