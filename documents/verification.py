"""Checking a PDF (or a typed verification code) against the documents on record.

Two independent questions, both answered for every upload:

* **Is this byte-for-byte a file the platform issued?** The SHA-256 of the upload is looked up among every
  ``Document.sha256`` (the unsigned original) and every ``DocumentSignature.sha256`` (the whole file after
  each signature). When nothing matches exactly, each revision boundary (``%%EOF``) of the upload is tried as
  a prefix, and the signer certificates embedded in it are looked up, so a file that starts as a document on
  record and was then changed is reported as *modified*, not as foreign.
* **Do the embedded signatures hold?** Each one is validated with pyHanko against the platform's trust roots
  (the development CA's root, or the configured production CA's roots): intact, cryptographically valid,
  trusted, and whether the file was changed after it (coverage and pyHanko's difference analysis).

Nothing here raises on bad input: garbage, a truncated or hostile PDF, or an unknown code all come back as a
result with a Chinese message. Nothing here stores the upload; the view audits the hash and the verdict.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from documents.ca import certificate_authority
from documents.models import Document, DocumentSignature
from documents.selectors import documents_for_case
from documents.services.signing import document_latest_revision
from mediation.choices import SignerRole
from mediation.models import Case, User
from mediation.services.audit import audit_append

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# Prefixes tried when the whole file matches nothing: one per revision boundary, bounded so a hostile file
# full of "%%EOF" markers cannot make us hash megabytes thousands of times.
MAX_REVISION_PREFIXES = 64
CODE_PATTERN = re.compile(r"^[A-Z0-9]{4,16}$")


class Verdict(StrEnum):
    LATEST = "latest"  # byte-for-byte the latest revision on record
    EARLIER = "earlier"  # byte-for-byte an earlier revision; signatures were added after it
    MODIFIED = "modified"  # belongs to a document on record (or carries the platform's signatures), but differs
    FOREIGN = "foreign"  # nothing links it to the platform
    REJECTED = "rejected"  # not checked: empty, too large, not a PDF
    FOUND = "found"  # a typed code found a document (nothing to compare bytes with)
    NOT_FOUND = "not_found"  # a typed code found nothing


@dataclass(frozen=True)
class SignerLine:
    """One signature as a verifier may see it: a name, a role, a time. No ID or phone numbers (B10)."""

    sequence: int
    name: str
    role: str
    signed_at: datetime | None


@dataclass(frozen=True)
class EmbeddedSignatureCheck:
    """pyHanko's view of one signature embedded in the upload."""

    field_name: str
    signer_name: str
    signed_at: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    # Only signatures (or nothing) were appended after this one; False means other changes followed it.
    unchanged_after: bool
    record: SignerLine | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.unchanged_after and not self.error

    @property
    def verdict(self) -> str:
        """One sentence for this signature, the worst finding first; ``checks`` gives the detail."""
        if self.error:
            return self.error
        if not (self.intact and self.valid):
            return _("签章已损坏：签章后文件内容被改动，或签章本身无效")
        if not self.unchanged_after:
            return _("签章有效，但签章后文件被改动")
        if not self.trusted:
            return _("签章完整，但证书不受本平台信任")
        if self.covers_whole_file:
            return _("签章完整有效，签章后文件未被改动")
        return _("签章完整有效，之后只追加了其他签章")

    @property
    def checks(self) -> list[tuple[bool | None, str]]:
        """The detail under the verdict, each (passed, text); None where a broken signature cannot tell.

        A signature whose bytes no longer match tells nothing about its certificate or its coverage, so
        those are "not verified", never "trusted" or "unchanged"."""
        if self.error:
            return []
        sound = self.intact and self.valid
        rows: list[tuple[bool | None, str]] = [
            (sound, _("签章完整有效") if sound else _("签章与文件内容不一致")),
        ]
        if not sound:
            rows.append((None, _("证书：未能核验（签章已损坏）")))
            rows.append((None, _("签章后是否改动：未能核验（签章已损坏）")))
            return rows
        rows.append((self.trusted, _("证书由本平台认可的机构签发") if self.trusted else _("证书不受本平台信任")))
        if self.covers_whole_file:
            rows.append((True, _("签章后文件未被改动")))
        elif self.unchanged_after:
            rows.append((True, _("之后只追加了其他签章")))
        else:
            rows.append((False, _("签章后文件被改动")))
        return rows


