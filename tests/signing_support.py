"""Signing tests: a development CA in a temporary directory, an agreement ready to sign, and signing as a
person does it (ask for a code, read it from the SMS outbox, draw, sign)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from documents.ca import dev_ca_create
from documents.models import Document, DocumentSignature
from documents.services.issuing import document_issue
from documents.services.signing import document_sign, document_sign_code_send
from mediation.adapters.sms import outbox_clear
from mediation.choices import CaseOrigin, CaseStatus, DocumentKind, ServiceStage, SignerRole
from mediation.models import Agreement, Case, Party, User
from mediation.services.service import service_address_change
from tests.agreement_support import draft_labour_agreement, open_signing, parties_of
from tests.room_support import last_code


@pytest.fixture(scope="session")
def dev_ca_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("dev-ca")
    dev_ca_create(directory)
    return directory


@pytest.fixture
def signing_env(settings, tmp_path, dev_ca_dir):
    """The dev CA, media in a temporary directory, SMS to the in-memory outbox, no resend wait."""
    settings.SIGNING_CA = "local"
    settings.DEV_CA_DIR = dev_ca_dir
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_BACKEND = "console"
    settings.OTP_RESEND_SECONDS = 0
    settings.OTP_MAX_SENDS_PER_HOUR = 50
    outbox_clear()
    yield dev_ca_dir
    outbox_clear()


def handwriting_png(width: int = 600, height: int = 240) -> bytes:
    """What the signing page's canvas sends: dark strokes on a transparent ground."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(40, 180), (120, 60), (200, 170), (300, 50), (420, 190), (560, 80)], fill=(0, 0, 0, 255), width=8)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def agreement_document(case: Case, agreement: Agreement | None = None) -> Document:
    """The issued agreement (the renderer issues it when signing opens; issue it here if it has not)."""
    document = Document.objects.filter(case=case, kind=DocumentKind.AGREEMENT).order_by("-version").first()
    if document is None:
        document = document_issue(case=case, kind=DocumentKind.AGREEMENT, actor=None, agreement=agreement)
    return document


def jc_application(case: Case) -> Document:
    document = Document.objects.filter(case=case, kind=DocumentKind.JC_APPLICATION).order_by("-version").first()
    if document is None:
        document = document_issue(case=case, kind=DocumentKind.JC_APPLICATION, actor=None)
    return document


def ready_to_sign(world, *, origin: str = CaseOrigin.DELEGATED, e_seal: bool = True,
                  assent: bool = True) -> Document:
    """A case in SIGNING with its issued agreement. Without ``assent`` the mediator opened signing while a
    clause still lacks the parties' assent (straight through the state machine)."""
    world.partner.has_e_seal = e_seal
    world.partner.save(update_fields=["has_e_seal"])
    case = world.new_case(origin=origin)
    agreement = draft_labour_agreement(world, case, assent=assent)
    if assent:
        open_signing(world, agreement)
    else:
        world.drive(Case.objects.get(pk=case.pk), CaseStatus.SIGNING)
    return agreement_document(Case.objects.get(pk=case.pk), agreement)


def consent_to_e_service(case: Case) -> None:
    """Both parties confirm a service address and consent to e-service for every stage (OLR 29-30)."""
    for party in case.parties.select_related("user"):
        service_address_change(
            case=case, party=party, actor=party.user, recipient_name=party.name,
            postal_address="北京市东城区东直门南大街1号", postal_recipient=party.name, postal_phone="13800000000",
            e_service_consent=True, stages=list(ServiceStage.values), mobile=party.phone,
        )


def sign(document: Document, user: User, role: str = SignerRole.PARTY, party: Party | None = None,
         *, png: bytes | None = None) -> DocumentSignature:
    document_sign_code_send(document=document, actor=user, role=role, party=party)
    return document_sign(document=document, actor=user, role=role, party=party, code=last_code(user.phone),
                         handwriting_png=png if png is not None else handwriting_png())


def sign_all(world, document: Document) -> list[DocumentSignature]:
    """Both parties, the mediator and the organisation's seal, in that order."""
    applicant, respondent = parties_of(document.case)
    signatures = [sign(document, world.applicant, party=applicant), sign(document, world.respondent, party=respondent)]
    if document.kind == DocumentKind.AGREEMENT:
        signatures.append(sign(document, world.mediator, SignerRole.MEDIATOR))
        if world.partner.has_e_seal:
            signatures.append(sign(document, world.org_admin, SignerRole.ORGANISATION))
    return signatures
