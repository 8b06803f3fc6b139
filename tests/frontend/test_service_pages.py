"""The electronic service pages: serving (the case's mediator, clerk, judge), the recipient's page (read,
download, "确认收到", paper copy), the e-service certificate with every §C7 field, the address page, and the
case page's block. People without a right get 404; people with a role that may not act get 403."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from weasyprint import HTML

from mediation.adapters import sms
from mediation.choices import CaseOrigin, CaseStatus, ServiceChannel, ServiceRule, ServiceStage
from mediation.models import OutboxMessage, ServiceAddress, ServiceDelivery, ServiceRecord
from mediation.selectors.service import service_certificate
from mediation.services.service import (
    document_serve,
    service_address_change,
    service_paper_copy_request,
    service_record_acknowledge,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
ALL_STAGES = list(ServiceStage.values)
STRANGERS = ["outsider", "other_judge", "other_clerk", "other_mediator"]


@pytest.fixture(autouse=True)
def backends(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sms.outbox_clear()
    yield
    sms.outbox_clear()


def party_of(case, user):
    return case.parties.get(user=user)


def confirm(case, user, **overrides):
    party = party_of(case, user)
    values = {
        "recipient_name": party.name, "postal_address": "北京市东城区东直门南大街1号", "postal_recipient": party.name,
        "postal_phone": "13800000000", "e_service_consent": True, "stages": ALL_STAGES, "mobile": "13800001234",
        "email": "lisi@example.cn", "platform_account": True,
    }
    values.update(overrides)
    return service_address_change(case=case, party=party, actor=user, **values)


@pytest.fixture
def case(world):
    return world.drive(world.new_case(origin=CaseOrigin.ENTRUSTED), CaseStatus.IN_MEDIATION)


@pytest.fixture
def record(world, case):
    confirm(case, world.respondent)
    with time_machine.travel(T0, tick=False):
        return document_serve(case=case, recipient=party_of(case, world.respondent), actor=world.judge,
                              document_title="民事调解书", document_number="（2026）京0101民初123号",
                              document_bytes=HTML(string="<p>调解书</p>").write_pdf())


def get(client, user, name, *args, **query):
    client.force_login(user)
    return client.get(reverse(name, args=args), query)


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- Serving ----------------------------------------------------------------------------------------------


def test_the_mediator_sees_which_channels_each_party_consented_to(client, world, case):
    confirm(case, world.respondent)
    response = get(client, world.mediator, "service_serve", case.pk)
    assert response.status_code == 200
    body = text(response)
    assert "平台账户" in body and "短信" in body and "电子邮件" in body
    assert "张三尚未确认送达地址" in body  # the applicant has not: the page says so before anyone tries


def test_the_mediator_serves_a_document_from_the_page(client, world, case):
    confirm(case, world.respondent)
    client.force_login(world.mediator)
    upload = SimpleUploadedFile("mediation-record.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("service_serve", args=[case.pk]), {
        "recipient": party_of(case, world.respondent).pk, "document_title": "调解笔录", "document_number": "",
        "document": upload,
    })
    record = ServiceRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("service_record", args=[record.pk])
    assert record.effective_at is not None and record.rule == ServiceRule.ARRIVAL
    assert OutboxMessage.objects.filter(case=case).count() == 3


def test_serving_someone_without_consent_shows_why_and_saves_nothing(client, world, case):
    client.force_login(world.mediator)
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("service_serve", args=[case.pk]), {
        "recipient": party_of(case, world.applicant).pk, "document_title": "调解笔录", "document": upload,
    })
    assert response.status_code == 200
    assert "纸质送达不在本平台办理" in text(response)
    assert not ServiceRecord.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize("name", STRANGERS)
def test_strangers_to_the_case_do_not_find_the_serve_page(client, world, case, name):
    assert get(client, getattr(world, name), "service_serve", case.pk).status_code == 404


@pytest.mark.parametrize("name", ["applicant", "lawyer", "org_admin"])
def test_parties_and_the_organisation_admin_may_not_serve(client, world, case, name):
    response = get(client, getattr(world, name), "service_serve", case.pk)
    assert response.status_code == 403
    client.post(reverse("service_serve", args=[case.pk]), {"recipient": party_of(case, world.respondent).pk,
                                                           "document_title": "x"})
    assert not ServiceRecord.objects.exists()


# --- The recipient's page ---------------------------------------------------------------------------------


def shown(client, record, **fields):
    """The POST the record page's script (frontend/service.js) makes once the page is visible: the read."""
    assert client.post(reverse("service_record", args=[record.pk]), {"action": "read", **fields}).status_code == 204


