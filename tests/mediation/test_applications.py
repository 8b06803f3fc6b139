"""A party's online application: steps kept on the server, then one all-or-nothing submission."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from mediation.choices import CaseOrigin, CaseStatus, ConsentKind, PartyKind, PartyRole, Sector, ServiceStage
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import (
    ApplicationDraft,
    AuditEvent,
    Case,
    Consent,
    Evidence,
    NoticeAcknowledgement,
    NoticeText,
    Party,
    ServiceAddress,
)
from mediation.notices import ONLINE_MEDIATION_NOTICE, SERVICE_ADDRESS_NOTICE
from mediation.services import applications as apps
from mediation.services.consents import notice_text_publish
from mediation.services.evidence import evidence_upload
from tests.apply_support import complete_draft, pdf_bytes, step_answers, upload, verify_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def applicant(world):
    """The world's applicant (张三) after a passed real-name check."""
    return verify_identity(world.applicant)


def row_counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "parties": Party.objects.count(),
        "evidence_on_cases": Evidence.objects.filter(case__isnull=False).count(),
        "service_addresses": ServiceAddress.objects.count(),
        "consents": Consent.objects.count(),
        "acknowledgements": NoticeAcknowledgement.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "submitted_drafts": ApplicationDraft.objects.filter(case__isnull=False).count(),
    }


# --- A complete submission ---------------------------------------------------------------------------------


def test_a_complete_application_creates_exactly_the_expected_rows(world, applicant):
    draft = complete_draft(world, applicant)
    evidence = evidence_upload(
        actor=applicant, draft=draft, file=upload("合同.pdf", pdf_bytes(), "application/pdf"), title="劳动合同"
    )
    before = row_counts()

    case = apps.application_submit(draft=draft, actor=applicant)

    after = row_counts()
    assert {k: after[k] - before[k] for k in after} == {
        "cases": 1, "parties": 2, "evidence_on_cases": 1, "service_addresses": 1, "consents": 2,
        "acknowledgements": 2, "audit_events": after["audit_events"] - before["audit_events"], "submitted_drafts": 1,
    }
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.origin == CaseOrigin.PARTY_APPLICATION
    assert case.one_sided is True
    assert case.court == world.court
    assert case.title == "张三与李四劳动争议"
    assert case.amount == Decimal("12000.00")
    assert case.claims == "支付拖欠工资12000元"
    own = case.parties.get(role=PartyRole.APPLICANT)
    assert (own.user, own.name, own.id_number) == (applicant, "张三", applicant.id_number)
    other = case.parties.get(role=PartyRole.RESPONDENT)
    assert (other.user, other.name, other.phone) == (None, "李四", "13900000002")
    evidence.refresh_from_db()
    assert evidence.case == case
    draft.refresh_from_db()
    assert draft.case == case


def test_submission_writes_its_audit_events_on_the_case_stream_in_order(world, applicant):
    case = apps.application_submit(draft=complete_draft(world, applicant), actor=applicant)
    kinds = list(case.audit_events.order_by("seq").values_list("kind", flat=True))
    assert kinds[:8] == [
        "case.created", "service_address.confirmed", "notice.acknowledged", "notice.acknowledged",
        "consent.granted", "consent.granted", "application.submitted", "case.submit",
    ]
    assert "timer.started" in kinds[8:]  # the court's 3-working-day designation clock (OMR 10)


def test_consents_are_recorded_at_the_draft_stage_against_the_versions_read(world, applicant):
    draft = complete_draft(world, applicant)
    shown = draft.data["notices"]
    case = apps.application_submit(draft=draft, actor=applicant)
    online = Consent.objects.get(case=case, kind=ConsentKind.ONLINE_MEDIATION)
    e_service = Consent.objects.get(case=case, kind=ConsentKind.E_SERVICE)
    assert (online.stage, online.granted, online.text_id) == (CaseStatus.DRAFT, True, shown["consent_text"])
    assert (e_service.stage, e_service.granted, e_service.text_id) == (CaseStatus.DRAFT, True, shown["e_service_text"])
    acknowledged = set(NoticeAcknowledgement.objects.filter(case=case).values_list("text_id", flat=True))
    assert acknowledged == {shown["notice_text"], draft.data["address"]["text"]}


def test_the_service_address_confirmation_keeps_every_answer(world, applicant):
    case = apps.application_submit(draft=complete_draft(world, applicant), actor=applicant)
    address = ServiceAddress.objects.get(case=case)
    assert address.party.role == PartyRole.APPLICANT
    assert address.confirmed_by == applicant
    assert address.recipient_name == "张三"
    assert address.recipient_id_masked == applicant.id_number_masked
    assert (address.postal_code, address.postal_address) == ("100010", "北京市东城区王府井大街1号")
    assert (address.e_service_consent, address.mobile, address.email) == (True, "13900000001", "zhangsan@example.com")
    assert address.stages == [ServiceStage.MEDIATION, ServiceStage.CONFIRMATION]
    assert address.text.code == SERVICE_ADDRESS_NOTICE.code


