"""The court's 民事裁定书 (issue 11 items 3 and 6; legal-rules §C4, §A3 Interp 355-358, 372, §B8): every variant
carries every §C4 field and its CJK font; the deciding judge approves it by signing, the court's e-seal follows
(pdfsig sees both); nobody else may approve and a refused approval saves nothing; the sealed ruling is served on
every party, and only a confirmation ruling opens the objection window; /verify/ and the pages show it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.ca import CertificateAuthorityUnavailable, LocalCertificateAuthority
from documents.models import Document, DocumentSignature
from documents.selectors import document_get_for_user
from documents.services.issuing import document_issue, documents_for_transition
from documents.services.signing import document_latest_revision, document_sign, document_sign_code_send
from documents.verification import Verdict, verify_code, verify_pdf
from mediation.choices import CaseStatus, ServiceStage, SignerRole, TimerKind, TimerStatus
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import AuditEvent, Case, ConfirmationApplication, Party, ServiceRecord, Timer
from mediation.services.service import service_address_change
from tests.documents.documents_support import pdf_text
from tests.documents.ruling_support import NUMBER, VARIANTS, decided, issued_ruling
from tests.factories import UserFactory, add_member
from tests.room_support import last_code
from tests.signing_support import (  # noqa: F401 - fixtures
    consent_to_e_service,
    dev_ca_dir,
    handwriting_png,
    sign,
    signing_env,
)

S = CaseStatus
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing_env")]


def _write(tmp_path: Path, data: bytes, name: str = "ruling.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _approve(world, document: Document) -> None:
    sign(document, world.judge, SignerRole.JUDGE)


def _counts(case: Case) -> tuple[int, ...]:
    return (DocumentSignature.objects.count(), ServiceRecord.objects.count(), Timer.objects.count(),
            AuditEvent.objects.filter(case=case).exclude(kind="document.sign_code_sent").count())


# --- The document --------------------------------------------------------------------------------------------

# Per variant: the finding, the legal basis, the operative part and the effect sentence (legal-rules §C4).
VARIANT_TEXT = {
    "confirmed": ["符合司法确认调解协议的法定条件", "民事诉讼法》第二百零五条、第二百零六条",
                  "达成的调解协议（编号：", "有效", "对方当事人可以向人民法院申请执行",
                  "本裁定自送达之日起发生法律效力", "自收到本裁定之日起十五日内向本院提出"],
    "dismissed": ["内容不明确", "不符合司法确认调解协议的条件", "协议第一条的履行方式不明确", "第三百五十八条第五项",
                  "的司法确认申请。", "变更原调解协议或者达成新的调解协议，也可以向人民法院提起诉讼",
                  "本裁定自送达之日起发生法律效力"],
    "not_accepted": ["调解协议内容涉及物权、知识产权确权", "依法不予受理", "第三百五十五条第一款第五项",
                     "本院不予受理", "本裁定自送达之日起发生法律效力"],
    "withdrawn": ["申请撤回司法确认申请", "应予准许", "第三百五十七条", "撤回司法确认申请。",
                  "本裁定自送达之日起发生法律效力"],
    "deemed_withdrawn": ["补充被申请人的营业执照复印件", "申请人未提交补充材料", "按撤回申请处理", "第三百五十七条",
                         "撤回司法确认申请处理", "本裁定自送达之日起发生法律效力"],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_carries_every_c4_field_and_embeds_its_cjk_font(world, variant, tmp_path):
    case = decided(world, variant)
    document = issued_ruling(world, case)
    assert (document.issued_by, document.title, document.data["variant"]) == (world.judge, "民事裁定书", variant)
    with document.pdf.open("rb") as handle:
        path = _write(tmp_path, handle.read())
    text = pdf_text(path)
    applicant, respondent = Party.objects.filter(case=case).order_by("role", "pk")
    accepted = variant in ("confirmed", "dismissed", "withdrawn")
    expected = [
        "北京市东城区人民法院", "民事裁定书",  # the court and the title
        f"申请人：{applicant.name}", applicant.id_number, f"申请人：{respondent.name}", respondent.id_number,
        "委托代理人：王律师",  # the respondent's lawyer with special authority
        "向本院申请司法确认", "请求确认其于",  # what was applied for
        "北京市总工会劳动争议调解中心主持调解",
        "2026年3月至5月拖欠的工资", "申请人放弃其他请求",  # the agreement's content, verbatim
        "裁定如下", "依照",
        "审判员李法官",  # the judge who decided
        *VARIANT_TEXT[variant],
    ]
    if accepted:
        expected += [NUMBER, "立案后，依法适用特别程序，由审判员李法官进行审查"]
    missing = [item for item in expected if "".join(item.split()) not in text]
    assert not missing, f"{variant}: missing {missing}"
    # Only what happened: no clerk is assigned on the platform, no joint verification was recorded, and a case
    # never accepted has no court number printed (the platform's number is the document's).
    assert "书记员" not in text and "到场" not in text and "核实" not in text
    if not accepted:  # never filed: no court number, no special-procedure review to speak of
        assert "民特" not in text and "立案" not in text and "一审终审" not in text
    else:
        assert "实行一审终审" in text
    if variant != "confirmed":
        assert "十五日内向本院提出" not in text and "申请执行" not in text
    fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)


def test_a_ruling_is_issued_once_per_decision_and_only_by_a_judge_of_the_court(world):
    case = decided(world, "confirmed")
    document = issued_ruling(world, case)
    assert documents_for_transition(case_id=case.pk, status=case.status, actor_id=world.judge.pk) == []
    for someone in (world.clerk, world.mediator, world.other_judge):
        with pytest.raises(PermissionDenied):
            document_issue(case=case, kind=document.kind, actor=someone)


# --- Approval and seal ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_judge_approves_and_the_courts_seal_follows_both_passing_pdfsig(world, variant, tmp_path):
    case = decided(world, variant)
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    _approve(world, document)
    signatures = list(document.signatures.order_by("sequence"))
    assert [(s.role, s.signer_name, s.signer) for s in signatures] == [
        (SignerRole.JUDGE, "李法官", world.judge), (SignerRole.COURT, "北京市东城区人民法院", world.judge)]
    assert signatures[1].organisation == case.court
    assert "OU=人民法院电子印章" in signatures[1].certificate_subject
    assert "CN=北京市东城区人民法院" in signatures[1].certificate_subject
    assert "OU=电子签名" in signatures[0].certificate_subject
    data, _digest = document_latest_revision(document)
    report = subprocess.run(["pdfsig", "-nocert", str(_write(tmp_path, data))], capture_output=True, text=True,
                            check=False).stdout
    assert report.count("Signature is Valid.") == 2
    assert "李法官" in report and "北京市东城区人民法院" in report
    assert "Total document signed" in report
    result = verify_pdf(data=data)
    assert result.verdict == Verdict.LATEST and all(c.ok for c in result.embedded) and len(result.embedded) == 2
    assert [(s.name, s.role) for s in result.signers] == [("李法官", "审判员"),
                                                          ("北京市东城区人民法院", "人民法院电子印章")]


REFUSED = ["other_judge", "clerk", "mediator", "applicant", "lawyer", "outsider", "same_court_judge"]


@pytest.mark.parametrize("who", REFUSED)
def test_only_the_deciding_judge_of_the_court_may_approve(world, who):
    case = decided(world, "confirmed")
    document = issued_ruling(world, case)
    if who == "same_court_judge":
        user = UserFactory(username="second_judge", real_name="赵法官")
        add_member(user, case.court, "judge")
    else:
        user = getattr(world, who)
    before = _counts(case)
    with pytest.raises((PermissionDenied, NotFound)):
        document_sign_code_send(document=document, actor=user, role=SignerRole.JUDGE)
    with pytest.raises((PermissionDenied, NotFound)):
        document_sign(document=document, actor=user, role=SignerRole.JUDGE, code="000000",
                      handwriting_png=handwriting_png())
    assert _counts(case) == before
    assert Case.objects.get(pk=case.pk).status == S.JC_CONFIRMED


def test_a_wrong_code_saves_nothing(world):
    case = decided(world, "confirmed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    document_sign_code_send(document=document, actor=world.judge, role=SignerRole.JUDGE)
    right = last_code(world.judge.phone)
    before = _counts(case)
    with pytest.raises(InvalidInput):
        document_sign(document=document, actor=world.judge, role=SignerRole.JUDGE,
                      code="000000" if right != "000000" else "111111", handwriting_png=handwriting_png())
    assert _counts(case) == before
    assert Case.objects.get(pk=case.pk).status == S.JC_CONFIRMED


def test_when_the_court_seal_cannot_be_issued_the_judges_signature_is_not_kept_either(world, monkeypatch):
    case = decided(world, "confirmed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)

    def down(self, **_kwargs):
        raise CertificateAuthorityUnavailable("证书颁发机构暂时无法签发证书，请稍后再试。")

    monkeypatch.setattr(LocalCertificateAuthority, "issue_court_seal_certificate", down)
    before = _counts(case)
    with pytest.raises(CertificateAuthorityUnavailable):
        _approve(world, document)
    assert _counts(case) == before
    assert Case.objects.get(pk=case.pk).status == S.JC_CONFIRMED
    assert not ConfirmationApplication.objects.get(case=case).ruling_served_at


def test_the_ruling_cannot_be_approved_twice(world):
    case = decided(world, "dismissed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    _approve(world, document)
    with pytest.raises((InvalidInput, PermissionDenied)):
        document_sign_code_send(document=document, actor=world.judge, role=SignerRole.JUDGE)


# --- Service -------------------------------------------------------------------------------------------------


def _open_objection_timers(case: Case) -> int:
    return Timer.objects.filter(case=case, kind=TimerKind.JC_OBJECTION, status=TimerStatus.RUNNING).count()


def test_a_sealed_confirmation_ruling_is_served_on_each_party_and_opens_the_objection_window(world):
    case = decided(world, "confirmed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    _approve(world, document)
    records = ServiceRecord.objects.filter(case=case).order_by("recipient__role", "recipient_id")
    assert [r.recipient.name for r in records] == [p.name for p in Party.objects.filter(case=case).order_by(
        "role", "pk")]
    assert {(r.served_by, r.serving_body, r.document_title, r.document_number) for r in records} == {
        (world.judge, case.court, "民事裁定书", NUMBER)}
    _data, digest = document_latest_revision(document)
    assert {r.document_sha256 for r in records} == {digest}
    assert all(r.effective_at is not None for r in records)  # platform accounts: effective at once (OLR 31)
    case.refresh_from_db()
    assert case.status == S.OBJECTION_WINDOW
    assert _open_objection_timers(case) == 1
    assert ConfirmationApplication.objects.get(case=case).ruling_served_at is not None


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "confirmed"])
def test_other_rulings_are_served_but_start_no_objection_window(world, variant):
    case = decided(world, variant)
    consent_to_e_service(case)
    status = case.status
    _approve(world, issued_ruling(world, case))
    assert ServiceRecord.objects.filter(case=case, document_title="民事裁定书").count() == 2
    case.refresh_from_db()
    assert case.status == status
    assert _open_objection_timers(case) == 0


def test_a_party_without_e_service_consent_is_not_served_and_the_window_waits(world):
    case = decided(world, "confirmed")
    applicant = Party.objects.get(case=case, user=world.applicant)
    service_address_change(
        case=case, party=applicant, actor=world.applicant, recipient_name=applicant.name,
        postal_address="北京市东城区东直门南大街1号", postal_recipient=applicant.name, postal_phone="13800000000",
        e_service_consent=True, stages=[ServiceStage.CONFIRMATION], mobile=applicant.phone,
    )
    _approve(world, issued_ruling(world, case))
    assert list(ServiceRecord.objects.filter(case=case).values_list("recipient", flat=True)) == [applicant.pk]
    assert AuditEvent.objects.filter(case=case, kind="document.service_pending").count() == 1
    case.refresh_from_db()
    assert case.status == S.JC_CONFIRMED and _open_objection_timers(case) == 0


# --- Who sees it, the pages and /verify/ ---------------------------------------------------------------------


def test_parties_see_the_ruling_only_once_approved_and_then_on_their_case_page(world, client):
    case = decided(world, "confirmed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    with pytest.raises(NotFound):
        document_get_for_user(user=world.applicant, pk=document.pk)
    client.force_login(world.applicant)
    assert "民事裁定书" not in client.get(reverse("case_detail", args=[case.pk])).content.decode()
    _approve(world, document)
    assert document_get_for_user(user=world.applicant, pk=document.pk) == document
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("document_detail", args=[document.pk]) in page
    record = ServiceRecord.objects.get(case=case, recipient__user=world.applicant)
    assert reverse("service_certificate", args=[record.pk]) in page
    certificate = client.get(reverse("service_certificate", args=[record.pk]))
    assert certificate.status_code == 200 and "民事裁定书" in certificate.content.decode()


def test_the_court_page_shows_the_ruling_the_approval_link_and_then_service(world, client):
    case = decided(world, "confirmed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    client.force_login(world.judge)
    page = client.get(reverse("court_application", args=[case.pk])).content.decode()
    assert f'data-ruling="{document.pk}"' in page
    assert reverse("document_sign", args=[document.pk]) in page
    sign_page = client.get(reverse("document_sign", args=[document.pk]))
    assert sign_page.status_code == 200 and "审判员" in sign_page.content.decode()
    _approve(world, document)
    case.refresh_from_db()
    page = client.get(reverse("court_application", args=[case.pk])).content.decode()
    assert reverse("document_sign", args=[document.pk]) not in page
    assert page.count("data-service=") == 2 and "电子送达凭证" in page and "异议期" in page


def test_verify_recognises_the_ruling_by_code_and_upload_with_the_courts_seal(world, client):
    case = decided(world, "dismissed")
    consent_to_e_service(case)
    document = issued_ruling(world, case)
    _approve(world, document)
    by_code = verify_code(code=document.code)
    assert by_code.document == document and by_code.verdict == Verdict.FOUND
    assert ("北京市东城区人民法院", "人民法院电子印章") in [(s.name, s.role) for s in by_code.signers]
    page = client.get(reverse("verify") + f"?code={document.code}").content.decode()
    assert "民事裁定书" in page and "人民法院电子印章" in page and "北京市东城区人民法院" in page
    data, _digest = document_latest_revision(document)
    uploaded = client.post(reverse("verify"), {"file": SimpleUploadedFile("r.pdf", data, "application/pdf")})
    body = uploaded.content.decode()
    assert uploaded.status_code == 200
    assert 'data-verdict="latest"' in body and "人民法院电子印章" in body and "签章完整有效" in body
