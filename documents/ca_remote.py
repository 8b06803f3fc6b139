"""The production certificate authority adapter: a licensed CA (电子认证服务机构) or an HSM-backed signing
service reached over HTTPS. The key pair is generated here and only a certificate signing request (CSR)
leaves the process, so the CA never sees the private key.

The wire protocol is deliberately small, so a thin gateway can put any vendor's API behind it::

    POST {SIGNING_CA_URL}/v1/event-certificates
    Authorization: Bearer {SIGNING_CA_TOKEN}
    X-Request-Id: <uuid>                       (idempotency key; also in the CA's logs)
    Content-Type: application/json
    {"csr": "<PKCS#10 PEM>", "purpose": "signature" | "seal" | "court_seal", "profile": "event"}

(``court_seal``: a people's court's electronic seal on its rulings; the CSR's subject names the court, with its
代字 as ``COURT-<code>`` in the serial number; the CA's court-seal profile decides what it issues on it.)

    200/201  {"certificate": "<PEM>", "chain": ["<issuing CA PEM>", ..., "<root PEM>"]}
    4xx/5xx  {"error": "..."}                  (logged; the signer sees a Chinese message)

What comes back is checked before it is used: the certificate must carry *our* public key, each link of the
chain must be signed by the next, the chain must end at one of the trust roots configured locally
(``SIGNING_CA_ROOTS``, a PEM bundle: roots are pinned by the operator, never taken from the CA's answer),
the certificate must be valid now and allow signing (digitalSignature or nonRepudiation).
"""

from __future__ import annotations

import itertools
import json
import logging
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _

from documents.ca import (
    PURPOSE_COURT_SEAL,
    PURPOSE_SEAL,
    PURPOSE_SIGNATURE,
    CertificateAuthorityUnavailable,
    PrivateKey,
    court_seal_subject,
)

logger = logging.getLogger(__name__)

ENDPOINT = "/v1/event-certificates"
MAX_RESPONSE_BYTES = 1024 * 1024  # a certificate chain is a few KB; refuse to buffer anything huge
# The OU of the requested subject, as the local CA writes it, so certificates read the same either way.
PURPOSE_UNITS = {PURPOSE_SIGNATURE: "电子签名", PURPOSE_SEAL: "电子印章", PURPOSE_COURT_SEAL: "人民法院电子印章"}


