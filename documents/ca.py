"""Certificate authorities behind one small interface: per-signing event certificates (事件型证书) for PAdES.

Each signing gets a fresh key pair and a certificate naming that signer, issued right after the signer has
re-verified with a one-time code; the key signs once and is then dropped (it is never stored). That is how
the key stays "under the signer's sole control" in the sense of ESL art. 13 on a server-side platform: it
exists only for the one act the signer has just authorised. Production uses a licensed CA (or an HSM)
through ``documents.ca_remote``; development and tests use :class:`LocalCertificateAuthority`, a root and an
issuing CA kept as files created by ``manage.py dev_ca``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _

from mediation.exceptions import DomainError

# Validity periods. There is no time-stamp server: a validator checks the certificate chain as of the moment
# it validates, so an event certificate must stay within its validity for as long as anyone may need to check
# the agreement (enforcement applications run two years from the last performance date, CPL 250, and court
# archives keep mediation files for decades). The private key is destroyed right after its one signature, so
# a long validity does not widen any window for misuse: nobody holds the key. The issuing CA outlives every
# certificate it issues, and the root outlives the issuing CA.
ROOT_YEARS = 50
ISSUING_YEARS = 45
EVENT_CERTIFICATE_YEARS = 30
_YEAR = dt.timedelta(days=365)

ROOT_KEY, ROOT_CERT = "root.key.pem", "root.cert.pem"
ISSUING_KEY, ISSUING_CERT = "issuing.key.pem", "issuing.cert.pem"
_FILES = (ROOT_KEY, ROOT_CERT, ISSUING_KEY, ISSUING_CERT)

# Certificate purposes: the OU of the event certificate, so a reader sees in what capacity the key signed.
PURPOSE_SIGNATURE = "signature"  # a person's signature (a party, an agent, a mediator)
PURPOSE_SEAL = "seal"  # an organisation's electronic seal
PURPOSE_COURT_SEAL = "court_seal"  # a people's court's electronic seal on its rulings (legal-rules §C4)
_PURPOSE_LABELS = {PURPOSE_SIGNATURE: "电子签名", PURPOSE_SEAL: "电子印章", PURPOSE_COURT_SEAL: "人民法院电子印章"}


def court_seal_subject(*, court_name: str, court_code: str) -> tuple[str, str, str]:
    """(subject name, serial/ID hint, organisation) of a court's seal certificate: the court names itself. Its
    代字 (public, unlike a person's ID number) goes in the serialNumber only when it is plain ASCII, the only
    text that attribute (a PrintableString) may hold; 京0101 does not, and the court's name identifies it."""
    code = (court_code or "").strip()
    printable = code.isascii() and code.replace("-", "").isalnum()
    return court_name.strip(), f"COURT-{code}" if code and printable else "", court_name.strip()

PrivateKey = ec.EllipticCurvePrivateKey


class CertificateAuthorityUnavailable(DomainError):
    """The configured CA cannot issue certificates (the dev CA was never created, the remote CA is down)."""

    code = "ca_unavailable"


@dataclass(frozen=True)
class IssuedCertificate:
    key: PrivateKey
    cert: x509.Certificate
    chain: list[x509.Certificate]  # issuing CA first, then the root


class CertificateAuthority(Protocol):
    def issue_event_certificate(
        self, *, subject_name: str, id_hint: str, organisation: str | None = None, purpose: str
    ) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
        """A fresh key pair and a certificate for one signing, with the chain up to the root."""
        ...

    def issue_court_seal_certificate(
        self, *, court_name: str, court_code: str
    ) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
        """A fresh key pair and a certificate for one application of a court's electronic seal."""
        ...

    def trust_roots(self) -> list[x509.Certificate]:
        """The roots a verifier should trust for the certificates this CA issues."""
        ...


def id_number_hint(id_number: str) -> str:
    """What goes into a certificate instead of an ID number: a keyed hash (HMAC-SHA256).

    A plain SHA-256 of an 18-digit resident ID can be reversed by trying every plausible number (region,
    birth date, sequence: about 10^10 candidates, minutes of work), so the hash is keyed with a secret only
    the platform holds. It links certificates of one person for the platform without publishing the number.
    """
    number = (id_number or "").strip().upper()
    if not number:
        return ""
    key = hashlib.sha256(f"yizhan.certificate-id-hint:{settings.SECRET_KEY}".encode()).digest()
    return "IDH-" + hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:32]


def _name(common_name: str, *, organisation: str | None = None, unit: str | None = None,
          serial: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]))
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit[:64]))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]))
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial[:64]))
    return x509.Name(attributes)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )


def _signing_key_usage() -> x509.KeyUsage:
    # nonRepudiation (content_commitment) + digitalSignature: what PAdES validators expect of a signer.
    return x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )


