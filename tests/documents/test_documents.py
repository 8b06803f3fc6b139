"""Issued documents: every §C field in the PDF (read back with poppler), a CJK font embedded and subset, A4
pages, immutability and versions, the status task's idempotency, and who may read them."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from documents.data import resident_id_facts
from documents.models import Document, DocumentImmutable
from documents.selectors import document_get_for_user, documents_for_case
from documents.services.issuing import document_issue, document_reissue, documents_for_transition, signature_boxes
from documents.templatetags.documents_print import amount_in_capitals
from mediation.choices import AgreementVariant, CaseOrigin, CaseStatus, DocumentKind
from mediation.exceptions import PermissionDenied
from mediation.models import AuditEvent
from tests.documents.documents_support import (
    JOINT_TEXT,
    RELEASED_CAUCUS_TEXT,
    SETTLEMENT_TEXT,
    UNCONFIRMED_FACT_TEXT,
    UNDISPUTED_TEXT,
    UNRELEASED_CAUCUS_TEXT,
    make_case,
    pdf_text,
    squash,
)

A4_RATIO = 297 / 210


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _file(document: Document, tmp_path) -> str:
    path = tmp_path / f"{document.kind}-{document.version}.pdf"
    with default_storage.open(document.pdf.name, "rb") as handle:
        path.write_bytes(handle.read())
    return str(path)


def _text(document: Document, tmp_path) -> str:
    from pathlib import Path

    return pdf_text(Path(_file(document, tmp_path)))


def _party_fields(fx) -> list[str]:
    applicant, respondent, agent = fx.applicant, fx.respondent, fx.agent
    return [
        applicant.name, "男", "1985年6月12日出生", "汉族", applicant.id_number, applicant.occupation,
        applicant.address, applicant.phone,
        respondent.name, "回族", respondent.id_number, respondent.occupation, respondent.address,
        agent.name, "律师", "特别授权", agent.phone, agent.license_number,
    ]


def _assert_all(text: str, fields: list[str]) -> None:
    missing = [f for f in fields if squash(f) not in text]
    assert not missing, missing


# --- Every field of legal-rules §C in the PDF ----------------------------------------------------------------


@pytest.mark.parametrize(("origin", "variant", "title"), [
    (CaseOrigin.PARTY_APPLICATION, AgreementVariant.PEOPLES, "人民调解协议书"),
    (CaseOrigin.DELEGATED, AgreementVariant.DELEGATED, "人民法院委派调解"),
    (CaseOrigin.ENTRUSTED, AgreementVariant.ENTRUSTED, "人民法院委托调解"),
])
def test_the_agreement_carries_every_c1_field_in_each_variant(world, tmp_path, origin, variant, title):
    fx = make_case(world, origin=origin, variant=variant)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=world.mediator)
    text = _text(document, tmp_path)
    _assert_all(text, [
        title, "协议编号", "（2026）京东调字第17号", fx.case.reference,
        world.partner.name, "51110000MJ0000001X", world.partner.address, world.court.name,
        world.mediator.real_name, "京调证2026-0042", "名册编号",
        *_party_fields(fx),
        "纠纷主要事实", "被申请人未按时支付2025年10月至12月工资", "争议事项", "拖欠工资的数额及支付期限",
        "协议内容", "12000.00", "壹万贰仟元整", "银行转账", "申请人指定账户", "2026年12月31日",
        "分两期，每期六千元", "连带责任保证", "万分之五", "各方自行承担其他费用",
        "部分达成协议", "加班费3,000元另行协商",
        "自愿达成", "保密", "生效", "一式3份", "签署地点", "核验码", document.code,
    ])
    if variant == AgreementVariant.PEOPLES:
        _assert_all(text, ["各方当事人的责任", "应承担主要责任", "人民调解委员会印章", "30日内"])
    elif variant == AgreementVariant.DELEGATED:
        _assert_all(text, ["（2026）京0101民诉前调88号", "30日内", "司法确认"])
    else:
        _assert_all(text, ["（2026）京0101民初123号", "调解书"])


def test_the_transcript_carries_every_c2_field_and_only_released_caucus_entries(world, tmp_path):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.TRANSCRIPT, actor=world.mediator)
    text = _text(document, tmp_path)
    _assert_all(text, [
        "调解笔录", fx.case.reference, "劳动报酬纠纷", "第1次调解", "同时在线调解", "一站在线调解平台",
        world.mediator.real_name, "记录人", world.lawyer.real_name, "身份核验", "告知确认", "虚假调解",
        "权利义务", "回避", "录音录像", "以录音录像代替电子笔录", "邀请参与调解人员",
        JOINT_TEXT, RELEASED_CAUCUS_TEXT, "无争议事实", UNDISPUTED_TEXT, "达成调解协议", "（2026）京东调字第17号",
        "诉讼外调解结案", "自动履行", "在线确认", "确认版本",
    ])
    assert squash(UNRELEASED_CAUCUS_TEXT) not in text


def test_the_confirmation_application_carries_every_c3_field_and_the_30_day_deadline(world, tmp_path):
    fx = make_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    document = document_issue(case=fx.case, kind=DocumentKind.JC_APPLICATION, actor=None)
    text = _text(document, tmp_path)
    effective = document.data["effective_at"]
    assert effective and document.data["deadline"] > effective[:10]
    deadline = document.data["deadline"]
    _assert_all(text, [
        "司法确认申请书", "申请确认调解协议", "请求事项", "事实和理由", "申请人承诺", "此致", world.court.name,
        *_party_fields(fx),
        "（2026）京东调字第17号", "（2026）京0101民诉前调88号", world.partner.name, world.mediator.real_name,
        "自愿", "真实意思表示", "恶意串通", "虚假调解", "电子方式", "送达地址",
        "附", "调解协议书（编号", "调解组织主持调解的证明", "身份证明", "授权委托书", "劳动合同",
        f"{int(deadline[:4])}年{int(deadline[5:7])}月{int(deadline[8:10])}日", "三十日内",
    ])
    assert document.data["signers"] and {s["role"] for s in document.data["signers"]} == {"party"}
    assert [s["agents"] for s in document.data["signers"]] == [[], [fx.agent.name]]  # one box per party side


def test_the_presiding_proof_carries_every_c3a_field(world, tmp_path):
    fx = make_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    document = document_issue(case=fx.case, kind=DocumentKind.PRESIDING_PROOF, actor=None)
    text = _text(document, tmp_path)
    _assert_all(text, [
        "调解组织主持调解的证明", world.partner.name, "51110000MJ0000001X", world.partner.address, "名册",
        world.court.name, world.mediator.real_name, "名册编号", fx.applicant.name, fx.respondent.name,
        "劳动报酬纠纷", "调解日期", "（2026）京东调字第17号", "主持调解", "自愿达成", "特此证明",
    ])
    assert [s["role"] for s in document.data["signers"]] == ["organisation"]


def test_the_failure_report_carries_every_c8_field_and_no_settlement_communication(world, tmp_path):
    fx = make_case(world, to=CaseStatus.TERMINATED)
    document = document_issue(
        case=fx.case, kind=DocumentKind.FAILURE_REPORT, actor=world.mediator,
        notes={"failure_reasons": "双方对工资数额分歧较大", "cost_conduct": "被申请人两次无故缺席调解",
               "court_matters": "未发现虚假调解迹象"},
    )
    text = _text(document, tmp_path)
    _assert_all(text, [
        "调解终结报告", fx.case.reference, "诉前委派调解", world.mediator.real_name, "调解期限", "起算", "届满日",
        "调解终结事由", "调解期限届满", "第二十五条", "调解的基本情况", "同时在线调解",
        "调解不成的原因", "双方对工资数额分歧较大", "导致其他当事人诉讼成本增加的行为", "被申请人两次无故缺席调解",
        "无争议事实", UNDISPUTED_TEXT, "需要向人民法院说明的其他情况", "未发现虚假调解迹象",
        "人民法院应当依法登记立案", "仲裁、行政、司法", "移送材料清单", "劳动合同",
    ])
    for secret in (SETTLEMENT_TEXT, UNRELEASED_CAUCUS_TEXT, RELEASED_CAUCUS_TEXT, JOINT_TEXT, UNCONFIRMED_FACT_TEXT):
        assert squash(secret) not in text, secret
    assert SETTLEMENT_TEXT not in str(document.data)


@pytest.mark.parametrize(("origin", "step"), [
    (CaseOrigin.PARTY_APPLICATION, "在线申请立案"),
    (CaseOrigin.ENTRUSTED, "恢复审理"),
])
def test_the_failure_report_routes_by_origin(world, tmp_path, origin, step):
    fx = make_case(world, origin=origin, to=CaseStatus.TERMINATED)
    document = document_issue(case=fx.case, kind=DocumentKind.FAILURE_REPORT, actor=None)
    assert squash(step) in _text(document, tmp_path)


# --- Fonts, pages, PDF/A ------------------------------------------------------------------------------------


def test_every_document_embeds_a_subset_cjk_font_and_renders_a4_pages(world, tmp_path):
    """pdftotext reads the right characters even from boxes; pdffonts must list the CJK font embedded
    (emb yes) and subset (sub yes). Then every page goes to PNG and must have the A4 shape."""
    fx = make_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    kinds = [DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT, DocumentKind.JC_APPLICATION,
             DocumentKind.PRESIDING_PROOF]
    for kind in kinds:
        document = document_issue(case=fx.case, kind=kind, actor=None)
        path = _file(document, tmp_path)
        fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", path], capture_output=True, text=True,
                               check=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk, fonts
        for line in cjk:
            emb, sub, uni = line.split()[-5:-2]
            assert (emb, sub, uni) == ("yes", "yes", "yes"), line
        prefix = tmp_path / f"{kind}-page"
        subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-png", "-r", "60", path, str(prefix)], check=True)
        pages = sorted(tmp_path.glob(f"{kind}-page*.png"))
        assert len(pages) == document.pages >= 1
        for page in pages:
            with Image.open(page) as image:
                width, height = image.size
            assert abs(height / width - A4_RATIO) < 0.01, (page, image.size)
            assert page.stat().st_size > 5_000  # not blank


def test_documents_are_pdf_a_2b_with_their_metadata(world, tmp_path):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    path = _file(document, tmp_path)
    info = subprocess.run([shutil.which("pdfinfo") or "pdfinfo", path], capture_output=True, text=True,
                          check=True).stdout
    assert "Metadata Stream: yes" in info and "A4" in info
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(path, "rb") as handle:
        root = PdfFileReader(handle).root
        xmp = root["/Metadata"].data.decode()
        intent = root["/OutputIntents"][0]
        assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="B"' in xmp
        assert intent["/S"] == "/GTS_PDFA1" and "sRGB" in str(intent["/OutputConditionIdentifier"])


def test_each_signer_has_a_box_on_a_page_of_the_document(world):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    boxes = signature_boxes(document)
    fields = [s["field"] for s in document.data["signers"]]
    assert fields == [f"party_{fx.applicant.pk}", f"party_{fx.respondent.pk}", f"mediator_{world.mediator.pk}",
                      f"org_{world.partner.pk}"]
    assert set(boxes) == set(fields)
    for page, (x1, y1, x2, y2) in boxes.values():
        assert 0 <= page < document.pages
        assert 0 < x1 < x2 <= 595.3 and 0 < y1 < y2 <= 841.9
        assert x2 - x1 > 100  # about 60 mm: room for a handwritten signature


# --- Immutability and versions ------------------------------------------------------------------------------


def test_an_issued_document_cannot_be_changed_or_deleted(world):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    document.data = {**document.data, "title": "改过的"}
    with pytest.raises(DocumentImmutable):
        document.save()
    fresh = Document.objects.get(pk=document.pk)
    with pytest.raises(DocumentImmutable):
        fresh.delete()


def test_a_correction_is_a_new_version_that_supersedes_the_old_one(world):
    fx = make_case(world, to=CaseStatus.SIGNING)
    first = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    second = document_reissue(document=first, actor=world.mediator, reason="更正当事人住所")
    first.refresh_from_db()
    assert (second.version, second.supersedes_id) == (2, first.pk)
    assert second.sha256 != first.sha256 and second.code != first.code
    assert first.superseded_by == second
    assert default_storage.exists(first.pdf.name)  # the old version stays on record


def test_a_correction_of_an_old_version_is_refused(world):
    from mediation.exceptions import StaleState

    fx = make_case(world, to=CaseStatus.SIGNING)
    first = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    document_reissue(document=first, actor=world.mediator, reason="更正")
    with pytest.raises(StaleState):
        document_reissue(document=first, actor=world.mediator, reason="再更正")


def test_issuing_appends_an_audit_event_with_the_hash(world):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=world.mediator)
    event = AuditEvent.objects.filter(case=fx.case, kind="document.issued").get()
    assert event.data["sha256"] == document.sha256 and event.actor == world.mediator


@pytest.mark.parametrize("name", ["applicant", "lawyer", "judge", "outsider", "other_mediator"])
def test_only_the_mediator_org_admin_or_clerk_may_issue_a_document(world, name):
    fx = make_case(world, to=CaseStatus.SIGNING)
    with pytest.raises(PermissionDenied):
        document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=getattr(world, name))


# --- The status task ---------------------------------------------------------------------------------------


def test_signing_issues_the_agreement_and_the_transcript_once(world):
    fx = make_case(world, to=CaseStatus.SIGNING)
    first = documents_for_transition(case_id=fx.case.pk, status=CaseStatus.SIGNING, actor_id=world.mediator.pk)
    kinds = sorted(Document.objects.filter(pk__in=first).values_list("kind", flat=True))
    assert kinds == [DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT]
    assert Document.objects.get(kind=DocumentKind.AGREEMENT).issued_by == world.mediator
    assert documents_for_transition(case_id=fx.case.pk, status=CaseStatus.SIGNING, actor_id=None) == []
    assert Document.objects.filter(case=fx.case).count() == 2


def test_the_agreement_taking_effect_issues_the_application_and_the_proof(world):
    fx = make_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    ids = documents_for_transition(case_id=fx.case.pk, status=CaseStatus.AGREEMENT_EFFECTIVE, actor_id=None)
    docs = Document.objects.filter(pk__in=ids)
    assert sorted(d.kind for d in docs) == [DocumentKind.JC_APPLICATION, DocumentKind.PRESIDING_PROOF]
    assert all(d.issued_by is None for d in docs)  # the platform


def test_an_entrusted_case_gets_no_confirmation_application(world):
    fx = make_case(world, origin=CaseOrigin.ENTRUSTED, to=CaseStatus.AGREEMENT_EFFECTIVE)
    ids = documents_for_transition(case_id=fx.case.pk, status=CaseStatus.AGREEMENT_EFFECTIVE, actor_id=None)
    assert list(Document.objects.filter(pk__in=ids).values_list("kind", flat=True)) == [DocumentKind.PRESIDING_PROOF]


def test_termination_issues_the_failure_report_once(world):
    fx = make_case(world, to=CaseStatus.TERMINATED)
    assert len(documents_for_transition(case_id=fx.case.pk, status=CaseStatus.TERMINATED, actor_id=None)) == 1
    assert documents_for_transition(case_id=fx.case.pk, status=CaseStatus.TERMINATED, actor_id=None) == []


def test_the_transition_schedules_the_task_after_commit(world, django_capture_on_commit_callbacks):
    fx = make_case(world)
    with django_capture_on_commit_callbacks(execute=True):
        world.drive(fx.case, CaseStatus.SIGNING)
    assert set(Document.objects.filter(case=fx.case).values_list("kind", flat=True)) == {
        DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT,
    }


# --- Who may read ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["applicant", "respondent", "lawyer", "mediator", "clerk", "judge", "org_admin"])
def test_the_case_people_may_read_its_documents(world, name):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    user = getattr(world, name)
    assert document_get_for_user(user=user, pk=document.pk) == document
    assert list(documents_for_case(user=user, case=fx.case)) == [document]


@pytest.mark.parametrize("name", ["outsider", "other_judge", "other_clerk", "other_mediator"])
def test_nobody_else_may_read_them(world, name):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    user = getattr(world, name)
    with pytest.raises(PermissionDenied):
        document_get_for_user(user=user, pk=document.pk)
    with pytest.raises(PermissionDenied):
        documents_for_case(user=user, case=fx.case)


# --- Small pieces ------------------------------------------------------------------------------------------


def test_sex_and_date_of_birth_come_from_the_resident_id():
    import datetime as dt

    from tests.factories import make_resident_id

    # The 17th digit: odd for men, even for women (make_resident_id(n) puts n there).
    assert resident_id_facts(make_resident_id(1, birth="19920229")) == ("男", dt.date(1992, 2, 29))
    assert resident_id_facts(make_resident_id(2))[0] == "女"
    assert resident_id_facts("12345") == ("", None)


@pytest.mark.parametrize(("amount", "words"), [
    ("12000", "壹万贰仟元整"), ("100005.07", "壹拾万零伍元零柒分"), ("1010", "壹仟零壹拾元整"),
    ("30500.50", "叁万零伍佰元伍角"),
])
def test_amounts_are_written_in_capitals(amount, words):
    assert amount_in_capitals(Decimal(amount)) == words


# --- Review (issue 6): what a judge reads is what the parties agreed, in the court's own terms -------------


def test_the_printed_clause_is_the_wording_each_party_assented_to(world, tmp_path):
    from mediation.agreement_text import clause_text

    fx = make_case(world)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=world.mediator)
    text = _text(document, tmp_path)
    clauses = list(fx.agreement.clauses.order_by("number"))
    assert [c["text"] for c in document.data["agreement"]["clauses"]] == [clause_text(c) for c in clauses]
    for clause in clauses:
        assert squash(clause_text(clause)) in text


def test_every_party_signs_the_joint_application_as_an_applicant(world, tmp_path):
    fx = make_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    document = document_issue(case=fx.case, kind=DocumentKind.JC_APPLICATION, actor=None)
    text = _text(document, tmp_path)
    assert all(s["label"].startswith("申请人") for s in document.data["signers"])
    assert squash(f"申请人：{fx.respondent.name}（本人或委托代理人{fx.agent.name}电子签名）") in text
    assert squash(f"被申请人：{fx.respondent.name}（") not in text


def test_no_document_cites_a_rule_by_an_english_abbreviation(world, tmp_path):
    import re

    fx = make_case(world, to=CaseStatus.AGREEMENT_EFFECTIVE)
    for kind in (DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT, DocumentKind.JC_APPLICATION,
                 DocumentKind.PRESIDING_PROOF):
        text = _text(document_issue(case=fx.case, kind=kind, actor=None), tmp_path)
        assert not re.search(r"OMR|SIM\d|PML|OLR|CPL|Interp", text), (kind, re.findall(r".{8}(?:OMR|OLR).{8}", text))
    failed = make_case(world, origin=CaseOrigin.PARTY_APPLICATION, to=CaseStatus.TERMINATED)
    text = _text(document_issue(case=failed.case, kind=DocumentKind.FAILURE_REPORT, actor=None), tmp_path)
    assert not re.search(r"OMR|PML|OLR", text)


def test_the_transcript_withholds_settlement_communications(world, tmp_path):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.TRANSCRIPT, actor=world.mediator)
    text = _text(document, tmp_path)
    assert squash(SETTLEMENT_TEXT) not in text
    assert SETTLEMENT_TEXT not in str(document.data)
    assert "第十八条不载入本笔录" in text
    assert squash(JOINT_TEXT) in text  # the rest of the record is still there


def test_an_agreement_from_a_party_s_own_application_does_not_claim_a_court_referral(world, tmp_path):
    fx = make_case(world, origin=CaseOrigin.PARTY_APPLICATION, variant=AgreementVariant.DELEGATED)
    text = _text(document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None), tmp_path)
    assert "人民法院委派调解" not in text
    assert "（特邀调解）" in text


def test_the_closing_note_never_stands_alone_on_the_last_page(world):
    """Whatever the length of the body, the last page holds the last signature box (with the closing note
    under it), never the note alone. The facts grow a line at a time to walk the page break past the boxes."""
    from documents.services.issuing import build_data, render_document

    fx = make_case(world, to=CaseStatus.SIGNING)
    base = build_data(case=fx.case, kind=DocumentKind.AGREEMENT, agreement=fx.agreement)
    line = "申请人在被申请人处工作期间，被申请人多次未按劳动合同约定的日期足额支付工资。"
    for lines in range(0, 26):
        data = {**base, "agreement": {**base["agreement"], "facts": line * lines}}
        _pdf, pages, boxes = render_document(data=data, code="TESTCODE22", version=1)
        last_box_page = max(page for page, _rect in boxes.values())
        assert last_box_page == pages - 1, (lines, pages, last_box_page)


def test_an_issued_document_s_title_number_and_size_cannot_change(world):
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.TRANSCRIPT, actor=None)
    for field, value in (("title", "伪造的标题"), ("number", "X-1"), ("pages", 99)):
        fresh = Document.objects.get(pk=document.pk)
        setattr(fresh, field, value)
        with pytest.raises(DocumentImmutable):
            fresh.save()
