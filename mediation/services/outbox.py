"""The outbox: messages (SMS, e-mail, in-app) written in the same transaction as the change that caused
them, delivered afterwards by a worker with retries and backoff.

- ``outbox_enqueue`` inserts one row, rendered now, keyed by an idempotency key: enqueueing the same key
  twice returns the first row, and a transaction that rolls back takes its messages with it.
- ``outbox_deliver_due`` claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), hands
  each to its channel's adapter and records the outcome; a failure is retried with exponential backoff
  until ``settings.OUTBOX_MAX_ATTEMPTS``; a worker that dies leaves a lease that expires, and another
  worker takes the row again.

Exactly once, as far as it can be had: a provider call cannot join our transaction, so a worker that
dies *after* the provider accepted a message and *before* it was marked sent leaves a row that is sent
again when its lease expires (at least once at that edge). The copies carry the same identity: the
e-mail's ``Message-ID`` is derived from the idempotency key and the SMS gateway receives the key as its
request id, so the receiving side can drop the duplicate. Everywhere else a message goes out once: rows
are claimed by one worker at a time (``FOR UPDATE SKIP LOCKED``), and a worker sends only while its lease
has time left, renewing it for the rest of its batch (and dropping rows another worker took) when it runs
short. Lease times come from each worker's clock: keep the workers' clocks in sync (NTP).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import socket
from collections.abc import Callable, Iterable, Mapping

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import notification_templates, signals
from mediation.adapters import email as email_adapter
from mediation.adapters import sms as sms_adapter
from mediation.adapters.email import EmailSender
from mediation.adapters.sms import SmsBackend
from mediation.choices import MessageChannel, OutboxStatus
from mediation.exceptions import InvalidInput, NotFound
from mediation.models import Case, OutboxMessage, User
from mediation.services.audit import audit_append
from mediation.validators import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=6)
CANCELLED = "cancelled"  # last_error of a message withdrawn before it went out
LOST_WORKER = "worker lost during the last attempt"
KEY_MAX_LENGTH = 120  # OutboxMessage.idempotency_key
# Claimed per batch; a drain keeps going until nothing is due, so a backlog drains in one task.
OUTBOX_BATCH = 100
OUTBOX_MAX_BATCHES = 50

# Channels that an app above mediation delivers (the API's webhooks), registered in its AppConfig.ready:
# channel name -> sender(message) returning the provider id; mediation never imports that app.
EXTERNAL_SENDERS: dict[str, Callable[[OutboxMessage], str]] = {}


def outbox_enqueue(
    *,
    channel: str,
    address: str,
    template: str,
    context: Mapping[str, object],
    idempotency_key: str,
    recipient: User | None = None,
    case: Case | None = None,
    subject: str = "",
    language: str = "zh-hans",
    deliver_after: dt.datetime | None = None,
) -> OutboxMessage:
    """Write one message to the outbox, inside the caller's transaction, and return its row.

    The subject (unless given) and body are rendered now from ``template`` in ``language``, so the row
    is self-contained. A second call with the same ``idempotency_key`` returns the existing row
    unchanged (even if the first was already sent): callers derive keys from what the message is about,
    e.g. ``f"session:{session.pk}:seq{session.sequence}:invite:{user.pk}:sms"``.

    ``address`` is the phone number (SMS) or e-mail address; for in-app messages it is empty and
    ``recipient`` is required. The message becomes due at ``deliver_after`` (default: now).

    Must run inside ``transaction.atomic()``: a message written outside one could go out for a change
    that is then rolled back, or be lost for a change that commits.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction of the change that causes it.")
    if channel not in MessageChannel.values and channel not in EXTERNAL_SENDERS:
        raise ValueError(f"Unknown outbox channel {channel!r}")
    address = (address or "").strip()
    if channel == MessageChannel.IN_APP:
        if recipient is None:
            raise InvalidInput(_("站内消息需要指明收件人。"))
        address = ""
    elif not address:
        raise InvalidInput(
            _("收件人没有可用的手机号码。") if channel == MessageChannel.SMS else _("收件人没有可用的电子邮箱。")
        )
    if not idempotency_key or len(idempotency_key) > KEY_MAX_LENGTH:
        raise ValueError("An outbox idempotency key is required and at most 120 characters long.")
    rendered = notification_templates.render(template=template, context=context, language=language)
    now = timezone.now()
    due = deliver_after or now
    # INSERT ... ON CONFLICT DO NOTHING: no IntegrityError to poison the caller's transaction, and a
    # concurrent insert of the same key waits for the other transaction and then yields to it.
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                channel=channel, recipient=recipient, address=address, case=case, template=template,
                language=language, subject=(subject or rendered.subject)[:200], body=rendered.body,
                idempotency_key=idempotency_key, status=OutboxStatus.PENDING, next_attempt_at=due,
            )
        ],
        ignore_conflicts=True,
    )
    message = OutboxMessage.objects.get(idempotency_key=idempotency_key)
    if message.status == OutboxStatus.PENDING and message.next_attempt_at <= now and settings.CELERY_TASK_ALWAYS_EAGER:
        _deliver_after_commit_once()
    return message


