"""The contact page on a case, the handler's queue and the assisted-filing pages (issue 18), through the client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.choices import CaseStatus, ContactCategory, ContactStatus, PartyRole
from mediation.models import ContactRequest, Party
from mediation.services.contact_requests import contact_request_create

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
