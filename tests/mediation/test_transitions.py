"""The transition table is the whole truth about status changes: every allowed pair succeeds through
case_transition, every other pair is refused, and concurrent transitions never both win."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from mediation import lifecycle
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, EndReason, ReturnReason
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import AuditEvent, Case, CaseMediator
from mediation.permissions import case_roles
from mediation.services.cases import case_transition
from tests.conftest import shortest_path


def _reachable(origin: str) -> list[str]:
    reachable = []
    for status in CaseStatus:
        try:
            shortest_path(CaseStatus.DRAFT, status, origin)
        except LookupError:
            continue
        reachable.append(status.value)
    return reachable


CASES = [(origin.value, status) for origin in CaseOrigin for status in _reachable(origin)]


class _Rollback(Exception):
    pass


def test_every_status_is_reachable_for_some_origin():
    reachable = {status for _, status in CASES}
    assert reachable == set(CaseStatus.values)


def test_end_reasons_are_exactly_the_eight_grounds_of_omr_25():
    assert len(EndReason) == 8
    assert len(ReturnReason) == 3


def test_rows_sharing_a_pair_have_disjoint_roles_and_there_are_no_self_loops():
    """The actor's role must pick exactly one row for a pair, or the audit kind would be ambiguous."""
    seen: dict[tuple[str, str, str], frozenset[str]] = {}
    for row in tr.TRANSITIONS:
        assert row.source != row.target, row
        if row.explicit:
            continue  # taken only by name
        for origin in row.origins:
            key = (row.source, row.target, origin)
            assert not (seen.get(key, frozenset()) & row.roles), f"overlapping roles for {key}"
            seen[key] = seen.get(key, frozenset()) | row.roles


def test_terminal_statuses_have_no_way_out():
    for row in tr.TRANSITIONS:
        assert row.source not in lifecycle.TERMINAL_STATUSES, row


@pytest.mark.django_db
@pytest.mark.parametrize(("origin", "source"), CASES, ids=[f"{o}-{s}" for o, s in CASES])
def test_every_pair_from_a_status_is_allowed_exactly_as_the_table_says(world, origin, source):
    case = world.drive(world.new_case(origin=origin), source)
    assert case.status == source
    for target in CaseStatus.values:
        rows = tr.find_transitions(source=source, target=target, origin=origin)
        rows += [row for row in tr.TRANSITIONS if row.explicit and row.source == source and row.target == target
                 and origin in row.origins]
        fresh = Case.objects.get(pk=case.pk)
        if not rows:
            with pytest.raises(TransitionNotAllowed):
                case_transition(case=fresh, to=target, actor=world.clerk, reason="", note="x")
            continue
        for row in rows:
            _try_row(world, case, row, source, target)
        _everyone_without_a_listed_role_is_refused(world, fresh, rows, target)
    assert Case.objects.get(pk=case.pk).status == source


def _everyone_without_a_listed_role_is_refused(world, case, rows, target) -> None:
    """The roles column is the law of who may act: anyone holding none of them is refused."""
    if all(row.explicit for row in rows):
        # Taken only by name, by the service that checks what the row needs (court-filed materials, fee
        # notice): without the name nobody takes it; with it, the roles column decides.
        with pytest.raises(TransitionNotAllowed):
            case_transition(case=Case.objects.get(pk=case.pk), to=target, actor=world.clerk, reason="", note="x")
        for row in rows:
            for name, actor in world.everyone().items():
                held = {tr.SYSTEM} if actor is None else case_roles(actor, case)
                if held & row.roles:
                    continue
                with pytest.raises(PermissionDenied):
                    case_transition(case=Case.objects.get(pk=case.pk), to=target, actor=actor, reason="",
                                    note="x", action=row.action)
                assert Case.objects.get(pk=case.pk).status == case.status, name
        return
    allowed = frozenset().union(*(row.roles for row in rows if not row.explicit))
    for name, actor in world.everyone().items():
        held = {tr.SYSTEM} if actor is None else case_roles(actor, case)
        if held & allowed:
            continue
        with pytest.raises(PermissionDenied):
            case_transition(case=Case.objects.get(pk=case.pk), to=target, actor=actor, reason="", note="x")
        assert Case.objects.get(pk=case.pk).status == case.status, name


