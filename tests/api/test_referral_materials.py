"""A court system refers a dispute with its materials in one call (``POST /referrals/with-materials``): all or
nothing, scope-checked, audited, and the partner it is handed to learns of each status change by webhook on
its own HTTP server."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from api import webhooks
from api.models import Scope, WebhookDelivery
from mediation.choices import CaseStatus
from mediation.models import AuditEvent, Case, Evidence, Party
from mediation.services.outbox import outbox_deliver_due
from tests.api.api_support import make_caller, referral_body
from tests.api.test_webhooks import Receiver

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
URL = "api-v1:referral_with_materials_create"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def court_system(world):
    return make_caller(organisation=world.court, user=world.clerk)


def counts() -> tuple[int, int, int, int]:
    return Case.objects.count(), Party.objects.count(), Evidence.objects.count(), AuditEvent.objects.filter(
        kind__in=["referral.created", "evidence.uploaded", "case.submit"]).count()


def _files() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile("contract.pdf", PDF, "application/pdf"),
            SimpleUploadedFile("iou.png", PNG, "image/png")]


def _body(organisation=None, materials=None, **overrides) -> dict:
    referral = referral_body(organisation=organisation, **overrides)
    referral["materials"] = materials if materials is not None else [
        {"title": "劳动合同", "kind": "evidence"}, {"title": "欠条照片", "kind": "evidence"}]
    return {"referral": json.dumps(referral, ensure_ascii=False)}


def _post(client, caller, data, files=None):
    return client.post(reverse(URL), {**data, "files": _files() if files is None else files},
                       headers=caller.headers)


def test_a_referral_with_its_materials_is_saved_together_and_audited(client, world, court_system):
    response = _post(client, court_system, _body(organisation=world.partner.pk))
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(reference=body["case"]["reference"])
    assert case.status == CaseStatus.AWAITING_SELECTION and case.mediation_organisation == world.partner
    assert [(m["title"], m["content_type"]) for m in body["materials"]] == [
        ("劳动合同", "application/pdf"), ("欠条照片", "image/png")]
    assert sorted(case.evidence.values_list("title", flat=True)) == ["劳动合同", "欠条照片"]
    assert AuditEvent.objects.filter(case=case, kind="evidence.uploaded", actor=world.clerk).count() == 2
    call = AuditEvent.objects.get(stream=f"api.{court_system.client.pk}", kind="api.call")
    assert (call.data["method"], call.data["status"]) == ("POST", 201)


@pytest.mark.parametrize("header", [None, "Bearer yz_nope_nope"])
def test_a_wrong_token_is_refused_and_nothing_saved(client, world, header):
    before = counts()
    headers = {"Authorization": header} if header else {}
    response = client.post(reverse(URL), {**_body(), "files": _files()}, headers=headers)
    assert response.status_code == 401 and response.json()["detail"]
    assert counts() == before


def test_a_token_without_the_scope_or_a_partner_system_is_refused(client, world):
    before = counts()
    reader = make_caller(organisation=world.court, user=world.clerk, scopes=[Scope.CASES_READ], name="只读")
    response = _post(client, reader, _body())
    assert response.status_code == 403 and "referrals:write" in response.json()["detail"]
    partner = make_caller(organisation=world.partner, user=world.org_admin, scopes=[Scope.REFERRALS_WRITE])
    response = _post(client, partner, _body())
    assert response.status_code == 403 and "法院" in response.json()["detail"]
    assert counts() == before


@pytest.mark.parametrize("referral", [
    "{not json",
    json.dumps({"origin": "delegated"}),
    json.dumps({**referral_body(), "materials": []}),  # at least one material
    json.dumps({**referral_body(), "materials": [{"title": "", "kind": "evidence"}]}),
])
def test_a_malformed_body_is_refused_with_the_fields_and_nothing_saved(client, court_system, referral):
    before = counts()
    response = _post(client, court_system, {"referral": referral})
    assert response.status_code == 422
    assert response.json()["detail"]
    assert counts() == before


def test_files_and_their_descriptions_must_pair_up(client, court_system):
    before = counts()
    response = _post(client, court_system, _body(materials=[{"title": "劳动合同"}]))
    assert response.status_code == 400 and "每个文件" in response.json()["detail"]
    assert counts() == before


def test_an_oversized_file_is_refused_with_413_and_nothing_saved(client, settings, court_system):
    settings.EVIDENCE_MAX_BYTES = 2048
    before = counts()
    files = [SimpleUploadedFile("contract.pdf", PDF, "application/pdf"),
             SimpleUploadedFile("big.pdf", PDF + b"0" * 4096, "application/pdf")]
    response = _post(client, court_system, _body(), files=files)
    assert response.status_code == 413 and "big.pdf" in response.json()["detail"]
    assert counts() == before


def test_a_file_refused_by_its_bytes_leaves_no_case_behind(client, court_system):
    """The second file claims to be a PDF but is a Windows program: the case and the first file, already
    written inside the transaction, are rolled back with it."""
    before = counts()
    files = [SimpleUploadedFile("contract.pdf", PDF, "application/pdf"),
             SimpleUploadedFile("scan.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")]
    response = _post(client, court_system, _body(), files=files)
    assert response.status_code == 400 and response.json()["detail"]
    assert counts() == before


def test_from_submission_with_materials_to_a_webhook_on_the_partners_server(
    client, world, court_system, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the outbox run below is the delivery
    settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    partner = make_caller(organisation=world.partner, user=world.org_admin,
                          scopes=[Scope.CASES_READ, Scope.WEBHOOKS])
    with Receiver(failures=0) as receiver:
        subscribed = client.post(reverse("api-v1:webhook_create"), {"url": receiver.url},
                                 content_type="application/json", headers=partner.headers)
        assert subscribed.status_code == 201
        secret = subscribed.json()["secret"]
        with django_capture_on_commit_callbacks(execute=True):
            created = _post(client, court_system, _body(organisation=world.partner.pk))
        assert created.status_code == 201, created.content
        reference = created.json()["case"]["reference"]
        # The partner reads the case it was handed, then the mediator it designates takes it on.
        assert client.get(reverse("api-v1:case_status", args=[reference]),
                          headers=partner.headers).json()["status"] == CaseStatus.AWAITING_SELECTION
        with django_capture_on_commit_callbacks(execute=True):
            world.drive(Case.objects.get(reference=reference), CaseStatus.ASSIGNED)
        outbox_deliver_due(now=timezone.now() + dt.timedelta(seconds=1))
    statuses = [json.loads(d.message.body)["data"]["status"] for d in WebhookDelivery.objects.order_by("pk")]
    assert statuses[-1] == CaseStatus.ASSIGNED
    headers, body = receiver.requests[-1]
    webhooks.verify(secret=secret, header=headers[webhooks.SIGNATURE_HEADER], body=body)
    event = json.loads(body)
    assert event["type"] == "case.status_changed"
    assert event["data"] == {"case": reference, "old_status": CaseStatus.AWAITING_SELECTION,
                             "status": CaseStatus.ASSIGNED}
