"""A party signs in with an SMS code and passes the real-name check on phone-sized screens."""

from __future__ import annotations

import re

import pytest

from mediation.adapters.sms import outbox, outbox_clear
from tests.e2e.conftest import screenshot
from tests.factories import make_resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "13812345678"


def last_code() -> str:
    match = re.search(r"\d{6}", outbox[-1].text)
    assert match
    return match.group()


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "console"
    outbox_clear()
    yield outbox
    outbox_clear()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 640)])
def test_party_signs_in_by_phone_and_verifies_identity(live_server, sms_outbox, phone, width, height):
    size = f"{width}x{height}"
    phone.set_viewport_size({"width": width, "height": height})
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.click("text=用手机验证码登录")
    phone.fill("input[name=phone]", "1381234")
    phone.click("button[value=send]")
    assert "手机号码应为以1开头的11位数字" in phone.text_content("#phone-error")
    screenshot(phone, f"phone-login-error-{size}")

    phone.fill("input[name=phone]", PHONE)
    screenshot(phone, f"phone-login-{size}")
    phone.click("button[value=send]")
    phone.wait_for_selector("input[name=code]")
    assert "138****5678" in phone.text_content("main")
    # The resend button counts down and cannot be pressed yet.
    assert phone.is_disabled("button[value=resend]")
    assert "秒后可重新获取" in phone.text_content("button[value=resend]")
    screenshot(phone, f"phone-login-code-{size}")
    phone.fill("input[name=code]", last_code())
    phone.press("input[name=code]", "Enter")  # Enter submits the sign-in, not a resend
    phone.wait_for_selector("text=我的案件")
    assert len(sms_outbox) == 1

    phone.goto(f"{live_server.url}/accounts/phone/identity/")
    phone.fill("input[name=real_name]", "王五")
    phone.fill("input[name=id_number]", make_resident_id(7)[:17] + ("1" if make_resident_id(7)[17] == "0" else "0"))
    phone.click("button[value=send]")
    assert "校验位错误" in phone.text_content("#id_number-error")
    screenshot(phone, f"identity-error-{size}")
    phone.fill("input[name=id_number]", make_resident_id(7))
    phone.click("button[value=send]")
    phone.wait_for_selector("input[name=code]")
    screenshot(phone, f"identity-code-{size}")
    phone.fill("input[name=code]", last_code())
    phone.click("button[value=verify]")
    phone.wait_for_selector("text=您已完成实名认证")
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    shot = screenshot(phone, f"identity-done-{size}")
    assert shot.stat().st_size > 10_000
