"""Typed readers for settings taken from the environment.

Each helper names the variable in its error so a malformed deployment fails loudly at start-up
rather than running with a silently wrong value. A secret may also come from ``NAME_FILE``
(Docker/Kubernetes secrets), which wins over ``NAME``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    file_var = os.environ.get(f"{name}_FILE")
    if file_var:
        try:
            return Path(file_var).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at {file_var!r}, which cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_required(name: str) -> str:
    value = _raw(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set (or {name}_FILE must name a file holding it).")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    # int() would also take "1_000" and non-ASCII digits; a config value should be plain digits.
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.")
    try:
        number = int(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str | None, *, schemes: tuple[str, ...]) -> str | None:
    value = _raw(name)
    if value is None or value == "":
        return default
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in schemes or not rest:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}, got {value!r}."
        )
    return value


def env_choice(name: str, default: str, *, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    if value.strip() not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value.strip()
