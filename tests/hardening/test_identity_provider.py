"""Issue 17 item 15: the name is matched to the ID number by an identity provider behind an adapter: the
HTTP implementation tested against a fake provider on 127.0.0.1 (like the SMS gateway), the provider's
reference recorded with the check; and the respondent takes the same real-name step before consenting."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from mediation.adapters import identity as idp
from mediation.adapters.sms import outbox, outbox_clear
from mediation.exceptions import InvalidInput
from mediation.models import AuditEvent, IdentityVerification, User
from mediation.services.identity import IdentityUnavailable, identity_code_send, identity_is_verified, identity_verify
from tests.factories import make_resident_id

pytestmark = pytest.mark.django_db

TOKEN = "idp-token-for-tests"
PHONE = "13812340000"


@dataclass
class Provider:
    url: str = ""
    registered: dict[str, str] = field(default_factory=dict)  # id number -> name
    received: list[dict[str, object]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None


@pytest.fixture
def provider(settings) -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, b'{"error": "bad token"}')
                return
            state.received.append(payload)
            body = state.body if state.body is not None else json.dumps({
                "match": state.registered.get(str(payload["id_number"])) == payload["name"],
                "reference": f"idp-{len(state.received):04d}",
            }).encode()
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
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/name-id-match"
    settings.IDENTITY_PROVIDER = "http"
    settings.IDENTITY_PROVIDER_URL = state.url
    settings.IDENTITY_PROVIDER_TOKEN = TOKEN
    settings.SMS_BACKEND = "console"
    outbox_clear()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    outbox_clear()


def _code() -> str:
    return re.search(r"\d{6}", [m for m in outbox if m.phone == PHONE][-1].text).group()


def test_the_http_provider_says_match_or_not_with_its_reference(provider):
    number = make_resident_id(41)
    provider.registered[number] = "王五"
    found = idp.get_identity_provider().match(name="王五", id_number=number)
    assert (found.matched, found.reference, found.provider) == (True, "idp-0001", "http")
    assert idp.get_identity_provider().match(name="王六", id_number=number).matched is False
    assert provider.received[0] == {"name": "王五", "id_number": number}


@pytest.mark.parametrize(("status", "body"), [(500, b"{}"), (200, b"not json"), (200, b'{"match": true}')])
def test_a_provider_that_fails_or_answers_nonsense_is_an_error(provider, status, body):
    provider.status, provider.body = status, body
    with pytest.raises(idp.IdentityProviderError):
        idp.get_identity_provider().match(name="王五", id_number=make_resident_id(42))


def test_a_name_that_does_not_belong_to_the_id_is_refused_and_recorded_with_the_reference(provider):
    user = User.objects.create(username="p1", phone=PHONE)
    number = make_resident_id(43)
    provider.registered[number] = "王五"
    identity_code_send(user=user, real_name="王六", id_number=number, phone=PHONE)
    with pytest.raises(InvalidInput, match="姓名与身份证号码不一致"):
        identity_verify(user=user, real_name="王六", id_number=number, phone=PHONE, code=_code())
    failed = IdentityVerification.objects.get(user=user)
    assert not failed.succeeded and failed.provider_ref == "idp-0001"
    assert not identity_is_verified(user)
    # The code was not used up by the mismatch: with the right name it still works.
    check = identity_verify(user=user, real_name="王五", id_number=number, phone=PHONE, code=_code())
    assert check.succeeded and check.provider_ref == "idp-0002"
    event = AuditEvent.objects.filter(kind="identity.verified").get()
    assert event.data["provider_ref"] == "idp-0002" and event.data["provider"] == "http"


def test_a_provider_outage_leaves_the_code_for_another_try(provider):
    user = User.objects.create(username="p2", phone=PHONE)
    number = make_resident_id(44)
    identity_code_send(user=user, real_name="王五", id_number=number, phone=PHONE)
    provider.status = 503
    with pytest.raises(IdentityUnavailable):
        identity_verify(user=user, real_name="王五", id_number=number, phone=PHONE, code=_code())
    provider.status = 200
    provider.registered[number] = "王五"
    assert identity_verify(user=user, real_name="王五", id_number=number, phone=PHONE, code=_code()).succeeded


def test_production_refuses_the_development_provider(settings):
    settings.DEBUG = False
    settings.IDENTITY_PROVIDER = "development"
    with pytest.raises(SystemCheckError, match=r"mediation\.E002"):
        call_command("check")
