"""PAdES signing (documents/signing.py) and the development CA (documents/ca.py), checked by two independent
implementations: pyHanko and poppler's ``pdfsig`` (NSS)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from PIL import Image

from documents.ca import (
    EVENT_CERTIFICATE_YEARS,
    PURPOSE_SEAL,
    PURPOSE_SIGNATURE,
    CertificateAuthorityUnavailable,
    LocalCertificateAuthority,
    certificate_authority,
    id_number_hint,
)
from documents.rendering import html_to_pdf
from documents.signing import pdf_sign
from tests.signing_support import dev_ca_dir, handwriting_png  # noqa: F401 - fixture

ID_NUMBER = "110101198506120011"
PDFSIG = shutil.which("pdfsig") or "/usr/bin/pdfsig"


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    return html_to_pdf("<html><body><h1>调解协议书</h1><p>第一条 被申请人支付申请人工资12,000元。</p></body></html>")


def signed_by(ca: LocalCertificateAuthority, pdf: bytes, names: list[str]) -> list[bytes]:
    """The file after each of ``names`` signed in turn (the last name seals as an organisation)."""
    revisions = []
    for index, name in enumerate(names):
        seal = index == len(names) - 1
        key, cert, chain = ca.issue_event_certificate(
            subject_name=name, id_hint=id_number_hint(ID_NUMBER), purpose=PURPOSE_SEAL if seal else PURPOSE_SIGNATURE,
            organisation=name if seal else None,
        )
        pdf = pdf_sign(
            pdf_bytes=pdf, field_name=f"sig{index}", box=(40 + 170 * index, 60, 200 + 170 * index, 140), page=-1,
            signer_name=name, reason="签署调解协议书", location="一站在线调解平台", key=key, cert=cert, chain=chain,
            handwriting_png=None if seal else handwriting_png(),
        )
        revisions.append(pdf)
    return revisions


def pyhanko_statuses(pdf: bytes, root: x509.Certificate) -> list:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    trust = [asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))]
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        validate_pdf_signature(sig, ValidationContext(trust_roots=trust, allow_fetching=False))
        for sig in reader.embedded_signatures
    ]


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, timeout=60, check=False)
    return result.stdout + result.stderr


def test_every_signature_stays_valid_and_covers_its_revision_after_each_later_signature(
    dev_ca_dir, unsigned_pdf, tmp_path  # noqa: F811
):
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    ca = LocalCertificateAuthority(dev_ca_dir)
    revisions = signed_by(ca, unsigned_pdf, ["张三", "李四", "王调解员", "北京市总工会劳动争议调解中心"])
    for count, pdf in enumerate(revisions, start=1):
        assert pdf.startswith(revisions[count - 2] if count > 1 else unsigned_pdf)  # incremental: nothing rewritten
        statuses = pyhanko_statuses(pdf, ca.root)
        assert len(statuses) == count
        for index, status in enumerate(statuses):
            assert status.intact and status.valid and status.trusted, status.pretty_print_details()
            if index == count - 1:
                assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
            else:
                # Covers exactly the revision it signed; what followed is only new signatures.
                assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
                assert status.modification_level <= ModificationLevel.FORM_FILLING
        report = pdfsig(pdf, tmp_path)
        assert report.count("Signature is Valid") == count, report
        assert "Signature is Invalid" not in report


def test_a_byte_changed_after_signing_is_detected_by_pyhanko_and_by_pdfsig(dev_ca_dir, unsigned_pdf, tmp_path):  # noqa: F811
    ca = LocalCertificateAuthority(dev_ca_dir)
    signed = signed_by(ca, unsigned_pdf, ["张三", "北京市总工会劳动争议调解中心"])[-1]
    position = len(unsigned_pdf) // 2  # inside the original content, covered by both signatures
    tampered = bytearray(signed)
    tampered[position] = (tampered[position] + 1) % 256
    for status in pyhanko_statuses(bytes(tampered), ca.root):
        assert not status.intact
    report = pdfsig(bytes(tampered), tmp_path)
    assert "Signature is Valid" not in report, report
    assert report.count("Signature is Invalid") + report.count("Digest Mismatch") >= 2, report


def test_the_signature_appears_on_the_page(dev_ca_dir, unsigned_pdf, tmp_path):  # noqa: F811
    ca = LocalCertificateAuthority(dev_ca_dir)
    signed = signed_by(ca, unsigned_pdf, ["张三", "北京市总工会劳动争议调解中心"])[-1]
    (tmp_path / "signed.pdf").write_bytes(signed)
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", str(tmp_path / "signed.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    height = page.height
    handwriting_box = page.crop((40, height - 140, 200, height - 60))  # 72 dpi: one pixel per point
    blank_box = page.crop((400, height - 300, 560, height - 220))
    assert handwriting_box.getextrema()[0] < 100  # dark ink drawn there
    assert blank_box.getextrema()[0] > 240


def test_an_event_certificate_names_the_signer_but_not_the_id_number(dev_ca_dir):  # noqa: F811
    ca = LocalCertificateAuthority(dev_ca_dir)
    _key, cert, chain = ca.issue_event_certificate(
        subject_name="张三", id_hint=id_number_hint(ID_NUMBER), purpose=PURPOSE_SIGNATURE
    )
    subject = cert.subject.rfc4514_string()
    assert "张三" in subject
    assert ID_NUMBER not in subject and ID_NUMBER[-6:] not in subject
    assert id_number_hint(ID_NUMBER) in subject
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment and usage.digital_signature and not usage.key_cert_sign
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > dt.timedelta(days=365 * (EVENT_CERTIFICATE_YEARS - 1))
    assert chain[-1] == ca.root and cert.issuer == chain[0].subject


def test_each_signing_gets_a_fresh_key_and_certificate(dev_ca_dir):  # noqa: F811
    ca = LocalCertificateAuthority(dev_ca_dir)
    first = ca.issue_event_certificate(subject_name="张三", id_hint="", purpose=PURPOSE_SIGNATURE)
    second = ca.issue_event_certificate(subject_name="张三", id_hint="", purpose=PURPOSE_SIGNATURE)
    assert first[1].serial_number != second[1].serial_number
    assert first[1].public_key() != second[1].public_key()


def test_an_organisation_s_seal_certificate_carries_the_organisation(dev_ca_dir):  # noqa: F811
    ca = LocalCertificateAuthority(dev_ca_dir)
    _key, cert, _chain = ca.issue_event_certificate(
        subject_name="北京市总工会劳动争议调解中心", id_hint="", organisation="北京市总工会劳动争议调解中心",
        purpose=PURPOSE_SEAL,
    )
    assert "O=北京市总工会劳动争议调解中心" in cert.subject.rfc4514_string()
    assert "电子印章" in cert.subject.rfc4514_string()


def test_a_missing_dev_ca_is_an_error_naming_the_command(settings, tmp_path):
    settings.SIGNING_CA = "local"
    settings.DEV_CA_DIR = tmp_path / "nowhere"
    with pytest.raises(CertificateAuthorityUnavailable, match=r"manage\.py dev_ca"):
        certificate_authority()


def test_dev_ca_creates_a_root_and_an_issuing_ca_and_refuses_to_overwrite_without_force(tmp_path):
    call_command("dev_ca", "--dir", str(tmp_path), stdout=io.StringIO())
    root = (tmp_path / "root.cert.pem").read_bytes()
    assert oct((tmp_path / "issuing.key.pem").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(CommandError, match="--force"):
        call_command("dev_ca", "--dir", str(tmp_path), stdout=io.StringIO())
    assert (tmp_path / "root.cert.pem").read_bytes() == root
    call_command("dev_ca", "--dir", str(tmp_path), "--if-missing", stdout=io.StringIO())
    assert (tmp_path / "root.cert.pem").read_bytes() == root
    call_command("dev_ca", "--dir", str(tmp_path), "--force", stdout=io.StringIO())
    assert (tmp_path / "root.cert.pem").read_bytes() != root


def test_the_dev_ca_is_the_default_authority_and_its_root_is_the_trust_root(settings, dev_ca_dir):  # noqa: F811
    settings.SIGNING_CA = "local"
    settings.DEV_CA_DIR = dev_ca_dir
    roots = certificate_authority().trust_roots()
    assert roots == [x509.load_pem_x509_certificate((dev_ca_dir / "root.cert.pem").read_bytes())]


def test_a_long_capacity_and_name_are_set_smaller_not_cut_off_at_the_box_edge():
    from django.utils import timezone

    from documents.signing import signature_appearance
    from tests.signing_support import handwriting_png

    picture = signature_appearance(
        size=(680, 249), handwriting_png=handwriting_png(), signed_at=timezone.now(),
        caption="被申请人北京某某某国际科技发展股份有限公司的委托代理人",
        signer_name="北京某某某国际科技发展股份有限公司上海分公司第三营业部",
    )
    alpha = picture.getchannel("A")
    right_edge = alpha.crop((picture.width - 4, 0, picture.width, picture.height))
    assert right_edge.getbbox() is None  # no ink runs into the edge
