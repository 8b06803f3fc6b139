"""A court system pushes a ruling or a 民事调解书 it issued in its own system: stored on the case as the court
system's paper (not the platform's), its SHA-256 recorded, audited, announced to webhook subscribers, and
idempotent on the system's request id; every refusal clear and nothing half-saved. Also the statistics call."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from api.models import Scope, WebhookDelivery
from api.services import webhook_subscribe
from documents.models import Document, ExternalDocument
from documents.selectors import external_documents_for_case
from mediation.exceptions import NotFound
from mediation.models import AuditEvent
from tests.api.api_support import make_caller

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def court_system(world):
    return make_caller(organisation=world.court, user=world.clerk)


@pytest.fixture
def case(world):
    return world.new_case()


def _url(reference: str) -> str:
    return reverse("api-v1:court_document_push", args=[reference])


def _body(**overrides):
    body = {"kind": "ruling", "title": "民事裁定书（确认调解协议）", "number": "（2026）京0101民特12号",
            "issued_on": "2026-03-02", "request_id": "cms-2026-000123",
            "file": SimpleUploadedFile("ruling.pdf", PDF, "application/pdf")}
    body.update(overrides)
    return body


def _saved() -> tuple[int, int, int]:
    return (ExternalDocument.objects.count(), AuditEvent.objects.filter(kind="document.external_received").count(),
            WebhookDelivery.objects.count())


def test_a_ruling_is_stored_as_the_court_systems_audited_and_announced(client, world, court_system, case):
    partner = make_caller(organisation=world.partner, user=world.org_admin, scopes=[Scope.CASES_READ, Scope.WEBHOOKS])
    subscription = webhook_subscribe(client=partner.client, url="http://127.0.0.1:9/hook")
    response = client.post(_url(case.reference), _body(), headers=court_system.headers)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["sha256"] == hashlib.sha256(PDF).hexdigest() and answer["size"] == len(PDF)
    assert answer["issued_by"] == "court_system" and answer["issuing_court"] == world.court.name
    row = ExternalDocument.objects.get()
    assert row.case == case and row.issuer_system == court_system.client.name
    with row.file.open("rb") as stored:
        assert stored.read() == PDF
    assert not Document.objects.filter(case=case).exists()  # not one of the platform's issued documents
    event = AuditEvent.objects.get(kind="document.external_received")
    assert event.case_id == case.pk and event.data["issued_by"] == "court_system"
    assert event.data["sha256"] == row.sha256
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.event_type == "case.document_received"
    assert '"issued_by":"court_system"' in delivery.message.body
    # Those who may read the case's documents see it; the partner's system through the API too.
    assert list(external_documents_for_case(user=world.applicant, case=case)) == [row]
    with pytest.raises(NotFound):
        external_documents_for_case(user=world.outsider, case=case)
    listed = client.get(reverse("api-v1:court_documents", args=[case.reference]), headers=partner.headers)
    assert listed.status_code == 200 and [d["number"] for d in listed.json()] == ["（2026）京0101民特12号"]


def test_a_replay_answers_the_stored_document_and_a_reused_id_is_refused(client, court_system, case):
    first = client.post(_url(case.reference), _body(), headers=court_system.headers)
    assert first.status_code == 201
    saved = _saved()
    again = client.post(_url(case.reference), _body(), headers=court_system.headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert _saved() == saved
    other = client.post(_url(case.reference), _body(file=SimpleUploadedFile("x.pdf", PDF + b"%more\n%%EOF\n")),
                        headers=court_system.headers)
    assert other.status_code == 409 and "cms-2026-000123" in other.json()["detail"]
    assert _saved() == saved


def test_without_the_scope_the_push_is_refused(client, world, case):
    narrow = make_caller(organisation=world.court, user=world.clerk, scopes=[Scope.CASES_READ, Scope.COURT_WRITE])
    response = client.post(_url(case.reference), _body(), headers=narrow.headers)
    assert response.status_code == 403 and "court-documents:write" in response.json()["detail"]
    assert _saved() == (0, 0, 0)


def test_another_courts_system_is_refused(client, world, case):
    # The high court sees the case (a court below it) but did not issue its papers; the sibling does not see it.
    high = make_caller(organisation=world.high_court, user=world.clerk)
    response = client.post(_url(case.reference), _body(), headers=high.headers)
    assert response.status_code == 403 and "管辖法院" in response.json()["detail"]
    sibling = make_caller(organisation=world.other_court, user=world.other_clerk)
    response = client.post(_url(case.reference), _body(), headers=sibling.headers)
    assert response.status_code == 404
    assert _saved() == (0, 0, 0)


@pytest.mark.parametrize("overrides", [
    {"kind": "agreement"}, {"issued_on": "yesterday"}, {"request_id": "has spaces"}, {"number": ""},
])
def test_a_malformed_body_is_refused_by_field(client, court_system, case, overrides):
    response = client.post(_url(case.reference), _body(**overrides), headers=court_system.headers)
    assert response.status_code == 422, response.content
    assert _saved() == (0, 0, 0)


def test_not_a_pdf_is_refused(client, court_system, case):
    fake = SimpleUploadedFile("ruling.pdf", b"MZ\x90\x00 a program", "application/pdf")
    response = client.post(_url(case.reference), _body(file=fake), headers=court_system.headers)
    assert response.status_code == 400 and "PDF" in response.json()["detail"]
    assert _saved() == (0, 0, 0)


def test_an_oversized_file_is_refused_with_413(client, settings, court_system, case):
    settings.EVIDENCE_MAX_BYTES = 2048
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 4096 + b"\n%%EOF\n", "application/pdf")
    response = client.post(_url(case.reference), _body(file=big), headers=court_system.headers)
    assert response.status_code == 413 and "big.pdf" in response.json()["detail"]
    assert _saved() == (0, 0, 0)


def test_the_statistics_call_answers_the_callers_own_scope(client, world, case):
    world.drive(case, "submitted")
    court = make_caller(organisation=world.court, user=world.clerk, scopes=[Scope.STATISTICS_READ])
    answer = client.get(reverse("api-v1:statistics"), {"dimension": "month"}, headers=court.headers)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["scope"] == f"court-{world.court.pk}"
    figures = {f["code"]: f for f in body["total"]["figures"]}
    assert figures["received"]["value"] == 1  # the one case, submitted
    assert figures["contact_reached_on_time"]["definition"]
    partner = make_caller(organisation=world.partner, user=world.org_admin, scopes=[Scope.STATISTICS_READ])
    assert client.get(reverse("api-v1:statistics"), headers=partner.headers).json()["scope"] == \
        f"organisation-{world.partner.pk}"
    other = make_caller(organisation=world.other_court, user=world.other_clerk, scopes=[Scope.STATISTICS_READ])
    theirs = {f["code"]: f["value"] for f in
              client.get(reverse("api-v1:statistics"), headers=other.headers).json()["total"]["figures"]}
    assert theirs["received"] == 0
    no_scope = make_caller(organisation=world.court, user=world.clerk, scopes=[Scope.CASES_READ])
    assert client.get(reverse("api-v1:statistics"), headers=no_scope.headers).status_code == 403
    bad = client.get(reverse("api-v1:statistics"), {"start": "2026-03-02", "end": "2026-03-01"},
                     headers=court.headers)
    assert bad.status_code == 400
    far = client.get(reverse("api-v1:statistics"), {"start": "0001-01-01"}, headers=court.headers)
    assert far.status_code == 400 and "2000" in far.json()["detail"]


def test_the_case_page_shows_it_as_the_court_systems_and_its_readers_download_it(client, world, court_system, case):
    assert client.post(_url(case.reference), _body(), headers=court_system.headers).status_code == 201
    row = ExternalDocument.objects.get()
    client.force_login(world.applicant)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "法院系统出具" in page and "（2026）京0101民特12号" in page and "平台仅保存原文件" in page
    download = client.get(reverse("external_document_pdf", args=[row.pk]))
    assert download.status_code == 200 and download.content == PDF
    assert AuditEvent.objects.filter(kind="document.external_downloaded", actor=world.applicant).count() == 1
    client.force_login(world.outsider)
    assert client.get(reverse("external_document_pdf", args=[row.pk])).status_code == 404