def _ca_certificate(*, subject: x509.Name, key: PrivateKey, issuer: x509.Name, issuer_key: PrivateKey,
                    not_after: dt.datetime, path_length: int | None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_key is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def dev_ca_create(directory: Path, *, force: bool = False, name: str = "一站调解平台") -> list[Path]:
    """Create a development root CA and an issuing CA in ``directory``; return the files written.

    Refuses to replace an existing CA unless ``force``: every signature made with the old one would stop
    chaining to the new root.
    """
    directory = Path(directory)
    existing = [directory / f for f in _FILES if (directory / f).exists()]
    if existing and not force:
        raise FileExistsError(
            f"A development CA already exists in {directory} ({', '.join(p.name for p in existing)}); "
            "use --force to replace it (signatures made with it will no longer verify against the new root)."
        )
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP384R1())
    root_name = _name(f"{name}开发测试根证书（仅供开发）", organisation=name)
    root = _ca_certificate(subject=root_name, key=root_key, issuer=root_name, issuer_key=root_key,
                           not_after=now + ROOT_YEARS * _YEAR, path_length=1)
    issuing_key = ec.generate_private_key(ec.SECP384R1())
    issuing = _ca_certificate(
        subject=_name(f"{name}开发测试签发证书（仅供开发）", organisation=name), key=issuing_key,
        issuer=root_name, issuer_key=root_key, not_after=now + ISSUING_YEARS * _YEAR, path_length=0,
    )
    written = []
    for filename, data, secret in (
        (ROOT_KEY, _key_pem(root_key), True), (ROOT_CERT, root.public_bytes(serialization.Encoding.PEM), False),
        (ISSUING_KEY, _key_pem(issuing_key), True),
        (ISSUING_CERT, issuing.public_bytes(serialization.Encoding.PEM), False),
    ):
        path = directory / filename
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        written.append(path)
    return written


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class LocalCertificateAuthority:
    """The development CA: keys on disk in ``directory`` (see ``manage.py dev_ca``). Not for production."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        missing = [f for f in _FILES if not (self.directory / f).is_file()]
        if missing:
            raise CertificateAuthorityUnavailable(
                _("开发用证书颁发机构不存在（%(dir)s）：请先运行 python manage.py dev_ca 创建。")
                % {"dir": self.directory}
            )
        self.root = x509.load_pem_x509_certificate((self.directory / ROOT_CERT).read_bytes())
        self.issuing = x509.load_pem_x509_certificate((self.directory / ISSUING_CERT).read_bytes())
        key = serialization.load_pem_private_key((self.directory / ISSUING_KEY).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CertificateAuthorityUnavailable(_("开发用签发证书的私钥类型不受支持，请用 dev_ca --force 重新创建。"))
        self._issuing_key = key

    def trust_roots(self) -> list[x509.Certificate]:
        return [self.root]

    def issue_event_certificate(
        self, *, subject_name: str, id_hint: str, organisation: str | None = None, purpose: str
    ) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
        """A fresh P-256 key and a certificate for ``subject_name`` valid for EVENT_CERTIFICATE_YEARS (capped
        by the issuing CA). ``id_hint`` is :func:`id_number_hint` of the signer's ID number (never the number);
        ``organisation`` names the organisation for an e-seal (and the mediator's organisation)."""
        if not subject_name.strip():
            raise ValueError("an event certificate needs a subject name")
        if purpose not in _PURPOSE_LABELS:
            raise ValueError(f"unknown certificate purpose {purpose!r}")
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        not_after = min(now + EVENT_CERTIFICATE_YEARS * _YEAR, self.issuing.not_valid_after_utc)
        subject = _name(subject_name.strip(), organisation=organisation, unit=_PURPOSE_LABELS[purpose],
                        serial=id_hint or None)
        cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self.issuing.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            # A few minutes back: a validator whose clock runs slightly behind still sees it as valid.
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_signing_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._issuing_key.public_key()),
                           critical=False)
            .sign(self._issuing_key, hashes.SHA256())
        )
        return key, cert, [self.issuing, self.root]

    def issue_court_seal_certificate(
        self, *, court_name: str, court_code: str
    ) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
        """An event certificate for one application of the court's seal (OU 人民法院电子印章, O and CN the court)."""
        name, hint, organisation = court_seal_subject(court_name=court_name, court_code=court_code)
        return self.issue_event_certificate(subject_name=name, id_hint=hint, organisation=organisation,
                                            purpose=PURPOSE_COURT_SEAL)


def certificate_authority() -> CertificateAuthority:
    """The CA the settings name (``SIGNING_CA``): the local development CA or the remote production one."""
    if settings.SIGNING_CA == "remote":
        try:
            from documents import ca_remote
        except ImportError as exc:
            raise CertificateAuthorityUnavailable(_("未配置远程证书颁发机构（SIGNING_CA=remote）。")) from exc
        remote: CertificateAuthority = ca_remote.RemoteCertificateAuthority()
        return remote
    return LocalCertificateAuthority(Path(settings.DEV_CA_DIR))
