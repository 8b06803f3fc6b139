"""The document pages: reading a document and who still signs, the audited download, page previews, signing
with a code and a drawn signature, and the 文书 block on the case page."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from documents.models import DocumentSignature
from mediation.choices import CaseStatus
from mediation.models import AuditEvent
from tests.agreement_support import parties_of
from tests.signing_support import (  # noqa: F401 - fixtures
    dev_ca_dir,
    handwriting_png,
    last_code,
    ready_to_sign,
    sign,
    signing_env,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing_env")]


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.fixture
def document(world):
    return ready_to_sign(world)


def test_a_party_sees_the_document_who_still_signs_and_a_sign_button(client, world, document):
    client.force_login(world.applicant)
    response = client.get(reverse("document_detail", args=[document.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert document.title in body and "待签署" in body
    assert reverse("document_sign", args=[document.pk]) in body
    assert body.count(reverse("document_page", args=[document.pk, 1])) == 1


def test_the_judge_reads_the_document_but_gets_no_sign_button(client, world, document):
    client.force_login(world.judge)
    response = client.get(reverse("document_detail", args=[document.pk]))
    assert response.status_code == 200
    assert reverse("document_sign", args=[document.pk]) not in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "other_judge", "other_mediator"])
def test_people_outside_the_case_get_404_on_every_document_page(client, world, document, who):
    client.force_login(getattr(world, who))
    for name, args in (("document_detail", [document.pk]), ("document_pdf", [document.pk]),
                       ("document_page", [document.pk, 1]), ("document_sign", [document.pk])):
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client.post(reverse("document_sign", args=[document.pk]), {"action": "send"}).status_code == 404
    assert not AuditEvent.objects.filter(kind="document.downloaded").exists()


def test_the_download_is_the_latest_revision_and_is_audited(client, world, document):
    applicant, _respondent = parties_of(document.case)
    signature = sign(document, world.applicant, party=applicant)
    client.force_login(world.respondent)
    response = client.get(reverse("document_pdf", args=[document.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    with signature.pdf.open("rb") as handle:
        assert response.content == handle.read()
    event = AuditEvent.objects.get(kind="document.downloaded")
    assert event.actor == world.respondent and event.data["sha256"] == signature.sha256


def test_a_page_preview_is_a_png(client, world, document):
    client.force_login(world.applicant)
    response = client.get(reverse("document_page", args=[document.pk, 1]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert client.get(reverse("document_page", args=[document.pk, document.pages + 1])).status_code == 404


def test_the_sign_page_has_a_pad_a_code_step_and_the_signer_s_capacity(client, world, document):
    client.force_login(world.applicant)
    response = client.get(reverse("document_sign", args=[document.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="sign-pad"' in body and 'name="code"' in body and "申请人本人" in body
    assert "signing.js" in body and "signing.css" in body


def test_a_party_signs_with_a_code_and_a_drawn_signature(client, world, document):
    client.force_login(world.applicant)
    url = reverse("document_sign", args=[document.pk])
    sent = client.post(url, {"action": "send"}, headers={"x-requested-with": "XMLHttpRequest"})
    assert sent.status_code == 200 and sent.json()["ok"]
    response = client.post(url, {"action": "sign", "code": last_code(world.applicant.phone), "agree": "1",
                                 "handwriting": data_url(handwriting_png())})
    assert response.status_code == 302 and response["Location"] == reverse("document_detail", args=[document.pk])
    signature = DocumentSignature.objects.get()
    assert signature.signer == world.applicant
    page = client.get(response["Location"]).content.decode()
    assert "签署完成" in page and signature.signer_name in page


def test_a_wrong_code_shows_the_reason_and_keeps_the_drawing(client, world, document):
    client.force_login(world.applicant)
    url = reverse("document_sign", args=[document.pk])
    client.post(url, {"action": "send"})
    code = last_code(world.applicant.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    drawing = data_url(handwriting_png())
    response = client.post(url, {"action": "sign", "code": wrong, "agree": "1", "handwriting": drawing})
    assert response.status_code == 400
    body = response.content.decode()
    assert "验证码不正确" in body and drawing in body
    assert not DocumentSignature.objects.exists()


def test_signing_without_confirming_the_statement_is_refused(client, world, document):
    client.force_login(world.applicant)
    url = reverse("document_sign", args=[document.pk])
    client.post(url, {"action": "send"})
    response = client.post(url, {"action": "sign", "code": last_code(world.applicant.phone),
                                 "handwriting": data_url(handwriting_png())})
    assert response.status_code == 400 and "自愿签署" in response.content.decode()
    assert not DocumentSignature.objects.exists()


def test_a_code_request_from_someone_who_cannot_sign_says_why(client, world, document):
    client.force_login(world.judge)
    response = client.post(reverse("document_sign", args=[document.pk]), {"action": "send"},
                           headers={"x-requested-with": "XMLHttpRequest"})
    assert response.status_code == 400 and not response.json()["ok"]


def test_the_case_page_lists_the_documents_and_what_waits_for_the_viewer(client, world, document):
    client.force_login(world.respondent)
    body = client.get(reverse("case_detail", args=[document.case_id])).content.decode()
    assert 'id="documents"' in body and document.title in body and "待您签署" in body
    client.force_login(world.judge)
    body = client.get(reverse("case_detail", args=[document.case_id])).content.decode()
    assert document.title in body and "待您签署" not in body


def test_the_case_page_says_a_document_is_being_generated(client, world):
    case = world.drive(world.new_case(), CaseStatus.SIGNING)  # the renderer runs after commit: not yet here
    client.force_login(world.applicant)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "正在生成" in body and "调解协议书" in body


def test_a_mediator_whose_assignment_ended_loses_every_document_page(client, world, document):
    from mediation.models import CaseMediator

    # What a change of mediator or a recusal leaves behind (D12); the transitions are tested in mediation.
    CaseMediator.objects.filter(case=document.case, mediator=world.mediator).update(is_active=False)
    client.force_login(world.mediator)
    for name, args in (("document_detail", [document.pk]), ("document_pdf", [document.pk]),
                       ("document_page", [document.pk, 1]), ("document_sign", [document.pk])):
        assert client.get(reverse(name, args=args)).status_code == 404, name


def test_a_stored_file_that_no_longer_matches_its_hash_is_not_served(client, world, document):
    from django.core.files.storage import default_storage

    with default_storage.open(document.pdf.name, "wb") as handle:
        handle.write(b"%PDF-1.7 replaced")
    client.force_login(world.applicant)
    assert client.get(reverse("document_pdf", args=[document.pk])).status_code == 409
    assert client.get(reverse("document_page", args=[document.pk, 1])).status_code == 409
    assert not AuditEvent.objects.filter(kind="document.downloaded").exists()
