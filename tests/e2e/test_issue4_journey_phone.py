"""Issue 4 on a phone-sized screen, on the demo world: the mediator finds the first common free time and
schedules a session, a one-minute overlap is refused with the clash named, a PDF is served on 李四, who
opens it and sees the e-service certificate. Screenshots under tests/e2e/artifacts/."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from mediation.management.commands.seed_demo import DEMO_CASE_TITLE
from mediation.models import Case
from tests.apply_support import pdf_bytes
from tests.e2e.conftest import PHONE, off_loop, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "yizhan-demo-2026"
FRIDAY_EVENING = dt.datetime(2026, 3, 6, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def demo_case(settings, tmp_path) -> Case:
    settings.DEBUG = True
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path

    def load() -> Case:
        call_command("seed_demo", quiet=True)
        return Case.objects.get(title=DEMO_CASE_TITLE)

    return off_loop(load)


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def fits(page) -> None:
    page.wait_for_load_state("load")  # measured before the stylesheet applies, a long hash overflows
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_mediator_schedules_and_serves_and_the_respondent_sees_the_certificate(
    live_server, demo_case, phone, tmp_path
):
    base = live_server.url
    case = demo_case
    with time_machine.travel(FRIDAY_EVENING, tick=True):
        sign_in(phone, base, "mediator")
        phone.goto(f"{base}/cases/{case.pk}/")
        phone.click("text=安排调解活动")
        phone.click("button[name=find]")
        phone.wait_for_selector("text=最早的共同空闲时间")
        assert "2026年3月9日 09:00–10:00（北京时间）" in phone.text_content("main")
        fits(phone)
        screenshot(phone, "issue4-free-slot-390x844")
        phone.click("button[name=save]")
        phone.wait_for_selector("text=已安排调解活动")
        fits(phone)
        screenshot(phone, "issue4-session-list-390x844")

        # One minute of overlap: refused, naming the clash.
        phone.goto(f"{base}/cases/{case.pk}/sessions/new/")
        phone.fill("input[name=date]", "2026-03-09")
        phone.fill("input[name=start]", "09:59")
        phone.click("button[name=save]")
        phone.wait_for_selector("text=时间冲突")
        assert "刘调解员" in phone.text_content("main")
        fits(phone)
        screenshot(phone, "issue4-conflict-390x844")

        # Serve a PDF on the respondent company.
        document = tmp_path / "调解笔录.pdf"
        document.write_bytes(pdf_bytes())
        phone.goto(f"{base}/service/case/{case.pk}/serve/")
        phone.select_option("select[name=recipient]", label="被申请人：北京某科技有限公司")
        phone.fill("input[name=document_title]", "调解笔录")
        phone.set_input_files("input[name=document]", str(document))
        phone.click("form button[type=submit]")
        phone.wait_for_url(f"{base}/service/*/")
        record_url = phone.url

        # 李四 opens it and the certificate.
        sign_in(phone, base, "bob")
        phone.goto(record_url)
        phone.wait_for_selector("text=查看电子送达凭证")
        fits(phone)
        screenshot(phone, "issue4-service-record-390x844")
        phone.click("text=查看电子送达凭证")
        phone.wait_for_selector("#certificate")
        body = phone.text_content("#certificate")
        assert "第三十一条第一款" in body and "调解笔录" in body
        screenshot(phone, "issue4-certificate-390x844")
        fits(phone)
