"""Issue 17 item 4: the audit chain is anchored outside the database. Someone with superuser access to the
database can rewrite a stream whole (disable the trigger, edit, recompute every later hash and the head),
truncate it and move the head back, or delete a stream with its head; verify_audit_chain still notices,
through the keyed chain head (HMAC with a key the database does not hold) and the signed checkpoints of
every head (kept outside the database)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mediation.audit_chain import event_hash, verify_all
from mediation.models import AuditEvent, AuditHead
from mediation.services.audit import audit_append

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor(settings, tmp_path):
    settings.AUDIT_ANCHOR_KEY = "k" * 64
    settings.AUDIT_CHECKPOINT_PATH = tmp_path / "audit-checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_PATH


def superuser(sql: str, params: list) -> None:
    """As a database superuser: the append-only trigger switched off, then the statement."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses while deferred checks are pending
        cursor.execute("ALTER TABLE mediation_auditevent DISABLE TRIGGER USER")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("ALTER TABLE mediation_auditevent ENABLE TRIGGER USER")


def rewrite_from(stream: str, seq: int, data: dict) -> None:
    """Edit event ``seq``'s data and recompute its hash, every later one and the head: a consistent forgery."""
    events = list(AuditEvent.objects.filter(stream=stream).order_by("seq"))
    prev = None
    for event in events:
        if event.seq < seq:
            prev = event.hash
            continue
        new_data = data if event.seq == seq else event.data
        digest = event_hash(stream=stream, seq=event.seq, kind=event.kind, case_id=event.case_id,
                            actor_id=event.actor_id, actor_label=event.actor_label, data=new_data,
                            created_at=event.created_at, prev_hash=prev or event.prev_hash)
        superuser("UPDATE mediation_auditevent SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
                  [json.dumps(new_data), prev or event.prev_hash, digest, event.pk])
        prev = digest
    superuser("UPDATE mediation_audithead SET hash = %s WHERE stream = %s", [prev, stream])


@pytest.fixture
def chained(world):
    case = world.new_case()
    for n in range(5):
        audit_append(kind="note.added", actor=world.clerk, case=case, data={"n": n})
    audit_append(kind="note.added", actor=world.clerk, stream="roster.test", data={"n": 0})
    return case


def test_an_untouched_trail_with_a_checkpoint_verifies(chained, anchor):
    call_command("audit_checkpoint")
    assert anchor.exists()
    assert verify_all() == []
    call_command("verify_audit_chain")


def test_a_stream_rewritten_and_recomputed_whole_is_detected(chained):
    call_command("audit_checkpoint")
    rewrite_from(chained.audit_stream, 2, {"n": "forged"})
    assert AuditEvent.objects.filter(stream=chained.audit_stream, seq=2).get().data == {"n": "forged"}
    problems = [str(b) for b in verify_all()]
    assert any(chained.audit_stream in p for p in problems), problems
    with pytest.raises(CommandError):
        call_command("verify_audit_chain")


def test_a_rewrite_is_detected_by_the_keyed_head_even_without_a_checkpoint(chained):
    rewrite_from(chained.audit_stream, 3, {"n": "forged"})
    problems = [str(b) for b in verify_all()]
    assert any(chained.audit_stream in p and "key" in p for p in problems), problems


def test_a_truncated_stream_with_its_head_moved_back_is_detected(chained):
    call_command("audit_checkpoint")
    last = AuditEvent.objects.filter(stream=chained.audit_stream).order_by("-seq").first()
    before = AuditEvent.objects.get(stream=chained.audit_stream, seq=last.seq - 1)
    superuser("DELETE FROM mediation_auditevent WHERE id = %s", [last.pk])
    superuser("UPDATE mediation_audithead SET seq = %s, hash = %s WHERE stream = %s",
              [before.seq, before.hash, chained.audit_stream])
    problems = [str(b) for b in verify_all()]
    assert any(chained.audit_stream in p for p in problems), problems


def test_a_stream_deleted_with_its_head_is_missed(chained):
    call_command("audit_checkpoint")
    superuser("DELETE FROM mediation_auditevent WHERE stream = %s", ["roster.test"])
    superuser("DELETE FROM mediation_audithead WHERE stream = %s", ["roster.test"])
    assert not AuditHead.objects.filter(stream="roster.test").exists()
    problems = [str(b) for b in verify_all()]
    assert any("roster.test" in p for p in problems), problems


def test_a_forged_checkpoint_is_refused(chained, anchor):
    call_command("audit_checkpoint")
    line = json.loads(anchor.read_text().splitlines()[-1])
    line["heads"].pop("roster.test")
    anchor.write_text(anchor.read_text() + json.dumps(line) + "\n")
    problems = [str(b) for b in verify_all()]
    assert any("checkpoint" in p for p in problems), problems


