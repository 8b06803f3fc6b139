"""Issue 17 item 10: /verify/ on a tampered file gives each signature one verdict, consistent with the
checks below it: a broken signature is not also "unchanged after signing" or "untrusted"."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.documents.ca_support import ThrowawayCA
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


def _tampered(data: bytes) -> bytes:
    """One byte changed inside what every signature covers (the header), the length kept."""
    assert data.startswith(b"%PDF-1.")
    digit = data[7:8]
    return data[:7] + (b"6" if digit != b"6" else b"5") + data[8:]


def _checks(page: str) -> list[str]:
    return re.findall(r'<li class="(?:good|poor)">(.*?)</li>', page, re.S)


def test_a_tampered_file_gets_one_consistent_verdict_per_signature(client, world):
    record = issue(world.new_case(), render_pdf())
    sign_by_both_parties(record, ThrowawayCA())
    page = client.post(reverse("verify"), {
        "file": SimpleUploadedFile("协议书.pdf", _tampered(record.latest), "application/pdf")}).content.decode()
    checks = _checks(page)
    assert checks, page
    for check in checks:
        assert check.count('class="sig-verdict') == 1
        assert "签章已损坏" in check
        # What a broken signature cannot tell is not claimed either way.
        assert "签章后文件未被改动" not in check and "证书由本平台认可的机构签发" not in check
        assert "证书不受本平台信任" not in check
        assert "未能核验" in check


def test_an_intact_but_untrusted_signature_says_so_once(client, world):
    record = issue(world.new_case(), render_pdf())
    sign_by_both_parties(record, ThrowawayCA())  # a CA the platform does not trust
    page = client.post(reverse("verify"), {
        "file": SimpleUploadedFile("协议书.pdf", record.latest, "application/pdf")}).content.decode()
    checks = _checks(page)
    assert checks
    for check in checks:
        assert check.count('class="sig-verdict') == 1
        assert "签章已损坏" not in check
        assert "证书不受本平台信任" in check
