"""Electronic service: served only over the channels the recipient consented to for the stage, effective
under OLR 31 (checked with the clock moved), the recipient's reads and acts recorded, address changes and
per-stage withdrawals honoured by later services, and nothing half-saved when a service is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from weasyprint import HTML

from mediation.adapters import sms
from mediation.choices import (
    AddressSource,
    CaseOrigin,
    CaseStatus,
    ConsentKind,
    MessageChannel,
    OutboxStatus,
    ServiceChannel,
    ServiceRule,
    ServiceStage,
)
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import AuditEvent, Consent, OutboxMessage, ServiceAddress, ServiceDelivery, ServiceRecord
from mediation.selectors.service import service_certificate, service_record_get_for_user, service_records_for_case
from mediation.services.outbox import inbox_mark_read, outbox_deliver_due
from mediation.services.service import (
    AddressInvalid,
    count_pdf_pages,
    document_serve,
    e_service_withdraw,
    service_address_change,
    service_paper_copy_request,
    service_record_acknowledge,
    service_record_download,
    service_record_refresh,
    service_record_view,
    service_records_refresh_pending,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
ALL_STAGES = list(ServiceStage.values)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sms.outbox_clear()
    yield tmp_path
    sms.outbox_clear()


def party_of(case, user):
    return case.parties.get(user=user)


def confirm(case, user, *, actor=None, **overrides):
    """The party's 送达地址确认书, through the service: e-service for every stage by default."""
    party = party_of(case, user)
    values = {
        "recipient_name": party.name, "postal_address": "北京市东城区东直门南大街1号", "postal_recipient": party.name,
        "postal_phone": "13800000000", "e_service_consent": True, "stages": ALL_STAGES, "mobile": "13800000001",
        "email": "", "platform_account": True,
    }
    values.update(overrides)
    return service_address_change(case=case, party=party, actor=actor or user, **values)


def in_mediation(world, **kwargs):
    return world.drive(world.new_case(**kwargs), CaseStatus.IN_MEDIATION)


def serve(world, case, user, **kwargs):
    kwargs.setdefault("document_title", "调解笔录")
    kwargs.setdefault("document_bytes", PDF)
    return document_serve(case=case, recipient=party_of(case, user), actor=kwargs.pop("actor", world.mediator),
                          **kwargs)


def delivery(record, channel):
    return record.deliveries.get(channel=channel)


def provider_accepts(record, channel, at):
    """What the outbox worker records when the provider takes the message: SENT at ``at``."""
    message = delivery(record, channel).message
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENT, sent_at=at)


def counts():
    return (ServiceRecord.objects.count(), ServiceDelivery.objects.count(), OutboxMessage.objects.count(),
            AuditEvent.objects.filter(kind__startswith="service.").count())


# --- OLR 31 para 1: a confirmed address counts from arrival -----------------------------------------------


