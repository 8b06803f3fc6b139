"""Benchmark of the outbox (run by `make bench`, never by CI): 1,000 e-mails enqueued through
``outbox_enqueue`` in one transaction, then delivered by one worker (``outbox_drain``: batches of claimed
rows, one SMTP connection per batch) to a real SMTP server on loopback (aiosmtpd in a thread).

Each message is about one case, so each delivery also appends ``notification.sent`` to that case's audit
stream (all on one stream here: the worst case, as they queue on its head row). Reports messages enqueued
per second and messages delivered per second, and checks that every message arrived exactly once."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from mediation import notification_templates as nt
from mediation.choices import MessageChannel, OutboxStatus
from mediation.models import OutboxMessage
from mediation.services.outbox import outbox_drain, outbox_enqueue

# Real commits, as in production: inside one test transaction every update of the same audit head and
# outbox rows piles up row versions and the figure measures that instead.
pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 1_000


class Sink:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for line in envelope.content.splitlines():
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"


def test_outbox_throughput_to_a_local_smtp_server(world, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        case = world.new_case()
        started = time.perf_counter()
        with transaction.atomic():
            for n in range(MESSAGES):
                outbox_enqueue(
                    channel=MessageChannel.EMAIL, address=f"party{n}@example.cn", template=nt.SESSION_INVITATION,
                    context={"reference": case.reference, "title": case.title, "start": case.created_at,
                             "kind": "同时在线调解", "link": "https://yizhan.example.cn/cases/1/sessions/"},
                    idempotency_key=f"bench:{n}", case=case,
                )
        enqueued = time.perf_counter() - started

        started = time.perf_counter()
        sent = 0
        while OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists():
            sent += outbox_drain(worker_id="bench")
        delivered = time.perf_counter() - started
    finally:
        controller.stop()

    assert sent == MESSAGES
    assert len(sink.ids) == MESSAGES
    assert len(set(sink.ids)) == MESSAGES  # each exactly once
    print(f"\noutbox enqueue (in one transaction)   {MESSAGES / enqueued:8.0f} messages/s ({enqueued:.2f} s)")
    print(f"outbox delivery, one worker, SMTP       {MESSAGES / delivered:8.0f} messages/s ({delivered:.2f} s)")
