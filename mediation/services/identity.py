"""One-time codes by SMS, real-name identity checks and signing in with a phone number (OLR 7;
legal-rules §B5, §B11).

A code is stored only as a hash. Every send, failure, lock-out and success is an audit event on the
phone's own stream (``phone.<hash>``), and those events are also the lock-out's state: a phone is locked
while its latest ``otp.locked`` event is younger than ``OTP_LOCKOUT_SECONDS``, and failures since then
count toward the next lock-out. The stream's head row doubles as the per-phone lock that serialises
sends and checks for one number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.adapters.identity import IdentityProviderError, get_identity_provider
from mediation.adapters.sms import SmsDeliveryError, get_sms_backend
from mediation.choices import IdType, OtpPurpose
from mediation.exceptions import DomainError, InvalidInput, PermissionDenied
from mediation.models import AuditEvent, AuditHead, IdentityVerification, Membership, OneTimeCode, User
from mediation.services.audit import audit_append
from mediation.validators import mask_phone, mask_resident_id, validate_mobile, validate_resident_id

logger = logging.getLogger(__name__)

CODE_LENGTH = 6
HOUR = dt.timedelta(hours=1)
IDENTITY_METHOD = "name_id_sms"


class OtpThrottled(PermissionDenied):
    """Too many codes asked for, or too many wrong ones: ``retry_after`` is the wait in seconds."""

    code = "otp_throttled"
    status = json_status = 429
    json_error = "throttled"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def json_extra(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class IdentityUnavailable(DomainError):
    """The identity provider could not be asked; nothing was recorded or used up, the person may retry."""

    code = "identity_unavailable"


class SmsUnavailable(DomainError):
    """The SMS gateway did not take the message; nothing was recorded, the person may simply retry."""

    code = "sms_unavailable"


def phone_hash(phone: str) -> str:
    """The full SHA-256 of a phone number: names the exact number in audit data without storing it (a
    masked number is shared by many numbers)."""
    return hashlib.sha256(phone.encode()).hexdigest()


def phone_stream(phone: str) -> str:
    return f"phone.{phone_hash(phone)[:16]}"


def otp_send(*, phone: str, purpose: str, ip_address: str | None = None) -> OneTimeCode:
    """Send a fresh code to ``phone`` for ``purpose``, within the resend interval and hourly cap.

    The message goes out inside the transaction: if the gateway refuses it, no code is stored and the
    attempt does not count against the caps.
    """
    phone = _clean_phone(phone)
    purpose = OtpPurpose(purpose)
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    stream = phone_stream(phone)
    with transaction.atomic():
        _lock_phone(stream)
        now = timezone.now()
        _refuse_if_locked(stream, now)
        codes = OneTimeCode.objects.filter(phone=phone, purpose=purpose)
        last = codes.order_by("-sent_at").first()
        if last is not None:
            wait = _seconds(last.sent_at + dt.timedelta(seconds=settings.OTP_RESEND_SECONDS) - now)
            if wait > 0:
                raise OtpThrottled(_("验证码已发送，请在%(s)d秒后再重新获取。") % {"s": wait}, retry_after=wait)
        this_hour = list(codes.filter(sent_at__gt=now - HOUR).order_by("sent_at").values_list("sent_at", flat=True))
        if len(this_hour) >= settings.OTP_MAX_SENDS_PER_HOUR:
            wait = _seconds(this_hour[-settings.OTP_MAX_SENDS_PER_HOUR] + HOUR - now)
            logger.warning("OTP send cap reached for %s (%s)", mask_phone(phone), purpose)
            raise OtpThrottled(
                _("该手机号码一小时内获取验证码次数过多，请在%(m)d分钟后再试。") % {"m": _minutes(wait)},
                retry_after=wait,
            )
        _refuse_over_shared_caps(now=now, ip_address=ip_address)
        otp = OneTimeCode.objects.create(
            phone=phone, purpose=purpose, code_hash=_code_hash(code=code, phone=phone, purpose=purpose),
            sent_at=now, expires_at=now + dt.timedelta(seconds=settings.OTP_TTL_SECONDS), ip_address=ip_address,
        )
        text = _("验证码 %(code)s，%(m)d分钟内有效。请勿告诉他人。") % {
            "code": code, "m": _minutes(settings.OTP_TTL_SECONDS),
        }
        try:
            message_id = get_sms_backend().send(phone=phone, text=text)
        except SmsDeliveryError as exc:
            logger.error("SMS to %s failed: %s", mask_phone(phone), exc)
            raise SmsUnavailable(_("短信发送失败，请稍后重试。如多次失败，请联系法院诉讼服务中心。")) from exc
        audit_append(
            kind="otp.sent", actor=None, actor_label=mask_phone(phone), stream=stream,
            data={"phone": mask_phone(phone), "purpose": purpose, "code_id": otp.pk, "message_id": message_id,
                  "expires_at": otp.expires_at.isoformat(), "ip": ip_address},
        )
    return otp


def login_code_send(*, phone: str, ip_address: str | None = None) -> OneTimeCode:
    """Send a sign-in code, unless the number belongs to an account that may not sign in with one: its
    owner would otherwise get a code and learn only after typing it that it cannot be used."""
    phone = _clean_phone(phone)
    users = list(User.objects.filter(phone=phone).order_by("pk")[:2])
    if len(users) > 1:
        raise PermissionDenied(_("该手机号码绑定了多个账户，请使用用户名和密码登录，或联系平台管理员。"))
    if users and not users[0].is_active:
        raise PermissionDenied(_("该账户已停用，请联系平台管理员。"))
    if users and _needs_password_sign_in(users[0]):
        raise PermissionDenied(_("该账户不能使用手机验证码登录，请使用账号密码登录。"))
    return otp_send(phone=phone, purpose=OtpPurpose.LOGIN, ip_address=ip_address)


def otp_resend_wait(*, phone: str, purpose: str) -> int:
    """Seconds until a new code may be sent for ``phone`` and ``purpose`` (0: now). For the countdown."""
    last = OneTimeCode.objects.filter(phone=phone, purpose=purpose).order_by("-sent_at").first()
    if last is None:
        return 0
    return max(0, _seconds(last.sent_at + dt.timedelta(seconds=settings.OTP_RESEND_SECONDS) - timezone.now()))


def otp_verify(*, phone: str, purpose: str, code: str, ip_address: str | None = None) -> OneTimeCode:
    """Check ``code`` against the latest code sent to ``phone`` for ``purpose``, and use it up.

    A wrong code is counted and committed before the error is raised, so call this outside any
    transaction of your own: a caller's rollback would otherwise undo the count.
    """
    phone = _clean_phone(phone)
    purpose = OtpPurpose(purpose)
    code = (code or "").strip()
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isdigit()):
        raise InvalidInput(_("请输入短信中的%(n)d位数字验证码。") % {"n": CODE_LENGTH})
    with transaction.atomic():
        result = _otp_check(phone=phone, purpose=purpose, code=code, ip_address=ip_address)
    # Raised only now, after the failure count and its audit events are committed.
    if isinstance(result, DomainError):
        raise result
    return result


def identity_code_send(
    *, user: User, real_name: str, id_number: str, phone: str, ip_address: str | None = None
) -> OneTimeCode:
    """Check what can be checked before a code is sent (name, ID checksum, that neither the number nor
    the ID belongs to another account), then send the identity code."""
    _clean_identity(user=user, real_name=real_name, id_number=id_number, phone=phone)
    return otp_send(phone=phone, purpose=OtpPurpose.IDENTITY, ip_address=ip_address)


def identity_verify(
    *,
    user: User,
    real_name: str,
    id_number: str,
    phone: str,
    code: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> IdentityVerification:
    """Real-name check: name, resident ID number (checksum) and a code sent to the person's phone.

    On success the user's name, ID and phone are set. A failed check is recorded too (masked ID, no
    change to the user). The name is matched to the ID by the identity provider (legal-rules §B5;
    mediation/adapters/identity.py), whose reference is kept with the check.
    """
    phone = (phone or "").strip()
    try:
        real_name, id_number = _clean_identity(user=user, real_name=real_name, id_number=id_number, phone=phone)
    except _RecordableInvalidInput as exc:
        _identity_failed(user=user, real_name=real_name, id_number=id_number, phone=phone, reason=str(exc),
                         ip_address=ip_address, user_agent=user_agent)
        raise
    # The name must be the one registered for the ID number: asked of the identity provider before the code
    # is used up, so a provider outage or a mismatch leaves the code for another try.
    try:
        found = get_identity_provider().match(name=real_name, id_number=id_number)
    except IdentityProviderError as exc:
        logger.error("Identity provider failed for user %s: %s", user.pk, exc)
        raise IdentityUnavailable(_("实名核验服务暂时不可用，请稍后重试。")) from exc
    if not found.matched:
        reason = _("姓名与身份证号码不一致，请核对后重新填写。")
        _identity_failed(user=user, real_name=real_name, id_number=id_number, phone=phone, reason=reason,
                         ip_address=ip_address, user_agent=user_agent, provider_ref=found.reference)
        raise InvalidInput(reason)
    try:
        otp_verify(phone=phone, purpose=OtpPurpose.IDENTITY, code=code, ip_address=ip_address)
    except DomainError as exc:
        _identity_failed(user=user, real_name=real_name, id_number=id_number, phone=phone, reason=str(exc),
                         ip_address=ip_address, user_agent=user_agent)
        raise
    with transaction.atomic():
        # Re-check under locks on the phone and on the ID number (their own lock streams), so two accounts
        # verifying the same number at the same moment cannot both succeed.
        _lock_phone(phone_stream(phone))
        _lock_phone(f"idno.{hashlib.sha256(id_number.encode()).hexdigest()[:16]}")
        _clean_identity(user=user, real_name=real_name, id_number=id_number, phone=phone)
        locked = User.objects.select_for_update().get(pk=user.pk)
        check = IdentityVerification.objects.create(
            user=locked, method=IDENTITY_METHOD, real_name=real_name, id_number_masked=mask_resident_id(id_number),
            phone=phone, succeeded=True, checked_at=timezone.now(), ip_address=ip_address,
            user_agent=user_agent[:200], provider_ref=found.reference[:64],
        )
        locked.real_name = real_name
        locked.id_type = IdType.RESIDENT_ID
        locked.id_number = id_number
        locked.phone = phone
        locked.save(update_fields=["real_name", "id_type", "id_number", "phone"])
        audit_append(
            kind="identity.verified", actor=locked, stream=f"user.{locked.pk}",
            data={"check": check.pk, "method": IDENTITY_METHOD, "real_name": real_name,
                  "id_number": check.id_number_masked, "phone": mask_phone(phone), "ip": ip_address,
                  "provider": found.provider, "provider_ref": check.provider_ref},
        )
    for field in ("real_name", "id_type", "id_number", "phone"):
        setattr(user, field, getattr(locked, field))
    return check


def identity_is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True when ``user`` passed a real-name check for the name and ID number the account now holds."""
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    if user.id_type != IdType.RESIDENT_ID or not user.id_number or not user.real_name:
        return False
    return IdentityVerification.objects.filter(
        user=user, succeeded=True, real_name=user.real_name, id_number_masked=mask_resident_id(user.id_number)
    ).exists()


