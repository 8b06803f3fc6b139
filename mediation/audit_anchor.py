"""Anchoring the audit chain outside the database (issue 17 item 4; docs/decisions.md D31).

The hash chain alone proves nothing against someone who can write the database as a superuser: they can
switch the append-only trigger off, edit an event, recompute every later hash and move the head. Two
anchors hold the key or the copy that the database does not:

* **Keyed chain heads.** Each ``AuditHead`` carries ``mac`` = HMAC-SHA256(``AUDIT_ANCHOR_KEY``, stream, seq,
  hash). The key lives in the settings (an environment variable or a secrets file), never in the database,
  so a recomputed chain ends in a head whose MAC no longer fits, and an old head cannot be put back after a
  truncation (its MAC was never stored anywhere).
* **Signed checkpoints of all heads.** ``checkpoint_write`` appends every head (stream, seq, hash) to
  ``AUDIT_CHECKPOINT_PATH`` as one JSON line, chained to the line before it and signed with the same key.
  Where a time-stamping authority is configured (``AUDIT_TSA_URL``), the line also carries its RFC 3161
  token over the line's digest, so a witness outside the platform dates it; a TSA that fails is logged and
  the line is written signed locally only (``tst_error`` says so). Beat writes one every
  ``AUDIT_CHECKPOINT_SECONDS``. ``verify_anchor`` checks the lines (and their tokens), and that every stream
  of the latest one still exists with the checkpointed event unchanged: a stream deleted with its head is
  missed.

**Key rotation.** Each line names its key by ``kid`` (the first 16 hex of the key's SHA-256). A new key
goes into ``AUDIT_ANCHOR_KEY`` and the old one into ``AUDIT_ANCHOR_OLD_KEYS``; ``rotate_head_keys``
(``manage.py audit_anchor_rotate``) re-keys every head whose MAC holds under an old key and writes a
checkpoint. Old keys then verify only the checkpoint lines they signed: a head must carry the current key.
"""

from __future__ import annotations

import base64
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

from mediation.adapters.tsa import (
    TimeStampAuthority,
    TimeStampInvalid,
    TimeStampUnavailable,
    time_stamp_authority,
)
from mediation.audit_chain import ChainBreak

logger = logging.getLogger(__name__)

CHECKPOINT_STREAM = "audit.checkpoint"


def _key() -> bytes:
    return str(settings.AUDIT_ANCHOR_KEY).encode("utf-8")


def _kid(key: bytes) -> str:
    return hashlib.sha256(b"yizhan.audit-anchor.kid:" + key).hexdigest()[:16]


def _keys_by_id() -> dict[str, bytes]:
    keys = [_key(), *(str(k).strip().encode("utf-8") for k in settings.AUDIT_ANCHOR_OLD_KEYS)]
    return {_kid(key): key for key in keys}


def _sign(text: str, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _checkpoint_text(record: dict[str, Any]) -> str:
    if "kid" not in record:  # a line written before key ids and time-stamps (D31): its digest alone was signed
        return f"checkpoint\n{record['digest']}"
    # The token (or the TSA's failure) is signed too: stripping it from a line breaks the line's MAC.
    return f"checkpoint\n{record['digest']}\n{record.get('tst', '')}\n{record.get('tst_error', '')}"


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
    authority = time_stamp_authority()
    if authority is not None:
        try:
            record["tst"] = base64.b64encode(authority.stamp(bytes.fromhex(record["digest"]))).decode("ascii")
        except TimeStampUnavailable as exc:
            logger.error("Audit checkpoint written without an RFC 3161 time-stamp: %s", exc)
            record["tst_error"] = str(exc)[:300]
    record["kid"] = _kid(_key())
    record["mac"] = _sign(_checkpoint_text(record))
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
    keys = _keys_by_id()
    authority = time_stamp_authority()
    for number, record in enumerate(records, start=1):
        key = keys.get(str(record.get("kid") or _kid(_key())))
        if (key is None or record.get("prev") != previous or record.get("digest") != _digest(record)
                or not hmac.compare_digest(str(record.get("mac", "")), _sign(_checkpoint_text(record), key))):
            problem = "checkpoint does not verify (edited, forged, removed, or signed with a key not configured)"
            breaks.append(ChainBreak(CHECKPOINT_STREAM, number, problem))
            break
        if record.get("tst"):
            problem = _token_problem(authority, record)
            if problem:
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


def _token_problem(authority: TimeStampAuthority | None, record: dict[str, Any]) -> str:
    if authority is None:
        return ""  # the token stays in the line; checking it needs the TSA's certificates configured
    try:
        authority.verify(base64.b64decode(record["tst"]), bytes.fromhex(record["digest"]))
    except (TimeStampInvalid, ValueError) as exc:
        return f"checkpoint time-stamp does not verify: {exc}"
    return ""


def rotate_head_keys() -> tuple[int, list[ChainBreak]]:
    """Re-key every chain head whose MAC holds under a retired key (``AUDIT_ANCHOR_OLD_KEYS``) with the current
    key, then write a checkpoint. Heads that fit no key are left alone and returned: a forgery is never
    re-keyed. Returns how many heads were re-keyed."""
    from django.db import transaction

    from mediation.models import AuditHead

    old = [key for kid, key in _keys_by_id().items() if kid != _kid(_key())]
    rekeyed, refused = 0, []
    with transaction.atomic():
        for head in AuditHead.objects.select_for_update().exclude(seq=0).order_by("stream"):
            current = head_mac(head.stream, head.seq, head.hash)
            if hmac.compare_digest(head.mac or "", current):
                continue
            text = f"head\n{head.stream}\n{head.seq}\n{head.hash}"
            if any(hmac.compare_digest(head.mac or "", _sign(text, key)) for key in old):
                AuditHead.objects.filter(pk=head.pk).update(mac=current)
                rekeyed += 1
            else:
                problem = "chain head fits neither the current nor a retired key"
                refused.append(ChainBreak(head.stream, head.seq, problem))
    checkpoint_write()
    return rekeyed, refused


@shared_task(name="mediation.tasks.audit_checkpoint")
def audit_checkpoint() -> int:
    """Sign a checkpoint of every audit chain head outside the database (beat, every AUDIT_CHECKPOINT_SECONDS);
    returns how many heads it holds."""
    record, refused = checkpoint_write()
    for item in refused:
        logger.error("Audit checkpoint left out a head that does not verify: %s", item)
    return len(record["heads"])
