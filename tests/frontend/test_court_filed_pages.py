"""Court-filed mediation through the pages, as the people who use them (legal-rules §A12, §B13): the clerk
registers the filed suit, each party takes the case up with the phone on record and consents on a phone-sized
page, the organisation distributes, the mediator accepts and signs for the materials, the clock runs out, the
clerk serves the fee notice, the deadline passes; and the other path: the one extension, a 调解书 requested,
the judge's inbox, closure by other means. Audit trail in order; verify_audit_chain intact."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from mediation.adapters import sms
from mediation.choices import CaseOrigin, CaseStatus, ConsentKind, EndReason, PartyRole, TimerKind
from mediation.models import Case, Consent, Party, RosterEntry, ServiceRecord, Timer
from mediation.services.court_filed import court_filed_materials_receive
from mediation.services.timer_sweep import timers_sweep
from tests.court_filed_support import both_consent, e_service, filed_case, local, party, period
from tests.mediation.test_party_claim import sign_in_by_phone

pytestmark = pytest.mark.django_db
PHONE_UA = {"HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}
APPLICANT_PHONE, RESPONDENT_PHONE = "13712340001", "13712340002"
NUMBER = "（2026）京0101民初321号"
# The case's moves in order: filed and entrusted, distributed, accepted, the materials signed for, expired,
# the fee notice, the deadline.
EXPECTED = ["case.created", "case.submit", "case.accept_for_mediation", "case.assign", "case.mediator_designated",
            "case.mediator_accept", "case.receive_materials", "case.terminate", "case.issue_fee_notice",
            "case.fee_unpaid"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_BACKEND = "console"


def as_user(client, user):
    client.force_login(user)
    return client


def register(client, world, **overrides) -> Case:
    data = {
        "origin": CaseOrigin.COURT_FILED, "court": str(world.court.pk), "court_case_number": NUMBER,
        "procedure": "simple", "referral_number": "", "dispute_type": "labour", "title": "王五诉某公司劳动报酬纠纷",
        "claims": "支付拖欠工资 8,000 元", "amount": "8000", "organisation": str(world.partner.pk),
        "applicant_kind": "natural", "applicant_name": "王五", "applicant_phone": APPLICANT_PHONE,
        "applicant_id_number": "", "respondent_kind": "natural", "respondent_name": "赵七",
        "respondent_phone": RESPONDENT_PHONE, "respondent_id_number": "",
    }
    data.update(overrides)
    response = as_user(client, world.clerk).post(reverse("intake_referral_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Case.objects.get(court_case_number=NUMBER)


def take_up(client, case: Case, phone: str):
    """The party signs in with the phone on record and links the case from the case list."""
    user = sign_in_by_phone(phone)
    client.force_login(user)
    listing = client.get(reverse("case_list"), **PHONE_UA).content.decode()
    party_obj = Party.objects.get(case=case, phone=phone)
    assert reverse("party_claim", args=[party_obj.pk]) in listing
    assert client.post(reverse("party_claim", args=[party_obj.pk])).status_code == 302
    return user


def consent_on_phone(client, case: Case, *, extension: bool = False, party_id: int | None = None):
    name = "court_filed_extension_consent" if extension else "court_filed_consent"
    url = reverse(name, args=[case.pk])
    detail = client.get(reverse("case_detail", args=[case.pk]), **PHONE_UA).content.decode()
    assert url in detail  # the case page offers it
    form = client.get(url, **PHONE_UA)
    assert form.status_code == 200
    text_id = form.context["text"].pk
    data = {"answer": "yes", "text": str(text_id)}
    if party_id is not None:
        data["party"] = str(party_id)
    return client.post(url, data, **PHONE_UA)


def test_filed_consented_signed_for_expired_fee_notice_served_and_deemed_withdrawn(world, client):
    sms.outbox_clear()
    with time_machine.travel(local(2026, 4, 1, 9), tick=False):
        case = register(client, world)
        assert case.status == CaseStatus.AWAITING_SELECTION
        # The organisation's admin gives it to a mediator on the court's roster, who accepts with a disclosure.
        RosterEntry.objects.create(mediator=world.mediator.mediator_profile, court=world.court)
        assert as_user(client, world.org_admin).post(
            reverse("intake_org_distribute", args=[case.pk]), {"mediator": world.mediator.pk}
        ).status_code == 302
        assert Case.objects.get(pk=case.pk).status == CaseStatus.ASSIGNED
        assert as_user(client, world.mediator).post(
            reverse("case_mediator_accept", args=[case.pk]), {"nothing_to_disclose": "on"}
        ).status_code == 302
        case.refresh_from_db()
        assert case.status == CaseStatus.ACCEPTED
        assert not Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD).exists()
        # Before the parties consent the mediator cannot sign for the materials.
        refused = client.post(reverse("court_filed_materials", args=[case.pk]))
        assert refused.status_code == 400 and "尚缺" in refused.content.decode()
        before = Consent.objects.count()
    with time_machine.travel(local(2026, 4, 2, 10), tick=False):
        applicant = take_up(client, case, APPLICANT_PHONE)
        respondent_party = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
        # Naming the other party's id records the applicant's own answer, never the respondent's.
        assert consent_on_phone(client, case, party_id=respondent_party.pk).status_code == 302
        assert not Consent.objects.filter(party=respondent_party).exists()
        respondent = take_up(client, case, RESPONDENT_PHONE)
        assert consent_on_phone(client, case).status_code == 302
        consents = Consent.objects.filter(case=case, kind=ConsentKind.COURT_ENTRUSTMENT, granted=True)
        assert Consent.objects.count() == before + 2 and consents.count() == 2
        assert {c.user for c in consents} == {applicant, respondent}
        assert all(c.text.code == "a12.court_entrustment" for c in consents)
    with time_machine.travel(local(2026, 4, 3, 11), tick=False):
        as_user(client, world.mediator)
        detail = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert reverse("court_filed_materials", args=[case.pk]) in detail
        assert client.post(reverse("court_filed_materials", args=[case.pk]), {"note": "起诉状副本、证据"}
                           ).status_code == 302
    case.refresh_from_db()
    timer = period(case)
    assert (case.status, timer.length, timer.started_at) == (CaseStatus.SCHEDULING, 7, local(2026, 4, 3, 11))
    # Seven days from the receipt, no agreement and no extension: mediation ends, back to the court.
    timers_sweep(now=timer.due_at)
    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.PERIOD_EXPIRED)
    with time_machine.travel(local(2026, 4, 11, 9), tick=False):
        # The judge sees it waiting; another court's judge does not.
        inbox = as_user(client, world.judge).get(reverse("court_inbox")).content.decode()
        assert reverse("court_filed_court", args=[case.pk]) in inbox
        assert reverse("court_filed_court", args=[case.pk]) not in as_user(client, world.other_judge).get(
            reverse("court_inbox")).content.decode()
        assert as_user(client, world.outsider).get(reverse("court_filed_court", args=[case.pk])).status_code == 404
        assert as_user(client, respondent).get(reverse("court_filed_court", args=[case.pk])).status_code == 403
        # The judge cannot serve the fee notice (the clerk does); nothing changes.
        refused = as_user(client, world.judge).post(reverse("court_filed_court_act", args=[case.pk, "fee_notice"]),
                                                    {"amount": "50", "days": "7"})
        assert refused.status_code == 403 and Case.objects.get(pk=case.pk).status == CaseStatus.TERMINATED
        e_service(case, applicant)
        # The clerk finds it in the intake queue's court-filed section.
        queue = as_user(client, world.clerk).get(reverse("intake_queue")).content.decode()
        assert reverse("court_filed_court", args=[case.pk]) in queue
        bad = as_user(client, world.clerk).post(reverse("court_filed_court_act", args=[case.pk, "fee_notice"]),
                                                {"amount": "-5", "days": "7"})
        assert bad.status_code == 400 and not ServiceRecord.objects.exists()
        page = client.get(reverse("court_filed_court", args=[case.pk])).content.decode()
        assert 'id="fee-notice"' in page
        assert client.post(reverse("court_filed_court_act", args=[case.pk, "fee_notice"]),
                           {"amount": "50", "days": "7"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.FEE_PENDING
    record = ServiceRecord.objects.get(case=case)
    assert record.recipient.user == applicant and record.document_title == "交纳案件受理费通知书"
    # The applicant reads it on the phone from the case page.
    as_user(client, applicant)
    assert reverse("service_record", args=[record.pk]) in client.get(
        reverse("case_detail", args=[case.pk]), **PHONE_UA).content.decode()
    fee = Timer.objects.get(case=case, kind=TimerKind.FILING_FEE)
    timers_sweep(now=fee.due_at)
    case.refresh_from_db()
    assert case.status == CaseStatus.DEEMED_WITHDRAWN
    moves = list(case.audit_events.filter(kind__startswith="case.").order_by("seq").values_list("kind", flat=True))
    assert moves == EXPECTED
    call_command("verify_audit_chain")


def test_the_one_extension_on_phones_then_a_mediation_document_request_and_the_judge_closes_by_other_means(
    world, client
):
    with time_machine.travel(local(2026, 5, 4, 9), tick=False):
        case = filed_case(world, procedure="ordinary")
        both_consent(world, case)
        case = court_filed_materials_receive(case=case, actor=world.mediator)
    first_due = period(case).due_at
    with time_machine.travel(local(2026, 5, 10, 9), tick=False):
        # The mediator cannot extend before both parties agree.
        refused = as_user(client, world.mediator).post(reverse("court_filed_extend", args=[case.pk]))
        assert refused.status_code == 400 and period(case).extra_days == 0
        as_user(client, world.applicant)
        assert consent_on_phone(client, case, extension=True).status_code == 302
        as_user(client, world.respondent)
        assert consent_on_phone(client, case, extension=True).status_code == 302
        # A party has no extend page.
        assert client.post(reverse("court_filed_extend", args=[case.pk])).status_code == 403
        as_user(client, world.mediator)
        assert client.post(reverse("court_filed_extend", args=[case.pk])).status_code == 302
        assert period(case).due_at - first_due == dt.timedelta(days=30)
        detail = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert "延长的期限不计入审理期限" in detail
        second = client.post(reverse("court_filed_extend", args=[case.pk]))
        assert second.status_code == 400 and "只能延长一次" in second.content.decode()
        assert period(case).extra_days == 30
    case = world.drive(Case.objects.get(pk=case.pk), CaseStatus.AGREEMENT_EFFECTIVE)
    # The mediator may not ask for the 调解书; a party asks on the phone.
    as_user(client, world.mediator)
    client.post(reverse("court_filed_request_document", args=[case.pk]))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AGREEMENT_EFFECTIVE
    as_user(client, world.applicant)
    detail = client.get(reverse("case_detail", args=[case.pk]), **PHONE_UA).content.decode()
    assert 'id="request-mediation-document"' in detail
    assert client.post(reverse("court_filed_request_document", args=[case.pk])).status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.MEDIATION_DOCUMENT_REQUESTED
    inbox = as_user(client, world.judge).get(reverse("court_inbox")).content.decode()
    assert reverse("court_filed_court", args=[case.pk]) in inbox
    page = client.get(reverse("court_filed_court", args=[case.pk])).content.decode()
    assert 'id="mediation-document-requested"' in page and 'id="close-other-means"' in page
    # The parties settled and the plaintiff withdrew instead: the judge records it.
    assert client.post(reverse("court_filed_court_act", args=[case.pk, "close_other_means"]),
                       {"reason": "withdrawal", "note": "原告撤诉"}).status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED_OTHER_MEANS
    kinds = list(case.audit_events.order_by("seq").values_list("kind", flat=True))
    assert kinds.index("case.receive_materials") < kinds.index("timer.extended") < kinds.index(
        "case.request_mediation_document") < kinds.index("case.close_other_means")
    call_command("verify_audit_chain")


def test_a_party_of_another_case_and_an_outsider_get_nothing(world, client):
    case = filed_case(world)
    for user in (world.outsider, world.other_mediator):
        as_user(client, user)
        assert client.get(reverse("court_filed_consent", args=[case.pk])).status_code == 404
        assert client.post(reverse("court_filed_materials", args=[case.pk])).status_code == 404
    # The clerk and judge of the court see the case but are not parties and not its mediator.
    assert as_user(client, world.clerk).get(reverse("court_filed_consent", args=[case.pk])).status_code == 403
    assert as_user(client, world.judge).post(reverse("court_filed_materials", args=[case.pk])).status_code == 403
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    assert not Consent.objects.exists()
    assert party(case, PartyRole.APPLICANT).user == world.applicant