def test_refusing_e_service_is_recorded_as_a_refusal_and_drops_the_e_addresses(world, applicant):
    draft = apps.application_draft_open(actor=applicant)
    answers = step_answers(world)
    answers["notices"]["e_service"] = False
    for step, data in answers.items():
        draft = apps.application_step_save(draft=draft, actor=applicant, step=step, data=data)
    case = apps.application_submit(draft=draft, actor=applicant)
    assert Consent.objects.get(case=case, kind=ConsentKind.E_SERVICE).granted is False
    address = ServiceAddress.objects.get(case=case)
    assert (address.e_service_consent, address.mobile, address.email) == (False, "", "")


def test_an_entity_applies_with_its_credit_code_and_legal_representative(world, applicant):
    draft = complete_draft(world, applicant, parties={
        "applicant_kind": PartyKind.ENTITY, "applicant_name": "北京某科技有限公司",
        "applicant_uscc": "91110101MA01ABCD1X", "legal_representative": "张三",
    })
    case = apps.application_submit(draft=draft, actor=applicant)
    own = case.parties.get(role=PartyRole.APPLICANT)
    assert (own.kind, own.name, own.uscc, own.legal_representative) == (
        PartyKind.ENTITY, "北京某科技有限公司", "91110101MA01ABCD1X", "张三"
    )
    assert own.user == applicant and own.id_number == ""
    assert case.title == "北京某科技有限公司与李四劳动争议"


def test_the_case_title_stays_chinese_when_the_page_is_in_english():
    with translation.override("en"):
        assert apps.case_title(applicant="张三", respondent="李四", dispute_type=Sector.FINANCE) == "张三与李四金融纠纷"
        assert apps.case_title(applicant="张三", respondent="李四", dispute_type=Sector.OTHER) == "张三与李四纠纷"


# --- Refusals: a clear message and nothing saved ---------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "change", "message"),
    [
        ("parties", {"respondent_id_number": "110101198506120010"}, "校验位错误"),
        ("parties", {"respondent_phone": "abc"}, "手机号码应为以1开头的11位数字"),
        ("parties", {"respondent_phone": ""}, "请填写被申请人的手机号码"),
        ("claims", {"amount": "-1"}, "金额不能为负数"),
        ("claims", {"amount": "100.123"}, "最多保留两位小数"),
        ("notices", {"consent_online": False}, "须同意通过人民法院调解平台进行在线调解"),
        ("notices", {"ack_notice": False}, "请阅读《在线调解告知书》"),
        ("address", {"postal_code": "1000"}, "邮政编码应为6位数字"),
        ("dispute", {"court": 0}, "请从列表中选择"),
    ],
    ids=["id-checksum", "phone-abc", "phone-missing", "negative-amount", "three-decimals", "no-consent",
         "notice-not-read", "short-postcode", "no-court"],
)
def test_submitting_a_bad_answer_is_refused_with_a_clear_message_and_nothing_saved(
    world, applicant, step, change, message
):
    draft = complete_draft(world, applicant, **{step: change})
    before = row_counts()
    with pytest.raises(InvalidInput, match=message):
        apps.application_submit(draft=draft, actor=applicant)
    assert row_counts() == before


def test_a_higher_court_cannot_be_chosen(world, applicant):
    draft = apps.application_draft_open(actor=applicant)
    with pytest.raises(apps.StepInvalid) as refused:
        apps.application_step_save(
            draft=draft, actor=applicant, step="dispute",
            data={"dispute_type": Sector.LABOUR, "court": world.high_court.pk},
        )
    assert "court" in refused.value.errors


def test_a_step_with_a_bad_answer_keeps_nothing_of_that_step(world, applicant):
    draft = apps.application_draft_open(actor=applicant)
    answers = step_answers(world)["parties"] | {"respondent_phone": "abc", "respondent_id_number": "12345"}
    with pytest.raises(apps.StepInvalid) as refused:
        apps.application_step_save(draft=draft, actor=applicant, step="parties", data=answers)
    assert set(refused.value.errors) == {"respondent_phone", "respondent_id_number"}
    assert "18位" in refused.value.errors["respondent_id_number"]
    draft.refresh_from_db()
    assert "parties" not in draft.data