def test_the_recipient_opening_the_page_is_recorded_as_read(client, world, record):
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        response = get(client, world.respondent, "service_record", record.pk)
        shown(client, record)
    assert response.status_code == 200
    body = text(response)
    # A 调解书 takes effect on sign-for (CPL 100): its button says 签收, not 确认收到.
    assert "民事调解书" in body and "签收" in body and "申请纸质文书" in body
    assert "2026-03-02 10:00:00" in body  # effective on issue: the platform account
    assert record.deliveries.get(channel=ServiceChannel.PLATFORM).read_at == T0 + dt.timedelta(hours=1)


def test_following_the_sms_link_credits_the_sms_channel(client, world, record):
    get(client, world.respondent, "service_record", record.pk, via="sms")
    shown(client, record, via="sms")
    assert record.deliveries.get(channel=ServiceChannel.SMS).read_at is not None
    assert record.deliveries.get(channel=ServiceChannel.EMAIL).read_at is None


def test_the_recipient_acknowledges_and_asks_for_paper(client, world, record):
    client.force_login(world.respondent)
    url = reverse("service_record", args=[record.pk])
    assert client.post(url, {"action": "acknowledge"}).status_code == 302
    assert client.post(url, {"action": "paper_copy"}).status_code == 302
    record.refresh_from_db()
    assert record.paper_copy_requested_at is not None
    assert "acknowledged" in record.deliveries.get(channel=ServiceChannel.PLATFORM).action
    body = text(client.get(url))
    assert "您已签收本调解书" in body and "已于" in body
    again = client.post(url, {"action": "acknowledge"})
    assert again.status_code == 400 and "无需重复确认" in text(again)


def test_staff_see_the_page_without_the_recipient_s_buttons_and_without_reading_it(client, world, record):
    response = get(client, world.mediator, "service_record", record.pk)
    assert response.status_code == 200
    assert 'value="acknowledge"' not in text(response)
    assert record.deliveries.get(channel=ServiceChannel.PLATFORM).read_at is None
    client.post(reverse("service_record", args=[record.pk]), {"action": "acknowledge"})
    assert "acknowledged" not in record.deliveries.get(channel=ServiceChannel.PLATFORM).action


@pytest.mark.parametrize("name", ["applicant", *STRANGERS])
def test_the_other_party_and_strangers_do_not_find_the_record(client, world, record, name):
    user = getattr(world, name)
    for page in ("service_record", "service_certificate", "service_download"):
        assert get(client, user, page, record.pk).status_code == 404
    client.post(reverse("service_record", args=[record.pk]), {"action": "acknowledge"})
    assert record.deliveries.get(channel=ServiceChannel.PLATFORM).acted_at is None


def test_the_recipient_downloads_the_document_as_an_attachment(client, world, record):
    client.force_login(world.lawyer)
    response = client.post(reverse("service_download", args=[record.pk]))  # the page's button
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert record.deliveries.get(channel=ServiceChannel.PLATFORM).action == "download"


def test_an_unknown_record_is_not_found(client, world):
    assert get(client, world.mediator, "service_record", 999999).status_code == 404


def test_signing_in_is_needed_and_leads_to_the_phone_login(client, record):
    response = client.get(reverse("service_record", args=[record.pk]))
    assert response.status_code == 302 and reverse("phone_login") in response["Location"]