# --- RFC 3161 time-stamps from a configured TSA, and key rotation -------------------------------------------


@pytest.fixture
def tsa(settings, tmp_path):
    from tests.hardening.tsa_server import local_tsa

    with local_tsa(tmp_path) as server:
        settings.AUDIT_TSA_URL = server.url
        settings.AUDIT_TSA_TRUST = str(server.root_pem)
        settings.AUDIT_TSA_TIMEOUT = 5
        yield server


def _lines(anchor) -> list[dict]:
    return [json.loads(line) for line in anchor.read_text().splitlines()]


def test_a_checkpoint_carries_a_tsa_token_over_its_digest_and_verifies(chained, anchor, tsa):
    from mediation.adapters.tsa import time_stamp_authority

    call_command("audit_checkpoint")
    line = _lines(anchor)[-1]
    assert tsa.requests == 1 and line["tst"] and "tst_error" not in line
    import base64
    when = time_stamp_authority().verify(base64.b64decode(line["tst"]), bytes.fromhex(line["digest"]))
    assert abs((when - line_time(line)).total_seconds()) < 60
    assert verify_all() == []


def line_time(line: dict):
    import datetime as dt
    return dt.datetime.fromisoformat(line["at"])


def test_a_token_moved_from_another_checkpoint_or_stripped_is_refused(chained, anchor, tsa):
    call_command("audit_checkpoint")
    audit_append(kind="note.added", actor=None, stream="roster.test", data={"n": 1})
    call_command("audit_checkpoint")
    first, second = _lines(anchor)
    moved = {**second, "tst": first["tst"]}
    anchor.write_text(json.dumps(first) + "\n" + json.dumps(moved) + "\n")
    assert any("checkpoint" in str(b) for b in verify_all())
    stripped = {key: value for key, value in second.items() if key != "tst"}
    anchor.write_text(json.dumps(first) + "\n" + json.dumps(stripped) + "\n")
    assert any("checkpoint" in str(b) for b in verify_all())


def test_a_token_from_a_tsa_nobody_trusts_is_refused(chained, anchor, tsa, settings, tmp_path):
    from tests.hardening.tsa_server import local_tsa

    call_command("audit_checkpoint")
    other = tmp_path / "other"
    other.mkdir()
    with local_tsa(other, cn="Stranger") as stranger:
        settings.AUDIT_TSA_TRUST = str(stranger.root_pem)
        problems = [str(b) for b in verify_all()]
    assert any("time-stamp" in p for p in problems), problems


def test_a_tsa_that_fails_leaves_a_locally_signed_checkpoint_that_says_so(chained, anchor, tsa, caplog):
    tsa.fail_next = 1
    call_command("audit_checkpoint")
    line = _lines(anchor)[-1]
    assert "tst" not in line and "500" in line["tst_error"]
    assert "without an RFC 3161 time-stamp" in caplog.text
    assert verify_all() == []


def test_rotating_the_anchor_key_rekeys_the_heads_and_keeps_old_checkpoints_verifiable(chained, anchor, settings):
    call_command("audit_checkpoint")
    settings.AUDIT_ANCHOR_KEY = "n" * 64
    # With the new key alone, every head and the old checkpoint fail: nothing verifies under a key it never saw.
    problems = [str(b) for b in verify_all()]
    assert any("key" in p for p in problems) and any("checkpoint" in p for p in problems)
    settings.AUDIT_ANCHOR_OLD_KEYS = ["k" * 64]
    call_command("audit_anchor_rotate")
    assert verify_all() == []
    first, second = _lines(anchor)
    assert first["kid"] != second["kid"]
    audit_append(kind="note.added", actor=None, stream="roster.test", data={"n": 2})
    assert verify_all() == []


def test_rotation_never_rekeys_a_forged_head(chained, settings):
    rewrite_from(chained.audit_stream, 2, {"n": "forged"})
    settings.AUDIT_ANCHOR_KEY = "n" * 64
    settings.AUDIT_ANCHOR_OLD_KEYS = ["k" * 64]
    with pytest.raises(CommandError, match="fit no configured key"):
        call_command("audit_anchor_rotate")
    assert any(chained.audit_stream in str(b) for b in verify_all())


def test_a_checkpoint_line_from_before_key_ids_still_verifies(chained, anchor):
    import hashlib
    import hmac as hmac_

    from mediation.audit_anchor import _digest

    heads = {h.stream: [h.seq, h.hash] for h in AuditHead.objects.exclude(seq=0)}
    record = {"at": "2026-11-30T00:00:00.000000+00:00", "heads": heads, "prev": ""}
    record["digest"] = _digest(record)
    record["mac"] = hmac_.new(b"k" * 64, f"checkpoint\n{record['digest']}".encode(), hashlib.sha256).hexdigest()
    anchor.write_text(json.dumps(record) + "\n")
    assert verify_all() == []