def test_a_platform_account_is_served_the_moment_the_document_is_issued(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    with time_machine.travel(T0, tick=False):
        record = serve(world, case, world.respondent)
    assert record.effective_at == T0
    assert (record.effective_channel, record.rule) == (ServiceChannel.PLATFORM, ServiceRule.ARRIVAL)
    platform = delivery(record, ServiceChannel.PLATFORM)
    assert platform.address_source == AddressSource.CONFIRMED
    assert platform.sent_at == platform.arrived_at == T0
    assert platform.message.channel == MessageChannel.IN_APP  # the notice shows in the recipient's inbox
    kinds = list(AuditEvent.objects.filter(case=case, kind__startswith="service.").values_list("kind", flat=True))
    assert kinds == ["service.issued", "service.effective"]


def test_sms_and_email_are_served_when_the_outbox_hands_them_over_and_the_earliest_wins(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False, email="lisi@example.cn")
    with time_machine.travel(T0, tick=False):
        record = serve(world, case, world.respondent)
    assert record.effective_at is None  # nothing has reached the recipient yet
    provider_accepts(record, ServiceChannel.SMS, T0 + dt.timedelta(minutes=5))
    provider_accepts(record, ServiceChannel.EMAIL, T0 + dt.timedelta(minutes=2))
    record = service_record_refresh(record=record)
    assert record.effective_at == T0 + dt.timedelta(minutes=2)
    assert (record.effective_channel, record.rule) == (ServiceChannel.EMAIL, ServiceRule.ARRIVAL)
    sms_row = delivery(record, ServiceChannel.SMS)
    assert sms_row.arrived_at == T0 + dt.timedelta(minutes=5)


def test_a_channel_arriving_later_never_moves_the_effective_time(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False, email="lisi@example.cn")
    record = serve(world, case, world.respondent)
    provider_accepts(record, ServiceChannel.SMS, T0)
    record = service_record_refresh(record=record)
    provider_accepts(record, ServiceChannel.EMAIL, T0 + dt.timedelta(hours=3))
    record = service_record_refresh(record=record)
    assert (record.effective_at, record.effective_channel) == (T0, ServiceChannel.SMS)
    assert AuditEvent.objects.filter(case=case, kind="service.effective").count() == 1


def test_the_real_outbox_worker_makes_an_sms_service_effective_at_the_moment_it_sends(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False)
    with time_machine.travel(T0, tick=False):
        record = serve(world, case, world.respondent)
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        assert outbox_deliver_due() == 1
        assert service_records_refresh_pending() == 1
    record.refresh_from_db()
    assert record.effective_at == T0 + dt.timedelta(minutes=1)
    assert record.rule == ServiceRule.ARRIVAL
    [sent] = sms.outbox
    assert sent.phone == "13800000001"
    assert f"/service/{record.pk}/?via=sms" in sent.text
    assert "调解笔录" in sent.text


def test_a_failed_message_never_makes_the_service_effective(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False)
    record = serve(world, case, world.respondent)
    OutboxMessage.objects.filter(pk=delivery(record, ServiceChannel.SMS).message_id).update(
        status=OutboxStatus.FAILED, last_error="gateway down")
    record = service_record_refresh(record=record)
    assert record.effective_at is None
    [row] = service_certificate(record=record).rows
    assert row.state == "failed"


# --- OLR 31 para 2: another address, or no recorded arrival ------------------------------------------------


def unconfirmed_sms_service(world, case):
    """An SMS service whose address the recipient did not provide or confirm. No service writes one today
    (every address comes from the recipient's confirmation), so the provenance is set here by hand."""
    confirm(case, world.respondent, platform_account=False)
    record = serve(world, case, world.respondent)
    ServiceDelivery.objects.filter(record=record).update(address_source=AddressSource.OTHER)
    return record


def test_another_address_is_not_served_by_arrival_alone(world):
    case = in_mediation(world)
    record = unconfirmed_sms_service(world, case)
    provider_accepts(record, ServiceChannel.SMS, T0)
    assert service_record_refresh(record=record).effective_at is None


def test_another_address_is_presumed_served_when_the_recipient_reads_it(world):
    case = in_mediation(world)
    record = unconfirmed_sms_service(world, case)
    provider_accepts(record, ServiceChannel.SMS, T0)
    read_at = T0 + dt.timedelta(hours=2)
    with time_machine.travel(read_at, tick=False):
        record = service_record_view(actor=world.respondent, record_id=record.pk, via="sms")
    assert (record.effective_at, record.rule) == (read_at, ServiceRule.READ)


def test_another_address_is_served_when_the_recipient_acts_on_it(world):
    case = in_mediation(world)
    record = unconfirmed_sms_service(world, case)
    provider_accepts(record, ServiceChannel.SMS, T0)
    acted = T0 + dt.timedelta(hours=3)
    with time_machine.travel(acted, tick=False):
        record = service_record_download(actor=world.respondent, record_id=record.pk, via="sms")
    assert (record.effective_at, record.rule) == (acted, ServiceRule.REPLY)
    row = delivery(record, ServiceChannel.SMS)
    assert (row.acted_at, row.action) == (acted, "download")


def test_a_later_act_does_not_move_the_moment_the_read_already_served_it(world):
    case = in_mediation(world)
    record = unconfirmed_sms_service(world, case)
    provider_accepts(record, ServiceChannel.SMS, T0)
    read_at = T0 + dt.timedelta(hours=2)
    with time_machine.travel(read_at, tick=False):
        service_record_view(actor=world.respondent, record_id=record.pk, via="sms")
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        record = service_record_download(actor=world.respondent, record_id=record.pk, via="sms")
    assert (record.effective_at, record.rule) == (read_at, ServiceRule.READ)


def test_a_confirmed_sms_not_yet_reported_sent_is_served_when_the_recipient_follows_its_link(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False)
    record = serve(world, case, world.respondent)
    with time_machine.travel(T0, tick=False):
        record = service_record_view(actor=world.respondent, record_id=record.pk, via="sms")
    assert (record.effective_at, record.effective_channel, record.rule) == (T0, ServiceChannel.SMS, ServiceRule.READ)


def test_several_channels_with_different_moments_take_the_earliest_effective_one(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False, email="lisi@example.cn")
    record = serve(world, case, world.respondent)
    ServiceDelivery.objects.filter(record=record, channel=ServiceChannel.EMAIL).update(
        address_source=AddressSource.OTHER)
    provider_accepts(record, ServiceChannel.EMAIL, T0)  # arrived first, but that alone does not serve it
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        service_record_view(actor=world.respondent, record_id=record.pk, via="email")  # presumed: read
    provider_accepts(record, ServiceChannel.SMS, T0 + dt.timedelta(minutes=30))  # confirmed: arrival
    record = service_record_refresh(record=record)
    assert record.effective_at == T0 + dt.timedelta(minutes=10)
    assert (record.effective_channel, record.rule) == (ServiceChannel.EMAIL, ServiceRule.READ)


# --- Which channels are used ----------------------------------------------------------------------------


def test_a_channel_the_recipient_did_not_consent_to_is_never_used(world):
    case = in_mediation(world)
    party = party_of(case, world.respondent)
    party.email = "known-but-not-consented@example.cn"
    party.save(update_fields=["email"])
    confirm(case, world.respondent, email="", im_account="lisi_wx")
    record = serve(world, case, world.respondent)
    channels = set(record.deliveries.values_list("channel", flat=True))
    assert channels == {ServiceChannel.PLATFORM, ServiceChannel.SMS, ServiceChannel.IM}
    assert not OutboxMessage.objects.filter(channel=MessageChannel.EMAIL).exists()
    im = delivery(record, ServiceChannel.IM)
    assert im.message is None and im.sent_at is None  # recorded, never sent: no adapter
    assert service_certificate(record=record).rows[-1].state == "not_sent"


def test_a_recipient_without_a_platform_login_is_served_over_the_other_channels(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    party = party_of(case, world.respondent)
    party.user = None
    party.save(update_fields=["user"])
    record = document_serve(case=case, recipient=party, actor=world.mediator, document_title="调解笔录",
                            document_bytes=PDF)
    assert set(record.deliveries.values_list("channel", flat=True)) == {ServiceChannel.SMS}


def test_serving_without_any_consent_is_refused_and_nothing_is_saved(world, media):
    case = in_mediation(world)
    before = counts()
    with pytest.raises(InvalidInput, match="纸质送达不在本平台办理"):
        serve(world, case, world.respondent)
    assert counts() == before
    assert not any(Path(media).rglob("*"))


def test_a_recipient_who_refused_e_service_is_not_served_electronically(world):
    case = in_mediation(world)
    confirm(case, world.respondent, e_service_consent=False)
    with pytest.raises(InvalidInput, match="未同意在“调解”阶段电子送达"):
        serve(world, case, world.respondent)
    assert ServiceRecord.objects.count() == 0


def test_withdrawing_consent_for_a_stage_stops_e_service_at_that_stage(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    serve(world, case, world.respondent)
    e_service_withdraw(case=case, party=party_of(case, world.respondent), actor=world.respondent,
                       stage=ServiceStage.MEDIATION)
    before = counts()
    with pytest.raises(InvalidInput, match="未同意在“调解”阶段电子送达（或已撤回同意）"):
        serve(world, case, world.respondent, document_title="调解协议书")
    assert counts() == before
    latest = ServiceAddress.objects.filter(party__case=case).order_by("-confirmed_at", "-pk").first()
    assert ServiceStage.MEDIATION not in latest.stages and ServiceStage.CONFIRMATION in latest.stages
    consent = Consent.objects.filter(case=case, kind=ConsentKind.E_SERVICE).order_by("-given_at", "-pk").first()
    assert consent.granted is False
    assert AuditEvent.objects.filter(case=case, kind="e_service.withdrawn", data__stage="mediation").exists()


def test_a_withdrawal_for_another_stage_leaves_this_stage_served(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    e_service_withdraw(case=case, party=party_of(case, world.respondent), actor=world.respondent,
                       stage=ServiceStage.ENFORCEMENT)
    assert serve(world, case, world.respondent).effective_at is not None


def test_consent_counts_per_stage_in_the_confirmation_stage(world):
    case = world.drive(world.new_case(), CaseStatus.JC_SUBMITTED)
    confirm(case, world.respondent, stages=[ServiceStage.MEDIATION])
    with pytest.raises(InvalidInput, match="司法确认"):
        document_serve(case=case, recipient=party_of(case, world.respondent), actor=world.judge,
                       document_title="受理通知书", document_bytes=PDF)
    confirm(case, world.respondent, stages=[ServiceStage.MEDIATION, ServiceStage.CONFIRMATION])
    record = document_serve(case=case, recipient=party_of(case, world.respondent), actor=world.judge,
                            document_title="受理通知书", document_bytes=PDF)
    assert AuditEvent.objects.filter(kind="service.issued", data__record=record.pk, data__stage="confirmation").exists()


def test_withdrawing_a_stage_never_consented_to_is_refused(world):
    case = in_mediation(world)
    confirm(case, world.respondent, stages=[ServiceStage.MEDIATION])
    with pytest.raises(InvalidInput, match="无需撤回"):
        e_service_withdraw(case=case, party=party_of(case, world.respondent), actor=world.respondent,
                           stage=ServiceStage.LITIGATION)


def test_a_changed_address_is_used_by_later_services_and_earlier_ones_keep_theirs(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False, mobile="13800000001")
    first = serve(world, case, world.respondent)
    confirm(case, world.respondent, platform_account=False, mobile="13900000002")
    second = serve(world, case, world.respondent, document_title="调解协议书")
    assert delivery(first, ServiceChannel.SMS).address == "13800000001"
    assert delivery(second, ServiceChannel.SMS).address == "13900000002"
    assert list(AuditEvent.objects.filter(case=case, kind__startswith="service_address.").values_list(
        "kind", flat=True)) == ["service_address.confirmed", "service_address.changed"]


def test_an_agent_may_change_the_address_of_the_party_they_represent(world):
    case = in_mediation(world)
    address = confirm(case, world.respondent, actor=world.lawyer)
    assert address.confirmed_by == world.lawyer


@pytest.mark.parametrize("name", ["applicant", "mediator", "outsider", "clerk"])
def test_nobody_else_changes_a_party_s_address(world, name):
    case = in_mediation(world)
    with pytest.raises(PermissionDenied):
        confirm(case, world.respondent, actor=getattr(world, name))
    assert not ServiceAddress.objects.exists()


def test_an_address_with_e_service_needs_a_mobile_and_well_formed_details(world):
    case = in_mediation(world)
    with pytest.raises(AddressInvalid) as caught:
        confirm(case, world.respondent, mobile="", email="not-an-email", postal_phone="12", stages=[])
    assert set(caught.value.errors) == {"mobile", "email", "postal_phone", "stages"}
    assert not ServiceAddress.objects.exists()
    assert not Consent.objects.filter(kind=ConsentKind.E_SERVICE).exists()


# --- Who may serve, what is stored ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mediator", "clerk", "judge"])
def test_the_case_s_mediator_clerk_and_judge_may_serve(world, name):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent, actor=getattr(world, name))
    expected = world.partner if name == "mediator" else world.court
    assert record.serving_body == expected


@pytest.mark.parametrize("name", ["applicant", "respondent", "lawyer", "org_admin", "other_mediator", "other_clerk",
                                  "other_judge", "outsider"])
def test_nobody_else_may_serve(world, name):
    case = in_mediation(world)
    confirm(case, world.respondent)
    before = counts()
    with pytest.raises(PermissionDenied):
        serve(world, case, world.respondent, actor=getattr(world, name))
    assert counts() == before


def test_a_party_of_another_case_cannot_be_served_in_this_one(world):
    case, other = in_mediation(world), world.new_case()
    with pytest.raises(InvalidInput, match="不是本案当事人"):
        document_serve(case=case, recipient=other.parties.first(), actor=world.mediator, document_title="笔录",
                       document_bytes=PDF)


@pytest.mark.parametrize(
    ("title", "data", "message"),
    [("", PDF, "请填写文书名称"), ("调解笔录", b"", "请选择|空的"), ("调解笔录", b"just text", "PDF"),
     ("调" * 201, PDF, "200")],
)
def test_bad_documents_are_refused_and_nothing_is_saved(world, title, data, message):
    case = in_mediation(world)
    confirm(case, world.respondent)
    before = counts()
    with pytest.raises(InvalidInput, match=message):
        serve(world, case, world.respondent, document_title=title, document_bytes=data)
    assert counts() == before


def test_the_document_is_stored_under_its_hash_with_its_page_count(world, media):
    case = in_mediation(world)
    confirm(case, world.respondent)
    pdf = HTML(string="<p>一</p><p style='page-break-before:always'>二</p>").write_pdf()
    with time_machine.travel(T0, tick=False):
        record = serve(world, case, world.respondent, document_bytes=pdf, document_number="（2026）京0101民诉前调1号")
    digest = hashlib.sha256(pdf).hexdigest()
    assert record.document_sha256 == digest
    assert record.document_file.name == f"served/{digest}"
    assert (Path(media) / "served" / digest).read_bytes() == pdf
    assert record.document_pages == 2
    assert record.certificate_number == f"YZSD2026{record.pk:08d}"


def test_page_counts_come_from_real_pdfs_only():
    assert count_pdf_pages(b"\x89PNG\r\n\x1a\n....") is None
    assert count_pdf_pages(b"%PDF-1.4 this is not really a pdf") is None


def test_each_channel_is_enqueued_once_under_its_own_key(world):
    case = in_mediation(world)
    confirm(case, world.respondent, email="lisi@example.cn")
    record = serve(world, case, world.respondent)
    keys = set(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"service:{record.pk}:platform", f"service:{record.pk}:sms", f"service:{record.pk}:email"}
    email = OutboxMessage.objects.get(channel=MessageChannel.EMAIL)
    assert email.address == "lisi@example.cn" and email.recipient == world.respondent and email.case == case


# --- The recipient's acts ---------------------------------------------------------------------------------


def test_the_recipient_opening_the_record_is_the_read_and_staff_opening_it_is_not(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent)
    service_record_view(actor=world.mediator, record_id=record.pk)
    assert delivery(record, ServiceChannel.PLATFORM).read_at is None
    with time_machine.travel(T0, tick=False):
        service_record_view(actor=world.respondent, record_id=record.pk)
        service_record_view(actor=world.respondent, record_id=record.pk)
    assert delivery(record, ServiceChannel.PLATFORM).read_at == T0
    assert delivery(record, ServiceChannel.SMS).read_at is None  # came through the platform, not the SMS
    assert AuditEvent.objects.filter(case=case, kind="service.read").count() == 1


def test_reading_the_in_app_notice_counts_as_a_read_on_the_platform(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    with time_machine.travel(T0, tick=False):
        record = serve(world, case, world.respondent)
        outbox_deliver_due()
        inbox_mark_read(actor=world.respondent, message_id=delivery(record, ServiceChannel.PLATFORM).message_id)
    service_records_refresh_pending()
    assert delivery(record, ServiceChannel.PLATFORM).read_at == T0


def test_the_recipient_s_lawyer_acknowledges_for_them_once(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent)
    with time_machine.travel(T0, tick=False):
        service_record_acknowledge(actor=world.lawyer, record=record)
    platform = delivery(record, ServiceChannel.PLATFORM)
    assert (platform.acted_at, platform.action) == (T0, "acknowledged")
    with pytest.raises(InvalidInput, match="无需重复确认"):
        service_record_acknowledge(actor=world.respondent, record=record)
    assert AuditEvent.objects.filter(case=case, kind="service.acknowledged").count() == 1


def test_a_download_then_an_acknowledgement_keep_the_first_act_s_time_and_both_acts(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent)
    with time_machine.travel(T0, tick=False):
        service_record_download(actor=world.respondent, record_id=record.pk)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        service_record_acknowledge(actor=world.respondent, record=record)
    platform = delivery(record, ServiceChannel.PLATFORM)
    assert (platform.acted_at, platform.action) == (T0, "download,acknowledged")


@pytest.mark.parametrize("name", ["applicant", "mediator", "judge"])
def test_only_the_recipient_acknowledges(world, name):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent)
    with pytest.raises(PermissionDenied):
        service_record_acknowledge(actor=getattr(world, name), record=record)


def test_staff_downloads_are_logged_but_are_not_the_recipient_s_act(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent)
    service_record_download(actor=world.judge, record_id=record.pk)
    assert delivery(record, ServiceChannel.PLATFORM).acted_at is None
    assert AuditEvent.objects.filter(kind="service.downloaded", data__by_recipient=False).count() == 1


def test_a_paper_copy_may_be_requested_for_a_mediation_document_once(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent, actor=world.judge, document_title="民事调解书")
    with time_machine.travel(T0, tick=False):
        record = service_paper_copy_request(actor=world.respondent, record=record)
    assert record.paper_copy_requested_at == T0
    with pytest.raises(InvalidInput, match="无需重复申请"):
        service_paper_copy_request(actor=world.respondent, record=record)


def test_a_paper_copy_is_not_offered_for_other_documents(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent, document_title="调解笔录")
    with pytest.raises(InvalidInput, match="判决书、裁定书和调解书"):
        service_paper_copy_request(actor=world.respondent, record=record)
    with pytest.raises(PermissionDenied):
        service_paper_copy_request(actor=world.applicant, record=record)


# --- Who sees which records -------------------------------------------------------------------------------


def test_a_party_sees_only_the_records_served_on_them_and_staff_see_all(world):
    case = in_mediation(world)
    confirm(case, world.respondent)
    confirm(case, world.applicant)
    to_respondent = serve(world, case, world.respondent)
    to_applicant = serve(world, case, world.applicant)
    assert set(service_records_for_case(user=world.applicant, case=case)) == {to_applicant}
    assert set(service_records_for_case(user=world.lawyer, case=case)) == {to_respondent}
    for name in ("mediator", "clerk", "judge"):
        assert set(service_records_for_case(user=getattr(world, name), case=case)) == {to_respondent, to_applicant}
    for name in ("outsider", "other_judge", "other_clerk", "other_mediator", "org_admin"):
        assert not service_records_for_case(user=getattr(world, name), case=case).exists()


@pytest.mark.parametrize("name", ["applicant", "outsider", "other_judge", "other_clerk", "other_mediator"])
def test_a_record_is_hidden_from_everyone_but_its_recipient_and_the_case_staff(world, name):
    case = in_mediation(world)
    confirm(case, world.respondent)
    record = serve(world, case, world.respondent)
    with pytest.raises(PermissionDenied):
        service_record_get_for_user(user=getattr(world, name), record_id=record.pk)
    with pytest.raises(PermissionDenied):
        service_record_view(actor=getattr(world, name), record_id=record.pk)
    assert delivery(record, ServiceChannel.PLATFORM).read_at is None


def test_a_mediator_of_this_case_does_not_see_another_case_s_records(world):
    case = in_mediation(world)
    other = world.drive(world.new_case(origin=CaseOrigin.DELEGATED), CaseStatus.IN_MEDIATION)
    confirm(other, world.respondent)
    record = serve(world, other, world.respondent, actor=world.judge)
    assert not service_records_for_case(user=world.mediator, case=case).filter(pk=record.pk).exists()
    with transaction.atomic():
        other.mediator_assignments.update(is_active=False)
    with pytest.raises(PermissionDenied):
        service_record_get_for_user(user=world.mediator, record_id=record.pk)


# --- 调解书: effective only when signed for (CPL 100; Interp 133, 149) ----------------------------------------


def test_a_mediation_statement_is_served_only_by_the_recipients_acknowledgement(world):
    case = in_mediation(world)
    confirm(case, world.respondent, platform_account=False)
    record = serve(world, case, world.respondent, document_title="民事调解书")
    provider_accepts(record, ServiceChannel.SMS, T0)  # arrived at a confirmed address
    assert service_record_refresh(record=record).effective_at is None
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        record = service_record_view(actor=world.respondent, record_id=record.pk, via="sms")
    assert record.effective_at is None  # read: not enough
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        record = service_record_download(actor=world.respondent, record_id=record.pk, via="sms")
    assert record.effective_at is None  # downloaded: not enough either
    signed = T0 + dt.timedelta(hours=5)
    with time_machine.travel(signed, tick=False):
        record = service_record_acknowledge(actor=world.respondent, record=record, via="sms")
    assert (record.effective_at, record.effective_channel, record.rule) == (signed, ServiceChannel.SMS,
                                                                            ServiceRule.REPLY)
