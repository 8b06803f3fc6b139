"""Failure that reaches the court (OMR 21; SIM 21; PML 26): online filing chosen by a party, the 委派 hand-over,
the clerk's filing with the court's number, resuming a 委托 trial, and a failure report that says only what
happened (checked with pdftotext)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from documents.models import Document
from documents.services.failure import failure_report_for_status
from mediation.choices import CaseOrigin, CaseStatus, DocumentKind, FilingRoute
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import AuditEvent, Case, CourtFiling, ServiceRecord
from mediation.services.filing import filing_choose_online, filing_record, filing_resume_trial
from tests.documents.documents_support import make_case, pdf_text, squash
from tests.signing_support import consent_to_e_service

pytestmark = pytest.mark.django_db


def _report_text(case: Case, tmp_path) -> str:
    document = Document.objects.filter(case=case, kind=DocumentKind.FAILURE_REPORT,
                                       superseded_by__isnull=True).order_by("-version").first()
    assert document is not None
    path = tmp_path / f"report-{document.pk}.pdf"
    with document.pdf.open("rb") as handle:
        path.write_bytes(handle.read())
    return pdf_text(path)


def _terminated(world, origin: str) -> Case:
    fx = make_case(world, origin=origin, to=CaseStatus.TERMINATED)
    consent_to_e_service(fx.case)
    return Case.objects.get(pk=fx.case.pk)


def test_not_handed_over_the_report_offers_filing_and_claims_no_hand_over(world, tmp_path):
    case = _terminated(world, CaseOrigin.PARTY_APPLICATION)
    failure_report_for_status(case_id=case.pk, status=CaseStatus.TERMINATED, actor_id=None)
    text = _report_text(case, tmp_path)
    assert squash("本报告出具时，尚无当事人选择在线立案") in text
    assert "已提交" not in text and "已移送" not in text and "移送材料清单" not in text
    assert squash("第二十六条") in text and squash("仲裁、行政、司法") in text
    assert "已告知" not in text
    # Served on every party, with receipts (PML 26).
    assert ServiceRecord.objects.filter(case=case, document_title="调解终结报告").count() == case.parties.count()
    assert not CourtFiling.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.TERMINATED


def test_a_party_choosing_online_filing_hands_the_case_to_the_court_and_the_report_says_so(world, tmp_path):
    case = _terminated(world, CaseOrigin.PARTY_APPLICATION)
    failure_report_for_status(case_id=case.pk, status=CaseStatus.TERMINATED, actor_id=None)
    filing = filing_choose_online(case=case, actor=world.respondent)
    case.refresh_from_db()
    assert case.status == CaseStatus.REFER_TO_FILING
    assert filing.route == FilingRoute.ONLINE_FILING and filing.court_id == case.court_id
    assert [m["title"] for m in filing.materials]  # the uploaded materials, frozen with their hashes
    assert AuditEvent.objects.filter(case=case, kind="filing.handed_over").count() == 1
    failure_report_for_status(case_id=case.pk, status=CaseStatus.REFER_TO_FILING, actor_id=world.respondent.pk)
    text = _report_text(case, tmp_path)
    assert squash(f"选择在线申请立案，本案电子材料已于当日提交{case.court.name}立案队列") in text
    assert "尚无当事人选择在线立案" not in text
    assert "移送材料清单" in text
    assert Document.objects.filter(case=case, kind=DocumentKind.FAILURE_REPORT).count() == 2
    # The clerk files it with the court's number; the platform makes none up.
    filing_record(filing=filing, actor=world.clerk, court_case_number="(2026)京0101民初 345号")
    filing.refresh_from_db()
    case.refresh_from_db()
    assert filing.court_case_number == case.court_case_number == "（2026）京0101民初345号"
    assert filing.filed_at is not None


def test_a_delegated_case_is_handed_to_the_court_which_must_file(world, tmp_path):
    case = _terminated(world, CaseOrigin.DELEGATED)
    failure_report_for_status(case_id=case.pk, status=CaseStatus.TERMINATED, actor_id=None)
    case.refresh_from_db()
    assert case.status == CaseStatus.COURT_MUST_FILE
    filing = CourtFiling.objects.get(case=case)
    assert filing.route == FilingRoute.COURT_MUST_FILE and filing.handed_by is None
    text = _report_text(case, tmp_path)
    assert squash(f"本案电子材料已移送{case.court.name}立案队列") in text


def test_online_filing_refusals(world):
    case = _terminated(world, CaseOrigin.PARTY_APPLICATION)
    for user in (world.outsider, world.mediator, world.clerk, world.judge, world.org_admin):
        with pytest.raises(PermissionDenied):
            filing_choose_online(case=case, actor=user)
    assert not CourtFiling.objects.exists()
    filing_choose_online(case=case, actor=world.applicant)
    with pytest.raises(TransitionNotAllowed):
        filing_choose_online(case=Case.objects.get(pk=case.pk), actor=world.respondent)
    assert CourtFiling.objects.count() == 1
    delegated = _terminated(world, CaseOrigin.DELEGATED)
    with pytest.raises(TransitionNotAllowed):
        filing_choose_online(case=delegated, actor=world.applicant)


def test_filing_record_refusals_and_bad_numbers(world):
    case = _terminated(world, CaseOrigin.PARTY_APPLICATION)
    filing = filing_choose_online(case=case, actor=world.applicant)
    for user in (world.other_clerk, world.applicant, world.mediator, world.outsider):
        with pytest.raises(PermissionDenied):
            filing_record(filing=filing, actor=user, court_case_number="（2026）京0101民初345号")
    for bad in ("", "345", "（2026）京0101民特345号", "（2026）京0102民初345号", "（1999）京0101民初345号"):
        with pytest.raises(InvalidInput):
            filing_record(filing=filing, actor=world.clerk, court_case_number=bad)
    filing.refresh_from_db()
    assert filing.filed_at is None and filing.court_case_number == ""
    filing_record(filing=filing, actor=world.clerk, court_case_number="（2026）京0101民初345号")
    with pytest.raises(StaleState):
        filing_record(filing=filing, actor=world.clerk, court_case_number="（2026）京0101民初346号")


def test_resume_trial_through_its_service_and_refusals(world):
    case = _terminated(world, CaseOrigin.ENTRUSTED)
    for user in (world.applicant, world.mediator, world.other_judge, world.outsider):
        with pytest.raises(PermissionDenied):
            filing_resume_trial(case=case, actor=user)
    filing_resume_trial(case=case, actor=world.judge)
    case.refresh_from_db()
    assert case.status == CaseStatus.RESUME_TRIAL


def test_pages_the_party_files_online_and_the_clerk_types_the_number(world, client):
    case = _terminated(world, CaseOrigin.PARTY_APPLICATION)
    client.force_login(world.applicant)
    page = client.get(reverse("case_failure", args=[case.pk]))
    assert page.status_code == 200 and "在线申请立案" in page.content.decode()
    response = client.post(reverse("case_failure", args=[case.pk]), {"act": "file_online"})
    assert response.status_code == 302
    filing = CourtFiling.objects.get(case=case)
    client.force_login(world.outsider)
    assert client.get(reverse("case_failure", args=[case.pk])).status_code == 404
    client.force_login(world.applicant)
    assert client.get(reverse("filing_queue")).status_code == 403
    client.force_login(world.other_clerk)
    assert filing.case.reference not in client.get(reverse("filing_queue")).content.decode()
    assert client.post(reverse("filing_file", args=[filing.pk]),
                       {"court_case_number": "（2026）京0101民初1号"}).status_code == 404
    client.force_login(world.clerk)
    queue = client.get(reverse("filing_queue")).content.decode()
    assert case.reference in queue
    bad = client.post(reverse("filing_file", args=[filing.pk]), {"court_case_number": "一号"})
    assert bad.status_code == 400 and "案号格式不正确" in bad.content.decode()
    filing.refresh_from_db()
    assert filing.filed_at is None
    good = client.post(reverse("filing_file", args=[filing.pk]), {"court_case_number": "（2026）京0101民初7号"})
    assert good.status_code == 302
    filing.refresh_from_db()
    assert filing.court_case_number == "（2026）京0101民初7号"
