"""The audit trail is append-only and hash-chained: any edit, deletion, reordering, insertion or
truncation is reported by verify_audit_chain at the first broken link."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from mediation.audit_chain import GENESIS, verify_stream
from mediation.choices import CaseStatus
from mediation.models import AuditEvent, AuditHead
from mediation.services.audit import audit_append

pytestmark = pytest.mark.django_db


@pytest.fixture
def chained_case(world):
    case = world.new_case()
    case = world.drive(case, CaseStatus.IN_MEDIATION)
    events = list(AuditEvent.objects.filter(stream=case.audit_stream).order_by("seq"))
    assert len(events) >= 6
    return case, events


def raw(sql: str, params: list) -> None:
    """Tamper below the ORM as a database superuser would: with triggers switched off for the session."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = origin")


@pytest.mark.parametrize(
    "sql",
    ["UPDATE mediation_auditevent SET kind = 'x' WHERE id = %s", "DELETE FROM mediation_auditevent WHERE id = %s"],
)
def test_the_database_itself_refuses_raw_updates_and_deletes(chained_case, sql):
    _, events = chained_case
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [events[0].pk])
    assert AuditEvent.objects.filter(pk=events[0].pk, kind=events[0].kind).exists()


def test_intact_chain_verifies(chained_case, capsys):
    case, _ = chained_case
    assert verify_stream(case.audit_stream) is None
    call_command("verify_audit_chain")
    assert "intact" in capsys.readouterr().out


def test_each_event_links_to_the_previous_one(chained_case):
    _, events = chained_case
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
        assert after.seq == before.seq + 1


def test_orm_refuses_to_edit_or_delete_events(chained_case):
    _, events = chained_case
    event = events[2]
    event.kind = "case.forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(kind="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_edited_event_is_detected(chained_case):
    case, events = chained_case
    target = events[3]
    raw("UPDATE mediation_auditevent SET data = %s WHERE id = %s", ['{"note": "forged"}', target.pk])
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == target.seq
    assert "edited" in broken.problem
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit_chain")


def test_edited_actor_is_detected(chained_case, world):
    case, events = chained_case
    target = events[1]
    raw("UPDATE mediation_auditevent SET actor_id = %s WHERE id = %s", [world.outsider.pk, target.pk])
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == target.seq


def test_deleted_event_is_detected(chained_case):
    case, events = chained_case
    target = events[2]
    raw("DELETE FROM mediation_auditevent WHERE id = %s", [target.pk])
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == target.seq
    assert "missing" in broken.problem


def test_deleted_and_renumbered_events_are_detected(chained_case):
    """Deleting one event and shifting the later ones down hides the gap but breaks the link."""
    case, events = chained_case
    target = events[2]
    raw("DELETE FROM mediation_auditevent WHERE id = %s", [target.pk])
    for later in events[3:]:
        raw("UPDATE mediation_auditevent SET seq = seq - 1 WHERE id = %s", [later.pk])
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == target.seq
    assert "link" in broken.problem


def test_reordered_events_are_detected(chained_case):
    case, events = chained_case
    first, second = events[2], events[3]
    raw("UPDATE mediation_auditevent SET seq = 999999 WHERE id = %s", [first.pk])
    raw("UPDATE mediation_auditevent SET seq = %s WHERE id = %s", [first.seq, second.pk])
    raw("UPDATE mediation_auditevent SET seq = %s WHERE id = %s", [second.seq, first.pk])
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == first.seq


def test_inserted_event_is_detected(chained_case):
    """A forged event slipped in the middle, with its own correct hash, still breaks the next link."""
    case, events = chained_case
    position = events[3].seq
    for later in reversed(events[3:]):
        raw("UPDATE mediation_auditevent SET seq = seq + 1 WHERE id = %s", [later.pk])
    from mediation.audit_chain import event_hash

    prev = events[2]
    forged_at = prev.created_at
    digest = event_hash(
        stream=case.audit_stream, seq=position, kind="case.forged", case_id=case.pk, actor_id=None,
        actor_label="系统", data={}, created_at=forged_at, prev_hash=prev.hash,
    )
    raw(
        "INSERT INTO mediation_auditevent (stream, seq, case_id, kind, actor_id, actor_label, data, created_at,"
        " prev_hash, hash) VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, %s)",
        [case.audit_stream, position, case.pk, "case.forged", "系统", "{}", forged_at, prev.hash, digest],
    )
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == position + 1
    assert "link" in broken.problem


def test_truncated_tail_is_detected(chained_case):
    case, events = chained_case
    raw("DELETE FROM mediation_auditevent WHERE id = %s", [events[-1].pk])
    broken = verify_stream(case.audit_stream)
    assert broken is not None and broken.seq == events[-1].seq
    assert "missing" in broken.problem


def test_streams_are_independent(world):
    first = world.new_case()
    second = world.new_case()
    audit_append(kind="note.one", actor=world.clerk, case=first)
    audit_append(kind="note.two", actor=world.clerk, case=second)
    raw("UPDATE mediation_auditevent SET kind = 'x' WHERE stream = %s AND seq = 1", [first.audit_stream])
    assert verify_stream(first.audit_stream) is not None
    assert verify_stream(second.audit_stream) is None


def test_non_case_streams_chain_too(world):
    one = audit_append(kind="roster.changed", actor=world.clerk, stream="org.1", data={"x": 1})
    two = audit_append(kind="roster.changed", actor=world.clerk, stream="org.1", data={"x": 2})
    assert two.prev_hash == one.hash
    assert AuditHead.objects.get(stream="org.1").hash == two.hash
    assert verify_stream("org.1") is None