def outbox_notify_users(
    *, users: Iterable[User], case: Case | None, key: str, subject: str, text: str, link: str
) -> None:
    """The generic notice to each of ``users`` (once per user), in-app and, where they have a phone, by SMS.
    Keys are ``{key}:{user id}:inapp`` and ``{key}:{user id}:sms``. Inside the caller's transaction."""
    context = {"subject": subject, "text": text, "link": link}
    for user in {u.pk: u for u in users}.values():
        outbox_enqueue(channel=MessageChannel.IN_APP, address="", template=notification_templates.GENERIC,
                       recipient=user, case=case, context=context, idempotency_key=f"{key}:{user.pk}:inapp")
        if user.phone:
            outbox_enqueue(channel=MessageChannel.SMS, address=user.phone, template=notification_templates.GENERIC,
                           recipient=user, case=case, context=context, idempotency_key=f"{key}:{user.pk}:sms")


def outbox_cancel(*, idempotency_key_prefix: str) -> int:
    """Withdraw the pending messages whose idempotency key starts with the prefix (a cancelled session's
    reminders, say); return how many. They become FAILED with ``last_error`` "cancelled". So does a message
    left in SENDING by a worker whose lease has expired (it died): otherwise the next claim would send it
    after the cancellation. A message a worker is sending right now, under a live lease, or already sent,
    cannot be withdrawn."""
    if not idempotency_key_prefix:
        raise ValueError("outbox_cancel needs a non-empty key prefix.")
    abandoned = Q(status=OutboxStatus.SENDING, claimed_until__lt=timezone.now())  # what ``_claim`` would retake
    return OutboxMessage.objects.filter(
        Q(status=OutboxStatus.PENDING) | abandoned, idempotency_key__startswith=idempotency_key_prefix
    ).update(status=OutboxStatus.FAILED, last_error=CANCELLED, claimed_until=None)


def _deliver_after_commit_once() -> None:
    """The embedded default (no broker, tasks run eagerly): deliver right after the commit, once per
    transaction however many messages it wrote. The Celery beat / ``deliver_outbox --loop`` catch up on
    anything this misses."""
    for entry in connection.run_on_commit:
        if len(entry) > 1 and entry[1] is _deliver_now:
            return
    transaction.on_commit(_deliver_now, robust=True)


def _deliver_now() -> None:
    try:
        deliver_outbox.delay()
    except Exception:
        logger.exception("Delivering the outbox after commit failed; the periodic run will retry")


def outbox_deliver_due(*, now: dt.datetime | None = None, limit: int = 100, worker_id: str = "") -> int:
    """Claim up to ``limit`` due messages and deliver them; return how many were sent.

    Due: pending with ``next_attempt_at <= now``, or sending with an expired lease (its worker died).
    Claiming counts an attempt, so a message that kills its worker every time still ends up FAILED.
    The lease is the batch's: before each send the worker checks that it has time left on it (renewing
    it for the rest of the batch when it runs short), and it records each outcome only while the row
    still carries its lease.
    """
    now = now or timezone.now()
    _fail_abandoned(now=now)
    lease = dt.timedelta(seconds=getattr(settings, "OUTBOX_LEASE_SECONDS", DEFAULT_LEASE.total_seconds()))
    batch = _Batch(token=now + lease, lease=lease)
    claimed = _claim(now=now, limit=limit, lease_until=batch.token)
    if not claimed:
        return 0
    messages = list(
        OutboxMessage.objects.filter(pk__in=claimed).select_related("case").order_by("next_attempt_at", "pk")
    )
    sent = 0
    adapters = _Adapters()
    try:
        for index, message in enumerate(messages):
            if not batch.hold([m.pk for m in messages[index:]]):
                break  # another worker has the rest
            if message.pk not in batch.held:
                continue
            sent += _deliver_one(message, token=batch.token, now=now, adapters=adapters, worker_id=worker_id)
    finally:
        adapters.close()
    return sent


