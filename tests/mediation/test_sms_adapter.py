"""The SMS adapter: the console outbox, the JSON-lines file and the HTTP gateway, the last against a real
HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mediation.adapters import sms
from mediation.adapters.sms import (
    ConsoleSmsBackend,
    FileSmsBackend,
    HttpSmsBackend,
    SmsDeliveryError,
    get_sms_backend,
    outbox,
    outbox_clear,
)

TOKEN = "gateway-token-for-tests"


@dataclass
class Gateway:
    """What the fake gateway does with each request, and what it received."""

    url: str
    received: list[dict[str, object]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None
    delay: float = 0.0


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, b'{"error": "bad token"}')
                return
            state.received.append({"path": self.path, "content_type": self.headers.get("Content-Type"), **payload})
            if state.delay:
                time.sleep(state.delay)
            body = state.body if state.body is not None else json.dumps({"id": f"gw-{len(state.received)}"}).encode()
            self._answer(state.status, body)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def http_settings(settings, gateway):
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = TOKEN
    settings.SMS_SIGNATURE = "【一站调解】"
    return settings


@pytest.fixture(autouse=True)
def _empty_outbox():
    outbox_clear()
    yield
    outbox_clear()


def test_console_backend_keeps_the_message_in_the_outbox():
    message_id = ConsoleSmsBackend().send(phone="13800138000", text="验证码 123456")
    assert [(m.id, m.phone, m.text) for m in outbox] == [(message_id, "13800138000", "验证码 123456")]
    assert outbox[0].sent_at.tzinfo is not None


def test_outbox_clear_empties_the_outbox():
    ConsoleSmsBackend().send(phone="13800138000", text="一")
    outbox_clear()
    assert outbox == []


def test_file_backend_appends_one_json_line_per_message_creating_the_directory(settings, tmp_path):
    settings.SMS_FILE_PATH = tmp_path / "var" / "sms" / "sms.log"
    first = FileSmsBackend().send(phone="13800138000", text="验证码 111111")
    second = FileSmsBackend().send(phone="13900139000", text="验证码 222222")
    lines = [json.loads(line) for line in settings.SMS_FILE_PATH.read_text(encoding="utf-8").splitlines()]
    assert [(m["id"], m["phone"], m["text"]) for m in lines] == [
        (first, "13800138000", "验证码 111111"), (second, "13900139000", "验证码 222222"),
    ]
    assert all(m["sent_at"] for m in lines)
    assert outbox == []


def test_file_backend_that_cannot_write_raises_a_delivery_error(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.SMS_FILE_PATH = blocker / "sms.log"
    with pytest.raises(SmsDeliveryError, match="Cannot write"):
        FileSmsBackend().send(phone="13800138000", text="x")


def test_http_backend_posts_json_with_the_token_and_returns_the_gateway_id(http_settings, gateway):
    message_id = HttpSmsBackend().send(phone="13800138000", text="验证码 123456，5分钟内有效。")
    assert message_id == "gw-1"
    assert gateway.received == [{
        "path": "/sms/send", "content_type": "application/json; charset=utf-8",
        "phone": "13800138000", "text": "验证码 123456，5分钟内有效。", "signature": "【一站调解】",
    }]


def test_http_backend_with_a_wrong_token_raises_a_delivery_error(http_settings, gateway):
    http_settings.SMS_GATEWAY_TOKEN = "wrong"
    with pytest.raises(SmsDeliveryError, match="HTTP 401"):
        HttpSmsBackend().send(phone="13800138000", text="x")
    assert gateway.received == []


def test_http_backend_raises_a_delivery_error_when_the_gateway_fails(http_settings, gateway):
    gateway.status = 500
    gateway.body = b'{"error": "upstream down"}'
    with pytest.raises(SmsDeliveryError, match=r"HTTP 500: .*upstream down"):
        HttpSmsBackend().send(phone="13800138000", text="x")


def test_http_backend_raises_a_delivery_error_when_nothing_listens(http_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http_settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{port}/sms/send"
    with pytest.raises(SmsDeliveryError, match="cannot be reached"):
        HttpSmsBackend().send(phone="13800138000", text="x")


def test_http_backend_gives_up_after_its_timeout(http_settings, gateway, monkeypatch):
    monkeypatch.setattr(sms, "HTTP_TIMEOUT_SECONDS", 0.2)
    gateway.delay = 1.0
    with pytest.raises(SmsDeliveryError, match="cannot be reached"):
        HttpSmsBackend().send(phone="13800138000", text="x")


@pytest.mark.parametrize(("body", "problem"), [(b"<html>busy</html>", "not JSON"), (b'{"ok": true}', "no message id")])
def test_http_backend_refuses_an_answer_without_a_message_id(http_settings, gateway, body, problem):
    gateway.body = body
    with pytest.raises(SmsDeliveryError, match=problem):
        HttpSmsBackend().send(phone="13800138000", text="x")


def test_the_backend_is_chosen_from_the_settings_at_call_time(settings, tmp_path):
    settings.SMS_BACKEND = "console"
    assert isinstance(get_sms_backend(), ConsoleSmsBackend)
    settings.SMS_BACKEND = "file"
    assert isinstance(get_sms_backend(), FileSmsBackend)
    settings.SMS_BACKEND = "http"
    assert isinstance(get_sms_backend(), HttpSmsBackend)


def test_an_unknown_backend_name_is_a_clear_error(settings):
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(SmsDeliveryError, match="Unknown SMS_BACKEND 'pigeon'"):
        get_sms_backend()