@dataclass
class VerificationResult:
    verdict: Verdict
    message: str
    detail: str = ""
    document: Document | None = None
    # 0: the unsigned original; N: the file after the N-th signature; None: no exact match.
    matched_sequence: int | None = None
    signatures_on_record: int = 0
    signers: list[SignerLine] = field(default_factory=list)
    embedded: list[EmbeddedSignatureCheck] = field(default_factory=list)
    sha256: str = ""
    size: int = 0
    newer_version: int | None = None

    @property
    def consistent(self) -> bool:
        return self.verdict in (Verdict.LATEST, Verdict.EARLIER)

    def audit_data(self) -> dict[str, Any]:
        """What the audit trail keeps: the verdict and the hash, never the file."""
        return {
            "verdict": str(self.verdict),
            "document": self.document.pk if self.document else None,
            "sequence": self.matched_sequence,
            "sha256": self.sha256,
            "size": self.size,
            "signatures": len(self.embedded),
        }


# --- trust roots -------------------------------------------------------------------------------------------


def platform_trust_roots() -> list[x509.Certificate]:
    """The roots the platform's signatures chain to, from the configured certificate authority.

    A missing development CA is not an error here: the page still answers whether the bytes are on record,
    and every signature shows as untrusted (and the log says why).
    """
    try:
        roots = certificate_authority().trust_roots()
    except Exception:
        logger.warning("verification: the certificate authority's trust roots are unavailable", exc_info=True)
        return []
    return list(roots)


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


# --- helpers -------------------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _role_label(signature: DocumentSignature) -> str:
    if signature.role == SignerRole.PARTY and signature.party is not None:
        return _("当事人（%(role)s）") % {"role": signature.party.get_role_display()}
    if signature.role == SignerRole.AGENT and signature.party is not None:
        return _("%(party)s的委托代理人") % {"party": signature.party.name}
    return str(SignerRole(signature.role).label) if signature.role in SignerRole.values else signature.role


def _signer_line(signature: DocumentSignature) -> SignerLine:
    name = signature.signer_name
    if signature.role in (SignerRole.ORGANISATION, SignerRole.COURT) and signature.organisation is not None:
        name = signature.organisation.name
    return SignerLine(sequence=signature.sequence, name=name, role=_role_label(signature),
                      signed_at=signature.signed_at)


def _signatures_of(document: Document) -> list[DocumentSignature]:
    return list(document.signatures.select_related("party", "organisation").order_by("sequence"))


def _revision_prefixes(data: bytes) -> list[int]:
    """Lengths at which a revision of ``data`` may end: after each ``%%EOF`` and its line ending."""
    ends: list[int] = []
    start = 0
    while len(ends) < MAX_REVISION_PREFIXES:
        found = data.find(b"%%EOF", start)
        if found < 0:
            break
        end = found + 5
        ends.append(end)
        if data[end:end + 2] == b"\r\n":
            ends.append(end + 2)
        elif data[end:end + 1] in (b"\n", b"\r"):
            ends.append(end + 1)
        start = end
    return [end for end in ends if end < len(data)]


def _newer_version(document: Document) -> int | None:
    latest = (Document.objects.filter(case_id=document.case_id, kind=document.kind)
              .order_by("-version").values_list("version", flat=True).first())
    return latest if latest is not None and latest > document.version else None


def _certificate_der(pem: str) -> bytes | None:
    try:
        return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    except ValueError:
        return None


# --- embedded signatures -------------------------------------------------------------------------------------


@dataclass
class _Embedded:
    checks: list[EmbeddedSignatureCheck]
    # (serial in lower-case hex, DER of the signer certificate) for each embedded signature
    certificates: list[tuple[str, bytes]]
    readable: bool


