"""SMS through the outbox against the HTTP gateway adapter and a real HTTP server on loopback: a gateway that
answers 503 at first loses nothing and sends each message once; a retried request carries the same request
id, so a gateway that honours it drops the copy."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction

from mediation import notification_templates as nt
from mediation.adapters import sms
from mediation.choices import MessageChannel, OutboxStatus
from mediation.models import OutboxMessage
from mediation.services.outbox import outbox_deliver_due, outbox_enqueue

TOKEN = "outbox-gateway-token"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class Gateway:
    """Refuses each request id ``refuse_each`` times with 503, then delivers it, once per request id."""

    refuse_each: int = 0
    slow_first: float = 0.0  # seconds to stall the first request of each id, *after* accepting it
    requests: Counter[str] = field(default_factory=Counter)
    headers: dict[str, str] = field(default_factory=dict)
    delivered: dict[str, dict[str, object]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def gateway(settings) -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"error": "bad token"})
                return
            request_id = str(payload.get("request_id", ""))
            with state.lock:
                state.requests[request_id] += 1
                seen = state.requests[request_id]
                state.headers[request_id] = self.headers.get("Idempotency-Key", "")
                if seen <= state.refuse_each:
                    refuse = True
                else:
                    refuse = False
                    state.delivered.setdefault(request_id, payload)  # a repeated id is not sent again
            if refuse:
                self._answer(503, {"error": "busy, try later"})
                return
            if state.slow_first and seen == state.refuse_each + 1:
                time.sleep(state.slow_first)  # accepted, but the answer comes too late for the client
            self._answer(200, {"id": f"gw-{request_id}"})

        def _answer(self, status: int, body: dict[str, object]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.SMS_GATEWAY_TOKEN = TOKEN
    settings.OUTBOX_RETRY_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 8
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def enqueue_sms(count: int) -> list[OutboxMessage]:
    with transaction.atomic():
        return [
            outbox_enqueue(
                channel=MessageChannel.SMS, address=f"139{n:08d}", template=nt.GENERIC,
                context={"subject": "通知", "text": f"您有一条新消息（{n}）。"}, idempotency_key=f"sms-test:{n}",
            )
            for n in range(count)
        ]


@pytest.mark.django_db
def test_a_gateway_that_answers_503_at_first_sends_every_message_exactly_once(world, gateway):
    gateway.refuse_each = 2
    with time_machine.travel(T0, tick=False) as traveller:
        messages = enqueue_sms(20)
        for _ in range(10):
            outbox_deliver_due()
            if not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists():
                break
            traveller.shift(dt.timedelta(hours=1))
    keys = {m.idempotency_key for m in messages}
    assert set(gateway.delivered) == keys
    assert all(count == 3 for count in gateway.requests.values())
    assert all(gateway.headers[key] == key for key in keys)
    for row in OutboxMessage.objects.all():
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
        assert row.provider_id == f"gw-{row.idempotency_key}"
        assert gateway.delivered[row.idempotency_key]["phone"] == row.address
        assert gateway.delivered[row.idempotency_key]["text"] == row.body


@pytest.mark.django_db
def test_the_503_is_recorded_and_the_message_waits_for_its_backoff(world, gateway):
    gateway.refuse_each = 1
    with time_machine.travel(T0, tick=False) as traveller:
        (message,) = enqueue_sms(1)
        assert outbox_deliver_due() == 0
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING
        assert "HTTP 503" in message.last_error
        traveller.shift(dt.timedelta(seconds=20))
        assert outbox_deliver_due() == 0
        assert gateway.requests[message.idempotency_key] == 1
        traveller.shift(dt.timedelta(seconds=20))
        assert outbox_deliver_due() == 1
    assert list(gateway.delivered) == [message.idempotency_key]


@pytest.mark.django_db
def test_a_retry_after_a_timeout_carries_the_same_request_id_so_the_gateway_sends_once(world, gateway, monkeypatch):
    # The gateway accepted the first request but answered too late: the outbox cannot know, and tries again
    # (the at-least-once edge). The repeat has the same request id, and the gateway does not send it twice.
    monkeypatch.setattr(sms, "HTTP_TIMEOUT_SECONDS", 0.3)
    gateway.slow_first = 1.0
    with time_machine.travel(T0, tick=False) as traveller:
        (message,) = enqueue_sms(1)
        assert outbox_deliver_due() == 0
        message.refresh_from_db()
        assert "cannot be reached" in message.last_error
        traveller.shift(dt.timedelta(minutes=5))
        assert outbox_deliver_due() == 1
    assert gateway.requests[message.idempotency_key] == 2
    assert list(gateway.delivered) == [message.idempotency_key]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
