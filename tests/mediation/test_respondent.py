"""Seeking the respondent's willingness on a one-sided application (OMR 15): invitation, sign-in by phone,
answer, and the endings that return the materials to the court."""

from __future__ import annotations

import re

import pytest

from mediation import transitions as tr
from mediation.adapters import sms
from mediation.choices import CaseStatus, ConsentKind, EndReason, OtpPurpose, OutboxStatus, PartyRole, RosterScope
from mediation.exceptions import InvalidInput, PermissionDenied, TransitionNotAllowed
from mediation.models import (
    Agent,
    AuditEvent,
    Case,
    Consent,
    Evidence,
    NoticeAcknowledgement,
    OutboxMessage,
    Party,
    RosterEntry,
    User,
)
from mediation.notices import ONLINE_MEDIATION_CONSENT
from mediation.permissions import case_roles
from mediation.services.consents import notice_text_publish
from mediation.services.identity import otp_send, user_login_by_phone
from mediation.services.outbox import outbox_drain
from mediation.services.respondent import (
    respondent_answer,
    respondent_invite,
    respondent_link,
    respondent_party_for,
    respondent_seek,
    respondent_unreachable,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RESPONDENT_PHONE = "13912345678"


@pytest.fixture(autouse=True)
def console_sms(settings):
    settings.SMS_BACKEND = "console"
    settings.SITE_URL = "https://yizhan.example.cn"
    sms.outbox_clear()
    yield sms.outbox
    sms.outbox_clear()


def kinds(case: Case) -> list[str]:
    return list(AuditEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


def one_sided_case(world, *, status: str = CaseStatus.ACCEPTED, linked: bool = False) -> Case:
    """A party's own application (one-sided, OMR 15) at ``status``, with a piece of evidence. The
    respondent is known only by name and phone unless ``linked``."""
    RosterEntry.objects.get_or_create(mediator=world.mediator.mediator_profile, court=world.court,
                                      scope=RosterScope.COURT)
    case = world.new_case(one_sided=True)
    respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
    respondent.phone = RESPONDENT_PHONE
    if not linked:
        respondent.user = None
        Agent.objects.filter(party=respondent).delete()
    respondent.save()
    Evidence.objects.create(
        case=case, uploaded_by=world.applicant, title="劳动合同", file="evidence/ab/" + "ab" * 32,
        original_name="合同.pdf", content_type="application/pdf", size=1024, sha256="ab" * 32,
    )
    return world.drive(case, status)


def signed_in_by_phone(phone: str = RESPONDENT_PHONE) -> User:
    """A person proves the phone is theirs with a code, the way the phone sign-in page does."""
    otp_send(phone=phone, purpose=OtpPurpose.LOGIN)
    code = re.search(r"\d{6}", sms.outbox[-1].text).group(0)
    return user_login_by_phone(phone=phone, code=code)


# --- Seeking and inviting ----------------------------------------------------------------------------------


def test_the_mediator_starts_seeking_the_respondent(world):
    case = respondent_seek(case=one_sided_case(world), actor=world.mediator)
    assert case.status == CaseStatus.RESPONDENT_PENDING


def test_a_joint_application_needs_no_respondent_consent_step(world):
    world.drive(world.new_case(), CaseStatus.ACCEPTED)
    case = Case.objects.get()
    with pytest.raises(InvalidInput, match="共同申请"):
        respondent_seek(case=case, actor=world.mediator)


@pytest.mark.parametrize("name", ["applicant", "outsider", "other_mediator", "clerk", "org_admin"])
def test_only_the_mediator_seeks_the_respondent(world, name):
    case = one_sided_case(world)
    with pytest.raises(PermissionDenied):
        respondent_seek(case=case, actor=getattr(world, name))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_the_invitation_is_an_sms_with_the_respond_link(world, console_sms):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    [queued] = respondent_invite(case=case, actor=world.mediator)
    assert list(OutboxMessage.objects.filter(case=case)) == [queued]
    assert queued.address == RESPONDENT_PHONE and queued.idempotency_key == f"respondent-invite:{case.pk}:0"
    event = AuditEvent.objects.get(case=case, kind="respondent.invited")
    assert event.data["outbox"] == queued.pk
    assert event.data["phone"] == "139****5678"
    outbox_drain(worker_id="t")
    [message] = console_sms
    assert message.phone == RESPONDENT_PHONE
    assert f"https://yizhan.example.cn/cases/{case.pk}/respond/" in message.text
    assert case.reference in message.text and "张三" in message.text


def test_inviting_again_queues_a_new_message(world, console_sms):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    respondent_invite(case=case, actor=world.mediator)
    respondent_invite(case=case, actor=world.mediator)
    keys = list(OutboxMessage.objects.filter(case=case).order_by("pk").values_list("idempotency_key", flat=True))
    assert keys == [f"respondent-invite:{case.pk}:0", f"respondent-invite:{case.pk}:1"]
    assert kinds(case).count("respondent.invited") == 2
    outbox_drain(worker_id="t")
    assert len(console_sms) == 2


def test_a_gateway_outage_leaves_the_invitation_queued_for_retry(world, console_sms, monkeypatch):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    respondent_invite(case=case, actor=world.mediator)

    class Down:
        def send(self, *, phone: str, text: str, request_id: str = "") -> str:
            raise sms.SmsDeliveryError("gateway down")

    monkeypatch.setattr(sms, "get_sms_backend", lambda: Down())
    outbox_drain(worker_id="t")
    assert "respondent.invited" in kinds(case)
    assert OutboxMessage.objects.get(case=case).status != OutboxStatus.SENT
    assert not console_sms


def test_no_invitation_without_a_phone(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    Party.objects.filter(case=case, role=PartyRole.RESPONDENT).update(phone="")
    with pytest.raises(InvalidInput, match="没有登记手机号码"):
        respondent_invite(case=case, actor=world.mediator)


@pytest.mark.parametrize("name", ["applicant", "outsider", "other_mediator", "clerk"])
def test_only_the_mediator_invites(world, name, console_sms):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    with pytest.raises(PermissionDenied):
        respondent_invite(case=case, actor=getattr(world, name))
    assert not console_sms


def test_no_invitation_outside_the_respondent_step(world):
    case = one_sided_case(world)
    with pytest.raises(TransitionNotAllowed):
        respondent_invite(case=case, actor=world.mediator)


# --- Linking the respondent ------------------------------------------------------------------------------


def test_the_person_who_proved_the_respondents_phone_is_linked(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    user = signed_in_by_phone()
    assert not case_roles(user, case)
    party = respondent_link(case=case, actor=user)
    assert party.user == user and party.role == PartyRole.RESPONDENT
    assert tr.RESPONDENT in case_roles(user, case)
    assert AuditEvent.objects.get(case=case, kind="party.linked").data["phone"] == "139****5678"


def test_a_matching_phone_that_was_never_proved_is_not_enough(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    claimant = UserFactory(phone=RESPONDENT_PHONE)  # typed into an account, never confirmed by a code
    assert respondent_party_for(case=case, user=claimant) is None
    with pytest.raises(PermissionDenied):
        respondent_link(case=case, actor=claimant)
    assert Party.objects.get(case=case, role=PartyRole.RESPONDENT).user is None


def test_a_phone_changed_to_another_with_the_same_mask_is_not_proven(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    lookalike = "13987655678"  # masks as 139****5678, like RESPONDENT_PHONE
    user = signed_in_by_phone(lookalike)
    User.objects.filter(pk=user.pk).update(phone=RESPONDENT_PHONE)  # an administrator edits the number
    user.refresh_from_db()
    assert respondent_party_for(case=case, user=user) is None
    with pytest.raises(PermissionDenied):
        respondent_link(case=case, actor=user)
    assert Party.objects.get(case=case, role=PartyRole.RESPONDENT).user is None


def test_another_phone_is_not_linked(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    stranger = signed_in_by_phone("13700000000")
    with pytest.raises(PermissionDenied):
        respondent_link(case=case, actor=stranger)
    assert "party.linked" not in kinds(case)


def test_no_linking_outside_the_respondent_step(world):
    case = one_sided_case(world)  # accepted, not yet seeking
    user = signed_in_by_phone()
    with pytest.raises(PermissionDenied):
        respondent_link(case=case, actor=user)


def test_a_party_already_linked_is_not_taken_over(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    first = signed_in_by_phone()
    respondent_link(case=case, actor=first)
    assert respondent_party_for(case=case, user=first) is None


# --- Answering ---------------------------------------------------------------------------------------------


def pending_with_respondent(world) -> tuple[Case, User]:
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    user = signed_in_by_phone()
    respondent_link(case=case, actor=user)
    return Case.objects.get(pk=case.pk), user


def test_a_willing_respondent_moves_the_case_to_scheduling(world):
    case, user = pending_with_respondent(world)
    case = respondent_answer(case=case, actor=user, willing=True)
    assert case.status == CaseStatus.SCHEDULING
    consent = Consent.objects.get(case=case, kind=ConsentKind.ONLINE_MEDIATION)
    assert consent.granted and consent.user == user and consent.stage == CaseStatus.RESPONDENT_PENDING
    assert consent.text.code == ONLINE_MEDIATION_CONSENT.code
    assert NoticeAcknowledgement.objects.get(case=case, user=user).text.code == "omr7.online_mediation"
    assert AuditEvent.objects.get(case=case, kind="case.respondent_consented").actor == user


def test_a_refusing_respondent_ends_mediation_and_the_materials_go_back(world, console_sms):
    case, user = pending_with_respondent(world)
    console_sms.clear()
    case = respondent_answer(case=case, actor=user, willing=False)
    applicant_phone = Party.objects.get(case=case, role=PartyRole.APPLICANT).phone
    queued = OutboxMessage.objects.get(idempotency_key=f"materials-returned:{case.pk}:{applicant_phone}")
    assert queued.case == case and "不愿意调解" in queued.body
    outbox_drain(worker_id="t")
    assert case.status == CaseStatus.TERMINATED
    assert case.end_reason == EndReason.REFUSED_TO_CONTINUE
    assert not Consent.objects.get(case=case, kind=ConsentKind.ONLINE_MEDIATION).granted
    ended = AuditEvent.objects.get(case=case, kind="case.respondent_declined")
    assert ended.actor is None  # the platform ends it on the respondent's recorded refusal
    returned = AuditEvent.objects.get(case=case, kind="materials.returned")
    assert returned.data["evidence"] == list(Evidence.objects.filter(case=case).values_list("pk", flat=True))
    assert returned.data["court"] == world.court.pk
    [told] = console_sms
    assert told.phone == Party.objects.get(case=case, role=PartyRole.APPLICANT).phone
    assert "不愿意调解" in told.text and world.court.name in told.text


def test_the_respondents_agent_may_answer(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING, linked=True)
    case = respondent_answer(case=case, actor=world.lawyer, willing=True)
    assert case.status == CaseStatus.SCHEDULING


@pytest.mark.parametrize("name", ["applicant", "outsider", "mediator", "other_mediator", "clerk", "other_clerk"])
def test_nobody_else_answers_for_the_respondent(world, name):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING, linked=True)
    with pytest.raises(PermissionDenied):
        respondent_answer(case=case, actor=getattr(world, name), willing=False)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESPONDENT_PENDING
    assert not Consent.objects.filter(case=case).exists()


def test_an_answer_to_an_outdated_text_is_refused_with_nothing_saved(world):
    case, user = pending_with_respondent(world)
    shown = notice_text_publish(
        code=ONLINE_MEDIATION_CONSENT.code, title=ONLINE_MEDIATION_CONSENT.title, body="旧版本", actor=None
    )
    # The page showed ``shown``; answering publishes the standard text again, a newer version.
    with pytest.raises(InvalidInput, match="已更新，请重新阅读"):
        respondent_answer(case=case, actor=user, willing=True, consent_text_id=shown.pk)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESPONDENT_PENDING
    assert not Consent.objects.filter(case=case).exists()
    assert not NoticeAcknowledgement.objects.filter(case=case).exists()


# --- Unreachable ------------------------------------------------------------------------------------------


def test_recording_unreachable_needs_a_note(world):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    with pytest.raises(InvalidInput, match="请写明联系被申请人的经过"):
        respondent_unreachable(case=case, actor=world.mediator, note="  ")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESPONDENT_PENDING


def test_the_mediator_records_unreachable_and_the_applicant_is_told(world, console_sms):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    case = respondent_unreachable(case=case, actor=world.mediator, note="三次致电均无人接听，短信未回复。")
    outbox_drain(worker_id="t")
    assert case.status == CaseStatus.TERMINATED and case.end_reason == EndReason.UNREACHABLE
    assert "materials.returned" in kinds(case)
    assert "无法联系到被申请人" in console_sms[-1].text


@pytest.mark.parametrize("name", ["applicant", "outsider", "other_mediator", "clerk"])
def test_only_the_mediator_records_unreachable(world, name):
    case = one_sided_case(world, status=CaseStatus.RESPONDENT_PENDING)
    with pytest.raises(PermissionDenied):
        respondent_unreachable(case=case, actor=getattr(world, name), note="联系不上")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESPONDENT_PENDING
