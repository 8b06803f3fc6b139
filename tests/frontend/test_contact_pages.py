"""The contact page on a case, the handler's queue and the assisted-filing pages (issue 18), through the client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mediation.choices import (
    AssistedFilingStatus,
    CaseStatus,
    ContactCategory,
    ContactStatus,
    IdType,
    PartyRole,
    Sector,
)
from mediation.models import AssistedFiling, ContactRequest, IdentityVerification, OutboxMessage, Party
from mediation.services.contact_requests import contact_request_create
from tests.factories import UserFactory, make_resident_id

QUESTION = "想问一下调解会议的时间安排"


@pytest.fixture
def case(world):
    return world.drive(world.new_case(), CaseStatus.ACCEPTED)


def test_a_party_asks_on_the_case_page_and_the_mediator_answers_from_the_queue(client, world, case):
    client.force_login(world.applicant)
    page = client.get(reverse("case_detail", args=(case.pk,)))
    assert reverse("contact_requests", args=(case.pk,)) in page.content.decode()
    response = client.post(
        reverse("contact_requests", args=(case.pk,)), {"category": ContactCategory.SCHEDULE, "question": QUESTION}
    )
    assert response.status_code == 302
    request = ContactRequest.objects.get()
    assert request.requested_by == world.applicant and request.assigned_to == world.mediator

    client.force_login(world.mediator)
    queue = client.get(reverse("contact_queue")).content.decode()
    assert QUESTION in queue
    client.post(
        reverse("contact_record", args=(request.pk,)),
        {"method": "phone", "contacted_at": "2020-01-01T00:00", "result": ""},
    )
    request.refresh_from_db()
    assert request.contacted_at is None  # before the request: refused, nothing saved
    client.post(
        reverse("contact_record", args=(request.pk,)),
        {"method": "phone", "contacted_at": request.created_at.isoformat(), "result": "会议定于下周一上午。"},
    )
    request.refresh_from_db()
    assert request.status == ContactStatus.ANSWERED

    client.force_login(world.applicant)
    mine = client.get(reverse("contact_requests", args=(case.pk,))).content.decode()
    assert "会议定于下周一上午。" in mine


def test_the_other_side_and_outsiders_see_nothing_of_it(client, world, case):
    contact_request_create(case=case, actor=world.applicant, category=ContactCategory.OTHER, question=QUESTION)
    for user in (world.respondent, world.lawyer):
        client.force_login(user)
        assert QUESTION not in client.get(reverse("contact_requests", args=(case.pk,))).content.decode()
        detail = client.get(reverse("case_detail", args=(case.pk,))).content.decode()
        assert 'data-kind="contact.requested"' not in detail
    client.force_login(world.mediator)
    assert 'data-kind="contact.requested"' in client.get(reverse("case_detail", args=(case.pk,))).content.decode()
    for user in (world.outsider, world.other_judge):
        client.force_login(user)
        assert client.get(reverse("contact_requests", args=(case.pk,))).status_code == 404
        request = ContactRequest.objects.get()
        assert client.post(reverse("contact_answer", args=(request.pk,)), {"result": "x"}).status_code == 404


def test_a_clerk_logs_a_call_for_the_respondent(client, world, case):
    respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
    client.force_login(world.clerk)
    client.post(
        reverse("contact_requests", args=(case.pk,)),
        {"category": ContactCategory.PROGRESS, "question": "来电询问进展", "party": respondent.pk},
    )
    assert ContactRequest.objects.get().logged_by == world.clerk


def test_the_assisted_filing_pages_refuse_who_they_should(client, world):
    client.force_login(world.other_judge)
    assert client.get(reverse("assisted_list")).status_code == 403
    client.force_login(world.other_clerk)
    assert client.get(reverse("assisted_list")).status_code == 200
    page = client.get(reverse("assisted_new"), {"region_code": "999999"}).content.decode()
    assert "没有登记该地区的基层人民法院" in page
    client.logout()
    response = client.get(reverse("assisted_confirm", args=("nope",)))
    assert response.status_code == 302 and reverse("phone_login") in response["Location"]


def test_a_clerk_files_on_the_form_and_the_party_confirms_on_the_phone_page(client, world):
    world.court.region_code = "110101"
    world.court.save(update_fields=["region_code"])
    client.force_login(world.other_clerk)
    form = client.get(reverse("assisted_new"), {"region_code": "110101"}).content.decode()
    assert world.court.name in form and world.other_court.name not in form
    response = client.post(
        reverse("assisted_new"),
        {
            "region_code": "110101",
            "competent_court": world.court.pk,
            "kind": "application",
            "applicant_name": "王五",
            "applicant_id_number": make_resident_id(7),
            "applicant_phone": "13912345678",
            "identity_document": IdType.RESIDENT_ID,
            "identity_number_seen": make_resident_id(7),
            "identity_checked": "on",
            "respondent_name": "某公司",
            "dispute_type": Sector.LABOUR,
            "claims": "支付工资",
            "mediation": "on",
            "e_service": "on",
        },
    )
    filing = AssistedFiling.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assisted_detail", args=(filing.pk,))
    token = filing_token_from_sms(filing)
    party = UserFactory(username="walkin", real_name="王五", phone="13912345678")
    IdentityVerification.objects.create(
        user=party,
        real_name="王五",
        id_number_masked="x",
        phone=party.phone,
        succeeded=True,
        checked_at=filing.created_at,
    )
    client.force_login(party)
    assert "本人确认" in client.get(reverse("assisted_confirm", args=(token,))).content.decode()
    response = client.post(reverse("assisted_confirm", args=(token,)), {"mediation": "on", "e_service": "on"})
    filing.refresh_from_db()
    assert filing.status == AssistedFilingStatus.CONFIRMED
    assert response["Location"] == reverse("case_detail", args=(filing.case_id,))


def filing_token_from_sms(filing) -> str:
    body = OutboxMessage.objects.get(idempotency_key=f"assisted:{filing.pk}:confirm:sms").body
    match = re.search(r"/assisted/confirm/([^/\s]+)/", body)
    assert match is not None
    return match.group(1)