class RemoteCertificateAuthority:
    """Asks a CA's HTTP API for a per-signing event certificate. Configured from settings unless given."""

    def __init__(self, *, url: str | None = None, token: str | None = None, roots_file: str | Path | None = None,
                 timeout: float | None = None) -> None:
        self.url = (url if url is not None else settings.SIGNING_CA_URL or "").rstrip("/")
        self.token = token if token is not None else settings.SIGNING_CA_TOKEN
        roots = roots_file if roots_file is not None else settings.SIGNING_CA_ROOTS
        self.roots_file = Path(roots) if roots else None
        self.timeout = timeout if timeout is not None else float(settings.SIGNING_CA_TIMEOUT)
        if not self.url or self.roots_file is None:
            raise CertificateAuthorityUnavailable(
                _("远程证书颁发机构未配置：需要设置 SIGNING_CA_URL 和 SIGNING_CA_ROOTS。")
            )

    # --- trust -----------------------------------------------------------------------------------------

    def trust_roots(self) -> list[x509.Certificate]:
        assert self.roots_file is not None
        try:
            roots = x509.load_pem_x509_certificates(self.roots_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise CertificateAuthorityUnavailable(
                _("无法读取远程证书颁发机构的根证书文件（SIGNING_CA_ROOTS）：%(file)s") % {"file": self.roots_file}
            ) from exc
        return list(roots)

    # --- issuing ---------------------------------------------------------------------------------------

    def issue_event_certificate(
        self, *, subject_name: str, id_hint: str, organisation: str | None = None, purpose: str
    ) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
        if not subject_name.strip():
            raise ValueError("an event certificate needs a subject name")
        if purpose not in PURPOSE_UNITS:
            raise ValueError(f"unknown certificate purpose {purpose!r}")
        key = ec.generate_private_key(ec.SECP256R1())
        csr = _csr(key, subject_name=subject_name.strip(), id_hint=id_hint, organisation=organisation,
                   unit=PURPOSE_UNITS[purpose])
        body = {"csr": csr.public_bytes(serialization.Encoding.PEM).decode(), "purpose": purpose,
                "profile": "event"}
        answer = self._post(body)
        cert, chain = self._parse(answer)
        self._check(cert=cert, chain=chain, key=key)
        return key, cert, chain

    def issue_court_seal_certificate(
        self, *, court_name: str, court_code: str
    ) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
        """The court's seal for one ruling: a CSR naming the court, purpose ``court_seal``, checked like any."""
        name, hint, organisation = court_seal_subject(court_name=court_name, court_code=court_code)
        return self.issue_event_certificate(subject_name=name, id_hint=hint, organisation=organisation,
                                            purpose=PURPOSE_COURT_SEAL)

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        request = urllib.request.Request(  # noqa: S310 - settings only accept http(s) URLs
            self.url + ENDPOINT, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json", "X-Request-Id": request_id},
        )
        unavailable = _("证书颁发机构暂时无法签发证书，请稍后再试。")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            logger.error("remote CA refused request %s: HTTP %s %s", request_id, exc.code, detail)
            raise CertificateAuthorityUnavailable(unavailable) from exc
        except (urllib.error.URLError, OSError) as exc:
            logger.error("remote CA unreachable for request %s: %s", request_id, exc)
            raise CertificateAuthorityUnavailable(unavailable) from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            logger.error("remote CA answer to %s exceeds %s bytes", request_id, MAX_RESPONSE_BYTES)
            raise CertificateAuthorityUnavailable(unavailable)
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            logger.error("remote CA answer to %s is not JSON", request_id)
            raise CertificateAuthorityUnavailable(unavailable) from exc
        if not isinstance(answer, dict):
            raise CertificateAuthorityUnavailable(unavailable)
        return answer

    def _parse(self, answer: dict[str, Any]) -> tuple[x509.Certificate, list[x509.Certificate]]:
        invalid = _("证书颁发机构返回的证书无效，未使用。请联系平台管理员。")
        try:
            cert = x509.load_pem_x509_certificate(str(answer["certificate"]).encode())
            chain = [x509.load_pem_x509_certificate(str(pem).encode()) for pem in answer.get("chain") or []]
        except (KeyError, TypeError, ValueError) as exc:
            logger.error("remote CA answer has no readable certificate: %r", list(answer))
            raise CertificateAuthorityUnavailable(invalid) from exc
        return cert, chain

    def _check(self, *, cert: x509.Certificate, chain: list[x509.Certificate], key: PrivateKey) -> None:
        invalid = _("证书颁发机构返回的证书无效，未使用。请联系平台管理员。")
        der = serialization.Encoding.DER
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        if cert.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
            logger.error("remote CA returned a certificate for another key (serial %s)", cert.serial_number)
            raise CertificateAuthorityUnavailable(invalid)
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            logger.error("remote CA returned a certificate outside its validity (serial %s)", cert.serial_number)
            raise CertificateAuthorityUnavailable(invalid)
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            may_sign = usage.digital_signature or usage.content_commitment
        except x509.ExtensionNotFound:
            may_sign = False
        if not may_sign:
            logger.error("remote CA returned a certificate that may not sign (serial %s)", cert.serial_number)
            raise CertificateAuthorityUnavailable(invalid)
        roots = {root.public_bytes(der): root for root in self.trust_roots()}
        links = [cert, *[c for c in chain if c.public_bytes(der) not in roots]]
        try:
            for child, parent in itertools.pairwise(links):
                child.verify_directly_issued_by(parent)
            last = links[-1]
            anchor = next((root for root in roots.values() if root.subject == last.issuer), None)
            if anchor is None:
                raise ValueError("the chain does not end at a configured root")
            last.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature) as exc:
            logger.error("remote CA chain rejected (serial %s): %s", cert.serial_number, exc)
            raise CertificateAuthorityUnavailable(invalid) from exc


def _csr(key: PrivateKey, *, subject_name: str, id_hint: str, organisation: str | None,
         unit: str) -> x509.CertificateSigningRequest:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]))
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit[:64]))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, subject_name[:64]))
    if id_hint:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, id_hint[:64]))
    return (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
            .sign(key, hashes.SHA256()))