def user_login_by_phone(*, phone: str, code: str, ip_address: str | None = None) -> User:
    """Sign in with a code sent to the phone: the account holding this number, or a new one."""
    phone = _clean_phone(phone)
    otp_verify(phone=phone, purpose=OtpPurpose.LOGIN, code=code, ip_address=ip_address)
    with transaction.atomic():
        _lock_phone(phone_stream(phone))
        users = list(User.objects.filter(phone=phone).order_by("pk")[:2])
        if len(users) > 1:
            raise PermissionDenied(_("该手机号码绑定了多个账户，请使用用户名和密码登录，或联系平台管理员。"))
        created = not users
        if created:
            username = f"p{phone}"
            if User.objects.filter(username=username).exists():
                username = f"p{phone}-{secrets.token_hex(3)}"
            user = User(username=username, phone=phone)
            user.set_unusable_password()
            user.save()
        else:
            user = users[0]
            if not user.is_active:
                raise PermissionDenied(_("该账户已停用，请联系平台管理员。"))
            if _needs_password_sign_in(user):
                raise PermissionDenied(_("该账户不能使用手机验证码登录，请使用账号密码登录。"))
        audit_append(
            kind="user.signed_in_by_phone", actor=user, stream=f"user.{user.pk}",
            data={"phone": mask_phone(phone), "phone_hash": phone_hash(phone), "created": created,
                  "ip": ip_address},
        )
    return user


