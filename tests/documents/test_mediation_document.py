"""The court's 民事调解书 in a court-filed case (legal-rules §A12 art. 4, §B13, §C5; CPL 100; Interp 133, 149):
every §C5 field in the PDF with its CJK font; only a judge of the case's court prepares it; only the judge named
on it approves it, signing as 审判员 with the court's e-seal following (pdfsig sees both), and a refused approval
saves nothing; it is served on every party requiring sign-for, takes effect only when every party signed for it,
then the case moves to performance tracking and ``enforceable_title`` finds it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from documents.ca import CertificateAuthorityUnavailable, LocalCertificateAuthority
from documents.models import Document, DocumentSignature
from documents.services.mediation_document import mediation_document_prepare
from documents.services.signing import document_latest_revision, document_sign, document_sign_code_send
from mediation.choices import CaseStatus, DocumentKind, ObligationStatus, SignerRole
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from mediation.models import AuditEvent, Case, Obligation, OutboxMessage, Party, ServiceRecord
from mediation.selectors.performance import enforceable_title
from mediation.services.performance import obligation_report_default
from mediation.services.service import needs_sign_for, service_record_acknowledge
from tests.documents.documents_support import pdf_text
from tests.documents.mediation_document_support import COSTS, NUMBER, prepared, requested
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


def _write(tmp_path: Path, data: bytes, name: str = "mdoc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _counts(case: Case) -> tuple[int, ...]:
    return (Document.objects.filter(case=case).count(), DocumentSignature.objects.count(),
            ServiceRecord.objects.count(),
            AuditEvent.objects.filter(case=case).exclude(kind="document.sign_code_sent").count())


def _signed_and_served(world) -> tuple[Case, Document]:
    case = requested(world)
    consent_to_e_service(case)
    document = prepared(world, case)
    sign(document, world.judge, SignerRole.JUDGE)
    return Case.objects.get(pk=case.pk), document


# --- The document (§C5) ---------------------------------------------------------------------------------------


def test_the_pdf_carries_every_c5_field_and_embeds_its_cjk_font(world, tmp_path):
    case = requested(world)
    document = prepared(world, case)
    assert (document.kind, document.title, document.number, document.issued_by) == (
        DocumentKind.MEDIATION_DOCUMENT, "民事调解书", NUMBER, world.judge)
    with document.pdf.open("rb") as handle:
        path = _write(tmp_path, handle.read())
    text = pdf_text(path)
    applicant, respondent = Party.objects.filter(case=case).order_by("role", "pk")
    expected = [
        "北京市东城区人民法院", "民事调解书", NUMBER,  # court, title, the 民初 number
        f"原告：{applicant.name}", applicant.id_number, f"被告：{respondent.name}", respondent.id_number,
        "委托代理人：王律师",  # the respondent's lawyer
        case.title + "一案，本院依法登记立案，适用普通程序",  # the cause as the clerk filed it, and the procedure
        "原告诉讼请求：判令被告支付拖欠工资12,000元",  # claims
        "案件事实：",  # the facts as the agreement states them
        "经本院委托北京市总工会劳动争议调解中心", "调解，当事人自愿达成如下协议",
        "2026年3月至5月拖欠的工资", "申请人放弃其他请求", COSTS,  # the terms, word for word
        "案件受理费的负担，按上述协议第3项执行",  # costs: the agreement has a costs clause
        "上述协议，不违反法律规定，本院予以确认。",
        "本调解书经双方当事人签收后，即具有法律效力。",
        "审判员李法官",
    ]
    missing = [item for item in expected if "".join(item.split()) not in text]
    assert not missing, f"missing {missing}"
    # Only what happened: no 立案 date on record, no clerk assigned.
    assert "书记员" not in text and "立案日期" not in text
    fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)


def test_no_costs_sentence_without_a_costs_clause(world, tmp_path):
    case = requested(world, costs=False)
    document = prepared(world, case)
    with document.pdf.open("rb") as handle:
        text = pdf_text(_write(tmp_path, handle.read()))
    assert "案件受理费" not in text and "本院予以确认" in text


# --- Preparing: a judge of the case's court, while the request waits ---------------------------------------------


@pytest.mark.parametrize("who", ["other_judge", "clerk", "other_clerk", "mediator", "applicant", "lawyer", "outsider"])
def test_only_a_judge_of_the_cases_court_may_prepare_it(world, who):
    case = requested(world)
    before = _counts(case)
    with pytest.raises(PermissionDenied):
        mediation_document_prepare(case=case, actor=getattr(world, who))
    assert _counts(case) == before


def test_it_is_prepared_only_while_the_request_waits(world):
    case = requested(world)
    case = world.drive(case, S.CLOSED_OTHER_MEANS)
    with pytest.raises(TransitionNotAllowed):
        mediation_document_prepare(case=case, actor=world.judge)
    assert not Document.objects.filter(case=case, kind=DocumentKind.MEDIATION_DOCUMENT).exists()


def test_a_draft_may_be_prepared_again_but_not_once_signed(world):
    case = requested(world)
    consent_to_e_service(case)
    first = prepared(world, case)
    second = prepared(world, case)
    assert (second.version, second.supersedes) == (2, first)
    sign(second, world.judge, SignerRole.JUDGE)
    with pytest.raises(InvalidInput):
        prepared(world, Case.objects.get(pk=case.pk))


def test_parties_do_not_see_the_draft(world, client):
    case = requested(world)
    document = prepared(world, case)
    client.force_login(world.applicant)
    assert client.get(reverse("document_detail", args=[document.pk])).status_code == 404


# --- Approving: the judge signs as 审判员, the court's seal follows ---------------------------------------------


def test_the_judge_approves_and_the_courts_seal_follows_both_passing_pdfsig(world, tmp_path):
    _case, document = _signed_and_served(world)
    signatures = list(document.signatures.order_by("sequence"))
    assert [(s.role, s.signer_name) for s in signatures] == [
        (SignerRole.JUDGE, "李法官"), (SignerRole.COURT, "北京市东城区人民法院")]
    assert "OU=人民法院电子印章" in signatures[1].certificate_subject
    data, _digest = document_latest_revision(document)
    report = subprocess.run(["pdfsig", "-nocert", str(_write(tmp_path, data))], capture_output=True, text=True,
                            check=False).stdout
    assert report.count("Signature is Valid.") == 2
    assert "李法官" in report and "北京市东城区人民法院" in report


@pytest.mark.parametrize("who", ["other_judge", "clerk", "mediator", "applicant", "lawyer", "outsider",
                                 "same_court_judge"])
def test_only_the_judge_named_on_it_may_approve(world, who):
    case = requested(world)
    document = prepared(world, case)
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


def test_a_refused_approval_saves_nothing(world, monkeypatch):
    case = requested(world)
    consent_to_e_service(case)
    document = prepared(world, case)
    document_sign_code_send(document=document, actor=world.judge, role=SignerRole.JUDGE)
    right = last_code(world.judge.phone)
    before = _counts(case)
    with pytest.raises(InvalidInput):  # a wrong code
        document_sign(document=document, actor=world.judge, role=SignerRole.JUDGE,
                      code="000000" if right != "000000" else "111111", handwriting_png=handwriting_png())
    assert _counts(case) == before

    def down(self, **_kwargs):
        raise CertificateAuthorityUnavailable("证书颁发机构暂时无法签发证书，请稍后再试。")

    monkeypatch.setattr(LocalCertificateAuthority, "issue_court_seal_certificate", down)
    with pytest.raises(CertificateAuthorityUnavailable):  # the seal fails: the judge's signature goes too
        sign(document, world.judge, SignerRole.JUDGE)
    assert _counts(case) == before
    assert Case.objects.get(pk=case.pk).status == S.MEDIATION_DOCUMENT_REQUESTED


# --- Service requiring sign-for, and effect (CPL 100; Interp 149) ------------------------------------------------


def test_served_on_every_party_requiring_sign_for_and_effective_only_when_all_signed_for(
    world, django_capture_on_commit_callbacks
):
    case, document = _signed_and_served(world)
    records = list(ServiceRecord.objects.filter(case=case).order_by("recipient__role", "recipient_id"))
    assert [r.recipient.name for r in records] == [p.name for p in case.parties.order_by("role", "pk")]
    _data, digest = document_latest_revision(document)
    assert {(r.document_title, r.document_number, r.document_sha256, r.served_by_id, r.serving_body_id)
            for r in records} == {("民事调解书", NUMBER, digest, world.judge.pk, case.court_id)}
    assert all(needs_sign_for(r) for r in records)
    notices = OutboxMessage.objects.filter(case=case, idempotency_key__startswith="service:")
    assert notices and set(notices.values_list("template", flat=True)) == {"service.sign_for_notice"}
    # Arrival on the platform account is not a sign-for: nothing is effective yet.
    assert all(r.effective_at is None for r in records)
    assert case.status == S.MEDIATION_DOCUMENT_REQUESTED and enforceable_title(case) is None

    applicant_record, respondent_record = records
    service_record_acknowledge(actor=world.applicant, record=applicant_record)
    applicant_record.refresh_from_db()
    assert applicant_record.effective_at is not None  # this party's sign-for time
    case.refresh_from_db()
    assert case.status == S.MEDIATION_DOCUMENT_REQUESTED and enforceable_title(case) is None
    document.refresh_from_db()
    assert document.effective_at is None
    with pytest.raises(PermissionDenied):  # nobody signs for another party
        service_record_acknowledge(actor=world.applicant, record=respondent_record)

    with django_capture_on_commit_callbacks(execute=True):  # the agent signs for the respondent
        service_record_acknowledge(actor=world.lawyer, record=respondent_record)
    respondent_record.refresh_from_db()
    case.refresh_from_db()
    assert case.status == S.PERFORMANCE_TRACKING
    event = case.audit_events.get(kind="case.mediation_document_effective")
    assert event.data["rule"] == "CPL 100; Interp 149"
    document.refresh_from_db()
    assert document.effective_at == respondent_record.effective_at
    title = enforceable_title(case)
    assert title is not None
    assert (title.kind, title.label, title.number, title.court) == (
        "court_mediation", "民事调解书", NUMBER, "北京市东城区人民法院")
    assert title.effective_on is not None


def test_a_default_on_the_effective_document_yields_the_enforcement_application(
    world, django_capture_on_commit_callbacks
):
    case, _document = _signed_and_served(world)
    for record in ServiceRecord.objects.filter(case=case).select_related("recipient"):
        actor = world.applicant if record.recipient.user_id == world.applicant.pk else world.respondent
        service_record_acknowledge(actor=actor, record=record)
    case.refresh_from_db()
    assert case.status == S.PERFORMANCE_TRACKING
    obligation = Obligation.objects.filter(case=case, obligor__isnull=False).order_by("number").first()
    assert obligation is not None and obligation.status == ObligationStatus.OPEN
    Obligation.objects.filter(pk=obligation.pk).update(due_date=None)
    with django_capture_on_commit_callbacks(execute=True):  # the receiver renders the application after commit
        obligation_report_default(obligation=Obligation.objects.get(pk=obligation.pk), actor=world.applicant,
                                  note="被告未按期支付")
    case.refresh_from_db()
    assert case.status == S.ENFORCEMENT_ELIGIBLE
    application = Document.objects.get(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION)
    assert application.data["enforceable_title"]["label"] == "民事调解书"
    assert application.data["enforceable_title"]["number"] == NUMBER


# --- Pages ----------------------------------------------------------------------------------------------------


def test_the_court_page_offers_preparation_to_the_judge_only_and_shows_sign_for_times(world, client):
    case = requested(world)
    consent_to_e_service(case)
    url = reverse("court_filed_court", args=[case.pk])
    act = reverse("court_filed_court_act", args=[case.pk, "mediation_document"])
    client.force_login(world.clerk)
    page = client.get(url).content.decode()
    assert 'id="prepare-mediation-document"' not in page
    assert client.post(act).status_code == 403
    assert not Document.objects.filter(case=case, kind=DocumentKind.MEDIATION_DOCUMENT).exists()
    for who in ("other_judge", "mediator", "applicant", "outsider"):
        client.force_login(getattr(world, who))
        assert client.post(act).status_code in (403, 404)
    assert not Document.objects.filter(case=case, kind=DocumentKind.MEDIATION_DOCUMENT).exists()
    client.force_login(world.judge)
    assert 'id="prepare-mediation-document"' in client.get(url).content.decode()
    response = client.post(act)
    document = Document.objects.get(case=case, kind=DocumentKind.MEDIATION_DOCUMENT)
    assert response.status_code == 302 and response["Location"] == reverse("document_detail", args=[document.pk])
    assert reverse("document_sign", args=[document.pk]) in client.get(response["Location"]).content.decode()
    sign(document, world.judge, SignerRole.JUDGE)
    record = ServiceRecord.objects.filter(case=case, recipient__user=world.applicant).get()
    service_record_acknowledge(actor=world.applicant, record=record)
    page = client.get(url).content.decode()
    assert 'id="mediation-document-sign-for"' in page and "已于" in page and "尚未签收" in page
    client.force_login(world.applicant)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'id="mediation-document-sign-for"' in page and "已于" in page
    page = client.get(reverse("service_record", args=[record.pk])).content.decode()
    assert "您已签收本调解书" in page
    assert client.get(reverse("document_detail", args=[document.pk])).status_code == 200  # released once sealed


def test_the_judges_are_told_of_the_request(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = requested(world)
    notices = OutboxMessage.objects.filter(case=case, idempotency_key__startswith="mediation_document:")
    assert {m.recipient for m in notices} == {world.judge}
