"""E-mail through the outbox against a real SMTP server on loopback (aiosmtpd in a thread): a server that
says "451 try later", or is not there at all, loses nothing, and every message arrives exactly once."""

from __future__ import annotations

import datetime as dt
import email
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import transaction

from mediation import notification_templates as nt
from mediation.adapters.email import message_id_for
from mediation.choices import MessageChannel, OutboxStatus
from mediation.models import AuditEvent, OutboxMessage
from mediation.services.outbox import outbox_deliver_due, outbox_enqueue

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the server accepted, and how often it still refuses each message before taking it."""

    refuse_each: int = 0
    attempts: Counter[str] = field(default_factory=Counter)
    accepted: list[email.message.Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        message_id = str(message["Message-ID"]).strip()
        with self.lock:
            self.attempts[message_id] += 1
            if self.attempts[message_id] <= self.refuse_each:
                return "451 4.3.0 try later"
            self.accepted.append(message)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]).strip() for m in self.accepted]


@pytest.fixture
def smtp(settings) -> tuple[Mailbox, int]:
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.OUTBOX_RETRY_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 8
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return Mailbox(), port


def serve(mailbox: Mailbox, port: int) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def enqueue_mail(count: int, *, case=None) -> list[OutboxMessage]:
    with transaction.atomic():
        return [
            outbox_enqueue(
                channel=MessageChannel.EMAIL, address=f"party{n}@example.cn", template=nt.GENERIC,
                context={"subject": f"调解通知{n}", "text": f"您有一条新消息（{n}）。"},
                idempotency_key=f"smtp-test:{n}", case=case,
            )
            for n in range(count)
        ]


def run_until_done(traveller: Any, *, rounds: int = 12) -> int:
    """Deliver, then move the clock past the longest backoff so far, until nothing is pending."""
    runs = 0
    for _ in range(rounds):
        outbox_deliver_due()
        runs += 1
        if not OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).exists():
            break
        traveller.shift(dt.timedelta(hours=1))
    return runs


@pytest.mark.django_db
def test_a_server_that_refuses_the_first_attempts_gets_every_message_exactly_once(world, smtp):
    mailbox, port = smtp
    mailbox.refuse_each = 2
    controller = serve(mailbox, port)
    case = world.new_case()
    try:
        with time_machine.travel(T0, tick=False) as traveller:
            messages = enqueue_mail(20, case=case)
            assert outbox_deliver_due() == 0  # 451 for every first attempt
            rows = list(OutboxMessage.objects.order_by("pk"))
            assert {(m.status, m.attempts) for m in rows} == {(OutboxStatus.PENDING, 1)}
            assert all("451" in m.last_error for m in rows)
            assert all(m.next_attempt_at >= T0 + dt.timedelta(seconds=30) for m in rows)

            traveller.shift(dt.timedelta(seconds=29))
            assert outbox_deliver_due() == 0  # still backing off: not even tried
            assert sum(mailbox.attempts.values()) == 20

            run_until_done(traveller)
    finally:
        controller.stop()

    expected = {message_id_for(m.idempotency_key) for m in messages}
    arrived = mailbox.message_ids()
    assert len(arrived) == 20
    assert set(arrived) == expected  # each exactly once
    assert all(count == 3 for count in mailbox.attempts.values())
    for row in OutboxMessage.objects.all():
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, "")
        assert row.provider_id == message_id_for(row.idempotency_key)
    assert AuditEvent.objects.filter(case=case, kind="notification.sent").count() == 20
    first = next(m for m in mailbox.accepted if str(m["Message-ID"]).strip() == message_id_for("smtp-test:0"))
    assert str(make_header(decode_header(first["Subject"]))) == "调解通知0"
    assert first["To"] == "party0@example.cn"
    assert "您有一条新消息（0）" in first.get_payload(decode=True).decode("utf-8")


@pytest.mark.django_db
def test_a_server_that_is_down_loses_nothing_and_gets_everything_when_it_comes_back(world, smtp):
    mailbox, port = smtp
    with time_machine.travel(T0, tick=False) as traveller:
        enqueue_mail(5)
        assert outbox_deliver_due() == 0  # connection refused
        rows = list(OutboxMessage.objects.all())
        assert all(m.status == OutboxStatus.PENDING and m.attempts == 1 for m in rows)
        assert all("could not be reached" in m.last_error or "refused" in m.last_error for m in rows)

        controller = serve(mailbox, port)
        try:
            traveller.shift(dt.timedelta(minutes=1))
            assert outbox_deliver_due() == 5
            traveller.shift(dt.timedelta(days=1))
            assert outbox_deliver_due() == 0
        finally:
            controller.stop()
    assert sorted(mailbox.message_ids()) == sorted(message_id_for(f"smtp-test:{n}") for n in range(5))


@pytest.mark.django_db
def test_a_server_that_never_accepts_leaves_the_messages_failed_after_the_last_attempt(world, smtp, settings):
    mailbox, port = smtp
    settings.OUTBOX_MAX_ATTEMPTS = 3
    mailbox.refuse_each = 100
    controller = serve(mailbox, port)
    case = world.new_case()
    try:
        with time_machine.travel(T0, tick=False) as traveller:
            enqueue_mail(2, case=case)
            run_until_done(traveller)
    finally:
        controller.stop()
    assert mailbox.accepted == []
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.FAILED, 3)}
    assert AuditEvent.objects.filter(case=case, kind="notification.failed").count() == 2
