"""Anchoring the audit chain outside the database (issue 17 item 4; docs/decisions.md D31).

The hash chain alone proves nothing against someone who can write the database as a superuser: they can
switch the append-only trigger off, edit an event, recompute every later hash and move the head. Two
anchors hold the key or the copy that the database does not:

* **Keyed chain heads.** Each ``AuditHead`` carries ``mac`` = HMAC-SHA256(``AUDIT_ANCHOR_KEY``, stream, seq,
  hash). The key lives in the settings (an environment variable or a secrets file), never in the database,
  so a recomputed chain ends in a head whose MAC no longer fits, and an old head cannot be put back after a
  truncation (its MAC was never stored anywhere).
* **Signed checkpoints of all heads.** ``checkpoint_write`` appends every head (stream, seq, hash) to
  ``AUDIT_CHECKPOINT_PATH`` as one JSON line, chained to the line before it and signed with the same key
  (a local signed checkpoint; an RFC 3161 time-stamp is not obtained yet). Beat writes one every
  ``AUDIT_CHECKPOINT_SECONDS``. ``verify_anchor`` checks the lines, and that every stream of the latest one
  still exists with the checkpointed event unchanged: a stream deleted with its head is missed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from mediation.audit_chain import ChainBreak

logger = logging.getLogger(__name__)

CHECKPOINT_STREAM = "audit.checkpoint"


def _key() -> bytes:
    return str(settings.AUDIT_ANCHOR_KEY).encode("utf-8")


def _sign(text: str) -> str:
    return hmac.new(_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def head_mac(stream: str, seq: int, digest: str) -> str:
    """The keyed MAC of a stream's head."""
    return _sign(f"head\n{stream}\n{seq}\n{digest}")


def _path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_PATH)


def _digest(record: dict[str, Any]) -> str:
    body = {"at": record["at"], "heads": record["heads"], "prev": record["prev"]}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def checkpoints_read() -> list[dict[str, Any]]:
    path = _path()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def checkpoint_write() -> tuple[dict[str, Any], list[ChainBreak]]:
    """Append a signed checkpoint of every head whose keyed MAC holds; the heads that do not are returned
    (and left out, so a forgery is never anchored)."""
    from mediation.models import AuditHead

    refused: list[ChainBreak] = []
    heads: dict[str, list[Any]] = {}
    for head in AuditHead.objects.exclude(seq=0).order_by("stream"):
        if not hmac.compare_digest(head.mac or "", head_mac(head.stream, head.seq, head.hash)):
            refused.append(ChainBreak(head.stream, head.seq, "chain head does not carry the anchor key's MAC"))
            continue
        heads[head.stream] = [head.seq, head.hash]
    previous = checkpoints_read()
    record: dict[str, Any] = {
        "at": timezone.now().isoformat(timespec="microseconds"), "heads": heads,
        "prev": previous[-1]["digest"] if previous else "",
    }
    record["digest"] = _digest(record)
    record["mac"] = _sign(f"checkpoint\n{record['digest']}")
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return record, refused


def verify_anchor() -> list[ChainBreak]:
    """What the anchors say is wrong: heads without a fitting MAC, a checkpoint file that was edited, and
    streams that the latest checkpoint knows but the database lost or rewrote."""
    from mediation.models import AuditEvent, AuditHead

    breaks: list[ChainBreak] = []
    for head in AuditHead.objects.exclude(seq=0).order_by("stream"):
        if not hmac.compare_digest(head.mac or "", head_mac(head.stream, head.seq, head.hash)):
            breaks.append(ChainBreak(head.stream, head.seq,
                                     "chain head does not carry the anchor key's MAC (rewritten or moved)"))
    records = checkpoints_read()
    latest: dict[str, Any] | None = None
    previous = ""
    for number, record in enumerate(records, start=1):
        if (record.get("prev") != previous or record.get("digest") != _digest(record)
                or not hmac.compare_digest(str(record.get("mac", "")), _sign(f"checkpoint\n{record['digest']}"))):
            problem = "checkpoint does not verify (edited, forged or removed)"
            breaks.append(ChainBreak(CHECKPOINT_STREAM, number, problem))
            break
        previous = record["digest"]
        latest = record
    if latest is None:
        return breaks
    ends = dict(AuditHead.objects.filter(stream__in=list(latest["heads"])).values_list("stream", "seq"))
    for stream, (seq, digest) in sorted(latest["heads"].items()):
        end = ends.get(stream)
        if end is None:
            breaks.append(ChainBreak(stream, int(seq), f"stream checkpointed at {latest['at']} is missing"))
            continue
        if end < int(seq):
            breaks.append(ChainBreak(stream, end + 1, f"checkpoint has #{seq}; the stream ends at #{end}"))
            continue
        event = AuditEvent.objects.filter(stream=stream, seq=int(seq)).only("hash").first()
        if event is None or event.hash != digest:
            breaks.append(ChainBreak(stream, int(seq), "event differs from the checkpoint (rewritten)"))
    return breaks


@shared_task(name="mediation.tasks.audit_checkpoint")
def audit_checkpoint() -> int:
    """Sign a checkpoint of every audit chain head outside the database (beat, every AUDIT_CHECKPOINT_SECONDS);
    returns how many heads it holds."""
    record, refused = checkpoint_write()
    for item in refused:
        logger.error("Audit checkpoint left out a head that does not verify: %s", item)
    return len(record["heads"])
