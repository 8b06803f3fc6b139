"""Electronic service on a phone: the recipient opens a served document, acknowledges it and reads the
certificate; a party changes their service address; the mediator's serve page. Nothing overflows sideways."""

from __future__ import annotations

import pytest

from mediation.choices import CaseOrigin, CaseStatus, ServiceStage
from mediation.services.service import document_serve, service_address_change
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def backends(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = False


def served(world):
    case = world.drive(world.new_case(origin=CaseOrigin.ENTRUSTED), CaseStatus.IN_MEDIATION)
    party = case.parties.get(user=world.respondent)
    service_address_change(
        case=case, party=party, actor=world.respondent, recipient_name="李四",
        postal_address="北京市东城区东直门南大街1号", postal_recipient="李四", postal_phone="13800000000",
        e_service_consent=True, stages=list(ServiceStage.values),
        mobile="13800001234", email="lisi@example.cn", im_account="lisi_wx",
    )
    record = document_serve(case=case, recipient=party, actor=world.judge, document_title="调解笔录",
                            document_number="（2026）京0101民初123号", document_bytes=PDF)
    return case, record


def test_the_recipient_opens_acknowledges_and_reads_the_certificate_on_a_phone(live_server, world, phone):
    case, record = off_loop(lambda: served(world))
    sign_in(phone, live_server.url, world.respondent.username, next_path=f"/service/{record.pk}/?via=sms")
    phone.wait_for_selector("text=确认收到")
    assert "送达生效时间" in phone.text_content("main")
    # The page's script (frontend/service.js) records the read with a POST once it is visible (issue 17 item 6).
    platform = lambda: record.deliveries.get(channel="platform").read_at  # noqa: E731
    for _ in range(50):
        if off_loop(platform) is not None:
            break
        phone.wait_for_timeout(100)
    assert off_loop(platform) is not None
    assert fits(phone)
    screenshot(phone, "service-record-390x844")

    phone.click("button[value=acknowledge]")
    phone.wait_for_selector("text=您已确认收到本文书")
    phone.click("text=查看电子送达凭证")
    phone.wait_for_selector("#certificate")
    body = phone.text_content("#certificate")
    assert record.certificate_number in body and "确认收到" in body
    assert fits(phone)
    screenshot(phone, "service-certificate-390x844")

    phone.goto(f"{live_server.url}/service/address/{case.pk}/")
    phone.wait_for_selector("#withdraw")
    assert fits(phone)
    screenshot(phone, "service-address-390x844")


def test_the_mediator_s_serve_page_fits_a_phone(live_server, world, phone):
    case, _record = off_loop(lambda: served(world))
    sign_in(phone, live_server.url, world.mediator.username, next_path=f"/service/case/{case.pk}/serve/")
    phone.wait_for_selector("text=受送达人同意的送达渠道")
    assert fits(phone)
    screenshot(phone, "service-serve-390x844")
    phone.goto(f"{live_server.url}/cases/{case.pk}/")
    phone.wait_for_selector("#service")
    assert fits(phone)
    screenshot(phone, "service-case-block-390x844")
