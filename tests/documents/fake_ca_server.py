"""A fake CA HTTP API on loopback, in a thread: it signs CSRs with a throwaway CA, so the real
RemoteCertificateAuthority is exercised end to end (HTTP, JSON, CSR, chain checks)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.documents.ca_support import ThrowawayCA

PEM = serialization.Encoding.PEM


@dataclass
class FakeCA:
    ca: ThrowawayCA
    token: str = "ca-token-for-tests"
    # ok | wrong_key | foreign_chain | garbage | error | expired
    mode: str = "ok"
    received: list[dict[str, Any]] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, body: dict[str, Any]) -> tuple[int, bytes]:
        csr = x509.load_pem_x509_csr(body["csr"].encode())
        if not csr.is_signature_valid:
            return 400, b'{"error": "bad csr"}'
        if self.mode == "error":
            return 503, b'{"error": "maintenance"}'
        if self.mode == "garbage":
            return 200, b"<html>not json</html>"
        public_key = csr.public_key()
        issuer = self.ca
        if self.mode == "wrong_key":
            public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        if self.mode == "foreign_chain":
            issuer = ThrowawayCA(name="冒牌CA")
        cert = issuer.sign_public_key(public_key, csr.subject, days=30, expired=self.mode == "expired")
        payload = {"certificate": cert.public_bytes(PEM).decode(), "chain": [issuer.root_pem.decode()]}
        return 201, json.dumps(payload).encode()

    def __enter__(self) -> FakeCA:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                fake.raw_bodies.append(raw)
                fake.headers.append(dict(self.headers.items()))
                if self.path != "/v1/event-certificates":
                    self._send(404, b'{"error": "not found"}')
                    return
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(401, b'{"error": "unauthorised"}')
                    return
                body = json.loads(raw)
                fake.received.append(body)
                self._send(*fake.answer(body))

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
