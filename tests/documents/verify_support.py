"""Documents on record with real signatures, built straight on the models (the verification tests must not
depend on the rendering and signing services' choices), signed by a throwaway CA."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone

from documents.models import Document, DocumentSignature
from mediation.choices import DocumentKind, SignerRole
from mediation.models import Case, Organisation, Party, User
from tests.documents.ca_support import ThrowawayCA, certificate_pem, sign_pdf


def render_pdf(text: str = "调解协议书") -> bytes:
    from documents.rendering import html_to_pdf

    return html_to_pdf(f"<html><body><h1>{text}</h1><p>{secrets.token_hex(8)}</p></body></html>")


@dataclass
class OnRecord:
    document: Document
    revisions: list[bytes] = field(default_factory=list)  # [original, after 1st signature, ...]

    @property
    def latest(self) -> bytes:
        return self.revisions[-1]


def issue(case: Case, pdf: bytes, *, version: int = 1, supersedes: Document | None = None,
          kind: str = DocumentKind.AGREEMENT) -> OnRecord:
    digest = hashlib.sha256(pdf).hexdigest()
    document = Document(
        case=case, kind=kind, title="调解协议书", number=f"（2026）京0101民诉前调{version}号", version=version,
        supersedes=supersedes, data={"title": "调解协议书"}, sha256=digest, size=len(pdf), pages=1,
        code=secrets.token_hex(5).upper(),
    )
    document.pdf.save(f"{digest}.pdf", ContentFile(pdf), save=False)
    document.save()
    return OnRecord(document=document, revisions=[pdf])


def sign(record: OnRecord, ca: ThrowawayCA, *, signer: User, role: str, party: Party | None = None,
         organisation: Organisation | None = None, name: str | None = None) -> DocumentSignature:
    sequence = len(record.revisions)
    display = name or (organisation.name if organisation else signer.real_name)
    key, cert = ca.issue(display)
    field_name = f"sig{sequence}"
    signed = sign_pdf(record.latest, key=key, cert=cert, chain=[ca.root], field_name=field_name,
                      box=(60, 60 + 70 * sequence, 220, 120 + 70 * sequence), name=display)
    digest = hashlib.sha256(signed).hexdigest()
    row = DocumentSignature(
        document=record.document, sequence=sequence, role=role, signer=signer, party=party,
        organisation=organisation, signer_name=display, field_name=field_name,
        certificate_serial=f"{cert.serial_number:x}", certificate_subject=cert.subject.rfc4514_string(),
        certificate_pem=certificate_pem(cert), sha256=digest, signed_at=timezone.now(),
    )
    row.pdf.save(f"{digest}.pdf", ContentFile(signed), save=False)
    row.save()
    record.revisions.append(signed)
    return row


def sign_by_both_parties(record: OnRecord, ca: ThrowawayCA) -> None:
    case = record.document.case
    for party in case.parties.order_by("role").select_related("user"):
        sign(record, ca, signer=party.user, role=SignerRole.PARTY, party=party)