def _try_row(world, case, row, source, target) -> None:
    fresh = Case.objects.get(pk=case.pk)
    try:
        with transaction.atomic():
            if target == CaseStatus.ASSIGNED and not CaseMediator.objects.filter(case=fresh).exists():
                CaseMediator.objects.create(case=fresh, mediator=world.mediator)
            reason = sorted(row.reasons)[0] if row.reasons else ""
            moved = case_transition(
                case=fresh, to=target, actor=world.actor_for(fresh, row), reason=reason,
                note="理由" if row.needs_note else "", action=row.action if row.explicit else None,
            )
            assert moved.status == target
            assert Case.objects.get(pk=case.pk).status == target
            events = AuditEvent.objects.filter(stream=case.audit_stream, kind__startswith="case.")
            last = events.order_by("-seq").first()
            assert last is not None and last.kind == row.audit_kind
            assert last.data["from"] == source and last.data["to"] == target
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.django_db
def test_outsider_other_party_and_other_courts_staff_are_refused(world):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    for intruder in (world.outsider, world.other_clerk, world.other_judge, world.other_mediator):
        with pytest.raises(PermissionDenied):
            case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=intruder)
    # A party may not accept its own application on the court's behalf.
    with pytest.raises(PermissionDenied):
        case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.respondent)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


@pytest.mark.django_db
def test_a_mediator_not_assigned_cannot_accept(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    with pytest.raises(PermissionDenied):
        case_transition(case=case, to=CaseStatus.ACCEPTED, actor=world.other_mediator)


@pytest.mark.django_db
def test_platform_only_rows_refuse_a_missing_actor_elsewhere(world):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=None)


@pytest.mark.django_db
def test_termination_needs_one_of_the_omr25_reasons(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    with pytest.raises(InvalidInput, match="事由"):
        case_transition(case=case, to=CaseStatus.TERMINATED, actor=world.mediator)
    with pytest.raises(InvalidInput):
        case_transition(
            case=case, to=CaseStatus.TERMINATED, actor=world.mediator, reason=ReturnReason.UNSUITABLE_ONLINE
        )
    with pytest.raises(InvalidInput):  # (7) only applies to a refusal at signing
        case_transition(
            case=case, to=CaseStatus.TERMINATED, actor=world.mediator, reason=EndReason.REFUSED_TO_SIGN
        )
    case = case_transition(
        case=case, to=CaseStatus.TERMINATED, actor=world.mediator, reason=EndReason.POSITIONS_TOO_FAR
    )
    assert Case.objects.get(pk=case.pk).end_reason == EndReason.POSITIONS_TOO_FAR


@pytest.mark.django_db
def test_a_mediator_declining_must_write_reasons(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    with pytest.raises(InvalidInput, match="理由"):
        case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.mediator, note="  ")


@pytest.mark.django_db
def test_return_records_the_omr9_reason(world):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    case_transition(case=case, to=CaseStatus.RETURNED, actor=world.clerk, reason=ReturnReason.OUTSIDE_JURISDICTION)
    assert Case.objects.get(pk=case.pk).return_reason == ReturnReason.OUTSIDE_JURISDICTION


@pytest.mark.django_db
def test_a_stale_copy_cannot_overwrite_a_newer_status(world):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    stale = Case.objects.get(pk=case.pk)
    case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.clerk)
    with pytest.raises(StaleState):
        case_transition(case=stale, to=CaseStatus.RETURNED, actor=world.clerk, reason=ReturnReason.UNSUITABLE_ONLINE)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_SELECTION


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_exactly_one_wins_with_one_audit_event(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    before = AuditEvent.objects.filter(stream=case.audit_stream).count()
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(name: str, target: str, actor, note: str) -> None:
        try:
            mine = Case.objects.get(pk=case.pk)
            barrier.wait(timeout=10)
            case_transition(case=mine, to=target, actor=actor, note=note)
            outcomes[name] = "won"
        except Exception as exc:  # recorded and asserted below
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=("accept", CaseStatus.ACCEPTED, world.mediator, "")),
        threading.Thread(target=attempt, args=("decline", CaseStatus.AWAITING_SELECTION, world.mediator, "档期冲突")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [name for name, result in outcomes.items() if result == "won"]
    losers = [result for result in outcomes.values() if result != "won"]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], StaleState), outcomes
    final = Case.objects.get(pk=case.pk)
    assert final.status == (CaseStatus.ACCEPTED if winners == ["accept"] else CaseStatus.AWAITING_SELECTION)
    transition_events = AuditEvent.objects.filter(
        stream=case.audit_stream, kind__in=["case.mediator_accept", "case.mediator_decline"]
    )
    assert transition_events.count() == 1
    assert AuditEvent.objects.filter(stream=case.audit_stream).count() > before
    from mediation.audit_chain import verify_stream

    assert verify_stream(case.audit_stream) is None
