"""Sending text messages. ``get_sms_backend()`` picks one by ``settings.SMS_BACKEND``:

- ``console``: logs the message and keeps it in ``outbox`` (tests read it, like ``django.core.mail.outbox``);
- ``file``: appends a JSON line to ``settings.SMS_FILE_PATH`` (the demo's "phone");
- ``http``: the gateway's HTTP API (``settings.SMS_GATEWAY_URL``), authenticated with a bearer token.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from mediation.adapters.http import post_json

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 5


class SmsDeliveryError(Exception):
    """The message could not be handed to the gateway. The text says why, for the operator's log."""


@dataclass(frozen=True)
class SentSms:
    id: str
    phone: str
    text: str
    sent_at: datetime
    request_id: str = ""


# Messages sent through the console backend, oldest first.
outbox: list[SentSms] = []


def outbox_clear() -> None:
    outbox.clear()


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str, request_id: str | None = None) -> str:
        """Send ``text`` to ``phone`` and return the provider's message id; raise SmsDeliveryError.

        ``request_id`` (the outbox's idempotency key) lets a gateway drop a repeated request."""
        ...


class ConsoleSmsBackend:
    """For development and tests: nothing leaves the machine."""

    def send(self, *, phone: str, text: str, request_id: str | None = None) -> str:
        message = SentSms(
            id=f"console-{uuid.uuid4().hex}", phone=phone, text=text, sent_at=timezone.now(),
            request_id=request_id or "",
        )
        outbox.append(message)
        logger.info("SMS to %s: %s", phone, text)
        return message.id


class FileSmsBackend:
    """For the demo: each message becomes one JSON line in ``settings.SMS_FILE_PATH``."""

    def send(self, *, phone: str, text: str, request_id: str | None = None) -> str:
        message_id = f"file-{uuid.uuid4().hex}"
        path = settings.SMS_FILE_PATH
        record = {"phone": phone, "text": text, "sent_at": timezone.now().isoformat(), "id": message_id}
        if request_id:
            record["request_id"] = request_id
        line = json.dumps(record, ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise SmsDeliveryError(f"Cannot write the SMS file {path}: {exc}") from exc
        return message_id


class HttpSmsBackend:
    """The gateway: ``POST {"phone", "text", "signature"}`` as JSON with ``Authorization: Bearer <token>``;
    a 2xx answer carries the message id as ``{"id": "..."}``. With a ``request_id`` the body also has
    ``"request_id"`` and the request an ``Idempotency-Key`` header: a gateway that honours it does not send a
    retried request twice."""

    def send(self, *, phone: str, text: str, request_id: str | None = None) -> str:
        url = settings.SMS_GATEWAY_URL
        if not url:
            raise SmsDeliveryError("SMS_GATEWAY_URL is not set.")
        payload = {"phone": phone, "text": text, "signature": settings.SMS_SIGNATURE}
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
        }
        if request_id:
            payload["request_id"] = request_id
            headers["Idempotency-Key"] = request_id
        answer = post_json(
            url=url, body=json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers,
            timeout=HTTP_TIMEOUT_SECONDS, service="The SMS gateway", error=SmsDeliveryError,
        )
        message_id = answer.get("id") if isinstance(answer, dict) else None
        if not message_id:
            raise SmsDeliveryError("The SMS gateway's answer has no message id.")
        return str(message_id)


_BACKENDS: dict[str, type[ConsoleSmsBackend] | type[FileSmsBackend] | type[HttpSmsBackend]] = {
    "console": ConsoleSmsBackend,
    "file": FileSmsBackend,
    "http": HttpSmsBackend,
}


def get_sms_backend() -> SmsBackend:
    """The backend named by ``settings.SMS_BACKEND``, read now (tests and deployments may change it)."""
    name = settings.SMS_BACKEND
    try:
        return _BACKENDS[name]()
    except KeyError:
        raise SmsDeliveryError(f"Unknown SMS_BACKEND {name!r}; use console, file or http.") from None