def password_failure_record(*, username: str, ip_address: str | None, locked: bool) -> None:
    """Audit a refused password sign-in (a wrong password, or any password while locked out). A name with no
    account is kept only as a hash: people type passwords into the name field by mistake."""
    user = User.objects.filter(username=username).first() if username else None
    audit_append(
        kind="auth.password_failed", actor=None, actor_label=_password_label(user),
        stream=f"user.{user.pk}" if user is not None else "login",
        data={"account": user.pk if user is not None else None,
              "username_hash": None if user is not None else phone_hash(username or "")[:16],
              "ip": ip_address, "locked": locked},
    )


def password_lockout_record(*, username: str, ip_address: str | None, until: dt.datetime, minutes: int) -> None:
    """Audit that password sign-in is locked for ``username`` or ``ip_address`` until ``until``."""
    user = User.objects.filter(username=username).first() if username else None
    audit_append(
        kind="auth.locked_out", actor=None, actor_label=_password_label(user),
        stream=f"user.{user.pk}" if user is not None else "login",
        data={"account": user.pk if user is not None else None, "ip": ip_address, "minutes": minutes,
              "until": until.isoformat()},
    )
    logger.warning("Password sign-in locked for account %s / address %s until %s",
                   user.pk if user is not None else "-", ip_address, until.isoformat())


