"""Status changes reach a subscriber's own HTTP server on 127.0.0.1 through the outbox: a server that fails twice
gets the event once, signed so it can check it, with both retries in the delivery log the API serves."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from api import webhooks
from api.models import Scope, WebhookAttempt, WebhookDelivery
from mediation.choices import CaseStatus, OutboxStatus
from mediation.models import Case
from mediation.services.outbox import outbox_deliver_due
from tests.api.api_support import make_caller, referral_body

pytestmark = pytest.mark.django_db


class Receiver:
    """A subscriber's endpoint that answers 500 to its first ``failures`` requests, then 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/yizhan-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(failures=2) as running:
        yield running


@pytest.fixture(autouse=True)
def _delivered_by_hand(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # each attempt is an explicit outbox run below
    settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    cache.clear()


def test_a_partner_receives_its_referrals_status_changes_once_despite_two_failures(
    client, world, receiver, django_capture_on_commit_callbacks
):
    partner = make_caller(organisation=world.partner, user=world.org_admin,
                          scopes=[Scope.CASES_READ, Scope.WEBHOOKS])
    court = make_caller(organisation=world.court, user=world.clerk)
    # The court system refers a case to the partner, which then subscribes to its status changes.
    created = client.post(reverse("api-v1:referral_create"), referral_body(organisation=world.partner.pk),
                          content_type="application/json", headers=court.headers)
    reference = created.json()["reference"]
    subscribed = client.post(reverse("api-v1:webhook_create"), {"url": receiver.url},
                             content_type="application/json", headers=partner.headers)
    assert subscribed.status_code == 201
    secret, subscription_id = subscribed.json()["secret"], subscribed.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        world.drive(Case.objects.get(reference=reference), CaseStatus.ASSIGNED)
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert [json.loads(d.message.body)["data"]["status"] for d in deliveries] == [CaseStatus.ASSIGNED]

    now = timezone.now()
    for hours in (0, 1, 3):  # past each back-off
        outbox_deliver_due(now=now + dt.timedelta(hours=hours))

    message = deliveries[0].message
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 3
    # Two failures, then delivered once: the same event each time, nothing after the success.
    assert len(receiver.requests) == 3
    assert {json.loads(body)["id"] for _headers, body in receiver.requests} == {deliveries[0].event_id}
    headers, body = receiver.requests[-1]
    timestamp = webhooks.verify(secret=secret, header=headers[webhooks.SIGNATURE_HEADER], body=body)
    assert json.loads(body)["data"]["case"] == reference
    assert headers["Yizhan-Event"] == "case.status_changed"
    assert abs(timestamp - timezone.now().timestamp()) < 60

    log = client.get(reverse("api-v1:webhook_deliveries", args=[subscription_id]), headers=partner.headers).json()
    [first] = log
    assert [a["status_code"] for a in first["attempts"]] == [500, 500, 204]
    assert first["status"] == "sent" and first["delivered_at"]
    assert WebhookAttempt.objects.count() == 3


def test_a_replayed_or_tampered_delivery_fails_verification():
    body = b'{"id":"e1","type":"case.status_changed"}'
    header = webhooks.sign(secret="whsec_x", timestamp=1_800_000_000, body=body)
    assert webhooks.verify(secret="whsec_x", header=header, body=body, now=1_800_000_100) == 1_800_000_000
    with pytest.raises(webhooks.SignatureInvalid, match="timestamp"):
        webhooks.verify(secret="whsec_x", header=header, body=body, now=1_800_000_000 + webhooks.TOLERANCE + 1)
    with pytest.raises(webhooks.SignatureInvalid, match="does not match"):
        webhooks.verify(secret="whsec_x", header=header, body=body + b" ", now=1_800_000_000)
    with pytest.raises(webhooks.SignatureInvalid, match="does not match"):
        webhooks.verify(secret="whsec_other", header=header, body=body, now=1_800_000_000)
    with pytest.raises(webhooks.SignatureInvalid, match="malformed"):
        webhooks.verify(secret="whsec_x", header="v1=abc", body=body, now=1_800_000_000)


def test_a_subscriber_sees_only_its_own_clients_cases_and_log(client, world, receiver,
                                                             django_capture_on_commit_callbacks):
    other = make_caller(organisation=world.other_partner, user=world.other_mediator, scopes=[Scope.WEBHOOKS])
    subscribed = client.post(reverse("api-v1:webhook_create"), {"url": receiver.url},
                             content_type="application/json", headers=other.headers).json()
    with django_capture_on_commit_callbacks(execute=True):
        world.drive(world.new_case(), CaseStatus.SUBMITTED)  # the world's case belongs to the other partner
    assert WebhookDelivery.objects.count() == 0
    partner = make_caller(organisation=world.partner, user=world.org_admin, scopes=[Scope.WEBHOOKS])
    response = client.get(reverse("api-v1:webhook_deliveries", args=[subscribed["id"]]), headers=partner.headers)
    assert response.status_code == 404
