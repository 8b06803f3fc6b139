"""Audit of password sign-in: Django says when one failed, django-axes when it locks an account or address."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils import timezone

from mediation.services.identity import password_failure_record, password_lockout_record


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR") or None


def on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                    **kwargs: Any) -> None:
    password_failure_record(username=str(credentials.get("username") or ""), ip_address=_ip(request),
                            locked=bool(getattr(request, "axes_locked_out", False)))


def on_locked_out(sender: Any, request: HttpRequest | None = None, username: str | None = None,
                  ip_address: str | None = None, **kwargs: Any) -> None:
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    until = timezone.now() + cool_off if cool_off else timezone.now()
    password_lockout_record(username=username or "", ip_address=ip_address or _ip(request), until=until,
                            minutes=minutes)


def connect() -> None:
    user_login_failed.connect(on_login_failed, dispatch_uid="mediation.audit.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="mediation.audit.locked_out")
