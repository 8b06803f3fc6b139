"""One-time codes (send limits, checks, burning, lock-out), the real-name check and phone sign-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from mediation.adapters.sms import outbox, outbox_clear
from mediation.choices import IdType, OtpPurpose, Role
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import AuditEvent, IdentityVerification, OneTimeCode, User
from mediation.services import identity
from mediation.services.identity import (
    OtpThrottled,
    SmsUnavailable,
    identity_code_send,
    identity_is_verified,
    identity_verify,
    mask_phone,
    otp_resend_wait,
    otp_send,
    otp_verify,
    phone_stream,
    user_login_by_phone,
)
from tests.factories import UserFactory, add_member, make_resident_id

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _sms_to_the_outbox(settings):
    settings.SMS_BACKEND = "console"
    settings.OTP_TTL_SECONDS = 300
    settings.OTP_RESEND_SECONDS = 60
    settings.OTP_MAX_SENDS_PER_HOUR = 5
    settings.OTP_MAX_ATTEMPTS_PER_CODE = 5
    settings.OTP_LOCKOUT_FAILURES = 10
    settings.OTP_LOCKOUT_SECONDS = 1800
    outbox_clear()
    yield
    outbox_clear()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def last_code(phone: str = PHONE) -> str:
    message = [m for m in outbox if m.phone == phone][-1]
    match = re.search(r"\d{6}", message.text)
    assert match, message.text
    return match.group()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def events(kind: str, phone: str = PHONE) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=phone_stream(phone), kind=kind).order_by("seq"))


# --- sending ---------------------------------------------------------------------------------------------


def test_a_code_is_sent_by_sms_with_its_lifetime(clock):
    otp = otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN, ip_address="203.0.113.5")
    assert len(outbox) == 1
    assert outbox[0].phone == PHONE
    assert re.fullmatch(r"验证码 \d{6}，5分钟内有效。请勿告诉他人。", outbox[0].text)
    assert otp.expires_at == START + dt.timedelta(minutes=5)
    assert otp.ip_address == "203.0.113.5"


def test_only_a_salted_hash_of_the_code_is_stored(clock):
    otp = otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    stored = OneTimeCode.objects.filter(pk=otp.pk).values().get()
    assert code not in {str(value) for value in stored.values()}
    expected = hashlib.sha256(f"{code}{django_settings.SECRET_KEY}{PHONE}login".encode()).hexdigest()
    assert stored["code_hash"] == expected


def test_sending_is_audited_on_the_phone_stream_with_a_masked_number(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.IDENTITY)
    [event] = events("otp.sent")
    assert event.data["phone"] == "138****5678"
    assert event.data["purpose"] == "identity"
    assert event.data["message_id"].startswith("console-")
    assert PHONE not in str(event.data)
    assert last_code() not in str(event.data)


def test_a_phone_that_is_not_a_mobile_number_is_refused_and_nothing_is_sent():
    with pytest.raises(InvalidInput, match="手机号码应为以1开头的11位数字"):
        otp_send(phone="12345", purpose=OtpPurpose.LOGIN)
    assert outbox == []
    assert not OneTimeCode.objects.exists()


def test_a_second_code_within_the_resend_interval_is_refused_with_the_wait(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    clock.shift(dt.timedelta(seconds=20))
    with pytest.raises(OtpThrottled, match="40秒后") as refused:
        otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert refused.value.retry_after == 40
    assert otp_resend_wait(phone=PHONE, purpose=OtpPurpose.LOGIN) == 40
    assert len(outbox) == 1
    clock.shift(dt.timedelta(seconds=40))
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert len(outbox) == 2
    assert otp_resend_wait(phone=PHONE, purpose=OtpPurpose.LOGIN) == 60


def test_the_resend_interval_is_per_purpose(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    otp_send(phone=PHONE, purpose=OtpPurpose.IDENTITY)
    assert len(outbox) == 2


def test_at_most_the_hourly_cap_of_codes_is_sent_to_one_phone(clock):
    for _ in range(5):
        otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
        clock.shift(dt.timedelta(minutes=2))
    with pytest.raises(OtpThrottled, match="一小时内获取验证码次数过多，请在50分钟后再试") as refused:
        otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert refused.value.retry_after == 50 * 60
    assert OneTimeCode.objects.count() == 5
    clock.shift(dt.timedelta(minutes=50))
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert OneTimeCode.objects.count() == 6


def test_a_gateway_failure_leaves_no_code_and_no_audit_event(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/unreachable"
    with pytest.raises(SmsUnavailable, match="短信发送失败，请稍后重试"):
        otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert not OneTimeCode.objects.exists()
    assert events("otp.sent") == []


# --- checking -----------------------------------------------------------------------------------------------


def test_the_right_code_is_accepted_once(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    otp = otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=code)
    assert otp.verified_at == START
    assert [e.data["code_id"] for e in events("otp.verified")] == [otp.pk]
    with pytest.raises(InvalidInput, match="已使用过"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=code)


def test_the_codes_are_compared_in_constant_time(clock, monkeypatch):
    calls: list[tuple[str, str]] = []
    real = identity.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(identity.hmac, "compare_digest", spy)
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=last_code())
    assert len(calls) == 1


def test_a_code_expires_after_its_lifetime(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    clock.shift(dt.timedelta(seconds=301))
    with pytest.raises(InvalidInput, match="验证码已过期，请重新获取"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=code)


def test_a_code_for_one_purpose_does_not_work_for_another(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(InvalidInput, match="请先获取验证码"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.IDENTITY, code=last_code())


def test_a_new_code_replaces_the_one_before(clock, monkeypatch):
    monkeypatch.setattr(identity.secrets, "randbelow", lambda n: 111111)
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    clock.shift(dt.timedelta(seconds=61))
    monkeypatch.setattr(identity.secrets, "randbelow", lambda n: 222222)
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(InvalidInput, match="验证码不正确"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code="111111")
    otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code="222222")


def test_a_wrong_code_is_counted_and_the_count_survives_the_error(clock):
    otp = otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(InvalidInput, match="验证码不正确，还可以再试4次"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(last_code()), ip_address="203.0.113.5")
    otp.refresh_from_db()
    assert otp.failed_attempts == 1
    assert otp.verified_at is None
    [failed] = events("otp.failed")
    assert failed.data == {"phone": "138****5678", "purpose": "login", "code_id": otp.pk, "attempts": 1,
                           "ip": "203.0.113.5"}


def test_a_malformed_code_is_refused_without_counting(clock):
    otp = otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(InvalidInput, match="请输入短信中的6位数字验证码"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code="12ab")
    otp.refresh_from_db()
    assert otp.failed_attempts == 0


def test_a_code_is_burnt_after_the_maximum_wrong_attempts(clock):
    otp = otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidInput, match=f"还可以再试{left}次"):
            otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    with pytest.raises(InvalidInput, match="该验证码已失效，请重新获取"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    with pytest.raises(InvalidInput, match="错误次数过多，已失效"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=code)
    otp.refresh_from_db()
    assert otp.failed_attempts == 5
    assert otp.verified_at is None


def _fail_until_locked(clock) -> None:
    """Two codes, five wrong tries each: the tenth failure within the hour locks the phone."""
    for _ in range(2):
        otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
        code = last_code()
        for _ in range(5):
            try:
                otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
            except PermissionDenied:
                return
            except InvalidInput:
                pass
        clock.shift(dt.timedelta(seconds=61))
    pytest.fail("the phone was never locked")


def test_repeated_wrong_codes_lock_the_phone_out_with_the_time_to_wait(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    for _ in range(5):
        with pytest.raises(InvalidInput):
            otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    clock.shift(dt.timedelta(seconds=61))
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    for _ in range(4):
        with pytest.raises(InvalidInput):
            otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    with pytest.raises(OtpThrottled, match="该手机号码已被锁定，请在30分钟后再试") as locked:
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    assert locked.value.retry_after == 1800
    [lock] = events("otp.locked")
    assert lock.data["phone"] == "138****5678"
    assert len(events("otp.failed")) == 10


def test_a_locked_phone_can_neither_check_nor_ask_for_codes(clock):
    _fail_until_locked(clock)
    clock.shift(dt.timedelta(minutes=10))
    with pytest.raises(OtpThrottled, match="请在20分钟后再试"):
        otp_send(phone=PHONE, purpose=OtpPurpose.IDENTITY)
    # Any code is refused unchecked while locked, and the refusal is not counted.
    sent = len(outbox)
    with pytest.raises(OtpThrottled, match="已被锁定"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code="000000")
    assert len(outbox) == sent
    assert len(events("otp.failed")) == 10


def test_the_lock_out_expires_and_the_failure_count_starts_again(clock):
    _fail_until_locked(clock)
    clock.shift(dt.timedelta(seconds=1800))
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    with pytest.raises(InvalidInput, match="还可以再试4次"):
        otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    assert otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=code).verified_at is not None
    assert len(events("otp.locked")) == 1


def test_failures_older_than_an_hour_do_not_count_toward_a_lock_out(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    for _ in range(5):
        with pytest.raises(InvalidInput):
            otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    clock.shift(dt.timedelta(minutes=61))
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    code = last_code()
    for _ in range(5):
        with pytest.raises(InvalidInput):
            otp_verify(phone=PHONE, purpose=OtpPurpose.LOGIN, code=wrong(code))
    assert events("otp.locked") == []


def test_a_lock_out_on_one_phone_leaves_other_phones_alone(clock):
    _fail_until_locked(clock)
    otp_send(phone="13900001111", purpose=OtpPurpose.LOGIN)
    assert otp_verify(phone="13900001111", purpose=OtpPurpose.LOGIN, code=last_code("13900001111"))


def test_mask_phone_keeps_the_first_three_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"


# --- the real-name check ---------------------------------------------------------------------------------


@pytest.fixture
def person(db) -> User:
    return UserFactory(username="wangwu", real_name="", phone="")


def send_identity_code(user: User, *, id_number: str, phone: str = PHONE) -> str:
    identity_code_send(user=user, real_name="王五", id_number=id_number, phone=phone)
    return last_code(phone)


def test_identity_is_verified_with_name_id_number_and_a_code(person, clock):
    number = make_resident_id(7)
    code = send_identity_code(person, id_number=number)
    check = identity_verify(user=person, real_name=" 王五 ", id_number=number.lower(), phone=PHONE, code=code,
                            ip_address="203.0.113.5", user_agent="Mobile Safari")
    assert check.succeeded
    assert check.id_number_masked == number[:3] + "*" * 13 + number[-2:]
    assert (check.real_name, check.phone, check.method) == ("王五", PHONE, "name_id_sms")
    person.refresh_from_db()
    assert (person.real_name, person.id_type, person.id_number, person.phone) == (
        "王五", IdType.RESIDENT_ID, number, PHONE,
    )
    assert identity_is_verified(person)
    [event] = AuditEvent.objects.filter(stream=f"user.{person.pk}", kind="identity.verified")
    assert event.actor == person
    assert number not in str(event.data)


def test_a_bad_checksum_names_the_problem_and_changes_nothing_on_the_user(person, clock):
    number = make_resident_id(7)
    code = send_identity_code(person, id_number=number)
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidInput, match=f"校验位错误：最后一位应为 {number[17]}"):
        identity_verify(user=person, real_name="王五", id_number=bad, phone=PHONE, code=code)
    person.refresh_from_db()
    assert (person.real_name, person.id_type, person.id_number, person.phone) == ("", "", "", "")
    assert not identity_is_verified(person)
    [failed] = IdentityVerification.objects.filter(user=person)
    assert not failed.succeeded
    assert bad not in failed.id_number_masked
    assert AuditEvent.objects.filter(stream=f"user.{person.pk}", kind="identity.failed").count() == 1
    # The code was not spent on the typo: the corrected number goes through with it.
    identity_verify(user=person, real_name="王五", id_number=number, phone=PHONE, code=code)
    assert identity_is_verified(person)


def test_a_bad_checksum_sends_no_code(person):
    number = make_resident_id(7)
    with pytest.raises(InvalidInput, match="校验位错误"):
        identity_code_send(user=person, real_name="王五", id_number=number[:17] + ("1" if number[17] == "0" else "0"),
                           phone=PHONE)
    assert outbox == []


def test_a_wrong_code_fails_the_check_and_is_recorded(person, clock):
    number = make_resident_id(7)
    code = send_identity_code(person, id_number=number)
    with pytest.raises(InvalidInput, match="验证码不正确"):
        identity_verify(user=person, real_name="王五", id_number=number, phone=PHONE, code=wrong(code))
    person.refresh_from_db()
    assert person.id_number == ""
    assert IdentityVerification.objects.get(user=person).succeeded is False
    assert OneTimeCode.objects.get(phone=PHONE).failed_attempts == 1
    assert [e.kind for e in AuditEvent.objects.filter(stream=f"user.{person.pk}")] == ["identity.failed"]


def test_a_blank_name_is_refused_before_anything_is_recorded(person):
    with pytest.raises(InvalidInput, match="请填写与身份证一致的姓名"):
        identity_verify(user=person, real_name="  ", id_number=make_resident_id(7), phone=PHONE, code="123456")
    assert not IdentityVerification.objects.exists()


def test_an_id_number_verified_by_another_account_is_refused(person, clock):
    number = make_resident_id(7)
    UserFactory(username="first", id_type=IdType.RESIDENT_ID, id_number=number)
    with pytest.raises(InvalidInput, match="已由另一个账户完成实名认证"):
        identity_code_send(user=person, real_name="王五", id_number=number, phone=PHONE)
    assert outbox == []


def test_a_phone_number_of_another_account_is_refused(person, clock):
    UserFactory(username="holder", phone=PHONE)
    with pytest.raises(InvalidInput, match="该手机号码已绑定另一个账户"):
        identity_code_send(user=person, real_name="王五", id_number=make_resident_id(7), phone=PHONE)
    assert outbox == []


def test_an_identity_code_cannot_be_used_to_sign_in(person, clock):
    code = send_identity_code(person, id_number=make_resident_id(7))
    with pytest.raises(InvalidInput, match="请先获取验证码"):
        user_login_by_phone(phone=PHONE, code=code)


def test_identity_is_not_verified_for_anonymous_or_unchecked_users(person):
    from django.contrib.auth.models import AnonymousUser

    assert not identity_is_verified(AnonymousUser())
    assert not identity_is_verified(person)


def test_editing_the_id_number_afterwards_undoes_the_verification(person, clock):
    number = make_resident_id(7)
    code = send_identity_code(person, id_number=number)
    identity_verify(user=person, real_name="王五", id_number=number, phone=PHONE, code=code)
    person.id_number = make_resident_id(8)
    person.save()
    assert not identity_is_verified(person)


# --- signing in by phone ------------------------------------------------------------------------------------


def test_signing_in_with_a_new_phone_creates_an_account_without_a_password(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    user = user_login_by_phone(phone=PHONE, code=last_code(), ip_address="203.0.113.5")
    assert (user.username, user.phone) == (f"p{PHONE}", PHONE)
    assert not user.has_usable_password()
    [event] = AuditEvent.objects.filter(stream=f"user.{user.pk}", kind="user.signed_in_by_phone")
    assert event.data == {
        "phone": "138****5678", "phone_hash": hashlib.sha256(PHONE.encode()).hexdigest(), "created": True,
        "ip": "203.0.113.5",
    }


def test_signing_in_with_a_known_phone_finds_its_account(clock):
    holder = UserFactory(username="holder", phone=PHONE, password="!unusable")
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert user_login_by_phone(phone=PHONE, code=last_code()) == holder
    assert User.objects.filter(phone=PHONE).count() == 1
    event = AuditEvent.objects.get(stream=f"user.{holder.pk}", kind="user.signed_in_by_phone")
    assert event.data["created"] is False


@pytest.mark.parametrize("kind", ["password", "staff", "superuser", "member"])
def test_an_account_with_a_password_staff_status_or_a_role_must_sign_in_with_its_password(world, clock, kind):
    holder = UserFactory(username="holder", phone=PHONE, password="!unusable")
    if kind == "password":
        holder.set_password("a-strong-passphrase")
    elif kind == "staff":
        holder.is_staff = True
    elif kind == "superuser":
        holder.is_superuser = True
    else:
        add_member(holder, world.court, Role.CLERK)
    holder.save()
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(PermissionDenied, match="请使用账号密码登录"):
        user_login_by_phone(phone=PHONE, code=last_code())
    assert not AuditEvent.objects.filter(stream=f"user.{holder.pk}", kind="user.signed_in_by_phone").exists()


def test_an_ended_membership_does_not_stop_phone_sign_in(world, clock):
    holder = UserFactory(username="holder", phone=PHONE, password="!unusable")
    add_member(holder, world.partner, Role.MEDIATOR)
    holder.memberships.update(is_active=False)
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert user_login_by_phone(phone=PHONE, code=last_code()) == holder


def test_a_wrong_code_creates_no_account(clock):
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(InvalidInput):
        user_login_by_phone(phone=PHONE, code=wrong(last_code()))
    assert not User.objects.filter(phone=PHONE).exists()


def test_a_deactivated_account_cannot_sign_in_by_phone(clock):
    UserFactory(username="gone", phone=PHONE, is_active=False)
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(PermissionDenied, match="该账户已停用"):
        user_login_by_phone(phone=PHONE, code=last_code())


def test_a_phone_shared_by_two_accounts_must_use_a_password(clock):
    UserFactory(username="one", phone=PHONE)
    UserFactory(username="two", phone=PHONE)
    otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    with pytest.raises(PermissionDenied, match="绑定了多个账户"):
        user_login_by_phone(phone=PHONE, code=last_code())


def test_timestamps_are_aware(clock):
    otp = otp_send(phone=PHONE, purpose=OtpPurpose.LOGIN)
    assert timezone.is_aware(otp.sent_at) and timezone.is_aware(otp.expires_at)


@pytest.mark.django_db
def test_a_phone_taken_by_another_account_while_the_code_was_checked_is_refused(monkeypatch):
    """The uniqueness checks run again under the phone and ID locks, just before the identity is written."""
    user = UserFactory(phone="")
    other = UserFactory(phone="")
    real_verify = identity.otp_verify

    def verify_while_someone_takes_the_number(**kwargs):
        result = real_verify(**kwargs)
        User.objects.filter(pk=other.pk).update(phone="13612340000")  # committed by another account meanwhile
        return result

    outbox_clear()
    identity.identity_code_send(user=user, real_name="张三", id_number=make_resident_id(41), phone="13612340000")
    code = re.search(r"\d{6}", outbox[-1].text).group(0)
    monkeypatch.setattr(identity, "otp_verify", verify_while_someone_takes_the_number)
    with pytest.raises(InvalidInput, match="另一个账户"):
        identity.identity_verify(user=user, real_name="张三", id_number=make_resident_id(41), phone="13612340000",
                                 code=code)
    assert not IdentityVerification.objects.filter(user=user, succeeded=True).exists()
    user.refresh_from_db()
    assert user.phone == ""
