"""Issue 17 item 12: each error sits next to what it is about (the signature pad, the code, the statement),
and a file-size refusal never reads as "20.0 MB, the limit is 20 MB"."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from mediation.exceptions import InvalidInput
from mediation.services import applications as apps
from mediation.services import evidence as ev
from tests.apply_support import pdf_bytes, upload, verify_identity
from tests.frontend.test_document_views import data_url, document  # noqa: F401 - fixture
from tests.signing_support import (  # noqa: F401 - fixtures
    dev_ca_dir,
    handwriting_png,
    last_code,
    signing_env,
)

pytestmark = [pytest.mark.django_db]

SIGNING_JS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "signing.js"
APPLY_JS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "apply.js"


def _between(body: str, text: str, after: str, before: str) -> bool:
    at = body.index(text)
    return body.index(after) < at < body.index(before)


@pytest.mark.usefixtures("signing_env")
def test_a_missing_handwritten_signature_is_said_under_the_pad(client, world, document):  # noqa: F811
    client.force_login(world.applicant)
    url = reverse("document_sign", args=[document.pk])
    client.post(url, {"action": "send"})
    response = client.post(url, {"action": "sign", "code": last_code(world.applicant.phone), "agree": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert _between(body, ">请在签名框内手写签名。<", 'id="sign-pad"', 'id="send-code"')


@pytest.mark.usefixtures("signing_env")
def test_a_wrong_code_is_said_under_the_code_and_the_statement_under_the_statement(client, world, document):  # noqa: F811
    client.force_login(world.applicant)
    url = reverse("document_sign", args=[document.pk])
    client.post(url, {"action": "send"})
    code = last_code(world.applicant.phone)
    drawing = data_url(handwriting_png())
    wrong = client.post(url, {"action": "sign", "code": f"{(int(code) + 1) % 1_000_000:06d}", "agree": "1",
                              "handwriting": drawing}).content.decode()
    assert _between(wrong, "验证码不正确", 'id="id_code"', 'name="agree"')
    unagreed = client.post(url, {"action": "sign", "code": code, "handwriting": drawing}).content.decode()
    assert _between(unagreed, "请确认已阅读文书全文并自愿签署。", 'name="agree"', 'id="sign-submit"')


def test_the_page_script_says_the_pad_is_empty_at_the_pad_not_in_the_code_status():
    source = SIGNING_JS.read_text(encoding="utf-8")
    said = source.index('gettext("请在签名框内手写签名。")')  # the script's text comes from the JS catalogue
    empty = source[said - 200:said + 60]
    assert "padError.textContent" in empty and "status.textContent" not in empty


def test_an_oversized_file_is_never_said_to_be_as_big_as_the_limit(world, settings):
    settings.EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
    draft = apps.application_draft_open(actor=verify_identity(world.applicant))
    big = pdf_bytes() + b"0" * (20 * 1024 * 1024)  # a few hundred bytes over 20 MB
    with pytest.raises(InvalidInput) as refused:
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("big.pdf", big), title="大文件")
    assert "有 20.1 MB" in str(refused.value) and "不能超过 20 MB" in str(refused.value)
    # The page's own check before uploading rounds the size up too.
    page = APPLY_JS.read_text(encoding="utf-8")
    assert "size: mbOver(file.size)" in page and "Math.ceil" in page
