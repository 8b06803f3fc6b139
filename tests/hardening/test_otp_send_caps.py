"""Issue 17 item 2: one-time codes have per-address and global send caps besides the per-number ones (SMS
pumping, harassment), and no code goes to a number whose account must sign in with a password. Over HTTP,
with real sessions, as the phone sign-in page is used."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from mediation.adapters.sms import outbox, outbox_clear
from mediation.models import OneTimeCode
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_BACKEND = "console"
    settings.OTP_MAX_SENDS_PER_ADDRESS_PER_HOUR = 3
    settings.OTP_MAX_SENDS_PER_HOUR_TOTAL = 5
    outbox_clear()
    yield
    outbox_clear()


def _send(phone: str, ip: str):
    client = Client()  # a fresh session each time, as a pumping script would use
    return client.post(reverse("phone_login"), {"action": "send", "phone": phone}, REMOTE_ADDR=ip)


def test_one_address_may_ask_codes_for_only_so_many_numbers_an_hour():
    answers = [_send(f"1380000{n:04d}", "203.0.113.5") for n in range(4)]
    assert [a.status_code for a in answers[:3]] == [302, 302, 302]
    refused = answers[3].content.decode()
    assert "本网络地址一小时内获取验证码次数过多" in refused
    assert len(outbox) == 3 and OneTimeCode.objects.count() == 3
    # Another address is not held back by it.
    assert _send("13800009999", "198.51.100.1").status_code == 302


def test_all_addresses_together_stop_at_the_global_cap():
    statuses = [_send(f"1390000{n:04d}", f"198.51.100.{n}").status_code for n in range(6)]
    assert statuses == [302] * 5 + [200]
    assert len(outbox) == 5


def test_no_code_is_sent_to_the_number_of_an_account_that_signs_in_with_a_password(world):
    UserFactory(username="staffer", phone="13700001111", is_staff=True)
    answer = _send("13700001111", "203.0.113.9")
    assert answer.status_code == 200
    assert "请使用账号密码登录" in answer.content.decode()
    assert outbox == [] and not OneTimeCode.objects.exists()
