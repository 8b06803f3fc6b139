"""Court-filed mediation under the 2025 rules (legal-rules §A12, §B13): the clerk's registration, the parties'
consents, the clock from the mediator's receipt of the materials (15 / 7 days), the single 30-day extension,
expiry → failure, the court's outcomes, the fee notice and its deadline."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command

from documents.models import Document
from documents.services.fee_notice import fee_notice_issue
from mediation import signals
from mediation.choices import (
    CaseOrigin,
    CaseStatus,
    ConsentKind,
    DocumentKind,
    EndReason,
    OtherMeansClosure,
    PartyRole,
    Sector,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import Case, Consent, Party, ServiceRecord, Timer
from mediation.selectors.court_filed import court_filed_inbox
from mediation.services.cases import case_transition
from mediation.services.court_filed import (
    court_filed_close_other_means,
    court_filed_consent_record,
    court_filed_extend,
    court_filed_extension_consent_record,
    court_filed_fee_paid,
    court_filed_materials_receive,
    mediation_document_request,
)
from mediation.services.intake import ReferralParty, case_referral_create
from mediation.services.timer_sweep import timers_sweep
from tests.court_filed_support import both_consent, both_consent_to_extend, e_service, filed_case, local, party, period

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_BACKEND = "console"


def _refer(world, **overrides):
    values = {
        "actor": world.clerk, "origin": CaseOrigin.COURT_FILED, "court": world.court, "dispute_type": Sector.LABOUR,
        "title": "张三诉某公司劳动报酬纠纷", "claims": "支付工资 12,000 元", "amount": "12000",
        "parties": [ReferralParty(role=PartyRole.APPLICANT, name="张三", phone="13700000001"),
                    ReferralParty(role=PartyRole.RESPONDENT, name="李四", phone="13700000002")],
        "court_case_number": "（2026）京0101民初4567号", "procedure": "simple", "organisation": world.partner,
    }
    values.update(overrides)
    return case_referral_create(**values)


# --- Registration (§A12 arts. 1-2) --------------------------------------------------------------------------


def test_the_clerk_registers_a_filed_lawsuit_with_its_number_and_procedure(world):
    case = _refer(world)
    assert (case.origin, case.status, case.procedure) == (CaseOrigin.COURT_FILED, CaseStatus.AWAITING_SELECTION,
                                                           "simple")
    assert case.court_case_number == "（2026）京0101民初4567号"
    assert not Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD).exists()


@pytest.mark.parametrize("origin", [CaseOrigin.DELEGATED, CaseOrigin.ENTRUSTED])
def test_delegation_before_filing_and_the_old_entrustment_are_refused_citing_the_2025_rule(world, origin):
    before = Case.objects.count()
    with pytest.raises(InvalidInput) as refused:
        _refer(world, origin=origin, court_case_number="", procedure="")
    assert "最高人民法院关于严格依法规范民事案件立案与调解工作的意见" in str(refused.value)
    assert "2025年1月1日" in str(refused.value)
    assert Case.objects.count() == before and Party.objects.count() == 0


@pytest.mark.parametrize("number", ["", "（2026）京0101民特12号", "2026京0101民初12号", "（2026）XX0101民初12号",
                                    "（2026）京0101民初号", "（2026）京0101民诉前调12号"])
def test_a_number_that_is_not_a_first_instance_civil_number_is_refused_and_nothing_is_saved(world, number):
    before = Case.objects.count()
    with pytest.raises(InvalidInput):
        _refer(world, court_case_number=number)
    assert Case.objects.count() == before


def test_a_procedure_is_required(world):
    with pytest.raises(InvalidInput, match="审理程序"):
        _refer(world, procedure="")
    assert Case.objects.count() == 0


def test_only_a_clerk_of_the_court_registers(world):
    for actor in (world.other_clerk, world.judge, world.mediator, world.outsider):
        with pytest.raises(PermissionDenied):
            _refer(world, actor=actor)
    assert Case.objects.count() == 0


# --- Consents and the materials receipt (§A12 arts. 2-3) ----------------------------------------------------


def test_a_party_cannot_record_the_other_partys_consent_nor_can_the_mediator(world):
    case = filed_case(world)
    respondent = party(case, PartyRole.RESPONDENT)
    for actor in (world.applicant, world.mediator, world.clerk, world.outsider):
        with pytest.raises(PermissionDenied):
            court_filed_consent_record(case=case, party=respondent, actor=actor, granted=True)
    assert not Consent.objects.filter(case=case).exists()


def test_the_mediator_cannot_sign_for_the_materials_before_both_parties_consent(world):
    case = filed_case(world)
    court_filed_consent_record(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant,
                               granted=True)
    with pytest.raises(InvalidInput, match="李四"):
        court_filed_materials_receive(case=case, actor=world.mediator)
    # A refusal is not a consent either.
    court_filed_consent_record(case=case, party=party(case, PartyRole.RESPONDENT), actor=world.respondent,
                               granted=False)
    with pytest.raises(InvalidInput):
        court_filed_materials_receive(case=case, actor=world.mediator)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    assert not Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD).exists()


def test_only_the_cases_mediator_signs_for_the_materials(world):
    case = filed_case(world)
    both_consent(world, case)
    for actor in (world.other_mediator, world.clerk, world.judge, world.applicant, world.org_admin):
        with pytest.raises(PermissionDenied):
            court_filed_materials_receive(case=case, actor=actor)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_acceptance_alone_starts_no_clock_and_the_table_will_not_schedule_without_the_receipt(world):
    case = filed_case(world)
    assert not Timer.objects.filter(case=case, kind__in=[TimerKind.MEDIATION_PERIOD,
                                                         TimerKind.COURT_FILED_PERIOD]).exists()
    with pytest.raises(TransitionNotAllowed):
        case_transition(case=case, to=CaseStatus.SCHEDULING, actor=world.mediator)


@pytest.mark.parametrize(("procedure", "days", "last_day"), [("ordinary", 15, (2026, 3, 20)),
                                                            ("simple", 7, (2026, 3, 12))])
def test_the_period_runs_from_the_materials_receipt_15_or_7_days_then_ends_in_failure(world, procedure, days,
                                                                                     last_day):
    with time_machine.travel(local(2026, 3, 2, 9), tick=False):  # accepted on Monday
        case = filed_case(world, procedure=procedure)
        both_consent(world, case)
    with time_machine.travel(local(2026, 3, 5, 15), tick=False):  # materials signed for on Thursday
        case = court_filed_materials_receive(case=case, actor=world.mediator, note="起诉状、证据目录")
    timer = period(case)
    assert (timer.length, timer.started_at, timer.status) == (days, local(2026, 3, 5, 15), TimerStatus.RUNNING)
    assert timer.due_at == local(*last_day) + dt.timedelta(days=1)
    assert case.status == CaseStatus.SCHEDULING
    # The day before the end nothing fires; at the end the period expires and mediation fails (§A12 art. 5).
    assert timers_sweep(now=local(*last_day, 23, 59)) == []
    fired = timers_sweep(now=timer.due_at)
    assert [t.pk for t in fired] == [timer.pk]
    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.PERIOD_EXPIRED)
    kinds = list(case.audit_events.order_by("seq").values_list("kind", flat=True))
    assert kinds.index("case.receive_materials") < kinds.index("timer.expired") < kinds.index("case.terminate")
    call_command("verify_audit_chain")


def test_one_30_day_extension_with_both_consents_and_a_second_is_refused(world):
    with time_machine.travel(local(2026, 3, 2, 9), tick=False):
        case = filed_case(world, procedure="simple")
        both_consent(world, case)
        case = court_filed_materials_receive(case=case, actor=world.mediator)
    first_due = period(case).due_at
    with time_machine.travel(local(2026, 3, 6, 9), tick=False):
        # Without both consents the mediator cannot extend; a party cannot extend at all.
        court_filed_extension_consent_record(case=case, party=party(case, PartyRole.APPLICANT),
                                             actor=world.applicant, granted=True)
        with pytest.raises(InvalidInput, match="李四"):
            court_filed_extend(case=case, actor=world.mediator)
        with pytest.raises(PermissionDenied):
            court_filed_extension_consent_record(case=case, party=party(case, PartyRole.RESPONDENT),
                                                 actor=world.applicant, granted=True)
        for actor in (world.applicant, world.clerk, world.judge, world.other_mediator):
            with pytest.raises(PermissionDenied):
                court_filed_extend(case=case, actor=actor)
        assert period(case).extra_days == 0
        court_filed_extension_consent_record(case=case, party=party(case, PartyRole.RESPONDENT),
                                             actor=world.respondent, granted=True)
        timer = court_filed_extend(case=case, actor=world.mediator)
    assert timer.extra_days == 30
    assert timer.due_at == first_due + dt.timedelta(days=30)
    extended = case.audit_events.get(kind="timer.extended")
    assert "不计入审理期限" in extended.data["note"] and len(extended.data["consents"]) == 2
    # A second extension is refused, even with fresh consents from both parties.
    with time_machine.travel(local(2026, 3, 20, 9), tick=False):
        both_consent_to_extend(world, case)
        with pytest.raises(InvalidInput, match="只能延长一次"):
            court_filed_extend(case=case, actor=world.mediator)
    assert period(case).extra_days == 30
    # The extended period ends in failure too if nobody agrees.
    timers_sweep(now=period(case).due_at)
    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.PERIOD_EXPIRED)
    call_command("verify_audit_chain")


def test_an_extension_of_another_length_is_refused(world):
    from mediation.services.timers import timer_extend

    case = filed_case(world)
    both_consent(world, case)
    case = court_filed_materials_receive(case=case, actor=world.mediator)
    both_consent_to_extend(world, case)
    with pytest.raises(InvalidInput, match="30"):
        timer_extend(timer=period(case), days=10, actor=world.mediator)
    assert period(case).extra_days == 0


# --- Outcomes (§A12 arts. 4-6) --------------------------------------------------------------------------


def test_the_court_records_withdrawal_or_immediate_performance_as_closure_by_other_means(world):
    case = filed_case(world, to=CaseStatus.IN_MEDIATION)
    for actor in (world.mediator, world.applicant, world.other_judge, world.other_clerk):
        with pytest.raises(PermissionDenied):
            court_filed_close_other_means(case=case, actor=actor, reason=OtherMeansClosure.WITHDRAWAL)
    with pytest.raises(InvalidInput):
        court_filed_close_other_means(case=case, actor=world.judge, reason="settled")
    case = court_filed_close_other_means(case=case, actor=world.judge, reason=OtherMeansClosure.PERFORMED,
                                         note="被告当场支付 12,000 元")
    assert case.status == CaseStatus.CLOSED_OTHER_MEANS
    event = case.audit_events.get(kind="case.close_other_means")
    assert event.data["reason"] == "performed"


def test_a_party_asks_for_a_mediation_document_and_the_case_waits_on_the_judges_inbox(
    world, django_capture_on_commit_callbacks
):
    case = filed_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.mediation_document_requested.connect(receiver)
    try:
        for actor in (world.mediator, world.clerk, world.judge, world.outsider):
            with pytest.raises(PermissionDenied):
                mediation_document_request(case=case, actor=actor)
        with django_capture_on_commit_callbacks(execute=True):
            case = mediation_document_request(case=case, actor=world.lawyer)  # special authority (CPL 62)
    finally:
        signals.mediation_document_requested.disconnect(receiver)
    assert case.status == CaseStatus.MEDIATION_DOCUMENT_REQUESTED
    assert received and received[0]["case_id"] == case.pk
    assert list(court_filed_inbox(user=world.judge)) == [case]
    assert list(court_filed_inbox(user=world.other_judge)) == []
    assert list(court_filed_inbox(user=world.mediator)) == []
    # No judicial confirmation for a court-filed case.
    assert not Timer.objects.filter(case=case, kind=TimerKind.JC_APPLICATION_WINDOW).exists()


def _failed(world):
    case = filed_case(world)
    both_consent(world, case)
    case = court_filed_materials_receive(case=case, actor=world.mediator)
    return case_transition(case=case, to=CaseStatus.TERMINATED, actor=world.mediator,
                           reason=EndReason.POSITIONS_TOO_FAR)


def _pdf(document: Document, tmp_path) -> str:
    path = tmp_path / "fee.pdf"
    with default_storage.open(document.pdf.name, "rb") as handle:
        path.write_bytes(handle.read())
    return str(path)


def test_the_fee_notice_is_served_with_its_fields_and_unpaid_by_the_deadline_the_suit_is_deemed_withdrawn(
    world, tmp_path
):
    with time_machine.travel(local(2026, 3, 2, 9), tick=False):
        case = _failed(world)
        e_service(case, world.applicant)
        # Refusals first: who, bad input; nothing half-saved.
        for actor in (world.judge, world.mediator, world.applicant, world.other_clerk):
            with pytest.raises(PermissionDenied):
                fee_notice_issue(case=case, actor=actor, amount="50", days=7)
        for amount, days in (("0", 7), ("abc", 7), ("12.345", 7), ("50", 0), ("50", 31), ("50", "x")):
            with pytest.raises(InvalidInput):
                fee_notice_issue(case=case, actor=world.clerk, amount=amount, days=days)
        assert (Document.objects.filter(case=case, kind=DocumentKind.FEE_NOTICE).count(),
                ServiceRecord.objects.filter(case=case).count()) == (0, 0)
        assert Case.objects.get(pk=case.pk).status == CaseStatus.TERMINATED
        document, records = fee_notice_issue(case=case, actor=world.clerk, amount="50.00", days=7)
    case.refresh_from_db()
    assert case.status == CaseStatus.FEE_PENDING
    fee = Timer.objects.get(case=case, kind=TimerKind.FILING_FEE)
    assert (fee.length, fee.status) == (7, TimerStatus.RUNNING)
    assert [r.recipient.role for r in records] == [PartyRole.APPLICANT]
    assert records[0].document_sha256 == document.sha256
    path = _pdf(document, tmp_path)
    text = "".join(subprocess.run([shutil.which("pdftotext") or "pdftotext", "-raw", path, "-"],
                                  capture_output=True, text=True, check=True).stdout.split())
    for field in ("交纳案件受理费通知书", "（2026）京0101民初123号", "北京市东城区人民法院", world.applicant.real_name,
                  "50.00", "7日", "2026年3月9日", "按撤诉处理", "劳动报酬纠纷", "普通程序"):
        assert field in text, field
    fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", path], capture_output=True, text=True,
                           check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in cjk), fonts
    # The deadline passes unpaid: the suit is treated as withdrawn.
    assert timers_sweep(now=local(2026, 3, 9, 23, 59)) == []
    timers_sweep(now=fee.due_at)
    case.refresh_from_db()
    assert case.status == CaseStatus.DEEMED_WITHDRAWN
    kinds = [k for k in case.audit_events.order_by("seq").values_list("kind", flat=True)
             if k.startswith(("case.", "document.", "service.issued", "timer.expired"))]
    order = ["case.terminate", "case.issue_fee_notice", "document.issued", "service.issued", "timer.expired",
             "case.fee_unpaid"]
    assert [k for k in kinds if k in order] == order
    call_command("verify_audit_chain")


def test_a_paid_fee_sends_the_case_back_to_trial(world):
    case = _failed(world)
    e_service(case, world.applicant)
    fee_notice_issue(case=case, actor=world.clerk, amount="50", days=7)
    for actor in (world.mediator, world.applicant, world.other_judge):
        with pytest.raises(PermissionDenied):
            court_filed_fee_paid(case=Case.objects.get(pk=case.pk), actor=actor)
    case = court_filed_fee_paid(case=Case.objects.get(pk=case.pk), actor=world.judge, note="缴费凭证 0001")
    assert case.status == CaseStatus.RESUME_TRIAL
    assert Timer.objects.get(case=case, kind=TimerKind.FILING_FEE).status == TimerStatus.STOPPED
    with pytest.raises(StaleState):
        fee_notice_issue(case=case, actor=world.clerk, amount="50", days=7)


def test_a_fee_notice_that_cannot_be_served_leaves_nothing_behind(world):
    case = _failed(world)  # the applicant confirmed no e-service address
    with pytest.raises(InvalidInput, match="送达"):
        fee_notice_issue(case=case, actor=world.clerk, amount="50", days=7)
    case.refresh_from_db()
    assert case.status == CaseStatus.TERMINATED
    assert not Timer.objects.filter(case=case, kind=TimerKind.FILING_FEE).exists()
    assert not Document.objects.filter(case=case).exists() and not ServiceRecord.objects.exists()


def test_existing_delegated_cases_keep_their_rules(world):
    case = world.drive(world.new_case(origin=CaseOrigin.DELEGATED), CaseStatus.ACCEPTED)
    timer = Timer.objects.get(case=case, kind=TimerKind.MEDIATION_PERIOD)
    assert timer.length == 30
    assert not Consent.objects.filter(kind=ConsentKind.COURT_ENTRUSTMENT).exists()


def test_party_initiated_mediation_keeps_its_path_to_judicial_confirmation(world):
    from mediation import transitions as tr

    assert tr.find_transitions(source=CaseStatus.CLOSED_SETTLED, target=CaseStatus.JC_SUBMITTED,
                               origin=CaseOrigin.PARTY_APPLICATION)
    assert not tr.find_transitions(source=CaseStatus.AGREEMENT_EFFECTIVE, target=CaseStatus.CLOSED_SETTLED,
                                   origin=CaseOrigin.COURT_FILED)
    case = world.drive(world.new_case(), CaseStatus.AGREEMENT_EFFECTIVE)
    assert Timer.objects.get(case=case, kind=TimerKind.JC_APPLICATION_WINDOW).status == TimerStatus.RUNNING
    filed = filed_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    assert not Timer.objects.filter(case=filed, kind=TimerKind.JC_APPLICATION_WINDOW).exists()
