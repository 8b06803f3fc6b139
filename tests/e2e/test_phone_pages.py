"""A party signs in on a phone-sized screen and sees their case; nothing overflows sideways."""

from __future__ import annotations

import pytest

from mediation.choices import CaseStatus
from tests.e2e.conftest import PHONE, off_loop, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_party_signs_in_on_a_phone_and_sees_the_case(live_server, world, phone):
    case = off_loop(lambda: world.drive(world.new_case(), CaseStatus.ACCEPTED))
    phone.goto(f"{live_server.url}/")
    assert "在线化解纠纷" in phone.text_content("h1")
    screenshot(phone, "home-390x844")

    phone.click("text=登录")
    phone.fill("input[name=username]", world.applicant.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("text=我的案件")
    phone.click(f"text={case.title}")
    phone.wait_for_selector("text=办理记录")
    body = phone.text_content("main")
    assert case.reference in body
    assert "调解员已接受" in body
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot = screenshot(phone, "case-detail-390x844")
    assert shot.stat().st_size > 10_000


def test_wrong_password_shows_a_clear_message(live_server, world, phone):
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.fill("input[name=username]", world.applicant.username)
    phone.fill("input[name=password]", "not-the-password")
    phone.click("button[type=submit]")
    assert "用户名或密码不正确" in phone.text_content("main")
    screenshot(phone, "login-error-390x844")
