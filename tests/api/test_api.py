"""The partner/court API: tokens and scopes, the calls, and bad input refused clearly with nothing half-saved."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from api.models import Scope
from mediation.choices import CaseOrigin
from mediation.models import AuditEvent, Case, Evidence, Party
from tests.api.api_support import make_caller, referral_body

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # the throttle's counters live in the default cache
    yield
    cache.clear()


@pytest.fixture
def court_system(world):
    return make_caller(organisation=world.court, user=world.clerk)


@pytest.fixture
def partner_system(world):
    return make_caller(organisation=world.partner, user=world.org_admin, scopes=[Scope.CASES_READ, Scope.WEBHOOKS])


def url(name: str, *args) -> str:
    return reverse(f"api-v1:{name}", args=args)


def counts() -> tuple[int, int, int]:
    return Case.objects.count(), Party.objects.count(), Evidence.objects.count()


def test_the_schema_and_docs_are_served_from_our_own_files(client):
    schema = client.get(reverse("api-v1:openapi-json"))
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = client.get(reverse("api-v1:openapi-view")).content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


def test_a_court_system_refers_a_case_and_reads_its_status(client, world, court_system):
    response = client.post(url("referral_create"), referral_body(organisation=world.partner.pk),
                           content_type="application/json", headers=court_system.headers)
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    case = Case.objects.get(reference=reference)
    assert case.status == "awaiting_selection" and case.mediation_organisation == world.partner
    status = client.get(url("case_status", reference), headers=court_system.headers).json()
    assert status["status"] == "awaiting_selection" and status["court"] == world.court.name
    # Every call is on the client's audit stream, with the acting account.
    calls = AuditEvent.objects.filter(stream=f"api.{court_system.client.pk}", kind="api.call")
    assert [(e.data["method"], e.data["status"]) for e in calls.order_by("seq")] == [("POST", 201), ("GET", 200)]
    assert {e.actor_id for e in calls} == {world.clerk.pk}


def test_materials_upload_and_documents_list(client, world, court_system):
    reference = client.post(url("referral_create"), referral_body(), content_type="application/json",
                            headers=court_system.headers).json()["reference"]
    upload = client.post(url("material_upload", reference),
                         {"title": "劳动合同", "file": SimpleUploadedFile("contract.pdf", PDF, "application/pdf")},
                         headers=court_system.headers)
    assert upload.status_code == 201, upload.content
    assert upload.json()["content_type"] == "application/pdf"
    documents = client.get(url("case_documents", reference), headers=court_system.headers)
    assert documents.status_code == 200 and documents.json() == []


def test_the_court_case_number_is_recorded_once(client, world, court_system):
    # A case opened before 2025 without a number (委派); court-filed cases carry theirs from the start.
    reference = world.new_case(origin=CaseOrigin.DELEGATED).reference
    first = client.put(url("court_number_push", reference), {"court_case_number": "（2026）京0101民初77号"},
                       content_type="application/json", headers=court_system.headers)
    assert first.status_code == 200 and first.json()["court_case_number"] == "（2026）京0101民初77号"
    other = client.put(url("court_number_push", reference), {"court_case_number": "（2026）京0101民初78号"},
                       content_type="application/json", headers=court_system.headers)
    assert other.status_code == 400 and "已有法院案号" in other.json()["detail"]
    assert Case.objects.get(reference=reference).court_case_number == "（2026）京0101民初77号"


@pytest.mark.parametrize("header", [None, "Bearer yz_nope_nope", "Bearer not-a-token", "Basic abc"])
def test_a_wrong_or_missing_token_is_refused_and_audited(client, world, court_system, header):
    before = counts()
    headers = {"Authorization": header} if header else {}
    response = client.post(url("referral_create"), referral_body(), content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert counts() == before
    assert AuditEvent.objects.filter(stream="api.unauthenticated", kind="api.call", data__status=401).exists()


def test_a_revoked_token_is_refused(client, court_system):
    from django.utils import timezone

    court_system.client.tokens.update(revoked_at=timezone.now())
    assert client.get(url("webhook_list"), headers=court_system.headers).status_code == 401


def test_a_token_without_the_scope_is_refused(client, world, partner_system):
    before = counts()
    response = client.post(url("referral_create"), referral_body(), content_type="application/json",
                           headers=partner_system.headers)
    assert response.status_code == 403
    assert "referrals:write" in response.json()["detail"]
    assert counts() == before


def test_a_partner_cannot_read_cases_outside_its_organisation(client, world, partner_system, court_system):
    reference = client.post(url("referral_create"), referral_body(), content_type="application/json",
                            headers=court_system.headers).json()["reference"]  # not handed to the partner
    assert client.get(url("case_status", reference), headers=partner_system.headers).status_code == 404
    assert client.get(url("case_status", "YZ-NO-SUCH"), headers=partner_system.headers).status_code == 404


@pytest.mark.parametrize("origin", ["delegated", "entrusted"])
def test_a_new_delegated_or_old_style_entrusted_referral_is_refused_citing_the_2025_rule(client, court_system,
                                                                                         origin):
    before = counts()
    response = client.post(url("referral_create"), referral_body(origin=origin), content_type="application/json",
                           headers=court_system.headers)
    assert response.status_code == 400
    assert "最高人民法院关于严格依法规范民事案件立案与调解工作的意见" in response.json()["detail"]
    assert counts() == before


@pytest.mark.parametrize("body", [
    "{not json",
    '{"origin": "delegated"}',
    '{"origin": "sideways", "dispute_type": "labour", "title": "x", "claims": "y", "parties": []}',
])
def test_a_malformed_body_is_refused_and_nothing_is_saved(client, court_system, body):
    before = counts()
    response = client.post(url("referral_create"), body, content_type="application/json",
                           headers=court_system.headers)
    assert response.status_code in (400, 422)
    assert response.json()["detail"]
    assert counts() == before


def test_a_refusal_deep_in_the_service_leaves_nothing_half_saved(client, court_system):
    before = counts()
    body = referral_body(parties=[{"role": "applicant", "name": "张三", "phone": "13900000001"},
                                  {"role": "respondent", "name": "李四", "phone": "12345"}])
    response = client.post(url("referral_create"), body, content_type="application/json",
                           headers=court_system.headers)
    assert response.status_code == 400
    assert "联系电话" in response.json()["detail"]
    assert counts() == before


def test_an_oversized_upload_is_refused_with_413(client, settings, court_system):
    reference = client.post(url("referral_create"), referral_body(), content_type="application/json",
                            headers=court_system.headers).json()["reference"]
    settings.EVIDENCE_MAX_BYTES = 2048
    before = counts()
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 4096, "application/pdf")
    response = client.post(url("material_upload", reference), {"title": "大文件", "file": big},
                           headers=court_system.headers)
    assert response.status_code == 413
    assert "文件过大" in response.json()["detail"]
    assert counts() == before


def test_the_rate_limit_answers_429(client, settings, court_system):
    settings.API_RATE_LIMIT = "3/m"
    codes = [client.get(url("webhook_list"), headers=court_system.headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_webhook_urls_must_be_https(client, settings, partner_system):
    settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    response = client.post(url("webhook_create"), {"url": "http://127.0.0.1:9/hook"}, content_type="application/json",
                           headers=partner_system.headers)
    assert response.status_code == 400 and "https" in response.json()["detail"]


@pytest.mark.parametrize("model", ["apiclient", "webhooksubscription"])
def test_the_admin_lists_clients_and_subscriptions_without_secrets(client, world, court_system, model):
    world.clerk.is_staff = world.clerk.is_superuser = True
    world.clerk.save()
    client.force_login(world.clerk)
    client.post(url("webhook_create"), {"url": "https://partner.example.cn/hook"}, content_type="application/json",
                headers=court_system.headers)
    listing = client.get(reverse(f"admin:api_{model}_changelist"))
    assert listing.status_code == 200
    detail = client.get(reverse(f"admin:api_{model}_change", args=[
        court_system.client.pk if model == "apiclient" else court_system.client.webhooks.get().pk]))
    assert detail.status_code == 200
    assert court_system.token not in detail.content.decode()
    assert "whsec_" not in detail.content.decode()
