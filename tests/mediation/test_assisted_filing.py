"""Assisted filing at the nearest court (全域通办, issue 18 item 2): a clerk of another court files for a walk-in
party; nothing reaches the competent court until the party confirms on their own phone."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mediation.choices import (
    AssistedFilingKind,
    AssistedFilingStatus,
    CaseStatus,
    ConsentKind,
    IdType,
    MessageChannel,
    PartyRole,
    Sector,
)
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import AssistedFiling, AuditEvent, Case, Consent, IdentityVerification, OutboxMessage, User
from mediation.selectors.assisted import assisted_filing_for_clerk, assisted_filings_for_clerk
from mediation.selectors.cases import case_get_for_user
from mediation.services.assisted_filing import assisted_filing_confirm, assisted_filing_start, competent_courts
from mediation.services.evidence import evidence_upload
from mediation.validators import mask_resident_id
from tests.factories import UserFactory, make_resident_id

PHONE = "13912345678"


@pytest.fixture
def regions(world):
    world.court.region_code = "110101"
    world.court.save(update_fields=["region_code"])
    world.other_court.region_code = "110102"
    world.other_court.save(update_fields=["region_code"])
    return world


def party_on_phone(phone: str = PHONE, username: str = "walkin") -> User:
    """The walk-in party, signed in on their own phone: a code proved the number theirs."""
    user = UserFactory(username=username, real_name="王五", phone=phone)
    IdentityVerification.objects.create(
        user=user,
        real_name=user.real_name,
        id_number_masked=mask_resident_id(make_resident_id(7)),
        phone=phone,
        succeeded=True,
        checked_at=timezone.now(),
        provider_ref="test",
    )
    return user


def start(world, *, actor=None, court=None, checked=True, number=None, kind=AssistedFilingKind.APPLICATION):
    return assisted_filing_start(
        actor=actor or world.other_clerk,
        kind=kind,
        competent_court=court or world.court,
        region_code="110101",
        data={
            "applicant_name": "王五",
            "applicant_id_number": make_resident_id(7),
            "applicant_phone": PHONE,
            "respondent_name": "某建筑公司",
            "respondent_phone": "13800000000",
            "dispute_type": Sector.LABOUR,
            "claims": "支付拖欠工资 8,000 元",
            "summary": "在工地务工三个月未获工资",
        },
        identity_document=IdType.RESIDENT_ID,
        identity_number_seen=number or make_resident_id(7),
        identity_checked=checked,
        e_service=True,
        mediation=True,
    )


def test_the_competent_court_is_suggested_by_the_rule_not_typed(regions):
    world = regions
    assert competent_courts(region_code="110101") == [world.court]
    with pytest.raises(InvalidInput):
        start(world, court=world.other_court)  # the assisting court is not the respondent's domicile court
    with pytest.raises(InvalidInput):
        start(world, checked=False)
    with pytest.raises(InvalidInput):
        start(world, number=make_resident_id(8))  # the document seen is not the one registered
    assert AssistedFiling.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_staff_cannot_complete_without_the_partys_own_confirmation(regions):
    world = regions
    filing, token = start(world)
    evidence_upload(
        actor=world.other_clerk,
        draft=filing.draft,
        title="工资欠条",
        file=SimpleUploadedFile("iou.pdf", b"%PDF-1.4\n1\n%%EOF\n", content_type="application/pdf"),
    )
    sms = OutboxMessage.objects.get(idempotency_key=f"assisted:{filing.pk}:confirm:sms")
    assert sms.channel == MessageChannel.SMS and sms.address == PHONE and token in sms.body
    assert Case.objects.count() == 0  # nothing in the competent court's queue yet

    for someone in (world.other_clerk, world.clerk, party_on_phone("13700000000", "impostor")):
        with pytest.raises(PermissionDenied):
            assisted_filing_confirm(token=token, actor=someone, e_service=True, mediation=True)
    assert Case.objects.count() == 0

    party = party_on_phone()
    filing = assisted_filing_confirm(token=token, actor=party, e_service=True, mediation=True)
    case = filing.case
    assert filing.status == AssistedFilingStatus.CONFIRMED and case.court == world.court
    assert case.status == CaseStatus.SUBMITTED
    applicant = case.parties.get(role=PartyRole.APPLICANT)
    assert applicant.user == party and applicant.phone == PHONE
    assert list(case.evidence.values_list("title", flat=True)) == ["工资欠条"]
    consents = dict(Consent.objects.filter(case=case).values_list("kind", "granted"))
    assert consents == {ConsentKind.ONLINE_MEDIATION: True, ConsentKind.E_SERVICE: True}
    assert set(Consent.objects.filter(case=case).values_list("user", flat=True)) == {party.pk}
    assisted = AuditEvent.objects.get(case=case, kind="application.assisted")
    assert assisted.data["assisted_by"] == world.other_clerk.pk
    assert assisted.data["assisting_court_name"] == world.other_court.name


def test_a_party_who_declines_mediation_sends_nothing_to_the_court(regions):
    filing, token = start(regions)
    filing = assisted_filing_confirm(token=token, actor=party_on_phone(), e_service=False, mediation=False)
    assert filing.status == AssistedFilingStatus.DECLINED and filing.case is None
    assert Case.objects.count() == 0


def test_each_court_sees_what_it_should_and_another_courts_judge_is_refused(regions):
    world = regions
    filing, token = start(world)
    filing = assisted_filing_confirm(token=token, actor=party_on_phone(), e_service=True, mediation=True)
    case = filing.case
    # The competent court's staff see the case in full.
    assert case_get_for_user(user=world.clerk, case_id=case.pk) == case
    assert case_get_for_user(user=world.judge, case_id=case.pk) == case
    # The assisting court sees only what it filed: the filing and the case's status, not the case.
    [mine] = assisted_filings_for_clerk(user=world.other_clerk)
    assert mine.pk == filing.pk and mine.case.status == CaseStatus.SUBMITTED
    with pytest.raises(NotFound):
        case_get_for_user(user=world.other_clerk, case_id=case.pk)
    assert assisted_filings_for_clerk(user=world.clerk) == []
    with pytest.raises(NotFound):
        assisted_filing_for_clerk(actor=world.clerk, filing_id=filing.pk)
    # Another court's judge: no filing, no case, no assisting.
    with pytest.raises(NotFound):
        case_get_for_user(user=world.other_judge, case_id=case.pk)
    with pytest.raises(NotFound):
        assisted_filing_for_clerk(actor=world.other_judge, filing_id=filing.pk)
    with pytest.raises(PermissionDenied):
        start(world, actor=world.other_judge)
    with pytest.raises(PermissionDenied):
        start(world, actor=world.outsider)
