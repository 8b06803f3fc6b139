"""Webhooks: status changes pushed to subscribers as signed JSON, carried by the outbox (one row per event and
subscriber, so retries, back-off and worker leases are the outbox's), with every attempt logged for the subscriber.

Signature (docs/api.md): ``Yizhan-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
The timestamp is the attempt's, so a retry hours later still verifies; a receiver refuses a timestamp more than
``TOLERANCE`` away from its clock, which makes a captured request useless for replay after that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.models import ApiClient, WebhookAttempt, WebhookDelivery, WebhookSubscription
from mediation import notification_templates
from mediation.models import Case, OutboxMessage
from mediation.services.outbox import outbox_enqueue

CHANNEL = "webhook"
TOLERANCE = 300  # seconds either way
TIMEOUT = 10  # seconds for the subscriber to answer
SIGNATURE_HEADER = "Yizhan-Signature"


class WebhookDeliveryError(Exception):
    pass


class SignatureInvalid(Exception):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(*, secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = TOLERANCE) -> int:
    """What a subscriber runs on each request (also our tests): the timestamp, if the signature is ours and the
    timestamp is within ``tolerance`` seconds of ``now``; otherwise ``SignatureInvalid``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureInvalid("malformed signature header") from None
    expected = sign(secret=secret, timestamp=timestamp, body=body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid("signature does not match")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureInvalid("timestamp outside the tolerance: a replay, or a clock out of sync")
    return timestamp


def webhooks_enqueue_status_change(*, case: Case, old: str, new: str) -> list[WebhookDelivery]:
    """One delivery per active subscription whose client may see ``case``, in one transaction."""
    return webhooks_enqueue(case=case, event_type="case.status_changed",
                            data={"case": case.reference, "old_status": old, "status": new})


def webhooks_enqueue(*, case: Case, event_type: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """One ``event_type`` delivery per active subscription whose client may see ``case``, in one transaction
    (the caller's, when it has one: a refused write then leaves no delivery behind)."""
    from api.selectors import client_case_filter

    subscriptions = list(
        WebhookSubscription.objects.filter(is_active=True, client__is_active=True).select_related("client")
    )
    deliveries = []
    with transaction.atomic():
        for subscription in subscriptions:
            if not _sees(subscription.client, case, client_case_filter):
                continue
            event_id = str(uuid.uuid4())
            payload = {"id": event_id, "type": event_type, "created_at": timezone.now().isoformat(), "data": data}
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            message = outbox_enqueue(
                channel=CHANNEL, address=subscription.url, template=notification_templates.GENERIC,
                context={"subject": event_type, "text": body},
                idempotency_key=f"webhook:{subscription.pk}:{event_id}", case=case,
            )
            deliveries.append(WebhookDelivery.objects.create(
                subscription=subscription, message=message, event_id=event_id, event_type=event_type, case=case,
            ))
    return deliveries


def _sees(client: ApiClient, case: Case, case_filter: Any) -> bool:
    return Case.objects.filter(case_filter(client), pk=case.pk).exists()


def webhook_send(message: OutboxMessage) -> str:
    """The outbox's sender for the webhook channel: POST the signed body and log the attempt. A non-2xx answer
    or a network error raises, and the outbox retries with back-off."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(message=message)
    subscription = delivery.subscription
    body = message.body.encode()
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - https is enforced when subscribing (http only for loopback)
        subscription.url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Yizhan-Webhook/1",
                 SIGNATURE_HEADER: sign(secret=subscription.secret, timestamp=timestamp, body=body),
                 "Yizhan-Event": delivery.event_type, "Yizhan-Delivery": delivery.event_id},
    )
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    WebhookAttempt.objects.create(
        delivery=delivery, number=message.attempts, at=timezone.now(), status_code=status, error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if error or status is None or not 200 <= status < 300:
        raise WebhookDeliveryError(error or f"HTTP {status}")
    return f"webhook-{delivery.event_id}"
