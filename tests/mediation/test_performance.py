"""Performance after an agreement (issue 12 item 4, issue 11 item 4; PML 31-33; CPL 250): the schedule made from
the clauses, reminders before each due date, the obligee's confirmation and default report, the obligor's proof,
each refused to the wrong side and to outsiders, and the enforcement path only on an enforceable title within
the two years."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from mediation import calendar
from mediation import transitions as tr
from mediation.audit_labels import audit_event_label
from mediation.choices import MessageChannel, ObligationStatus
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, StaleState
from mediation.models import AuditEvent, Case, Evidence, Obligation, OutboxMessage, PaymentProof
from mediation.selectors.performance import case_performance, enforceable_title, enforcement_limit
from mediation.services.cases import case_transition
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_application_receive,
    confirmation_rule,
    confirmation_ruling_served,
)
from mediation.services.performance import (
    defaults_escalate,
    obligation_confirm_receipt,
    obligation_get_for_user,
    obligation_proof_upload,
    obligation_report_default,
    obligations_remind,
)
from mediation.services.timer_sweep import timers_sweep
from tests.performance_support import (
    FIRST_DUE,
    RULING_NUMBER,
    SECOND_DUE,
    START,
    S,
    confirmed,
    effective,
    local,
    obligations,
    unconfirmed,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def counts() -> tuple[int, ...]:
    return (AuditEvent.objects.count(), Evidence.objects.count(), PaymentProof.objects.count(),
            OutboxMessage.objects.count(),
            *Obligation.objects.order_by("pk").values_list("status", flat=True))


# --- The schedule ------------------------------------------------------------------------------------------------


def test_the_clauses_become_obligations_when_the_agreement_takes_effect(world):
    with time_machine.travel(local(*START), tick=False):
        case = effective(world)
    first, certificate, second = obligations(case)
    assert (first.number, first.amount, first.due_date) == (1, Decimal("12000.00"), FIRST_DUE)
    # The waiver (clause 2) binds nobody to act; the certificate clause has no deadline and gets no due date.
    assert (certificate.number, certificate.amount, certificate.due_date) == (3, None, None)
    assert (second.number, second.amount, second.due_date) == (4, Decimal("3000.00"), SECOND_DUE)
    assert {o.obligor.role for o in (first, certificate, second)} == {"respondent"}
    assert all(o.status == ObligationStatus.OPEN for o in (first, certificate, second))
    event = AuditEvent.objects.get(case=case, kind="performance.scheduled")
    assert [o["clause"] for o in event.data["obligations"]] == [1, 3, 4]


# --- Reminders ---------------------------------------------------------------------------------------------------


def test_the_obligor_is_reminded_three_days_ahead_and_on_the_day_once_each(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = effective(world)
        first = obligations(case)[0]
        traveller.move_to(local(2026, 3, 28, 9))  # four days ahead
        assert obligations_remind() == 0
        traveller.move_to(local(2026, 3, 29, 9))  # three days ahead
        assert obligations_remind() == 1
        assert obligations_remind() == 0  # once
        sms = OutboxMessage.objects.get(case=case, channel=MessageChannel.SMS, idempotency_key__contains="ahead")
        assert sms.address == world.respondent.phone
        assert "2026年4月1日" in sms.body and "12000" not in sms.body  # the date, never the amount
        assert OutboxMessage.objects.filter(recipient=world.respondent, channel=MessageChannel.IN_APP).count() == 1
        assert not OutboxMessage.objects.filter(recipient=world.applicant).exists()
        traveller.move_to(local(2026, 4, 1, 8))  # the day
        assert obligations_remind() == 1
        assert "今日" in OutboxMessage.objects.get(case=case, channel=MessageChannel.SMS,
                                                   idempotency_key__contains=":due:").body
        first.refresh_from_db()
        assert first.reminded_ahead_at and first.reminded_due_at
        # Clause 3 has no due date: it is never reminded.
        assert OutboxMessage.objects.filter(case=case, idempotency_key__startswith="obligation:").exclude(
            idempotency_key__startswith=f"obligation:{first.pk}:").count() == 0


def test_a_confirmed_obligation_is_not_reminded(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = effective(world)
        first = obligations(case)[0]
        obligation_confirm_receipt(obligation=first, actor=world.applicant)
        traveller.move_to(local(2026, 3, 29, 9))
        assert obligations_remind() == 0


# --- Who may do what ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["respondent", "lawyer", "mediator", "clerk", "judge", "org_admin"])
def test_only_the_obligee_confirms_receipt(world, name):
    with time_machine.travel(local(*START), tick=False):
        case = effective(world)
        first = obligations(case)[0]
        before = counts()
        with pytest.raises(PermissionDenied, match="权利人"):
            obligation_confirm_receipt(obligation=first, actor=getattr(world, name))
        assert counts() == before


@pytest.mark.parametrize("name", ["respondent", "lawyer", "mediator", "clerk"])
def test_only_the_obligee_reports_a_default(world, name):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = effective(world)
        first = obligations(case)[0]
        traveller.move_to(local(2026, 4, 5, 9))
        before = counts()
        with pytest.raises(PermissionDenied, match="权利人"):
            obligation_report_default(obligation=first, actor=getattr(world, name))
        assert counts() == before


@pytest.mark.parametrize("name", ["applicant", "mediator", "clerk"])
def test_only_the_obligor_uploads_proof(world, name, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(local(*START), tick=False):
        case = effective(world)
        first = obligations(case)[0]
        before = counts()
        with pytest.raises(PermissionDenied, match="义务人"):
            obligation_proof_upload(obligation=first, actor=getattr(world, name),
                                    file=SimpleUploadedFile("slip.png", PNG, "image/png"))
        assert counts() == before


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "other_judge", "other_mediator"])
def test_outsiders_find_no_obligation(world, name):
    with time_machine.travel(local(*START), tick=False):
        case = effective(world)
        first = obligations(case)[0]
        with pytest.raises(NotFound):
            obligation_get_for_user(user=getattr(world, name), case_id=case.pk, obligation_id=first.pk)
        # Another case's id does not reach it either.
        with pytest.raises(NotFound):
            obligation_get_for_user(user=world.applicant, case_id=case.pk + 1000, obligation_id=first.pk)
    assert obligation_get_for_user(user=world.applicant, case_id=case.pk, obligation_id=first.pk) == first


def test_a_default_cannot_be_reported_before_the_due_date(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = effective(world)
        first = obligations(case)[0]
        traveller.move_to(local(2026, 4, 1, 20))  # the last day is still running
        before = counts()
        with pytest.raises(InvalidInput, match="2026-04-01"):
            obligation_report_default(obligation=first, actor=world.applicant)
        assert counts() == before


# --- Proof of payment --------------------------------------------------------------------------------------------


def test_the_obligor_uploads_proof_then_the_obligee_confirms(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(local(*START), tick=False):
        case = effective(world)
        first = obligations(case)[0]
        proof = obligation_proof_upload(obligation=first, actor=world.lawyer,
                                        file=SimpleUploadedFile("转账凭证.png", PNG, "image/png"))
        first.refresh_from_db()
        assert first.status == ObligationStatus.PROOF_SUBMITTED
        assert proof.evidence.kind == "payment" and proof.evidence.content_type == "image/png"
        import hashlib

        assert proof.evidence.sha256 == hashlib.sha256(PNG).hexdigest()
        event = AuditEvent.objects.get(case=case, kind="performance.proof_uploaded")
        assert event.data["sha256"] == proof.evidence.sha256 and event.actor == world.lawyer
        obligation_confirm_receipt(obligation=first, actor=world.applicant)
        first.refresh_from_db()
        assert (first.status, first.confirmed_by) == (ObligationStatus.PERFORMED, world.applicant)
        with pytest.raises(StaleState):
            obligation_confirm_receipt(obligation=first, actor=world.applicant)


@pytest.mark.parametrize(("name", "content", "kind", "message"), [
    ("notes.txt", b"paid on monday", "text/plain", "只能上传"),
    ("slip.png", b"%PDF-1.7 not a png", "image/png", "不符"),
    ("slip.png", b"", "image/png", "空的"),
])
def test_a_bad_proof_file_is_refused_and_nothing_is_saved(world, settings, tmp_path, name, content, kind, message):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(local(*START), tick=False):
        first = obligations(effective(world))[0]
        before = counts()
        with pytest.raises(InvalidInput, match=message):
            obligation_proof_upload(obligation=first, actor=world.respondent,
                                    file=SimpleUploadedFile(name, content, kind))
        assert counts() == before


def test_an_oversized_proof_is_refused(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EVIDENCE_MAX_BYTES = 1024
    with time_machine.travel(local(*START), tick=False):
        first = obligations(effective(world))[0]
        before = counts()
        with pytest.raises(InvalidInput, match="过大"):
            obligation_proof_upload(obligation=first, actor=world.respondent,
                                    file=SimpleUploadedFile("slip.png", PNG + b"\x00" * 2048, "image/png"))
        assert counts() == before


# --- Defaults: contract or enforcement ---------------------------------------------------------------------------


def test_the_transition_to_enforcement_is_the_platforms_only(world):
    row = next(r for r in tr.TRANSITIONS if r.action == "not_performed")
    assert row.roles == frozenset({tr.SYSTEM})
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
    for actor in (world.clerk, world.applicant, world.mediator):
        with pytest.raises(PermissionDenied):
            case_transition(case=case, to=S.ENFORCEMENT_ELIGIBLE, actor=actor)
    assert Case.objects.get(pk=case.pk).status == S.PERFORMANCE_TRACKING


def test_a_default_on_an_unconfirmed_agreement_is_recorded_as_a_contract_matter(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        assert enforceable_title(case) is None
        traveller.move_to(local(2026, 4, 6, 9))
        obligation_report_default(obligation=obligations(case)[0], actor=world.applicant, note="至今未收到工资")
        case = Case.objects.get(pk=case.pk)
        assert case.status == S.PERFORMANCE_TRACKING  # not enforcement: a contract is sued on (PML 32-33)
        event = AuditEvent.objects.get(case=case, kind="performance.default_reported")
        assert (event.data["outcome"], event.data["enforceable"]) == ("contract_only", False)
        assert "提起诉讼" in audit_event_label(event)
        view = case_performance(user=world.applicant, case=case)
        assert view is not None and view.title is None and view.any_default
        assert [r.state_class for r in view.rows] == ["defaulted", "open", "open"]


def test_a_default_on_a_confirmed_agreement_makes_the_case_eligible_for_enforcement(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = confirmed(world, traveller)
        title = enforceable_title(case)
        assert title is not None and title.number == RULING_NUMBER and title.kind == "jc_ruling"
        first = obligations(case)[0]
        obligation_confirm_receipt(obligation=first, actor=world.applicant)
        traveller.move_to(local(2026, 5, 4, 9))
        second = obligations(case)[2]
        view = case_performance(user=world.applicant, case=case)
        assert [r.state_class for r in view.rows] == ["performed", "open", "overdue"]
        assert view.rows[2].may_report_default and not view.rows[2].may_upload_proof
        obligation_report_default(obligation=second, actor=world.applicant)
        case = Case.objects.get(pk=case.pk)
        assert case.status == S.ENFORCEMENT_ELIGIBLE
        event = AuditEvent.objects.get(case=case, kind="case.not_performed")
        assert event.actor is None and event.data["title"] == RULING_NUMBER


def test_the_two_year_limit_runs_from_the_last_due_date_and_a_late_default_is_not_enforced(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = confirmed(world, traveller)
        limit = enforcement_limit(case, enforceable_title(case))
        assert limit.start == SECOND_DUE
        # 1 May 2028 is a Monday; the calendar package does not cover 2028, so no holiday moves it.
        assert limit.last_day == calendar.years_period_end(SECOND_DUE, 2, overrides={}) == dt.date(2028, 5, 1)
        traveller.move_to(local(2028, 5, 1, 20))
        assert not limit.lapsed()
        traveller.move_to(local(2028, 5, 2, 9))
        assert limit.lapsed()
        obligation_report_default(obligation=obligations(case)[2], actor=world.applicant)
        case = Case.objects.get(pk=case.pk)
        assert case.status == S.PERFORMANCE_TRACKING
        assert AuditEvent.objects.get(case=case, kind="performance.default_reported").data["outcome"] == "limit_lapsed"
        assert case_performance(user=world.applicant, case=case).limit_lapsed


def test_a_year_period_from_29_february_ends_on_28_february_or_the_next_working_day():
    # 28 February 2026 is a Saturday but a 调休 working day (Spring Festival 2026): it ends the period.
    assert calendar.years_period_end(dt.date(2024, 2, 29), 2, overrides={}) == dt.date(2026, 2, 28)
    # 28 February 2027 is a Sunday: the period ends on Monday 1 March.
    assert calendar.years_period_end(dt.date(2025, 2, 28), 2, overrides={}) == dt.date(2027, 3, 1)
    assert calendar.years_period_end(dt.date(2024, 2, 29), 4, overrides={}) == dt.date(2028, 2, 29)


def test_every_obligation_confirmed_closes_the_case_as_performed(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        for obligation in obligations(case):
            obligation_confirm_receipt(obligation=obligation, actor=world.applicant)
        assert Case.objects.get(pk=case.pk).status == S.CLOSED_PERFORMED


def test_a_default_reported_in_the_objection_window_is_acted_on_once_tracking_begins(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = world.drive(effective(world), S.CLOSED_SETTLED)
        confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64)
        confirmation_accept(case=Case.objects.get(pk=case.pk), actor=world.judge, case_number=RULING_NUMBER)
        confirmation_rule(case=Case.objects.get(pk=case.pk), actor=world.judge, confirm=True)
        confirmation_ruling_served(case=Case.objects.get(pk=case.pk), actor=world.clerk)
        traveller.move_to(local(2026, 3, 10, 9))
        certificate = obligations(case)[1]  # no due date: reportable at once
        obligation_report_default(obligation=certificate, actor=world.applicant)
        assert Case.objects.get(pk=case.pk).status == S.OBJECTION_WINDOW
        assert AuditEvent.objects.get(case=case, kind="performance.default_reported").data["outcome"] == "recorded"
        assert defaults_escalate() == 0  # not while the window runs
        traveller.move_to(local(2026, 3, 20, 9))
        timers_sweep()
        assert Case.objects.get(pk=case.pk).status == S.PERFORMANCE_TRACKING
        assert defaults_escalate() == 1
        assert Case.objects.get(pk=case.pk).status == S.ENFORCEMENT_ELIGIBLE
        assert defaults_escalate() == 0


def test_the_sweep_leaves_an_unconfirmed_default_where_it_is(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        traveller.move_to(local(2026, 4, 6, 9))
        obligation_report_default(obligation=obligations(case)[0], actor=world.applicant)
        assert defaults_escalate() == 0
        assert Case.objects.get(pk=case.pk).status == S.PERFORMANCE_TRACKING
