"""A party a court created without an account takes the case up by proving the phone on record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.adapters import sms
from mediation.choices import CaseOrigin, OtpPurpose, PartyRole, Sector
from mediation.exceptions import PermissionDenied
from mediation.models import AuditEvent
from mediation.permissions import case_roles
from mediation.services.identity import otp_send, user_login_by_phone
from mediation.services.intake import ReferralParty, case_referral_create
from mediation.services.parties import parties_claimable_by, party_claim

pytestmark = pytest.mark.django_db
PHONE = "13712345678"


@pytest.fixture
def referral(world):
    return case_referral_create(
        actor=world.clerk, origin=CaseOrigin.COURT_FILED, court=world.court, dispute_type=Sector.CONTRACT,
        court_case_number="（2026）京0101民初55号", procedure="ordinary",
        title="王五诉赵七借款纠纷", claims="归还借款 5 万元", amount="50000.00",
        parties=[ReferralParty(role=PartyRole.APPLICANT, name="王五", phone=PHONE),
                 ReferralParty(role=PartyRole.RESPONDENT, name="赵七", phone="13700000007")],
    )


def sign_in_by_phone(phone: str):
    sms.outbox_clear()
    otp_send(phone=phone, purpose=OtpPurpose.LOGIN)
    code = sms.outbox[-1].text.split("验证码")[1].strip()[:6]
    return user_login_by_phone(phone=phone, code=code)


def test_a_referral_party_signed_in_with_the_phone_on_record_can_take_the_case_up(referral):
    user = sign_in_by_phone(PHONE)
    party = parties_claimable_by(user=user).get()
    assert party.case == referral
    party_claim(party=party, actor=user)
    assert "applicant" in case_roles(user, referral)
    event = AuditEvent.objects.filter(case=referral, kind="party.linked").get()
    assert event.data["how"] == "phone_code_referral"
    assert not parties_claimable_by(user=user).exists()


def test_a_phone_typed_into_an_account_without_a_code_proves_nothing(referral, world):
    world.outsider.phone = PHONE
    world.outsider.save()
    assert not parties_claimable_by(user=world.outsider).exists()
    with pytest.raises(PermissionDenied):
        party_claim(party=referral.parties.get(phone=PHONE), actor=world.outsider)


def test_someone_with_another_phone_cannot_take_it_up(referral):
    user = sign_in_by_phone("13799999999")
    with pytest.raises(PermissionDenied):
        party_claim(party=referral.parties.get(phone=PHONE), actor=user)


def test_a_party_already_taken_up_cannot_be_taken_again(referral):
    first = sign_in_by_phone(PHONE)
    party = referral.parties.get(phone=PHONE)
    party_claim(party=party, actor=first)
    with pytest.raises(PermissionDenied):
        party_claim(party=party, actor=first)


def test_the_case_list_offers_the_case_and_the_button_links_it(referral, client):
    user = sign_in_by_phone(PHONE)
    client.force_login(user)
    page = client.get(reverse("case_list")).content.decode()
    assert referral.title in page
    party = referral.parties.get(phone=PHONE)
    response = client.post(reverse("party_claim", args=[party.pk]))
    assert response.status_code == 302
    assert client.get(reverse("case_detail", args=[referral.pk])).status_code == 200


def test_the_claim_page_answers_not_found_to_anyone_else(referral, client, world):
    client.force_login(world.outsider)
    party = referral.parties.get(phone=PHONE)
    assert client.post(reverse("party_claim", args=[party.pk])).status_code == 404
    assert client.get(reverse("party_claim", args=[party.pk])).status_code == 405
