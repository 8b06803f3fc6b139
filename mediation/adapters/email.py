"""Sending e-mail for the outbox through Django's configured backend (``settings.EMAIL_BACKEND``: SMTP in
production, the console or ``locmem`` in development and tests).

Each message carries a ``Message-ID`` derived from the outbox idempotency key, the same on every retry,
so a copy sent twice at the at-least-once edge can be recognised as one message by the receiving side.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend


class EmailDeliveryError(Exception):
    """The message could not be handed to the mail server. The text says why, for the operator's log."""


def message_id_for(idempotency_key: str) -> str:
    """``<outbox.<hash>@<our domain>>``: stable for a key, valid whatever characters the key has."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "yizhan.localhost"
    return f"<outbox.{digest}@{domain}>"


class EmailSender:
    """One connection for a run of messages; reopened after a failure, closed by ``close()``."""

    def __init__(self) -> None:
        self._connection: BaseEmailBackend | None = None

    def send(self, *, to: str, subject: str, body: str, idempotency_key: str) -> str:
        """Hand one plain-text message to the mail server; return its Message-ID; raise EmailDeliveryError."""
        message_id = message_id_for(idempotency_key)
        try:
            if self._connection is None:
                connection = get_connection(fail_silently=False)
                connection.open()  # kept open for the next messages of this run
                self._connection = connection
            email = EmailMessage(
                subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
                headers={"Message-ID": message_id, "X-Yizhan-Idempotency-Key": idempotency_key[:120]},
                connection=self._connection,
            )
            accepted = email.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()  # the session may be half-way through a transaction: start the next one afresh
            raise EmailDeliveryError(f"The mail server refused or could not be reached: {exc}") from exc
        if accepted != 1:
            raise EmailDeliveryError("The mail backend did not accept the message.")
        return message_id

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # the server already hung up
                connection.close()
