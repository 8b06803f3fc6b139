"""Signing on the phone as a service: who may sign what and when, the one-time code, the agreement taking
effect (OMR 19; PML 29), and what follows: service on the parties, filing with the court (SIM 19), closing as
settled, and the joint confirmation application (CPL 205)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage

from documents.models import Document, DocumentSignature
from documents.services.issuing import document_issue
from documents.services.signing import document_pending_slots, document_sign, document_sign_code_send
from mediation.choices import (
    AgentAuthority,
    CaseOrigin,
    CaseStatus,
    DocumentKind,
    MessageChannel,
    OrganisationKind,
    Role,
    SignerRole,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, TransitionNotAllowed
from mediation.models import Agent, AuditEvent, Case, OutboxMessage, ServiceRecord, Timer
from tests.agreement_support import parties_of
from tests.factories import OrganisationFactory, add_member
from tests.signing_support import (  # noqa: F401 - fixtures
    consent_to_e_service,
    dev_ca_dir,
    handwriting_png,
    jc_application,
    last_code,
    ready_to_sign,
    sign,
    sign_all,
    signing_env,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing_env")]


def stored_bytes(signature: DocumentSignature) -> bytes:
    with signature.pdf.open("rb") as handle:
        return handle.read()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def reload(document: Document) -> Case:
    return Case.objects.get(pk=document.case_id)


# --- signing in turn ---------------------------------------------------------------------------------------


def test_each_signature_is_an_incremental_revision_of_the_one_before(world):
    document = ready_to_sign(world)
    signatures = sign_all(world, document)
    assert [s.sequence for s in signatures] == [1, 2, 3, 4]
    with document.pdf.open("rb") as handle:
        previous = handle.read()
    for signature in signatures:
        data = stored_bytes(signature)
        assert data.startswith(previous) and len(data) > len(previous)
        assert hashlib.sha256(data).hexdigest() == signature.sha256
        previous = data
    assert [s.role for s in signatures] == [SignerRole.PARTY, SignerRole.PARTY, SignerRole.MEDIATOR,
                                            SignerRole.ORGANISATION]


def test_a_signature_is_audited_with_the_certificate_serial_and_the_resulting_hash(world):
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    signature = sign(document, world.applicant, party=applicant)
    event = AuditEvent.objects.filter(case=document.case, kind="document.signed").get()
    assert event.actor == world.applicant
    assert event.data["certificate_serial"] == signature.certificate_serial
    assert event.data["sha256"] == signature.sha256
    assert event.data["previous_sha256"] == document.sha256
    assert signature.handwriting.name and signature.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")


def test_an_agent_with_special_authority_signs_for_the_party(world):
    document = ready_to_sign(world)
    _applicant, respondent = parties_of(document.case)
    signature = sign(document, world.lawyer, SignerRole.AGENT, party=respondent)
    assert signature.party == respondent and signature.signer == world.lawyer
    assert f"party_{respondent.pk}" not in [slot.key for slot in document_pending_slots(document)]
    # Into the party's own box (one per party side, issue 17 item 9), in the agent's name.
    assert signature.field_name == f"party_{respondent.pk}" and signature.signer_name == world.lawyer.real_name


# --- refusals ----------------------------------------------------------------------------------------------


def test_an_agreement_without_every_party_s_assent_cannot_be_signed(world):
    document = ready_to_sign(world, assent=False)
    applicant, _respondent = parties_of(document.case)
    with pytest.raises(InvalidInput, match="逐条确认同意"):
        document_sign_code_send(document=document, actor=world.applicant, role=SignerRole.PARTY, party=applicant)
    assert not DocumentSignature.objects.exists()


def test_an_agent_without_special_authority_cannot_sign(world):
    document = ready_to_sign(world)
    _applicant, respondent = parties_of(document.case)
    Agent.objects.filter(party=respondent, user=world.lawyer).update(authority=AgentAuthority.GENERAL)
    with pytest.raises(PermissionDenied, match="第六十二条"):
        document_sign_code_send(document=document, actor=world.lawyer, role=SignerRole.AGENT, party=respondent)
    with pytest.raises(PermissionDenied, match="第六十二条"):
        document_sign(document=document, actor=world.lawyer, role=SignerRole.AGENT, party=respondent,
                      code="123456", handwriting_png=handwriting_png())
    assert not DocumentSignature.objects.exists()


def test_a_wrong_one_time_code_is_refused_and_nothing_is_stored(world):
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    document_sign_code_send(document=document, actor=world.applicant, role=SignerRole.PARTY, party=applicant)
    with pytest.raises(InvalidInput, match="验证码不正确"):
        document_sign(document=document, actor=world.applicant, role=SignerRole.PARTY, party=applicant,
                      code=wrong(last_code(world.applicant.phone)), handwriting_png=handwriting_png())
    assert not DocumentSignature.objects.exists()
    assert not AuditEvent.objects.filter(kind="document.signed").exists()
    assert not default_storage.exists("documents/signed")


@pytest.mark.parametrize("who", ["outsider", "other_mediator", "other_judge", "judge", "clerk"])
def test_people_without_a_signature_on_the_document_cannot_sign_it(world, who):
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    user = getattr(world, who)
    with pytest.raises(PermissionDenied):
        document_sign_code_send(document=document, actor=user)
    with pytest.raises(PermissionDenied):
        document_sign(document=document, actor=user, role=SignerRole.PARTY, party=applicant, code="123456",
                      handwriting_png=handwriting_png())
    assert not DocumentSignature.objects.exists()


def test_the_other_party_cannot_sign_for_you(world):
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    with pytest.raises(PermissionDenied, match="不能代表该当事人签署"):
        document_sign_code_send(document=document, actor=world.respondent, role=SignerRole.PARTY, party=applicant)
    with pytest.raises(PermissionDenied, match="不能代表该当事人签署"):
        document_sign(document=document, actor=world.respondent, role=SignerRole.PARTY, party=applicant,
                      code="123456", handwriting_png=handwriting_png())


def test_a_party_cannot_apply_the_organisation_s_seal_or_sign_as_mediator(world):
    document = ready_to_sign(world)
    for role in (SignerRole.MEDIATOR, SignerRole.ORGANISATION):
        with pytest.raises(PermissionDenied):
            document_sign_code_send(document=document, actor=world.applicant, role=role)


def test_each_signer_signs_once(world):
    document = ready_to_sign(world)
    applicant, respondent = parties_of(document.case)
    sign(document, world.applicant, party=applicant)
    with pytest.raises(InvalidInput, match="只签一次"):
        sign(document, world.applicant, party=applicant)
    sign(document, world.respondent, party=respondent)
    with pytest.raises(InvalidInput, match="只签一次"):  # the agent cannot sign again for a party who signed
        document_sign_code_send(document=document, actor=world.lawyer, role=SignerRole.AGENT, party=respondent)
    assert document.signatures.count() == 2


def test_a_document_is_signed_only_in_its_signing_state(world):
    document = ready_to_sign(world)
    sign_all(world, document)  # the case moves on to CLOSED_SETTLED
    application = jc_application(reload(document))
    applicant, _respondent = parties_of(document.case)
    case = world.drive(reload(document), CaseStatus.JC_SUBMITTED)
    assert case.status == CaseStatus.JC_SUBMITTED
    with pytest.raises(TransitionNotAllowed):
        document_sign_code_send(document=application, actor=world.applicant, role=SignerRole.PARTY, party=applicant)


@pytest.mark.parametrize(
    ("png", "message"),
    [(b"", "手写签名"), (b"GIF89a....", "格式不正确"), (handwriting_png(30, 30), "尺寸"),
     (handwriting_png(600, 240)[:60], "无法读取")],
)
def test_handwriting_must_be_a_png_of_sane_size(world, png, message):
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    with pytest.raises(InvalidInput, match=message):
        sign(document, world.applicant, party=applicant, png=png)
    assert not DocumentSignature.objects.exists()


def test_a_blank_signature_pad_is_refused(world):
    from io import BytesIO

    from PIL import Image

    blank = BytesIO()
    Image.new("RGBA", (600, 240), (0, 0, 0, 0)).save(blank, "PNG")
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    with pytest.raises(InvalidInput, match="没有检测到签名笔迹"):
        sign(document, world.applicant, party=applicant, png=blank.getvalue())


# --- effectiveness and what follows -----------------------------------------------------------------------


def test_the_agreement_takes_effect_at_the_last_party_signature_and_starts_the_30_day_window(world):
    document = ready_to_sign(world)
    applicant, respondent = parties_of(document.case)
    sign(document, world.applicant, party=applicant)
    assert reload(document).status == CaseStatus.SIGNING
    last = sign(document, world.respondent, party=respondent)
    case = reload(document)
    document.refresh_from_db()
    assert case.status == CaseStatus.AGREEMENT_EFFECTIVE
    assert case.agreement_effective_at == last.signed_at == document.effective_at
    window = Timer.objects.get(case=case, kind=TimerKind.JC_APPLICATION_WINDOW)
    assert window.status == TimerStatus.RUNNING and window.started_at == last.signed_at


def test_a_peoples_mediation_agreement_takes_effect_only_with_the_mediator_s_signature_and_the_seal(world):
    committee = OrganisationFactory(name="北京市东城区和平里人民调解委员会",
                                    kind=OrganisationKind.PEOPLES_MEDIATION_COMMITTEE, has_e_seal=True)
    add_member(world.org_admin, committee, Role.ORG_ADMIN)
    world.partner = committee  # new cases go to the committee
    document = ready_to_sign(world)
    assert document.agreement.variant == "peoples"
    applicant, respondent = parties_of(document.case)
    sign(document, world.applicant, party=applicant)
    sign(document, world.respondent, party=respondent)
    sign(document, world.mediator, SignerRole.MEDIATOR)
    assert reload(document).status == CaseStatus.SIGNING
    seal = sign(document, world.org_admin, SignerRole.ORGANISATION)
    case = reload(document)
    assert case.agreement_effective_at == seal.signed_at
    assert case.status == CaseStatus.CLOSED_SETTLED  # complete at once: served, filed, closed


def test_the_fully_signed_agreement_is_served_on_every_party(world):
    document = ready_to_sign(world)
    consent_to_e_service(document.case)
    signatures = sign_all(world, document)
    records = ServiceRecord.objects.filter(case=document.case, document_title=document.title)
    assert {r.recipient_id for r in records} == {p.pk for p in parties_of(document.case)}
    assert {r.document_sha256 for r in records} == {signatures[-1].sha256}
    assert all(r.served_by == world.mediator for r in records)


def test_a_party_without_e_service_consent_is_recorded_as_not_yet_served(world):
    document = ready_to_sign(world)
    sign_all(world, document)
    assert not ServiceRecord.objects.filter(case=document.case).exists()
    pending = AuditEvent.objects.filter(case=document.case, kind="document.service_pending")
    assert pending.count() == 2
    assert reload(document).status == CaseStatus.CLOSED_SETTLED  # the agreement's effect does not wait


def test_a_copy_is_filed_with_the_referring_court(world):
    document = ready_to_sign(world)
    signatures = sign_all(world, document)
    filed = AuditEvent.objects.get(case=document.case, kind="document.filed_with_court")
    assert filed.data["court"] == world.court.pk and filed.data["sha256"] == signatures[-1].sha256
    notice = OutboxMessage.objects.get(recipient=world.clerk, channel=MessageChannel.IN_APP, case=document.case)
    assert "备案" in notice.subject
    assert not OutboxMessage.objects.filter(recipient=world.other_clerk).exists()


def test_the_case_closes_as_settled_only_once_the_mediator_and_the_seal_are_on(world):
    document = ready_to_sign(world)
    applicant, respondent = parties_of(document.case)
    sign(document, world.applicant, party=applicant)
    sign(document, world.respondent, party=respondent)
    sign(document, world.mediator, SignerRole.MEDIATOR)
    assert reload(document).status == CaseStatus.AGREEMENT_EFFECTIVE
    assert not AuditEvent.objects.filter(case=document.case, kind="document.filed_with_court").exists()
    sign(document, world.org_admin, SignerRole.ORGANISATION)
    case = reload(document)
    assert case.status == CaseStatus.CLOSED_SETTLED and case.end_reason == "agreement"


def test_the_joint_application_is_submitted_when_every_party_has_signed_it(world):
    document = ready_to_sign(world)
    sign_all(world, document)
    application = jc_application(reload(document))
    applicant, respondent = parties_of(document.case)
    with pytest.raises(PermissionDenied):  # the mediator does not sign the parties' application
        document_sign_code_send(document=application, actor=world.mediator, role=SignerRole.MEDIATOR)
    sign(application, world.applicant, party=applicant)
    assert reload(document).status == CaseStatus.CLOSED_SETTLED
    last = sign(application, world.lawyer, SignerRole.AGENT, party=respondent)
    assert reload(document).status == CaseStatus.JC_SUBMITTED
    submitted = AuditEvent.objects.get(case=document.case, kind="case.apply_for_confirmation")
    assert submitted.data["document"] == application.pk and submitted.data["sha256"] == last.sha256


def test_an_entrusted_case_s_parties_do_not_sign_a_confirmation_application(world):
    document = ready_to_sign(world, origin=CaseOrigin.ENTRUSTED)
    sign_all(world, document)
    assert reload(document).status == CaseStatus.CLOSED_SETTLED
    application = jc_application(reload(document))  # issued by hand: the platform does not issue one (OMR 20)
    applicant, _respondent = parties_of(document.case)
    with pytest.raises(TransitionNotAllowed):
        document_sign_code_send(document=application, actor=world.applicant, role=SignerRole.PARTY, party=applicant)


@pytest.mark.django_db(transaction=True)
def test_two_parties_signing_at_once_sign_one_after_the_other(world):
    import threading

    from django.db import connection

    document = ready_to_sign(world)
    applicant, respondent = parties_of(document.case)
    signers = [(world.applicant, applicant), (world.respondent, respondent)]
    for user, party in signers:
        document_sign_code_send(document=document, actor=user, role=SignerRole.PARTY, party=party)
    codes = {user.pk: last_code(user.phone) for user, _party in signers}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign_now(user, party) -> None:
        try:
            start.wait(timeout=10)
            document_sign(document=Document.objects.get(pk=document.pk), actor=user, role=SignerRole.PARTY,
                          party=party, code=codes[user.pk], handwriting_png=handwriting_png())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_now, args=pair) for pair in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    first, second = document.signatures.order_by("sequence")
    assert (first.sequence, second.sequence) == (1, 2)
    assert stored_bytes(second).startswith(stored_bytes(first))
    assert reload(document).status == CaseStatus.AGREEMENT_EFFECTIVE
    assert AuditEvent.objects.filter(case=document.case, kind="case.agreement_signed").count() == 1


# --- Review (issue 6): codes bound to a document, the 30-day window, the proof's seal, stored files -----------


def test_a_code_sent_to_sign_one_document_does_not_sign_another(world):
    first = ready_to_sign(world)
    second = ready_to_sign(world)
    applicant_first, _ = parties_of(first.case)
    applicant_second, _ = parties_of(second.case)
    document_sign_code_send(document=first, actor=world.applicant, role=SignerRole.PARTY, party=applicant_first)
    with pytest.raises(InvalidInput, match="不是为签署本文书发送的"):
        document_sign(document=second, actor=world.applicant, role=SignerRole.PARTY, party=applicant_second,
                      code=last_code(world.applicant.phone), handwriting_png=handwriting_png())
    assert not DocumentSignature.objects.exists()


def test_the_application_cannot_be_signed_once_the_30_day_window_has_run_out(world):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    document = ready_to_sign(world)
    sign_all(world, document)
    application = jc_application(reload(document))
    applicant, _respondent = parties_of(document.case)
    window = Timer.objects.get(case=document.case, kind=TimerKind.JC_APPLICATION_WINDOW)
    with time_machine.travel(window.due_at + dt.timedelta(minutes=1), tick=False):
        assert timezone.now() > window.due_at
        assert reload(document).status == CaseStatus.CLOSED_SETTLED  # the sweep has not run yet
        with pytest.raises(TransitionNotAllowed, match="期限"):
            document_sign_code_send(document=application, actor=world.applicant, role=SignerRole.PARTY,
                                    party=applicant)
    assert not application.signatures.exists()


def test_the_organisation_seals_its_proof_of_presiding(world):
    document = ready_to_sign(world)
    sign_all(world, document)
    proof = document_issue(case=reload(document), kind=DocumentKind.PRESIDING_PROOF, actor=None)
    seal = sign(proof, world.org_admin, SignerRole.ORGANISATION)
    assert seal.role == SignerRole.ORGANISATION and seal.field_name == f"org_{world.partner.pk}"
    assert document_pending_slots(proof) == []


@pytest.mark.parametrize("who", ["outsider", "applicant", "mediator", "judge"])
def test_only_the_organisation_s_administrator_seals_the_proof(world, who):
    document = ready_to_sign(world)
    sign_all(world, document)
    proof = document_issue(case=reload(document), kind=DocumentKind.PRESIDING_PROOF, actor=None)
    with pytest.raises(PermissionDenied):
        document_sign_code_send(document=proof, actor=getattr(world, who), role=SignerRole.ORGANISATION)
    assert not proof.signatures.exists()


def test_a_revision_changed_in_storage_is_neither_signed_over_nor_served(world):
    from documents.services.signing import StoredFileAltered, document_download

    document = ready_to_sign(world)
    applicant, respondent = parties_of(document.case)
    first = sign(document, world.applicant, party=applicant)
    tampered = stored_bytes(first).replace(b"/Producer", b"/Producex", 1)
    with default_storage.open(first.pdf.name, "wb") as handle:
        handle.write(tampered)
    with pytest.raises(StoredFileAltered):
        sign(document, world.respondent, party=respondent)
    with pytest.raises(StoredFileAltered):
        document_download(document=document, actor=world.applicant)
    assert document.signatures.count() == 1


def test_a_signature_row_is_never_changed_or_deleted(world):
    from documents.models import DocumentImmutable

    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    signature = sign(document, world.applicant, party=applicant)
    signature.sha256 = "0" * 64
    with pytest.raises(DocumentImmutable):
        signature.save()
    with pytest.raises(DocumentImmutable):
        DocumentSignature.objects.get(pk=signature.pk).delete()
