"""The public /verify/ page: upload or code, a clear verdict, who signed, nothing confidential, audited."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.ca import PURPOSE_SIGNATURE, LocalCertificateAuthority, dev_ca_create
from mediation.models import AuditEvent
from tests.documents.ca_support import ThrowawayCA, sign_pdf
from tests.documents.verify_support import issue, render_pdf, sign_by_both_parties

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEV_CA_DIR = tmp_path / "dev-ca"
    settings.SIGNING_CA = "local"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def ca() -> ThrowawayCA:
    return ThrowawayCA()


@pytest.fixture
def signed(world, ca):
    record = issue(world.new_case(), render_pdf())
    sign_by_both_parties(record, ca)
    return record


def _upload(client, data: bytes, name: str = "协议书.pdf"):
    return client.post(reverse("verify"), {"file": SimpleUploadedFile(name, data, "application/pdf")})


def _verified_events():
    return list(AuditEvent.objects.filter(kind="document.verified").order_by("id"))


def test_anyone_can_open_the_page_without_signing_in(client):
    response = client.get(reverse("verify"))
    assert response.status_code == 200
    assert "上传并核验" in response.text
    assert 'name="code"' in response.text


def test_opening_the_page_records_nothing(client):
    client.get(reverse("verify"))
    assert _verified_events() == []


def test_the_latest_revision_is_confirmed_with_its_signers(client, signed):
    response = _upload(client, signed.latest)
    assert response.status_code == 200
    assert "与平台存档一致（最新版本）" in response.text
    assert "张三" in response.text and "李四" in response.text
    assert signed.document.number in response.text


def test_an_earlier_revision_names_the_signature_it_stops_at(client, signed):
    response = _upload(client, signed.revisions[1])
    assert "与存档的第 1 次签章后版本一致（之后还有签章）" in response.text
    assert "此文件中没有" in response.text


def test_a_modified_file_is_called_modified(client, signed):
    response = _upload(client, signed.latest + b"\n%tampered\n")
    assert "文件已被修改" in response.text


def test_a_foreign_pdf_is_not_a_platform_document(client):
    response = _upload(client, render_pdf("外来文件"))
    assert "不是本平台的文书" in response.text


def test_a_file_that_is_not_a_pdf_gets_a_clear_message(client):
    response = _upload(client, b"\x89PNG\r\n\x1a\n" + b"0" * 64, name="photo.png")
    assert response.status_code == 200
    assert "这不是 PDF 文件" in response.text


def test_a_file_over_the_limit_is_refused_unread(client, settings):
    settings.VERIFY_MAX_BYTES = 2048
    response = _upload(client, b"%PDF-1.7\n" + b"x" * 5000)
    assert "无法核验" in response.text


def test_the_page_never_shows_id_numbers_or_phone_numbers(client, signed):
    response = _upload(client, signed.latest)
    for party in signed.document.case.parties.all():
        assert party.id_number not in response.text
        assert party.phone not in response.text


def test_a_signature_from_the_platform_ca_is_shown_as_trusted(client, world, settings):
    dev_ca_create(settings.DEV_CA_DIR)
    key, cert, chain = LocalCertificateAuthority(settings.DEV_CA_DIR).issue_event_certificate(
        subject_name="张三", id_hint="", purpose=PURPOSE_SIGNATURE)
    record = issue(world.new_case(), render_pdf())
    data = sign_pdf(record.latest, key=key, cert=cert, chain=chain, field_name="sig1")
    response = _upload(client, data)
    assert "证书由本平台认可的机构签发" in response.text
    assert "证书不受本平台信任" not in response.text


def test_a_signature_from_another_ca_is_shown_as_untrusted(client, signed):
    response = _upload(client, signed.latest)  # the throwaway CA is not the platform's
    assert "证书不受本平台信任" in response.text


def test_a_code_from_the_document_finds_it(client, signed):
    response = client.get(reverse("verify"), {"code": signed.document.code.lower()})
    assert "本平台出具过此文书" in response.text
    assert "李四" in response.text


def test_an_unknown_code_finds_nothing(client, signed):
    response = client.get(reverse("verify"), {"code": "NOPE0000"})
    assert "未找到此核验码对应的文书" in response.text


def test_an_upload_is_audited_on_the_case_with_its_hash_and_not_its_content(client, signed):
    _upload(client, signed.latest)
    (event,) = _verified_events()
    assert event.case_id == signed.document.case_id
    assert event.data["sha256"] == signed.document.signatures.get(sequence=2).sha256
    assert event.data["verdict"] == "latest"
    assert event.data["method"] == "upload"
    assert event.actor is None and event.actor_label == "访客"


def test_a_verification_that_matches_nothing_is_audited_on_its_own_stream(client):
    client.get(reverse("verify"), {"code": "NOPE0000"})
    (event,) = _verified_events()
    assert event.stream == "verify"
    assert event.case_id is None
    assert event.data["verdict"] == "not_found"


def test_a_signed_in_user_is_the_recorded_actor(client, world, signed):
    client.force_login(world.outsider)
    _upload(client, signed.latest)
    (event,) = _verified_events()
    assert event.actor == world.outsider


def test_too_many_verifications_from_one_address_are_refused(client, signed):
    for _ in range(30):
        client.get(reverse("verify"), {"code": "NOPE0000"})
    response = client.get(reverse("verify"), {"code": signed.document.code})
    assert response.status_code == 429
    assert "核验次数过多" in response.text
    assert len(_verified_events()) == 30


def test_an_upload_declared_too_large_is_refused_before_its_body_is_read(client, settings):
    """The declared length decides: a huge upload is neither parsed for its CSRF token nor spooled to disk."""
    from django.test import Client

    settings.VERIFY_MAX_BYTES = 1024 * 1024
    strict = Client(enforce_csrf_checks=True)
    body = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\r\n--x--\r\n"
    response = strict.generic("POST", reverse("verify"), body, content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH=str(50 * 1024 * 1024))
    assert response.status_code == 413
    assert "无法核验" in response.text
    event = _verified_events()[-1]
    assert event.data["verdict"] == "rejected" and event.data["size"] == 50 * 1024 * 1024


def test_an_upload_without_a_csrf_token_is_still_refused(client, signed):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("verify"), {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.7", "application/pdf")})
    assert response.status_code == 403