def _password_label(user: User | None) -> str:
    return user.display_name if user is not None else _("未知账户")


# --- internals ----------------------------------------------------------------------------------------


def _needs_password_sign_in(user: User) -> bool:
    """Staff, anyone holding a role in an organisation, and anyone who set a password sign in with it: a
    code to a phone alone (a lost or re-issued SIM) must not open an account that acts for a court or an
    organisation, or one its owner protected with a password."""
    return (
        user.is_staff
        or user.is_superuser
        or user.has_usable_password()
        or Membership.objects.filter(user=user, is_active=True).exists()
    )


def _otp_check(*, phone: str, purpose: str, code: str, ip_address: str | None) -> OneTimeCode | DomainError:
    """The body of ``otp_verify``: writes what happened and *returns* the error, so that the
    transaction around it commits the failure count."""
    stream = phone_stream(phone)
    _lock_phone(stream)
    now = timezone.now()
    try:
        _refuse_if_locked(stream, now)
    except OtpThrottled as exc:
        return exc
    otp = OneTimeCode.objects.filter(phone=phone, purpose=purpose).order_by("-sent_at", "-pk").first()
    if otp is None:
        return InvalidInput(_("请先获取验证码。"))
    if otp.verified_at is not None:
        return InvalidInput(_("该验证码已使用过，请重新获取。"))
    if otp.expires_at <= now:
        return InvalidInput(_("验证码已过期，请重新获取。"))
    if otp.failed_attempts >= settings.OTP_MAX_ATTEMPTS_PER_CODE:
        return InvalidInput(_("该验证码错误次数过多，已失效，请重新获取。"))
    masked = mask_phone(phone)
    if hmac.compare_digest(otp.code_hash, _code_hash(code=code, phone=phone, purpose=purpose)):
        otp.verified_at = now
        otp.save(update_fields=["verified_at"])
        audit_append(
            kind="otp.verified", actor=None, actor_label=masked, stream=stream,
            data={"phone": masked, "purpose": purpose, "code_id": otp.pk, "ip": ip_address},
        )
        return otp
    otp.failed_attempts += 1
    otp.save(update_fields=["failed_attempts"])
    audit_append(
        kind="otp.failed", actor=None, actor_label=masked, stream=stream,
        data={"phone": masked, "purpose": purpose, "code_id": otp.pk, "attempts": otp.failed_attempts,
              "ip": ip_address},
    )
    logger.warning("Wrong one-time code for %s (%s), attempt %d", masked, purpose, otp.failed_attempts)
    if _failures_since_last_lock(stream, now) >= settings.OTP_LOCKOUT_FAILURES:
        until = now + dt.timedelta(seconds=settings.OTP_LOCKOUT_SECONDS)
        audit_append(
            kind="otp.locked", actor=None, actor_label=masked, stream=stream,
            data={"phone": masked, "until": until.isoformat(), "failures": settings.OTP_LOCKOUT_FAILURES,
                  "ip": ip_address},
        )
        logger.warning("Phone %s locked out until %s after repeated wrong codes", masked, until.isoformat())
        wait = settings.OTP_LOCKOUT_SECONDS
        return OtpThrottled(
            _("验证码错误次数过多，该手机号码已被锁定，请在%(m)d分钟后再试。") % {"m": _minutes(wait)},
            retry_after=wait,
        )
    left = settings.OTP_MAX_ATTEMPTS_PER_CODE - otp.failed_attempts
    if left <= 0:
        return InvalidInput(_("验证码错误次数过多，该验证码已失效，请重新获取。"))
    return InvalidInput(_("验证码不正确，还可以再试%(n)d次。") % {"n": left})