class _Batch:
    """The lease on a claimed batch: renewed, for the rows still held, when less than a fifth is left."""

    def __init__(self, *, token: dt.datetime, lease: dt.timedelta) -> None:
        self.token = token
        self.lease = lease
        self.held: set[int] = set()
        self._started = False

    def hold(self, remaining: list[int]) -> bool:
        clock = timezone.now()
        if not self._started:
            self._started = True
            self.held = set(remaining)
        if clock + self.lease / 5 < self.token:
            return True
        renewed = clock + self.lease
        with transaction.atomic():
            held = set(
                OutboxMessage.objects.filter(
                    pk__in=remaining, status=OutboxStatus.SENDING, claimed_until=self.token
                ).select_for_update().values_list("pk", flat=True)
            )
            OutboxMessage.objects.filter(pk__in=held).update(claimed_until=renewed)
        self.token, self.held = renewed, held
        return bool(held)


def _claim(*, now: dt.datetime, limit: int, lease_until: dt.datetime) -> list[int]:
    max_attempts = settings.OUTBOX_MAX_ATTEMPTS
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_until__lt=now
    )
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.filter(due, attempts__lt=max_attempts)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                status=OutboxStatus.SENDING, claimed_until=lease_until, attempts=F("attempts") + 1
            )
    return ids


def _fail_abandoned(*, now: dt.datetime) -> None:
    """A message whose worker died on its last allowed attempt is not tried again: record it failed."""
    with transaction.atomic():
        abandoned = list(
            OutboxMessage.objects.filter(
                status=OutboxStatus.SENDING, claimed_until__lt=now, attempts__gte=settings.OUTBOX_MAX_ATTEMPTS
            ).select_for_update(skip_locked=True, of=("self",)).select_related("case")
        )
        for message in abandoned:
            message.status = OutboxStatus.FAILED
            message.last_error = LOST_WORKER
            message.claimed_until = None
            message.save(update_fields=["status", "last_error", "claimed_until"])
            _audit(message, kind="notification.failed")


class _Adapters:
    """One SMS backend and one SMTP connection per run, opened when first needed."""

    def __init__(self) -> None:
        self._sms: SmsBackend | None = None
        self._email: EmailSender | None = None

    def sms(self) -> SmsBackend:
        if self._sms is None:
            self._sms = sms_adapter.get_sms_backend()  # through the module: tests swap the gateway there
        return self._sms

    def email(self) -> EmailSender:
        if self._email is None:
            self._email = email_adapter.EmailSender()
        return self._email

    def close(self) -> None:
        if self._email is not None:
            self._email.close()


def _deliver_one(
    message: OutboxMessage, *, token: dt.datetime, now: dt.datetime, adapters: _Adapters, worker_id: str
) -> int:
    try:
        provider_id = _send(message, adapters=adapters)
    except Exception as exc:
        _record_failure(message, error=f"{type(exc).__name__}: {exc}", now=now, lease_token=token)
        logger.warning("Outbox message %s (%s) failed, attempt %s: %s", message.pk, message.channel,
                       message.attempts, exc)
        return 0
    message.provider_id = provider_id[:120]
    with transaction.atomic():
        # By pk only: it *was* sent, even if a lease overrun let another worker claim it meanwhile.
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.SENT, sent_at=timezone.now(), provider_id=message.provider_id, claimed_until=None,
            last_error="",
        )
        _audit(message, kind="notification.sent", worker_id=worker_id)
    return 1


def _send(message: OutboxMessage, *, adapters: _Adapters) -> str:
    if message.channel == MessageChannel.SMS:
        return adapters.sms().send(phone=message.address, text=message.body, request_id=message.idempotency_key)
    if message.channel == MessageChannel.EMAIL:
        return adapters.email().send(
            to=message.address, subject=message.subject, body=message.body, idempotency_key=message.idempotency_key
        )
    if message.channel == MessageChannel.IN_APP:
        return f"in-app-{message.pk}"  # nothing leaves the platform: it shows in the recipient's inbox
    if message.channel in EXTERNAL_SENDERS:
        return EXTERNAL_SENDERS[message.channel](message)
    raise ValueError(f"Unknown outbox channel {message.channel!r}")