# --- The certificate (§C7) --------------------------------------------------------------------------------


def test_the_certificate_shows_every_field_of_an_e_service_certificate(client, world, case, record):
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        client.force_login(world.respondent)
        download = client.post(reverse("service_download", args=[record.pk]), {"via": "email"})
        assert b"".join(download.streaming_content).startswith(b"%PDF-")  # read to the end: the file closes
        service_paper_copy_request(actor=world.respondent, record=record)
    OutboxMessage.objects.filter(channel="sms").update(status="sent", sent_at=T0 + dt.timedelta(minutes=1))
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):  # a 调解书: served when signed for
        service_record_acknowledge(actor=world.respondent, record=record)
    response = get(client, world.judge, "service_certificate", record.pk)
    assert response.status_code == 200
    body = text(response)
    record.refresh_from_db()
    expected = [
        "电子送达凭证", record.certificate_number,
        world.court.name,  # serving body (the judge served)
        case.reference, "（2026）京0101民初123号",  # platform reference and court case number
        "民事调解书", record.document_number, record.document_sha256, "页数",
        "李四", "被申请人",  # recipient and role
        "平台账户", "短信", "电子邮件", "138****1234", "l***@example.cn",  # channels, addresses masked
        "受送达人提供或确认的地址",  # address source
        "发送成功时间", "到达系统时间", "阅知时间", "回复或下载时间", "下载文书",
        "2026-03-02 10:01:00",  # the SMS arrival
        "2026-03-02 12:00:00",  # the download on the e-mail channel
        "送达生效时间", "2026-03-02 13:00:00", ServiceRule.REPLY.label,  # the acknowledgement (调解书, D17)
        "申请纸质文书", "是（2026-03-02 12:00:00）",
        "生成时间", service_certificate(record=record).sha256,
    ]
    missing = [item for item in expected if str(item) not in body]
    assert missing == []
    assert "13800001234" not in body and "lisi@example.cn" not in body


def test_the_certificate_digest_changes_when_a_fact_changes_and_not_with_time_or_language(world, record):
    first = service_certificate(record=record)
    with time_machine.travel(T0 + dt.timedelta(days=3)):
        assert service_certificate(record=record).sha256 == first.sha256
    service_paper_copy_request(actor=world.respondent, record=record)
    record.refresh_from_db()
    assert service_certificate(record=record).sha256 != first.sha256


def test_the_certificate_digest_binds_the_full_address_behind_the_mask(world, record):
    first = service_certificate(record=record)
    sms = record.deliveries.get(channel=ServiceChannel.SMS)
    masked = first.rows[[r.channel for r in first.rows].index(ServiceChannel.SMS)].address
    # Another number that masks the same way (same first three and last four digits).
    other = sms.address[:3] + ("0000" if sms.address[3:7] != "0000" else "1111") + sms.address[7:]
    ServiceDelivery.objects.filter(pk=sms.pk).update(address=other)
    second = service_certificate(record=record)
    assert second.rows[[r.channel for r in second.rows].index(ServiceChannel.SMS)].address == masked
    assert second.sha256 != first.sha256
    assert other not in str(second.content) and sms.address not in str(first.content)


def test_the_certificate_page_renders_in_english(client, world, record):
    client.force_login(world.mediator)
    with translation.override("en"):
        url = reverse("service_certificate", args=[record.pk])
    assert url.startswith("/en/")
    response = client.get(url)
    assert response.status_code == 200
    assert 'lang="en"' in text(response)


# --- The address page -------------------------------------------------------------------------------------


def address_form(**overrides):
    data = {
        "form": "address", "recipient_name": "张三", "postal_address": "北京市东城区东直门南大街1号",
        "postal_recipient": "张三", "postal_phone": "13800000000", "e_service": "yes", "mobile": "13800009999",
        "email": "", "platform_account": "on", "stages": ["mediation", "confirmation"],
    }
    data.update(overrides)
    return data


