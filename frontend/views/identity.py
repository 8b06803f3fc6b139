"""Signing in with a phone number and a one-time code, and the real-name identity check.

Both pages work in two steps (details, then the code). Between them the session remembers what was
entered, so a refresh or a closed tab does not send another code.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from axes.helpers import get_cool_off
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from frontend.http import client_ip
from mediation.choices import OtpPurpose
from mediation.exceptions import DomainError
from mediation.models import User
from mediation.services.identity import (
    OtpThrottled,
    identity_code_send,
    identity_is_verified,
    identity_verify,
    login_code_send,
    otp_resend_wait,
    user_login_by_phone,
)
from mediation.validators import mask_phone, mask_resident_id, validate_mobile, validate_resident_id

LOGIN_SESSION_KEY = "phone_login"
IDENTITY_SESSION_KEY = "identity_pending"


class PhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=20)


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=12)


class IdentityForm(forms.Form):
    # The service checks all of this again; checking here puts each message next to its field.
    real_name = forms.CharField(label=gettext_lazy("姓名"), max_length=60)
    id_number = forms.CharField(label=gettext_lazy("居民身份证号码"), max_length=32, validators=[validate_resident_id])
    phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=20, validators=[validate_mobile])


def identity_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send people who have not passed the real-name check to it first, and back here afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if identity_is_verified(request.user):
            return view(request, *args, **kwargs)
        return redirect(_with_next(reverse("identity_verify"), request.get_full_path()))

    return login_required(wrapper)


@require_http_methods(["GET", "POST"])
def phone_login(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    here = _with_next(reverse("phone_login"), next_url)
    pending: str | None = request.session.get(LOGIN_SESSION_KEY)
    phone_form = PhoneForm(initial={"phone": pending or ""})
    code_form = CodeForm()
    retry_after: int | None = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "change":
            request.session.pop(LOGIN_SESSION_KEY, None)
            return redirect(here)
        if action in ("send", "resend"):
            phone_form = PhoneForm(request.POST if action == "send" or not pending else {"phone": pending})
            if phone_form.is_valid():
                phone = phone_form.cleaned_data["phone"]
                try:
                    login_code_send(phone=phone, ip_address=client_ip(request))
                except DomainError as exc:
                    retry_after = exc.retry_after if isinstance(exc, OtpThrottled) else None
                    if pending:
                        messages.error(request, str(exc))
                        return redirect(here)
                    phone_form.add_error("phone", str(exc))
                else:
                    request.session[LOGIN_SESSION_KEY] = phone
                    return redirect(here)
        elif action == "verify" and pending:
            code_form = CodeForm(request.POST)
            if code_form.is_valid():
                try:
                    user = user_login_by_phone(phone=pending, code=code_form.cleaned_data["code"],
                                               ip_address=client_ip(request))
                except DomainError as exc:
                    code_form.add_error("code", str(exc))
                else:
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                    request.session.pop(LOGIN_SESSION_KEY, None)
                    return redirect(next_url or reverse("home"))
    wait = otp_resend_wait(phone=pending, purpose=OtpPurpose.LOGIN) if pending else 0
    return render(request, "frontend/identity/phone_login.html", {
        "phone_form": phone_form, "code_form": code_form, "pending": pending,
        "pending_masked": mask_phone(pending) if pending else "", "next": next_url,
        "wait": retry_after if retry_after is not None else wait,
    })


@login_required
@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required
    next_url = _safe_next(request)
    here = _with_next(reverse("identity_verify"), next_url)
    pending: dict[str, str] | None = request.session.get(IDENTITY_SESSION_KEY)
    form = IdentityForm(initial=pending or {"real_name": user.real_name, "phone": user.phone})
    code_form = CodeForm()
    retry_after: int | None = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "change":
            request.session.pop(IDENTITY_SESSION_KEY, None)
            return redirect(here)
        if action in ("send", "resend"):
            form = IdentityForm(request.POST if action == "send" or not pending else pending)
            if form.is_valid():
                details = {key: str(value).strip() for key, value in form.cleaned_data.items()}
                try:
                    identity_code_send(user=user, ip_address=client_ip(request), **details)
                except DomainError as exc:
                    retry_after = exc.retry_after if isinstance(exc, OtpThrottled) else None
                    if pending:
                        messages.error(request, str(exc))
                        return redirect(here)
                    form.add_error(None, str(exc))
                else:
                    request.session[IDENTITY_SESSION_KEY] = details
                    return redirect(here)
        elif action == "verify" and pending:
            code_form = CodeForm(request.POST)
            if code_form.is_valid():
                try:
                    identity_verify(
                        user=user, code=code_form.cleaned_data["code"], ip_address=client_ip(request),
                        user_agent=request.headers.get("user-agent", ""), **pending,
                    )
                except DomainError as exc:
                    code_form.add_error("code", str(exc))
                else:
                    request.session.pop(IDENTITY_SESSION_KEY, None)
                    if next_url:  # this page says so itself otherwise
                        messages.success(request, _("实名认证已完成。"))
                    return redirect(next_url or here)
    wait = otp_resend_wait(phone=pending["phone"], purpose=OtpPurpose.IDENTITY) if pending else 0
    return render(request, "frontend/identity/identity.html", {
        "form": form, "code_form": code_form, "pending": pending, "next": next_url,
        "verified": identity_is_verified(user) and not pending,
        "pending_id_masked": mask_resident_id(pending["id_number"]) if pending else "",
        "pending_phone_masked": mask_phone(pending["phone"]) if pending else "",
        "wait": retry_after if retry_after is not None else wait,
    })


def password_locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
                        credentials: dict[str, Any] | None = None) -> HttpResponse:
    """What django-axes answers a password sign-in refused for lock-out (AXES_LOCKOUT_CALLABLE): until when,
    in Beijing time, and for how long. Each refused try starts the wait again, so it is counted from now."""
    cool_off = get_cool_off(request) or dt.timedelta(0)
    until = timezone.localtime(timezone.now() + cool_off)
    return render(request, "frontend/identity/locked_out.html", {
        "until": until, "minutes": max(1, math.ceil(cool_off.total_seconds() / 60)),
        "admin": request.path.startswith(reverse("admin:index")),
    }, status=429)


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


