"""A partner organisation prepares a party's application through the API (D39): nothing reaches a court until the
named party, after the identity step, claims it on their phone, completes it and submits it themselves. The
partner follows it by polling and by webhook; nobody else can claim, see or add to it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from api.models import Scope, WebhookDelivery
from mediation.choices import CaseStatus, MessageChannel
from mediation.models import ApplicationDraft, AuditEvent, Case, Evidence, OutboxMessage
from mediation.services import applications as apps
from tests.api.api_support import make_caller
from tests.apply_support import pdf_bytes, step_answers, verify_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    cache.clear()


def body(world, **overrides):
    answers = step_answers(world)
    parties = {k: v for k, v in answers["parties"].items() if k != "applicant_kind"}
    data = {"name": world.applicant.real_name, "phone": world.applicant.phone,
            "dispute": answers["dispute"], "parties": parties, "claims": answers["claims"]}
    data.update(overrides)
    return data


def prepare(client, world, caller=None, **overrides):
    caller = caller or make_caller(organisation=world.partner, user=world.org_admin)
    response = client.post(reverse("api-v1:application_prepare"), body(world, **overrides),
                           content_type="application/json", headers=caller.headers)
    return caller, response


def sms_link(phone: str) -> str:
    message = OutboxMessage.objects.filter(channel=MessageChannel.SMS, address=phone,
                                           template="application.prepared").get()
    link = next(word for word in message.body.split() if "/apply/prepared/" in word)
    return urlparse(link).path


def test_the_party_claims_completes_and_submits_and_the_partner_follows_it(client, world,
                                                                         django_capture_on_commit_callbacks):
    caller, response = prepare(client, world)
    assert response.status_code == 201, response.content
    application = response.json()
    assert application["status"] == "prepared" and application["case"] is None
    assert not Case.objects.exists()  # nothing reaches a court before the party acts
    upload = client.post(reverse("api-v1:application_material_upload", args=[application["id"]]),
                         {"title": "劳动合同", "kind": "evidence",
                          "file": SimpleUploadedFile("合同.pdf", pdf_bytes(), content_type="application/pdf")},
                         headers=caller.headers)
    assert upload.status_code == 201, upload.content
    subscribed = client.post(reverse("api-v1:webhook_create"), {"url": "http://127.0.0.1:9/hook"},
                             content_type="application/json", headers=caller.headers)
    assert subscribed.status_code == 201

    # The party opens the SMS link, signed in and verified, reads and claims it.
    link = sms_link(world.applicant.phone)
    verify_identity(world.applicant)
    client.force_login(world.applicant)
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert world.partner.name in text and "李四" in text and "劳动合同" in text
    claimed = client.post(link, {"action": "claim"})
    assert claimed.status_code == 302
    draft = ApplicationDraft.objects.get(pk=application["id"])
    assert draft.owner == world.applicant and draft.claimed_at is not None
    assert apps.application_progress(draft=draft) == "evidence"  # the party's own steps are still ahead
    assert client.get(reverse("api-v1:application_get", args=[draft.pk]), headers=caller.headers).json()[
        "status"] == "claimed"

    answers = step_answers(world)
    for step in ("evidence", "notices", "address"):
        draft = apps.application_step_save(draft=draft, actor=world.applicant, step=step, data=answers[step])
    with django_capture_on_commit_callbacks(execute=True):
        case = apps.application_submit(draft=draft, actor=world.applicant)
    assert case.status == CaseStatus.SUBMITTED
    assert Evidence.objects.get(title="劳动合同").case == case
    submitted = AuditEvent.objects.get(kind="application.submitted", case=case)
    assert submitted.data["prepared_by"] == world.partner.pk

    followed = client.get(reverse("api-v1:application_get", args=[draft.pk]), headers=caller.headers).json()
    assert followed == {**followed, "status": "submitted", "case": case.reference}
    status = client.get(reverse("api-v1:case_status", args=[case.reference]), headers=caller.headers)
    assert status.status_code == 200 and status.json()["status"] == CaseStatus.SUBMITTED
    assert WebhookDelivery.objects.filter(subscription_id=subscribed.json()["id"]).count() == 1
    kinds = list(AuditEvent.objects.filter(stream=f"application.{draft.pk}").values_list("kind", flat=True))
    assert kinds[:3] == ["application.prepared", "evidence.uploaded", "application.prepared_claimed"]


def test_someone_else_cannot_claim_it_and_it_stays_unclaimed(client, world):
    prepare(client, world)
    link = sms_link(world.applicant.phone)
    verify_identity(world.outsider)
    client.force_login(world.outsider)
    page = client.get(link)
    assert page.status_code == 403
    assert "不一致" in page.content.decode() and "李四" not in page.content.decode()  # nothing of it is shown
    assert client.post(link, {"action": "claim"}).status_code == 400
    assert ApplicationDraft.objects.get().owner is None


def test_an_unverified_party_is_sent_to_the_identity_step_first(client, world):
    prepare(client, world)
    link = sms_link(world.applicant.phone)
    client.force_login(world.applicant)
    response = client.get(link)
    assert response.status_code == 302 and reverse("identity_verify") in response["Location"]
    assert ApplicationDraft.objects.get().owner is None


def test_a_forged_expired_or_declined_link_is_refused_with_the_reason(client, world):
    prepare(client, world)
    link = sms_link(world.applicant.phone)
    verify_identity(world.applicant)
    client.force_login(world.applicant)
    assert client.get("/apply/prepared/not-a-real-code/").status_code == 404

    ApplicationDraft.objects.update(claim_expires_at=timezone.now() - dt.timedelta(minutes=1))
    expired = client.post(link, {"action": "claim"})
    assert expired.status_code == 400 and "过期" in expired.content.decode()

    ApplicationDraft.objects.update(claim_expires_at=timezone.now() + dt.timedelta(days=1))
    assert client.post(link, {"action": "decline"}).status_code == 302
    again = client.post(link, {"action": "claim"})
    assert again.status_code == 400 and "拒绝" in again.content.decode()
    assert ApplicationDraft.objects.get().owner is None


def test_refusals_at_the_api_leave_nothing_behind(client, world):
    court = make_caller(organisation=world.court, user=world.clerk, name="法院系统")
    _, response = prepare(client, world, caller=court)
    assert response.status_code == 403 and "法院" in response.json()["detail"]

    no_scope = make_caller(organisation=world.partner, user=world.org_admin, scopes=[Scope.CASES_READ], name="只读")
    _, response = prepare(client, world, caller=no_scope)
    assert response.status_code == 403

    partner = make_caller(organisation=world.partner, user=world.org_admin, name="伙伴系统")
    answers = step_answers(world)
    bad_parties = {k: v for k, v in answers["parties"].items() if k != "applicant_kind"} | {"respondent_phone": "123"}
    _, response = prepare(client, world, caller=partner, parties=bad_parties)
    assert response.status_code == 400 and "手机" in response.json()["detail"]
    _, response = prepare(client, world, caller=partner, phone="12345")
    assert response.status_code == 400
    _, response = prepare(client, world, caller=partner, dispute={"dispute_type": "labour", "court": 999999})
    assert response.status_code == 400 and "法院" in response.json()["detail"]
    _, response = prepare(client, world, caller=partner, claims={"claims": "", "summary": "x"})
    assert response.status_code == 422
    assert not ApplicationDraft.objects.exists() and not OutboxMessage.objects.exists()


def test_another_partner_cannot_see_or_add_to_it_and_the_partner_cannot_add_after_the_claim(client, world):
    caller, response = prepare(client, world)
    draft_id = response.json()["id"]
    other = make_caller(organisation=world.other_partner, user=world.other_mediator, name="他方系统")
    assert client.get(reverse("api-v1:application_get", args=[draft_id]), headers=other.headers).status_code == 404
    upload_url = reverse("api-v1:application_material_upload", args=[draft_id])

    def upload(headers):
        return client.post(upload_url, {"title": "材料", "file": SimpleUploadedFile("a.pdf", pdf_bytes())},
                           headers=headers)

    assert upload(other.headers).status_code == 404
    verify_identity(world.applicant)
    apps.application_prepared_claim(draft=ApplicationDraft.objects.get(), actor=world.applicant)
    refused = upload(caller.headers)
    assert refused.status_code == 403 and "尚未确认" in refused.json()["detail"]
    assert not Evidence.objects.exists()
