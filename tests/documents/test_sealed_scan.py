"""OMR 19; PML 29: an organisation without an e-seal uploads the scan of the sealed paper agreement, and a
people's mediation committee's agreement takes effect only with it."""

from __future__ import annotations

import pytest

from documents.models import DocumentImmutable, SealedScan
from documents.services.signing import SCAN_MAX_BYTES, document_pending_slots, document_sealed_scan_upload
from mediation.choices import AgreementVariant, CaseStatus, OrganisationKind, SignerRole
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import AuditEvent, Case
from tests.agreement_support import parties_of
from tests.signing_support import (  # noqa: F401 - fixtures
    dev_ca_dir,
    ready_to_sign,
    sign,
    signing_env,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing_env")]


def _peoples_without_e_seal(world):
    world.partner.kind = OrganisationKind.PEOPLES_MEDIATION_COMMITTEE
    world.partner.save(update_fields=["kind"])
    document = ready_to_sign(world, e_seal=False)
    assert document.agreement.variant == AgreementVariant.PEOPLES
    applicant, respondent = parties_of(document.case)
    sign(document, world.applicant, party=applicant)
    sign(document, world.respondent, party=respondent)
    sign(document, world.mediator, SignerRole.MEDIATOR)
    return document


def _pdf(document) -> bytes:
    with document.pdf.open("rb") as handle:
        return handle.read()


def test_a_peoples_agreement_without_e_seal_takes_effect_only_with_the_sealed_scan(world):
    document = _peoples_without_e_seal(world)
    # Every signature is on, but PML 29 wants the committee's seal too.
    assert Case.objects.get(pk=document.case_id).status == CaseStatus.SIGNING
    assert [slot.key for slot in document_pending_slots(document)] == ["sealed_scan"]

    data = _pdf(document)
    scan = document_sealed_scan_upload(document=document, actor=world.org_admin, data=data,
                                       original_name="盖章协议.pdf")

    case = Case.objects.get(pk=document.case_id)
    assert case.status in (CaseStatus.AGREEMENT_EFFECTIVE, CaseStatus.CLOSED_SETTLED)
    assert case.agreement_effective_at == scan.uploaded_at
    event = AuditEvent.objects.get(case=case, kind="document.sealed_scan_uploaded")
    assert event.data["sha256"] == scan.sha256
    with scan.file.open("rb") as handle:
        assert handle.read() == data
    scan.original_name = "改名.pdf"
    with pytest.raises(DocumentImmutable):
        scan.save()


@pytest.mark.parametrize("name", ["applicant", "respondent", "mediator", "clerk"])
def test_only_the_organisations_admin_uploads_the_scan(world, name):
    document = _peoples_without_e_seal(world)
    with pytest.raises(PermissionDenied):
        document_sealed_scan_upload(document=document, actor=getattr(world, name), data=_pdf(document))
    assert not SealedScan.objects.exists()


def test_an_outsider_learns_nothing(world):
    document = _peoples_without_e_seal(world)
    with pytest.raises(NotFound):
        document_sealed_scan_upload(document=document, actor=world.outsider, data=_pdf(document))
    assert not SealedScan.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "请选择"),
    (b"\x89PNG\r\n\x1a\n" + b"0" * 200, "PDF"),
    (b"%PDF-1.7\n" + b"0" * 100, "PDF"),
    (b"%PDF-" + b"0" * SCAN_MAX_BYTES, "20MB"),
])
def test_bad_uploads_say_why_and_save_nothing(world, data, message):
    document = _peoples_without_e_seal(world)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput, match=message):
        document_sealed_scan_upload(document=document, actor=world.org_admin, data=data)
    assert not SealedScan.objects.exists()
    assert AuditEvent.objects.count() == events
    assert Case.objects.get(pk=document.case_id).status == CaseStatus.SIGNING


def test_an_organisation_with_an_e_seal_seals_electronically(world):
    document = ready_to_sign(world, e_seal=True)
    with pytest.raises(InvalidInput, match="电子印章"):
        document_sealed_scan_upload(document=document, actor=world.org_admin, data=_pdf(document))


def test_the_scan_is_uploaded_once(world):
    document = _peoples_without_e_seal(world)
    document_sealed_scan_upload(document=document, actor=world.org_admin, data=_pdf(document))
    with pytest.raises(InvalidInput, match="不能更换"):
        document_sealed_scan_upload(document=document, actor=world.org_admin, data=_pdf(document))
    assert SealedScan.objects.count() == 1


def test_the_upload_page(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    document = _peoples_without_e_seal(world)
    url = reverse("document_sealed_scan", args=[document.pk])
    client.force_login(world.org_admin)
    assert "sealed-scan" in client.get(reverse("document_detail", args=[document.pk])).content.decode()
    bad = client.post(url, {"scan": SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")})
    assert bad.status_code == 400 and "PDF" in bad.content.decode()
    assert not SealedScan.objects.exists()
    client.force_login(world.applicant)
    assert 'id="sealed-scan"' not in client.get(reverse("document_detail", args=[document.pk])).content.decode()
    assert client.post(url, {"scan": SimpleUploadedFile("a.pdf", _pdf(document))}).status_code == 403
    client.force_login(world.org_admin)
    good = client.post(url, {"scan": SimpleUploadedFile("a.pdf", _pdf(document), content_type="application/pdf")})
    assert good.status_code == 302
    assert SealedScan.objects.count() == 1
