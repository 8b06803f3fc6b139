"""The drafting checks (Interp 355, 358(5); ESL art. 3; CMed 8; PML 29) and how clauses read. Pure: the
agreements are built in memory, nothing touches the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mediation.agreement_rules import agreement_warnings
from mediation.agreement_text import clause_sha256, clause_text, rmb_capitals
from mediation.choices import AgreementScope, AgreementVariant, ClauseKind, Sector
from mediation.models import Agreement, AgreementClause, Case, Party

TODAY = dt.date(2026, 6, 1)
WORKER = Party(pk=1, name="张三")
EMPLOYER = Party(pk=2, name="某某餐饮有限公司")


def _agreement(dispute_type: str = Sector.LABOUR, **fields) -> Agreement:
    fields.setdefault("variant", AgreementVariant.DELEGATED)
    return Agreement(case=Case(dispute_type=dispute_type), **fields)


def _payment(number: int = 1, **fields) -> AgreementClause:
    values = {
        "kind": ClauseKind.PAYMENT, "obligor": EMPLOYER, "obligee": WORKER, "subject": "拖欠的工资",
        "amount": Decimal("12000.00"), "method": "银行转账", "deadline": dt.date(2026, 6, 30),
    }
    values.update(fields)
    return AgreementClause(number=number, **values)


def _other(text: str, number: int = 2) -> AgreementClause:
    return AgreementClause(number=number, kind=ClauseKind.OTHER, text=text)


def _codes(agreement: Agreement, clauses: list[AgreementClause]) -> list[str]:
    return [w.code for w in agreement_warnings(agreement, clauses, today=TODAY)]


# --- a clean agreement raises nothing ---------------------------------------------------------------------------


def test_a_complete_labour_agreement_has_no_findings():
    clauses = [_payment(), _other("申请人放弃其他请求，双方再无其他争议。")]
    assert agreement_warnings(_agreement(), clauses, today=TODAY) == []


# --- errors: unclear content (Interp 358(5)) -------------------------------------------------------------------


def test_a_payment_clause_names_what_it_is_missing():
    [finding] = agreement_warnings(_agreement(), [_payment(amount=None, method="", deadline=None)], today=TODAY)
    assert finding.is_error and finding.clause == 1
    assert "缺少：金额、履行方式、履行期限" in finding.message
    assert finding.rule == "民诉法解释第358条第5项"


def test_a_payment_clause_without_obligor_or_obligee_is_an_error():
    [finding] = agreement_warnings(_agreement(), [_payment(obligor=None, obligee=None)], today=TODAY)
    assert finding.is_error and "缺少：义务人、权利人" in finding.message


def test_the_same_party_cannot_owe_itself():
    assert _codes(_agreement(), [_payment(obligee=EMPLOYER)]) == ["same_party"]


def test_a_payment_of_nothing_is_an_error():
    assert _codes(_agreement(), [_payment(amount=Decimal("0"))]) == ["payment_amount"]


def test_an_agreement_without_clauses_is_an_error():
    assert _codes(_agreement(), []) == ["no_clauses"]


def test_an_empty_clause_is_an_error():
    assert _codes(_agreement(), [AgreementClause(number=1, kind=ClauseKind.OTHER)]) == ["empty_clause"]


def test_a_partial_agreement_must_list_the_unresolved_claims():
    partial = _agreement(scope=AgreementScope.PARTIAL)
    assert _codes(partial, [_payment()]) == ["partial_without_unresolved"]
    partial.unresolved_claims = "加班费请求未达成协议"
    assert _codes(partial, [_payment()]) == []


def test_a_performance_clause_without_who_or_when_is_a_warning_not_an_error():
    [finding] = agreement_warnings(
        _agreement(), [AgreementClause(number=1, kind=ClauseKind.PERFORMANCE, subject="出具离职证明")], today=TODAY
    )
    assert (finding.code, finding.is_error) == ("performance_unclear", False)


def test_a_deadline_already_past_is_a_warning():
    assert _codes(_agreement(), [_payment(deadline=dt.date(2026, 5, 1))]) == ["deadline_past"]


def test_errors_come_before_warnings():
    clauses = [_payment(deadline=dt.date(2026, 5, 1)), _payment(2, amount=None)]
    findings = agreement_warnings(_agreement(), clauses, today=TODAY)
    assert [w.is_error for w in findings] == [True, False]


# --- matters a court will not confirm (Interp 355) ------------------------------------------------------------


def test_a_clause_dissolving_a_marriage_warns_that_personal_status_is_not_confirmed():
    findings = agreement_warnings(_agreement(), [_payment(), _other("双方自愿离婚。")], today=TODAY)
    status = next(w for w in findings if w.code == "personal_status")
    assert status.clause == 2 and "“离婚”" in status.message and not status.is_error
    assert status.rule == "民诉法解释第355条第1款第3项"


def test_a_family_dispute_warns_about_status_and_electronic_signatures_by_its_type():
    codes = _codes(_agreement(Sector.FAMILY), [_payment(subject="子女抚养费")])
    assert "status_by_type" in codes and "esl_personal" in codes


@pytest.mark.parametrize("wording", ["房屋归申请人所有。", "确认涉案房屋的所有权属于张三。", "涉案专利权归甲方。"])
def test_confirming_ownership_of_property_or_ip_warns(wording):
    findings = agreement_warnings(_agreement(), [_payment(), _other(wording)], today=TODAY)
    ownership = next(w for w in findings if w.code == "ownership")
    assert ownership.clause == 2 and ownership.rule == "民诉法解释第355条第1款第5项"


def test_returning_all_of_a_loan_is_not_an_ownership_clause():
    assert _codes(_agreement(), [_payment(subject="归还申请人所有借款本金")]) == []


def test_an_ip_dispute_warns_about_ownership_by_its_type():
    assert _codes(_agreement(Sector.IP), [_payment(subject="专利许可使用费")]) == ["ip_by_type"]


def test_ownership_wording_in_the_facts_is_found_too():
    assert "ownership" in _codes(_agreement(facts="双方争议房屋产权归属，现确认房屋归乙方所有。"), [_payment()])


# --- documents outside electronic signatures (ESL art. 3) -----------------------------------------------------


def test_an_inheritance_matter_warns_that_electronic_signatures_do_not_apply():
    findings = agreement_warnings(_agreement(), [_payment(subject="遗产折价款")], today=TODAY)
    [esl] = [w for w in findings if w.code == "esl_personal"]
    assert "第1条" in esl.message and esl.rule == "电子签名法第三条"


def test_stopping_a_utility_service_warns_that_electronic_signatures_do_not_apply():
    assert "esl_utilities" in _codes(_agreement(Sector.PROPERTY), [_payment(), _other("物业公司不得停止供水。")])


# --- a "sue on breach" clause (CMed 8) ------------------------------------------------------------------------


@pytest.mark.parametrize("wording", [
    "如被申请人未按期付款，申请人可以另行起诉。",
    "逾期未履行的，申请人有权向人民法院起诉。",
    "一方违约的，由人民法院判决。",
])
def test_a_clause_letting_a_party_sue_on_breach_warns(wording):
    findings = agreement_warnings(_agreement(), [_payment(breach=wording)], today=TODAY)
    assert [w.code for w in findings] == ["sue_on_breach"]
    assert findings[0].clause == 1 and not findings[0].is_error


def test_applying_for_enforcement_is_not_a_sue_on_breach_clause():
    clause = _payment(breach="逾期未付的，申请人可以向人民法院申请强制执行，并另付违约金1,000元。")
    assert _codes(_agreement(), [clause]) == []


def test_the_header_may_say_the_unresolved_claims_can_go_to_court():
    partial = _agreement(scope=AgreementScope.PARTIAL, unresolved_claims="加班费请求未达成协议，申请人可以另行起诉。")
    assert _codes(partial, [_payment()]) == []


# --- people's mediation (PML 29) ------------------------------------------------------------------------------


def test_a_peoples_mediation_agreement_without_responsibilities_warns():
    assert _codes(_agreement(variant=AgreementVariant.PEOPLES), [_payment()]) == ["peoples_responsibilities"]
    with_duty = _agreement(variant=AgreementVariant.PEOPLES, responsibilities="被申请人未按时支付工资，负主要责任。")
    assert _codes(with_duty, [_payment()]) == []


# --- how clauses read and what the assent binds to ------------------------------------------------------------


@pytest.mark.parametrize(("amount", "capitals"), [
    ("12000", "壹万贰仟元整"), ("1005.30", "壹仟零伍元叁角"), ("100000001", "壹亿零壹元整"),
    ("1010", "壹仟零壹拾元整"), ("10.05", "壹拾元零伍分"), ("0.50", "伍角"), ("200000", "贰拾万元整"),
    ("30005000", "叁仟万伍仟元整"), ("0", "零元整"),
])
def test_amounts_are_written_in_capitals(amount, capitals):
    assert rmb_capitals(Decimal(amount)) == capitals


def test_a_payment_clause_reads_with_everyone_and_the_amount_in_capitals():
    wording = clause_text(_payment(breach="逾期未付的，另付违约金1,000元。"))
    assert wording == (
        "某某餐饮有限公司于2026年6月30日前以银行转账方式向张三支付拖欠的工资人民币12,000.00元（大写：壹万贰仟元整）。"
        "违约责任：逾期未付的，另付违约金1,000元。"
    )


def test_the_mediators_own_wording_wins_over_the_fields():
    assert clause_text(_payment(text="被申请人支付申请人工资12000元。")) == "被申请人支付申请人工资12000元。"


def test_the_content_hash_changes_with_the_wording_but_not_with_the_number():
    base = clause_sha256(_payment())
    assert clause_sha256(_payment(number=5)) == base
    assert clause_sha256(_payment(amount=Decimal("12000.01"))) != base
    assert clause_sha256(_payment(amount=Decimal("12000"))) == base  # the same amount to the fen
    assert clause_sha256(_payment(obligee=EMPLOYER)) != base