def test_a_party_confirms_and_changes_their_address(client, world, case):
    client.force_login(world.applicant)
    url = reverse("service_address", args=[case.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, address_form()).status_code == 302
    assert client.post(url, address_form(mobile="13900000002")).status_code == 302
    latest = ServiceAddress.objects.filter(party__user=world.applicant).order_by("-confirmed_at", "-pk").first()
    assert latest.mobile == "13900000002" and latest.stages == ["mediation", "confirmation"]
    assert ServiceAddress.objects.count() == 2
    body = text(client.get(url))
    assert "撤回“调解”阶段的电子送达同意" in body and "撤回“司法确认”阶段的电子送达同意" in body


def test_bad_address_input_is_shown_next_to_the_field_and_nothing_is_saved(client, world, case):
    client.force_login(world.applicant)
    response = client.post(reverse("service_address", args=[case.pk]), address_form(mobile="", postal_phone="1"))
    assert response.status_code == 400
    body = text(response)
    assert "同意电子送达的，请填写接收短信的手机号码" in body and "电话号码应为11位手机号码" in body
    assert not ServiceAddress.objects.exists()


def test_a_party_withdraws_consent_for_one_stage(client, world, case):
    confirm(case, world.applicant)
    client.force_login(world.applicant)
    url = reverse("service_address", args=[case.pk])
    assert client.post(url, {"form": "withdraw", "stage": "mediation"}).status_code == 302
    latest = ServiceAddress.objects.filter(party__user=world.applicant).order_by("-confirmed_at", "-pk").first()
    assert "mediation" not in latest.stages
    refused = client.post(url, {"form": "withdraw", "stage": "mediation"})
    assert refused.status_code == 400 and "无需撤回" in text(refused)


@pytest.mark.parametrize("name", ["mediator", "judge", "clerk"])
def test_staff_do_not_change_a_party_s_address(client, world, case, name):
    assert get(client, getattr(world, name), "service_address", case.pk).status_code == 403


@pytest.mark.parametrize("name", STRANGERS)
def test_strangers_do_not_find_the_address_page(client, world, case, name):
    client.force_login(getattr(world, name))
    assert client.post(reverse("service_address", args=[case.pk]), address_form()).status_code == 404
    assert not ServiceAddress.objects.exists()


# --- The case page ----------------------------------------------------------------------------------------


def test_the_case_page_lists_the_records_each_person_may_see(client, world, case, record):
    recipient = text(get(client, world.respondent, "case_detail", case.pk))
    assert record.certificate_number in recipient and reverse("service_address", args=[case.pk]) in recipient
    other_party = text(get(client, world.applicant, "case_detail", case.pk))
    assert record.certificate_number not in other_party
    staff = text(get(client, world.mediator, "case_detail", case.pk))
    assert record.certificate_number in staff and reverse("service_serve", args=[case.pk]) in staff


def test_the_certificate_pdf_embeds_a_cjk_font_and_carries_the_fields(client, world, record, tmp_path):
    """Checked with poppler, an implementation independent of WeasyPrint: pdftotext alone would read the right
    characters even from boxes, so pdffonts must list an embedded CJK font."""
    import shutil
    import subprocess

    response = get(client, world.judge, "service_certificate_pdf", record.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.content)
    assert response.content.startswith(b"%PDF-")
    fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk), fonts  # embedded
    words = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    record.refresh_from_db()
    for field in ("电子送达凭证", record.certificate_number, record.document_title, record.document_sha256[:16],
                  record.recipient.name, "送达生效时间", "适用规则"):
        assert field in words, field
    subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    assert pages[0].stat().st_size > 10_000


@pytest.mark.parametrize("name", ["outsider", "other_judge", "applicant"])
def test_the_certificate_pdf_is_refused_to_whoever_may_not_see_the_record(client, world, record, name):
    assert get(client, getattr(world, name), "service_certificate_pdf", record.pk).status_code == 404
