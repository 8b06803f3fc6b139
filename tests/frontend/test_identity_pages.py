"""The phone sign-in page and the real-name check page: both steps, errors, refusals and the next-redirect."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from frontend.views.identity import IDENTITY_SESSION_KEY, LOGIN_SESSION_KEY, identity_required
from mediation.adapters.sms import outbox, outbox_clear
from mediation.choices import IdType
from mediation.models import IdentityVerification, OneTimeCode, User
from mediation.services.identity import identity_is_verified
from tests.factories import UserFactory, make_resident_id

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _sms_to_the_outbox(settings):
    settings.SMS_BACKEND = "console"
    outbox_clear()
    yield
    outbox_clear()


def last_code(phone: str = PHONE) -> str:
    match = re.search(r"\d{6}", [m for m in outbox if m.phone == phone][-1].text)
    assert match
    return match.group()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- phone sign-in --------------------------------------------------------------------------------------


def test_the_phone_page_asks_for_a_number_first(client):
    page = client.get(reverse("phone_login")).content.decode()
    assert "手机验证码登录" in page
    assert 'name="phone"' in page and 'value="send"' in page
    assert 'name="code"' not in page


def test_the_password_page_links_to_the_phone_page(client):
    page = client.get(reverse("login") + "?next=/cases/").content.decode()
    assert "用手机验证码登录" in page
    assert reverse("phone_login") + "?next=/cases/" in page


def test_a_party_signs_in_with_a_code_and_lands_on_home(client):
    response = client.post(reverse("phone_login"), {"action": "send", "phone": PHONE})
    assert response.status_code == 302
    assert response["Location"] == reverse("phone_login")
    assert client.session[LOGIN_SESSION_KEY] == PHONE
    page = client.get(reverse("phone_login")).content.decode()
    assert "138****5678" in page and 'name="code"' in page
    assert 'data-wait="60"' in page or 'data-wait="59"' in page
    response = client.post(reverse("phone_login"), {"action": "verify", "code": last_code()})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = signed_in_user(client)
    assert user is not None and user.phone == PHONE
    assert LOGIN_SESSION_KEY not in client.session


def test_an_existing_passwordless_account_is_signed_in_by_its_phone(client):
    holder = UserFactory(username="holder", phone=PHONE, password="!unusable")
    client.post(reverse("phone_login"), {"action": "send", "phone": PHONE})
    client.post(reverse("phone_login"), {"action": "verify", "code": last_code()})
    assert signed_in_user(client) == holder


def test_an_account_with_a_password_is_told_to_use_it(world, client):
    # Told before any code is sent (issue 17 item 2), not after typing one that cannot be used.
    response = client.post(reverse("phone_login"), {"action": "send", "phone": world.applicant.phone})
    assert not [m for m in outbox if m.phone == world.applicant.phone]
    assert signed_in_user(client) is None
    assert "请使用账号密码登录" in response.content.decode()


def test_after_signing_in_the_person_goes_to_a_safe_next_page(client):
    url = reverse("phone_login") + "?next=%2Fcases%2F"
    response = client.post(url, {"action": "send", "phone": PHONE, "next": "/cases/"})
    assert response["Location"] == url
    assert 'value="/cases/"' in client.get(url).content.decode()
    response = client.post(url, {"action": "verify", "code": last_code(), "next": "/cases/"})
    assert response["Location"] == "/cases/"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/cases/", "javascript:alert(1)"])
def test_a_next_page_on_another_host_is_ignored(client, next_url):
    client.post(reverse("phone_login"), {"action": "send", "phone": PHONE, "next": next_url})
    response = client.post(reverse("phone_login"), {"action": "verify", "code": last_code(), "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    page = client.get(reverse("phone_login"), {"next": next_url}).content.decode()
    assert '<input type="hidden" name="next" value="">' in page


def test_a_phone_that_is_not_a_number_gets_a_clear_message_and_no_sms(client):
    response = client.post(reverse("phone_login"), {"action": "send", "phone": "call me"})
    assert response.status_code == 200
    assert "手机号码应为以1开头的11位数字" in response.content.decode()
    assert outbox == []
    assert LOGIN_SESSION_KEY not in client.session
    assert not OneTimeCode.objects.exists()


def test_a_wrong_code_says_how_many_tries_are_left_and_signs_nobody_in(client):
    client.post(reverse("phone_login"), {"action": "send", "phone": PHONE})
    response = client.post(reverse("phone_login"), {"action": "verify", "code": wrong(last_code())})
    assert response.status_code == 200
    assert "验证码不正确，还可以再试4次" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(phone=PHONE).exists()


def test_wrong_codes_repeated_until_lock_out_show_the_wait(client, settings):
    settings.OTP_LOCKOUT_FAILURES = 3
    client.post(reverse("phone_login"), {"action": "send", "phone": PHONE})
    code = last_code()
    for _ in range(2):
        client.post(reverse("phone_login"), {"action": "verify", "code": wrong(code)})
    response = client.post(reverse("phone_login"), {"action": "verify", "code": wrong(code)})
    assert "该手机号码已被锁定，请在30分钟后再试" in response.content.decode()
    response = client.post(reverse("phone_login"), {"action": "verify", "code": code})
    assert "已被锁定" in response.content.decode()
    assert signed_in_user(client) is None


def test_asking_again_during_the_countdown_is_refused(client):
    client.post(reverse("phone_login"), {"action": "send", "phone": PHONE})
    response = client.post(reverse("phone_login"), {"action": "resend"}, follow=True)
    assert "秒后再重新获取" in response.content.decode()
    assert len(outbox) == 1


def test_changing_the_number_starts_over(client):
    client.post(reverse("phone_login"), {"action": "send", "phone": PHONE})
    response = client.post(reverse("phone_login"), {"action": "change"})
    assert response.status_code == 302
    assert LOGIN_SESSION_KEY not in client.session
    assert 'name="code"' not in client.get(reverse("phone_login")).content.decode()


def test_a_code_without_a_number_sent_first_does_nothing(client):
    response = client.post(reverse("phone_login"), {"action": "verify", "code": "123456"})
    assert response.status_code == 200
    assert signed_in_user(client) is None


def test_the_phone_page_only_takes_get_and_post(client):
    assert client.put(reverse("phone_login")).status_code == 405


# --- the real-name check --------------------------------------------------------------------------------


@pytest.fixture
def person(db) -> User:
    return UserFactory(username="wangwu", real_name="王五", phone=PHONE)


def test_anonymous_visitors_are_sent_to_sign_in_before_the_identity_page(client):
    response = client.get(reverse("identity_verify"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("identity_verify"), {"action": "send", "real_name": "王五",
                                                        "id_number": make_resident_id(7), "phone": PHONE})
    assert response.status_code == 302
    assert outbox == []


def test_the_identity_page_offers_the_persons_own_name_and_phone(person, client):
    client.force_login(person)
    page = client.get(reverse("identity_verify")).content.decode()
    assert 'value="王五"' in page and f'value="{PHONE}"' in page


def test_a_person_passes_the_real_name_check_and_returns_to_the_next_page(person, client):
    client.force_login(person)
    number = make_resident_id(7)
    url = reverse("identity_verify") + "?next=%2Fapply%2F"
    response = client.post(url, {"action": "send", "real_name": "王五", "id_number": number, "phone": PHONE,
                                 "next": "/apply/"})
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert number not in page
    assert number[:3] + "*" * 13 + number[-2:] in page
    response = client.post(url, {"action": "verify", "code": last_code(), "next": "/apply/"})
    assert response["Location"] == "/apply/"
    person.refresh_from_db()
    assert (person.id_type, person.id_number) == (IdType.RESIDENT_ID, number)
    assert identity_is_verified(person)
    assert IDENTITY_SESSION_KEY not in client.session
    assert "您已完成实名认证" in client.get(reverse("identity_verify")).content.decode()


def test_a_bad_id_checksum_is_named_next_to_the_field_and_nothing_is_sent_or_saved(person, client):
    client.force_login(person)
    number = make_resident_id(7)
    bad = number[:17] + ("1" if number[17] == "0" else "0")
    response = client.post(reverse("identity_verify"), {"action": "send", "real_name": "王五", "id_number": bad,
                                                        "phone": PHONE})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"校验位错误：最后一位应为 {number[17]}" in page
    assert 'id="id_number-error"' in page
    assert outbox == []
    assert IDENTITY_SESSION_KEY not in client.session
    person.refresh_from_db()
    assert person.id_number == ""


def test_a_wrong_identity_code_is_shown_and_nothing_is_saved_on_the_person(person, client):
    client.force_login(person)
    client.post(reverse("identity_verify"), {"action": "send", "real_name": "王五",
                                             "id_number": make_resident_id(7), "phone": PHONE})
    response = client.post(reverse("identity_verify"), {"action": "verify", "code": wrong(last_code())})
    assert "验证码不正确" in response.content.decode()
    person.refresh_from_db()
    assert person.id_number == ""
    assert IdentityVerification.objects.get(user=person).succeeded is False


def test_a_phone_of_another_account_is_refused_on_the_identity_page(person, world, client):
    client.force_login(person)
    response = client.post(reverse("identity_verify"), {"action": "send", "real_name": "王五",
                                                        "id_number": make_resident_id(7),
                                                        "phone": world.applicant.phone})
    assert "该手机号码已绑定另一个账户" in response.content.decode()
    assert outbox == []


@pytest.mark.parametrize("name", ["outsider", "respondent", "other_mediator", "other_clerk"])
def test_nobody_can_complete_someone_elses_pending_check(world, client, name):
    # The applicant starts a check; another person's session knows nothing of it, and their own
    # verify without a code sent does nothing.
    applicant = world.applicant
    client.force_login(applicant)
    client.post(reverse("identity_verify"), {"action": "send", "real_name": applicant.real_name,
                                             "id_number": make_resident_id(1), "phone": applicant.phone})
    code = last_code(applicant.phone)
    client.logout()
    other = getattr(world, name)
    client.force_login(other)
    page = client.get(reverse("identity_verify")).content.decode()
    assert make_resident_id(1)[:3] + "*" not in page
    client.post(reverse("identity_verify"), {"action": "verify", "code": code})
    other.refresh_from_db()
    applicant.refresh_from_db()
    assert other.id_number == "" and applicant.id_number == ""
    assert not IdentityVerification.objects.filter(succeeded=True).exists()


def test_identity_required_sends_unverified_people_to_the_check_and_back(person, world):
    @identity_required
    def private(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    request = RequestFactory().get("/apply/?step=2")
    request.user = AnonymousUser()
    assert private(request)["Location"].startswith(reverse("login"))
    request.user = person
    assert private(request)["Location"] == reverse("identity_verify") + "?next=%2Fapply%2F%3Fstep%3D2"
    person.id_type, person.id_number = IdType.RESIDENT_ID, make_resident_id(7)
    person.save()
    IdentityVerification.objects.create(
        user=person, real_name=person.real_name, id_number_masked=person.id_number_masked, phone=PHONE,
        succeeded=True, checked_at=person.date_joined,
    )
    assert private(request).content == b"ok"