def _record_failure(message: OutboxMessage, *, error: str, now: dt.datetime, lease_token: dt.datetime) -> None:
    exhausted = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        updates: dict[str, object] = {"last_error": error[:2000], "claimed_until": None}
        if exhausted:
            updates["status"] = OutboxStatus.FAILED
        else:
            updates["status"] = OutboxStatus.PENDING
            updates["next_attempt_at"] = now + retry_delay(message.attempts)
        changed = OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxStatus.SENDING, claimed_until=lease_token
        ).update(**updates)
        if changed and exhausted:
            message.last_error = error
            _audit(message, kind="notification.failed")


def retry_delay(attempts: int) -> dt.timedelta:
    """``OUTBOX_RETRY_SECONDS * 2**(attempts-1)``, capped at six hours, plus up to 10 % jitter so a
    provider that comes back is not hit by every retry at once."""
    base = settings.OUTBOX_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    delay = min(dt.timedelta(seconds=base), MAX_BACKOFF)
    return delay + delay * random.uniform(0, 0.1)  # noqa: S311 - jitter, not security


def mask_address(message: OutboxMessage) -> str:
    """The address as the audit trail shows it: ``138****0000`` or ``z***@example.cn``."""
    if message.channel == MessageChannel.SMS:
        return mask_phone(message.address)
    if message.channel == MessageChannel.EMAIL and "@" in message.address:
        local, _at, domain = message.address.partition("@")
        return f"{local[:1]}***@{domain}"
    return ""


def _audit(message: OutboxMessage, *, kind: str, worker_id: str = "") -> None:
    """Case messages leave a trace on the case's timeline (outcome only: the retries are on the row)."""
    if message.case_id is None:
        return
    data: dict[str, object] = {
        "message": message.pk, "channel": message.channel, "template": message.template,
        "recipient": message.recipient_id, "address": mask_address(message), "attempts": message.attempts,
    }
    if kind == "notification.failed":
        data["error"] = message.last_error[:200]
    if worker_id:
        data["worker"] = worker_id
    audit_append(kind=kind, actor=None, case=message.case, data=data)


def inbox_mark_read(*, actor: User, message_id: int) -> OutboxMessage:
    """Open one of the actor's in-app messages: record when it was first read and return it.

    Somebody else's message, or one not yet delivered, is refused as not found."""
    with transaction.atomic():
        try:
            message = OutboxMessage.objects.select_for_update().get(
                pk=message_id, recipient=actor, channel=MessageChannel.IN_APP, status=OutboxStatus.SENT
            )
        except OutboxMessage.DoesNotExist:
            raise NotFound(_("没有找到这条消息。")) from None
        if message.read_at is None:
            message.read_at = timezone.now()
            message.save(update_fields=["read_at"])
    return message


def inbox_mark_all_read(*, actor: User) -> int:
    """Mark every delivered in-app message of the actor read; return how many were unread."""
    return OutboxMessage.objects.filter(
        recipient=actor, channel=MessageChannel.IN_APP, status=OutboxStatus.SENT, read_at__isnull=True
    ).update(read_at=timezone.now())


# --- The worker (Celery beat every OUTBOX_SWEEP_SECONDS, ``manage.py deliver_outbox``, or after a commit) ----


@shared_task(name="mediation.tasks.deliver_outbox")
def deliver_outbox() -> int:
    """Deliver the outbox messages that are due (beat, every OUTBOX_SWEEP_SECONDS; and right after a commit
    in the embedded default); returns how many were sent. Safe to run in several workers at once."""
    return outbox_drain(worker_id=f"celery@{socket.gethostname()}")


def outbox_drain(*, worker_id: str) -> int:
    """Batches of ``outbox_deliver_due`` until a batch claims less than a full batch, then
    ``signals.outbox_drained`` (electronic service records are brought up to date by its receiver)."""
    sent = 0
    for _batch in range(OUTBOX_MAX_BATCHES):
        claimed_sent = outbox_deliver_due(limit=OUTBOX_BATCH, worker_id=worker_id)
        sent += claimed_sent
        if claimed_sent < OUTBOX_BATCH:
            break
    # On every drain, not only when this one sent something: a delivery recorded by another worker, or a
    # refresh that failed last time, is caught up here (OLR 31).
    signals.send_now(signals.outbox_drained, sent=sent)
    return sent