def test_a_notice_published_after_it_was_read_refuses_submission_until_read_again(world, applicant):
    draft = complete_draft(world, applicant)
    notice_text_publish(
        code=ONLINE_MEDIATION_NOTICE.code, title=ONLINE_MEDIATION_NOTICE.title,
        body=ONLINE_MEDIATION_NOTICE.body + "\n七、新增条款。", actor=None,
    )
    before = row_counts()
    with pytest.raises(InvalidInput, match="已更新，请重新阅读"):
        apps.application_submit(draft=draft, actor=applicant)
    assert row_counts() == before
    draft.refresh_from_db()
    assert apps.application_progress(draft=draft) == "notices"

    newest = NoticeText.objects.filter(code=ONLINE_MEDIATION_NOTICE.code).latest("version")
    apps.application_step_save(
        draft=draft, actor=applicant, step="notices",
        data={**draft.data["notices"], "notice_text": newest.pk},
    )
    case = apps.application_submit(draft=draft, actor=applicant)
    assert NoticeAcknowledgement.objects.filter(case=case, text=newest).exists()


def test_an_older_version_of_a_notice_cannot_be_claimed_as_read(world, applicant):
    old = apps.application_texts(apps.NOTICE_FIELDS)["notice_text"]
    notice_text_publish(code=old.code, title=old.title, body=old.body + "（修订）", actor=None)
    draft = apps.application_draft_open(actor=applicant)
    answers = step_answers(world)["notices"] | {"notice_text": old.pk}
    with pytest.raises(apps.StepInvalid, match="已更新"):
        apps.application_step_save(draft=draft, actor=applicant, step="notices", data=answers)


def test_a_failure_late_in_the_submission_leaves_nothing_behind(world, applicant, monkeypatch):
    draft = complete_draft(world, applicant)
    evidence = evidence_upload(actor=applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title="欠条")
    before = row_counts()

    def refuse(**kwargs):
        raise StaleState("案件状态已被他人更新，请刷新后重试。")

    monkeypatch.setattr(apps, "case_transition", refuse)
    with pytest.raises(StaleState):
        apps.application_submit(draft=draft, actor=applicant)
    assert row_counts() == before
    evidence.refresh_from_db()
    assert (evidence.case, evidence.draft) == (None, draft)


def test_a_draft_can_be_submitted_only_once(world, applicant):
    draft = complete_draft(world, applicant)
    apps.application_submit(draft=draft, actor=applicant)
    before = row_counts()
    with pytest.raises(InvalidInput, match="已经提交"):
        apps.application_submit(draft=draft, actor=applicant)
    assert row_counts() == before


def test_someone_else_cannot_fill_in_or_submit_a_draft(world, applicant):
    draft = complete_draft(world, applicant)
    intruder = verify_identity(world.outsider, seq=9)
    with pytest.raises(PermissionDenied):
        apps.application_step_save(draft=draft, actor=intruder, step="claims", data=step_answers(world)["claims"])
    with pytest.raises(PermissionDenied):
        apps.application_submit(draft=draft, actor=intruder)
    assert not Case.objects.exists()


def test_a_party_without_a_real_name_check_cannot_apply(world):
    with pytest.raises(PermissionDenied, match="实名认证"):
        apps.application_draft_open(actor=world.applicant)


def test_submission_checks_the_real_name_again(world, applicant):
    draft = complete_draft(world, applicant)
    applicant.real_name = "张三丰"  # the account's name no longer matches the check
    applicant.save(update_fields=["real_name"])
    with pytest.raises(PermissionDenied, match="实名认证"):
        apps.application_submit(draft=draft, actor=applicant)
    assert not Case.objects.exists()


# --- Drafts and progress ----------------------------------------------------------------------------------


def test_progress_is_the_first_step_not_yet_answered(world, applicant):
    draft = apps.application_draft_open(actor=applicant)
    assert apps.application_progress(draft=draft) == "dispute"
    answers = step_answers(world)
    for step in ("dispute", "parties"):
        draft = apps.application_step_save(draft=draft, actor=applicant, step=step, data=answers[step])
    assert apps.application_progress(draft=draft) == "claims"
    assert draft.step == "claims"


def test_opening_the_application_again_continues_the_same_draft(world, applicant):
    first = apps.application_draft_open(actor=applicant)
    assert apps.application_draft_open(actor=applicant) == first
    apps.application_submit(draft=complete_draft(world, applicant), actor=applicant)
    assert apps.application_draft_open(actor=applicant) != first  # a submitted draft is done; a new one starts


def test_e_service_requires_a_mobile_number_for_text_messages(world, applicant):
    draft = complete_draft(world, applicant)
    with pytest.raises(apps.StepInvalid) as refused:
        apps.application_step_save(
            draft=draft, actor=applicant, step="address", data={**draft.data["address"], "mobile": ""}
        )
    assert "mobile" in refused.value.errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12000", Decimal("12000.00")), ("12,000.5", Decimal("12000.50")), ("0", Decimal("0.00")), ("", None)],
)
def test_amounts_are_read_as_yuan_with_two_decimals(text, expected):
    assert apps.parse_amount(text) == expected


@pytest.mark.parametrize("text", ["abc", "-0.01", "1.001", "NaN", "Infinity", "1e20"])
def test_amounts_that_are_not_money_are_refused(text):
    with pytest.raises(InvalidInput):
        apps.parse_amount(text)