def _validate_embedded(data: bytes, roots: list[x509.Certificate]) -> _Embedded:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception:  # any malformed file: report it, never crash the page
        logger.info("verification: unreadable PDF", exc_info=True)
        return _Embedded(checks=[], certificates=[], readable=False)

    trust = [_to_asn1(root) for root in roots]
    checks: list[EmbeddedSignatureCheck] = []
    certificates: list[tuple[str, bytes]] = []
    for sig in embedded:
        name = sig.field_name or ""
        signer = ""
        identity = ("", b"")  # kept parallel to ``checks``: one entry per signature, empty when unreadable
        try:
            cert = sig.signer_cert
            signer = cert.subject.native.get("common_name", "") if cert is not None else ""
            if cert is not None:
                identity = (f"{cert.serial_number:x}", cert.dump())
        except Exception:
            logger.info("verification: unreadable signer certificate", exc_info=True)
        certificates.append(identity)
        try:
            # A fresh context per signature: contexts cache path-building results between calls.
            context = ValidationContext(trust_roots=trust, allow_fetching=False)
            status = validate_pdf_signature(sig, context)
        except Exception as exc:
            logger.info("verification: signature %s could not be validated", name, exc_info=True)
            checks.append(EmbeddedSignatureCheck(
                field_name=name, signer_name=str(signer), signed_at=None, intact=False, valid=False,
                trusted=False, covers_whole_file=False, unchanged_after=False,
                error=_("签章无法解析（%(kind)s）") % {"kind": type(exc).__name__},
            ))
            continue
        level = status.modification_level
        covers_whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        unchanged_after = covers_whole or (
            status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and level is not None and level <= ModificationLevel.FORM_FILLING
            and bool(status.docmdp_ok)
        )
        checks.append(EmbeddedSignatureCheck(
            field_name=name, signer_name=str(signer), signed_at=status.signer_reported_dt,
            intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
            covers_whole_file=covers_whole, unchanged_after=unchanged_after,
        ))
    if checks and not checks[-1].covers_whole_file and not checks[-1].error:
        # Only a later signature may follow a signature; after the last one, anything at all is a change
        # (pyHanko does not count bytes after the final %%EOF as a revision).
        checks[-1] = replace(checks[-1], unchanged_after=False)
    return _Embedded(checks=checks, certificates=certificates, readable=True)


def _attach_records(checks: list[EmbeddedSignatureCheck], certificates: list[tuple[str, bytes]],
                    records: list[DocumentSignature]) -> list[EmbeddedSignatureCheck]:
    """Pair each embedded signature with the signature on record that used the same certificate."""
    by_der: dict[bytes, DocumentSignature] = {}
    for record in records:
        der = _certificate_der(record.certificate_pem)
        if der is not None:
            by_der[der] = record
    ders = [der for _serial, der in certificates]
    paired: list[EmbeddedSignatureCheck] = []
    for index, check in enumerate(checks):
        match = by_der.get(ders[index]) if index < len(ders) else None
        paired.append(check if match is None else replace(check, record=_signer_line(match)))
    return paired


def _document_by_certificates(certificates: list[tuple[str, bytes]]) -> Document | None:
    """The document whose signature on record used one of these exact certificates (serial and bytes)."""
    if not certificates:
        return None
    # Serials on record may be written in hex (either case) or decimal; the certificate bytes decide anyway.
    serials = [variant for serial, _der in certificates if serial
               for variant in (serial, serial.upper(), str(int(serial, 16)))]
    if not serials:
        return None
    candidates = DocumentSignature.objects.filter(certificate_serial__in=serials).select_related("document")
    ders = {der for _serial, der in certificates if der}
    for candidate in candidates:
        if _certificate_der(candidate.certificate_pem) in ders:
            return candidate.document
    return None


# --- the checks ----------------------------------------------------------------------------------------------


def _rejected(message: str, *, sha256: str = "", size: int = 0) -> VerificationResult:
    return VerificationResult(verdict=Verdict.REJECTED, message=message, sha256=sha256, size=size)


def max_upload_bytes() -> int:
    return int(settings.VERIFY_MAX_BYTES)