def _refuse_over_shared_caps(*, now: dt.datetime, ip_address: str | None) -> None:
    """Caps across numbers: one address asking codes for many numbers (SMS pumping, harassment), and all
    addresses together (a distributed flood costs money and the gateway's goodwill). Counted from the codes
    sent in the last hour; the address's own lock row keeps parallel requests from one address in line."""
    recent = OneTimeCode.objects.filter(sent_at__gt=now - HOUR)
    if ip_address:
        _lock_phone(f"otpaddr.{hashlib.sha256(ip_address.encode()).hexdigest()[:16]}")
        from_here = list(recent.filter(ip_address=ip_address).order_by("-sent_at")
                         .values_list("sent_at", flat=True)[: settings.OTP_MAX_SENDS_PER_ADDRESS_PER_HOUR])
        if len(from_here) >= settings.OTP_MAX_SENDS_PER_ADDRESS_PER_HOUR:
            wait = _seconds(from_here[-1] + HOUR - now)
            logger.warning("OTP send cap reached for address %s", ip_address)
            raise OtpThrottled(
                _("本网络地址一小时内获取验证码次数过多，请在%(m)d分钟后再试。") % {"m": _minutes(wait)},
                retry_after=wait,
            )
    if recent.count() >= settings.OTP_MAX_SENDS_PER_HOUR_TOTAL:
        logger.error("OTP global send cap (%d an hour) reached", settings.OTP_MAX_SENDS_PER_HOUR_TOTAL)
        raise OtpThrottled(_("验证码发送过于繁忙，请稍后再试。"), retry_after=300)


def _code_hash(*, code: str, phone: str, purpose: str) -> str:
    return hashlib.sha256(f"{code}{settings.SECRET_KEY}{phone}{purpose}".encode()).hexdigest()


def _lock_phone(stream: str) -> None:
    """Serialise work on one phone number by locking its audit stream's head row."""
    AuditHead.objects.get_or_create(stream=stream)
    AuditHead.objects.select_for_update().get(stream=stream)


def _last_lock(stream: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(stream=stream, kind="otp.locked").order_by("-seq").first()


def _refuse_if_locked(stream: str, now: dt.datetime) -> None:
    lock = _last_lock(stream)
    if lock is None:
        return
    wait = _seconds(lock.created_at + dt.timedelta(seconds=settings.OTP_LOCKOUT_SECONDS) - now)
    if wait > 0:
        raise OtpThrottled(
            _("验证码错误次数过多，该手机号码已被锁定，请在%(m)d分钟后再试。") % {"m": _minutes(wait)},
            retry_after=wait,
        )


def _failures_since_last_lock(stream: str, now: dt.datetime) -> int:
    failures = AuditEvent.objects.filter(stream=stream, kind="otp.failed", created_at__gt=now - HOUR)
    lock = _last_lock(stream)
    if lock is not None:
        failures = failures.filter(seq__gt=lock.seq)
    return failures.count()


class _RecordableInvalidInput(InvalidInput):
    """Bad identity data worth recording as a failed check (unlike a blank field)."""


def _clean_identity(*, user: User, real_name: str, id_number: str, phone: str) -> tuple[str, str]:
    real_name = " ".join((real_name or "").split())
    id_number = (id_number or "").strip().upper()
    if not real_name:
        raise InvalidInput(_("请填写与身份证一致的姓名。"))
    if len(real_name) > 60:
        raise InvalidInput(_("姓名过长，请核对。"))
    _clean_phone(phone)
    try:
        validate_resident_id(id_number)
    except ValidationError as exc:
        raise _RecordableInvalidInput(exc.messages[0]) from exc
    others = User.objects.exclude(pk=user.pk)
    if others.filter(id_type=IdType.RESIDENT_ID, id_number=id_number).exists():
        raise _RecordableInvalidInput(
            _("该身份证号码已由另一个账户完成实名认证。如非本人操作，请联系法院诉讼服务中心。")
        )
    if others.filter(phone=phone.strip()).exists():
        raise InvalidInput(_("该手机号码已绑定另一个账户，请用该号码登录，或填写本人的其他手机号码。"))
    return real_name, id_number


def _identity_failed(
    *, user: User, real_name: str, id_number: str, phone: str, reason: str, ip_address: str | None,
    user_agent: str, provider_ref: str = "",
) -> None:
    with transaction.atomic():
        check = IdentityVerification.objects.create(
            user=user, method=IDENTITY_METHOD, real_name=real_name[:60],
            id_number_masked=mask_resident_id((id_number or "").strip().upper())[:32], phone=phone[:20],
            succeeded=False, checked_at=timezone.now(), ip_address=ip_address, user_agent=user_agent[:200],
            provider_ref=provider_ref[:64],
        )
        audit_append(
            kind="identity.failed", actor=user, stream=f"user.{user.pk}",
            data={"check": check.pk, "method": IDENTITY_METHOD, "reason": reason,
                  "id_number": check.id_number_masked, "phone": mask_phone(phone), "ip": ip_address,
                  "provider_ref": check.provider_ref},
        )


def _clean_phone(phone: str) -> str:
    phone = (phone or "").strip()
    try:
        validate_mobile(phone)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0]) from exc
    return phone


def _seconds(delta: dt.timedelta) -> int:
    return math.ceil(delta.total_seconds())


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
