"""The production CA adapter against a fake CA HTTP API on loopback: CSR out, chain back, checked."""

from __future__ import annotations

import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from documents.ca import (
    PURPOSE_COURT_SEAL,
    PURPOSE_SEAL,
    PURPOSE_SIGNATURE,
    CertificateAuthorityUnavailable,
    certificate_authority,
)
from documents.ca_remote import RemoteCertificateAuthority
from documents.verification import verify_pdf
from tests.documents.ca_support import ThrowawayCA, sign_pdf
from tests.documents.fake_ca_server import FakeCA
from tests.documents.verify_support import render_pdf

SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def fake_ca():
    with FakeCA(ca=ThrowawayCA(name="测试远程CA根证书")) as fake:
        yield fake


@pytest.fixture
def remote(fake_ca, settings, tmp_path):
    roots = tmp_path / "roots.pem"
    roots.write_bytes(fake_ca.ca.root_pem)
    settings.SIGNING_CA = "remote"
    settings.SIGNING_CA_URL = fake_ca.url
    settings.SIGNING_CA_TOKEN = fake_ca.token
    settings.SIGNING_CA_ROOTS = str(roots)
    settings.SIGNING_CA_TIMEOUT = 5
    return fake_ca


def _issue(purpose: str = PURPOSE_SIGNATURE, organisation: str | None = None):
    return certificate_authority().issue_event_certificate(
        subject_name="张三", id_hint="IDH-0123456789abcdef", organisation=organisation, purpose=purpose
    )


def test_the_remote_setting_selects_the_remote_adapter(remote):
    assert isinstance(certificate_authority(), RemoteCertificateAuthority)


def test_the_issued_certificate_carries_the_key_generated_locally(remote):
    key, cert, _chain = _issue()
    assert cert.public_key().public_bytes(*SPKI) == key.public_key().public_bytes(*SPKI)


def test_only_a_csr_leaves_the_process_never_a_private_key(remote):
    _issue()
    body = remote.raw_bodies[-1]
    assert b"PRIVATE KEY" not in body
    assert remote.received[-1]["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")


def test_the_request_carries_the_bearer_token_and_a_request_id(remote):
    _issue()
    headers = remote.headers[-1]
    assert headers["Authorization"] == f"Bearer {remote.token}"
    assert len(headers["X-Request-Id"]) == 36


def test_the_subject_names_the_signer_organisation_purpose_and_id_hint(remote):
    _key, cert, _chain = _issue(purpose=PURPOSE_SEAL, organisation="北京市总工会劳动争议调解中心")
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "北京市总工会劳动争议调解中心"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "电子印章"
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "IDH-0123456789abcdef"
    assert remote.received[-1]["purpose"] == "seal"


def test_the_chain_returned_ends_at_the_pinned_root(remote):
    _key, _cert, chain = _issue()
    assert chain[-1] == remote.ca.root


def test_trust_roots_come_from_the_pinned_bundle(remote):
    assert certificate_authority().trust_roots() == [remote.ca.root]


def test_a_wrong_token_is_refused_with_a_clear_message(remote, settings):
    settings.SIGNING_CA_TOKEN = "wrong"
    with pytest.raises(CertificateAuthorityUnavailable, match="证书颁发机构暂时无法签发证书"):
        _issue()


def test_a_ca_error_is_refused_with_a_clear_message(remote):
    remote.mode = "error"
    with pytest.raises(CertificateAuthorityUnavailable, match="请稍后再试"):
        _issue()


def test_an_unreachable_ca_is_refused_with_a_clear_message(remote, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.SIGNING_CA_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(CertificateAuthorityUnavailable, match="请稍后再试"):
        _issue()


def test_an_answer_that_is_not_json_is_refused(remote):
    remote.mode = "garbage"
    with pytest.raises(CertificateAuthorityUnavailable):
        _issue()


def test_a_certificate_for_another_key_is_refused(remote):
    remote.mode = "wrong_key"
    with pytest.raises(CertificateAuthorityUnavailable, match="证书颁发机构返回的证书无效"):
        _issue()


def test_a_chain_to_a_root_not_pinned_here_is_refused(remote):
    remote.mode = "foreign_chain"
    with pytest.raises(CertificateAuthorityUnavailable, match="证书颁发机构返回的证书无效"):
        _issue()


def test_an_expired_certificate_is_refused(remote):
    remote.mode = "expired"
    with pytest.raises(CertificateAuthorityUnavailable, match="证书颁发机构返回的证书无效"):
        _issue()


def test_a_missing_url_is_a_configuration_error(tmp_path):
    with pytest.raises(CertificateAuthorityUnavailable, match="SIGNING_CA_URL"):
        RemoteCertificateAuthority(url="", roots_file=tmp_path / "roots.pem")


def test_an_unreadable_roots_bundle_is_a_clear_error(remote, settings, tmp_path):
    settings.SIGNING_CA_ROOTS = str(tmp_path / "missing.pem")
    with pytest.raises(CertificateAuthorityUnavailable, match="SIGNING_CA_ROOTS"):
        certificate_authority().trust_roots()


@pytest.mark.django_db
def test_a_pdf_signed_with_a_remote_certificate_is_trusted_by_verification(remote):
    key, cert, chain = _issue()
    data = sign_pdf(render_pdf(), key=key, cert=cert, chain=chain, field_name="sig1")
    result = verify_pdf(data=data)  # the roots come from the configured CA
    assert [(c.intact, c.valid, c.trusted) for c in result.embedded] == [(True, True, True)]
    assert isinstance(chain[0], x509.Certificate)


def test_the_courts_seal_is_asked_for_with_its_own_purpose_and_names_the_court(remote):
    key, cert, chain = certificate_authority().issue_court_seal_certificate(
        court_name="北京市东城区人民法院", court_code="京0101")
    assert remote.received[-1]["purpose"] == PURPOSE_COURT_SEAL
    csr = x509.load_pem_x509_csr(remote.received[-1]["csr"].encode())
    for name in (csr.subject, cert.subject):
        assert name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "人民法院电子印章"
        assert name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "北京市东城区人民法院"
        assert name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "北京市东城区人民法院"
    assert cert.public_key().public_bytes(*SPKI) == key.public_key().public_bytes(*SPKI)
    assert chain[-1].subject == x509.load_pem_x509_certificate(remote.ca.root_pem).subject


def test_a_court_seal_from_the_remote_ca_is_checked_like_any_certificate(remote):
    remote.mode = "wrong_key"
    with pytest.raises(CertificateAuthorityUnavailable):
        certificate_authority().issue_court_seal_certificate(court_name="北京市东城区人民法院", court_code="")