def too_large(*, size: int) -> VerificationResult:
    """The answer for an upload over the limit (the view gives it without reading the file)."""
    limit = max_upload_bytes()
    return _rejected(
        _("文件超过 %(mb)s MB，无法核验。本平台生成的文书远小于此大小，请确认选择了正确的文件。")
        % {"mb": limit // (1024 * 1024) or 1}, size=size,
    )


def verify_pdf(*, data: bytes, trust_roots: list[x509.Certificate] | None = None) -> VerificationResult:
    """Check an uploaded file against the record and validate its signatures. Never raises on bad input.

    ``trust_roots`` defaults to :func:`platform_trust_roots`.
    """
    limit = max_upload_bytes()
    if not data:
        return _rejected(_("文件是空的，请重新选择要核验的 PDF 文件。"))
    if len(data) > limit:
        return too_large(size=len(data))
    digest = _sha256(data)
    if not data.startswith(PDF_MAGIC):
        return _rejected(_("这不是 PDF 文件。请上传本平台生成的文书（PDF 格式），或输入文书上印有的核验码。"),
                         sha256=digest, size=len(data))

    roots = platform_trust_roots() if trust_roots is None else trust_roots
    embedded = _validate_embedded(data, roots)

    exact_document = Document.objects.filter(sha256=digest).first()
    exact_signature = (DocumentSignature.objects.filter(sha256=digest).select_related("document").first()
                       if exact_document is None else None)
    if exact_document is not None or exact_signature is not None:
        document = exact_document or exact_signature.document  # type: ignore[union-attr]
        sequence = 0 if exact_signature is None else exact_signature.sequence
        return _exact(document=document, sequence=sequence, digest=digest, size=len(data), embedded=embedded)

    # Not byte-for-byte on record. Does it start as a revision on record, or carry signatures on record?
    prefixes = {_sha256(data[:end]): end for end in _revision_prefixes(data)}
    base_document: Document | None = None
    base_sequence: int | None = None
    if prefixes:
        longest = -1
        for row in DocumentSignature.objects.filter(sha256__in=prefixes).select_related("document"):
            if prefixes[row.sha256] > longest:
                longest, base_document, base_sequence = prefixes[row.sha256], row.document, row.sequence
        if base_document is None:
            original = Document.objects.filter(sha256__in=prefixes).first()
            if original is not None:
                base_document, base_sequence = original, 0
    if base_document is None:
        base_document = _document_by_certificates(embedded.certificates)

    if base_document is not None:
        records = _signatures_of(base_document)
        if base_sequence is None:
            detail = _("文件中的签章属于本平台的这份文书，但文件内容与存档的任何版本都不一致。")
        elif base_sequence == 0:
            detail = _("文件开头与存档的未签章原件一致，但之后被追加了不属于平台的改动。")
        else:
            detail = _("文件开头与存档的第 %(n)s 次签章后版本一致，但之后被追加了不属于平台的改动。") % {
                "n": base_sequence}
        return VerificationResult(
            verdict=Verdict.MODIFIED, message=_("文件已被修改"), detail=detail, document=base_document,
            signatures_on_record=len(records), signers=[_signer_line(r) for r in records],
            embedded=_attach_records(embedded.checks, embedded.certificates, records),
            sha256=digest, size=len(data), newer_version=_newer_version(base_document),
        )

    if any(check.trusted for check in embedded.checks):
        return VerificationResult(
            verdict=Verdict.MODIFIED, message=_("文件已被修改"),
            detail=_("文件带有本平台签发的签章证书，但在平台存档中找不到与之一致的文书。请勿依赖此文件，"
                     "并向出具文书的调解组织核实。"),
            embedded=embedded.checks, sha256=digest, size=len(data),
        )
    detail = (_("平台存档中没有与此文件一致的文书，文件中也没有本平台的签章。如果文件曾被修改或另存，也会出现此结果；"
                "可以输入文书上印有的核验码查询。"))
    if not embedded.readable:
        detail = _("无法读取此 PDF 文件的结构，文件可能已损坏。") + detail
    return VerificationResult(verdict=Verdict.FOREIGN, message=_("不是本平台的文书"), detail=detail,
                              embedded=embedded.checks, sha256=digest, size=len(data))


def _exact(*, document: Document, sequence: int, digest: str, size: int, embedded: _Embedded) -> VerificationResult:
    records = _signatures_of(document)
    latest = max((r.sequence for r in records), default=0)
    later = [r for r in records if r.sequence > sequence]
    checks = _attach_records(embedded.checks, embedded.certificates, records)
    common: dict[str, Any] = {
        "document": document, "matched_sequence": sequence, "signatures_on_record": len(records),
        "signers": [_signer_line(r) for r in records], "embedded": checks, "sha256": digest, "size": size,
        "newer_version": _newer_version(document),
    }
    if sequence == latest:
        if sequence == 0:
            detail = _("文件与平台存档的文书逐字节一致，尚无签章。")
        else:
            detail = _("文件与平台存档的最新版本逐字节一致，包含全部 %(n)s 个签章。") % {"n": sequence}
        return VerificationResult(verdict=Verdict.LATEST, message=_("与平台存档一致（最新版本）"),
                                  detail=detail, **common)
    if sequence == 0:
        message = _("与存档的未签章原件一致（之后还有签章）")
    else:
        message = _("与存档的第 %(n)s 次签章后版本一致（之后还有签章）") % {"n": sequence}
    detail = _("此文件是存档中较早的版本，之后又有 %(n)s 个签章。请向当事人或调解组织索取最新版本。") % {
        "n": len(later)}
    return VerificationResult(verdict=Verdict.EARLIER, message=message, detail=detail, **common)


def normalise_code(code: str) -> str:
    """Codes are printed in groups and read aloud: ignore case, spaces and dashes."""
    return re.sub(r"[\s\-–—_]", "", code or "").upper()


def verify_code(*, code: str) -> VerificationResult:
    """Look up a document by the verification code printed on it. Shows who signed; cannot vouch for a file."""
    raw = (code or "").strip()
    normalised = normalise_code(raw)
    if not CODE_PATTERN.match(normalised):
        return VerificationResult(
            verdict=Verdict.NOT_FOUND, message=_("核验码格式不正确"),
            detail=_("核验码由字母和数字组成，印在文书每页的页脚。请核对后重新输入。"),
        )
    # Stored codes are compared as typed and without separators, whichever way the renderer stores them.
    document = Document.objects.filter(Q(code__iexact=normalised) | Q(code__iexact=raw[:16])).first()
    if document is None:
        return VerificationResult(
            verdict=Verdict.NOT_FOUND, message=_("未找到此核验码对应的文书"),
            detail=_("请核对核验码。如果确认无误，这份文书不是本平台出具的。"),
        )
    records = _signatures_of(document)
    return VerificationResult(
        verdict=Verdict.FOUND, message=_("本平台出具过此文书"),
        detail=_("下列为存档中的文书信息和签章。要确认手中的文件与存档一致，请上传该 PDF 文件。"),
        document=document, matched_sequence=None, signatures_on_record=len(records),
        signers=[_signer_line(r) for r in records], newer_version=_newer_version(document),
    )


# --- the one write: the audit record of a verification -------------------------------------------------------

VISITOR_LABEL = "访客"


def verification_audit(*, result: VerificationResult, method: str, actor: Any = None) -> None:
    """Record that someone verified a file or a code: the verdict and the upload's hash, never the file.

    A verification that found a document goes to that case's trail (the parties can see their agreement was
    checked); anything else goes to the ``verify`` stream. ``actor`` is the signed-in user or None.
    """
    user = actor if isinstance(actor, User) and actor.is_authenticated else None
    data = {"method": method, **result.audit_data()}
    if result.document is not None:
        audit_append(kind="document.verified", actor=user, case=result.document.case, data=data,
                     actor_label="" if user else VISITOR_LABEL)
    else:
        audit_append(kind="document.verified", actor=user, stream="verify", data=data,
                     actor_label="" if user else VISITOR_LABEL)


@dataclass(frozen=True)
class ReviewedDocument:
    document: Document
    verification: VerificationResult | None  # None: the file is missing from storage and could not be checked


def documents_verified_for_case(*, user: User, case: Case, kinds: tuple[str, ...]) -> list[ReviewedDocument]:
    """The latest version of each of ``kinds`` on ``case`` that ``user`` may see, in that order, each with what
    /verify/ would say of the file as it stands (the judge's review page)."""
    latest: dict[str, Document] = {}
    for each in documents_for_case(user=user, case=case):
        latest.setdefault(each.kind, each)
    found = []
    for kind in kinds:
        document = latest.get(kind)
        if document is None:
            continue
        try:
            data, _digest = document_latest_revision(document)
            verification: VerificationResult | None = verify_pdf(data=data)
        except (OSError, ValueError):
            verification = None
        found.append(ReviewedDocument(document=document, verification=verification))
    return found
