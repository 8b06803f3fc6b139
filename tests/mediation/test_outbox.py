"""The outbox: enqueued in the caller's transaction, rendered once, idempotent by key, delivered with a lease,
retried with backoff, failed after the last attempt, and audited on the case."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mediation import notification_templates as nt
from mediation.adapters import sms
from mediation.adapters.email import message_id_for
from mediation.choices import MessageChannel, OutboxStatus, SessionKind
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import AuditEvent, OutboxMessage
from mediation.services import outbox
from mediation.services.outbox import (
    CANCELLED,
    inbox_mark_read,
    outbox_cancel,
    outbox_deliver_due,
    outbox_enqueue,
    retry_delay,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 3, 5, 14, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def backends(settings):
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_SECONDS = 30
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sms.outbox_clear()
    yield
    sms.outbox_clear()


def session_context(case, **extra):
    return {
        "reference": case.reference, "title": case.title, "start": START, "kind": SessionKind.JOINT_ONLINE.label,
        "link": "https://yizhan.example.cn/cases/1/", **extra,
    }


def enqueue(case=None, *, key="k1", channel=MessageChannel.SMS, address="13800000001", **kwargs):
    with transaction.atomic():
        return outbox_enqueue(
            channel=channel, address=address, template=kwargs.pop("template", nt.GENERIC),
            context=kwargs.pop("context", {"subject": "通知", "text": "您有一条新消息。"}),
            idempotency_key=key, case=case, **kwargs,
        )


class FailingSms:
    """A gateway that is down."""

    calls = 0

    def send(self, *, phone: str, text: str, request_id: str | None = None) -> str:
        FailingSms.calls += 1
        raise sms.SmsDeliveryError("gateway down")


# --- Enqueue ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_renders_the_message_now_and_leaves_it_pending(world):
    case = world.new_case()
    message = enqueue(case, template=nt.SESSION_INVITATION, context=session_context(case, venue="东城区法院调解室"),
                      recipient=world.applicant)
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 0
    assert case.reference in message.subject
    assert "2026年3月5日 14:30（北京时间）" in message.body
    assert "举行同时在线调解" in message.body
    assert "东城区法院调解室" in message.body
    assert sms.outbox == []  # nothing is sent by enqueueing


@pytest.mark.django_db
def test_a_line_whose_optional_values_are_all_missing_is_left_out(world):
    case = world.new_case()
    message = enqueue(case, template=nt.SESSION_INVITATION, context=session_context(case))
    assert "地点" not in message.body
    assert "时段" not in message.body


@pytest.mark.django_db
def test_a_participant_abroad_reads_the_time_in_their_own_zone(world):
    case = world.new_case()
    message = enqueue(case, template=nt.SESSION_REMINDER_1H,
                      context=session_context(case, time_zone="Europe/Berlin"))
    assert "2026年3月5日 07:30（Europe/Berlin）" in message.body


@pytest.mark.django_db
def test_english_is_rendered_when_asked_for(world):
    case = world.new_case()
    message = enqueue(case, template=nt.SESSION_CANCELLED, context=session_context(case), language="en")
    assert message.language == "en"
    assert case.reference in message.body


@pytest.mark.django_db
def test_a_missing_required_value_is_a_programming_error(world):
    with pytest.raises(ValueError, match="reference"):
        enqueue(template=nt.SESSION_INVITATION, context={"start": START, "kind": "x"})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_an_unknown_template_is_refused(world):
    with pytest.raises(ValueError, match="Unknown notification template"):
        enqueue(template="nope")


@pytest.mark.django_db
def test_reusing_an_idempotency_key_returns_the_same_row(world):
    first = enqueue(key="session:1:invite")
    again = enqueue(key="session:1:invite", address="13900000000")
    assert again.pk == first.pk
    assert again.address == "13800000001"
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_reusing_a_key_inside_an_outer_transaction_leaves_that_transaction_usable(world):
    case = world.new_case()
    with transaction.atomic():
        first = enqueue(case, key="dup")
        again = enqueue(case, key="dup")
        case.refresh_from_db()  # the transaction is not broken by the conflict
    assert first.pk == again.pk


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(world):
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(channel=MessageChannel.SMS, address="13800000001", template=nt.GENERIC,
                       context={"subject": "a", "text": "b"}, idempotency_key="outside")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_an_sms_without_a_number_and_an_in_app_message_without_a_recipient_are_refused(world):
    with pytest.raises(InvalidInput, match="手机号码"):
        enqueue(address="  ")
    with pytest.raises(InvalidInput, match="电子邮箱"):
        enqueue(channel=MessageChannel.EMAIL, address="")
    with pytest.raises(InvalidInput, match="收件人"):
        enqueue(channel=MessageChannel.IN_APP, address="")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_message_for_later_is_not_due_before_its_time(world):
    later = dt.datetime(2026, 3, 4, 14, 30, tzinfo=SHANGHAI)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI), tick=False) as traveller:
        enqueue(key="reminder", deliver_after=later)
        assert outbox_deliver_due() == 0
        traveller.move_to(later)
        assert outbox_deliver_due() == 1
    assert len(sms.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_enqueued_in_a_transaction_that_rolls_back_is_never_sent(world):
    def change_that_fails() -> None:
        with transaction.atomic():
            outbox_enqueue(channel=MessageChannel.SMS, address="13800000001", template=nt.GENERIC,
                           context={"subject": "a", "text": "b"}, idempotency_key="rolled-back")
            raise RuntimeError("the change fails after the message was written")

    with pytest.raises(RuntimeError, match="the change fails"):
        change_that_fails()
    assert outbox_deliver_due() == 0
    assert not OutboxMessage.objects.exists()
    assert sms.outbox == []


@pytest.mark.django_db(transaction=True)
def test_in_the_embedded_default_a_message_goes_out_right_after_the_commit_once_per_transaction(world, settings,
                                                                                                monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    runs = []
    real = outbox.outbox_deliver_due
    monkeypatch.setattr("mediation.services.outbox.outbox_deliver_due", lambda **kw: runs.append(1) or real(**kw))
    with transaction.atomic():
        for n in range(3):
            outbox_enqueue(channel=MessageChannel.SMS, address=f"1380000000{n}", template=nt.GENERIC,
                           context={"subject": "a", "text": "b"}, idempotency_key=f"eager-{n}")
        assert sms.outbox == []  # not before the commit
    assert len(sms.outbox) == 3
    assert len(runs) == 1


# --- Cancel -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_withdraws_the_pending_messages_with_the_prefix_only(world):
    enqueue(key="session:7:reminder-24h:1")
    enqueue(key="session:7:reminder-1h:1")
    enqueue(key="session:70:reminder-24h:1")
    sent = enqueue(key="session:7:invite:1")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    with transaction.atomic():
        assert outbox_cancel(idempotency_key_prefix="session:7:reminder") == 2
    assert outbox_deliver_due() == 1  # only session 70's
    cancelled = OutboxMessage.objects.filter(idempotency_key__startswith="session:7:reminder")
    assert {(m.status, m.last_error) for m in cancelled} == {(OutboxStatus.FAILED, CANCELLED)}
    assert OutboxMessage.objects.get(pk=sent.pk).status == OutboxStatus.SENT


@pytest.mark.django_db
def test_cancel_also_withdraws_a_message_abandoned_by_a_dead_worker_but_not_one_being_sent(world):
    dead = enqueue(key="session:8:remind1:1")
    live = enqueue(key="session:8:remind24:1")
    now = dt.datetime.now(tz=dt.UTC)
    OutboxMessage.objects.filter(pk=dead.pk).update(status=OutboxStatus.SENDING, attempts=1,
                                                    claimed_until=now - dt.timedelta(minutes=1))
    OutboxMessage.objects.filter(pk=live.pk).update(status=OutboxStatus.SENDING, attempts=1,
                                                    claimed_until=now + dt.timedelta(minutes=5))
    assert outbox_cancel(idempotency_key_prefix="session:8:") == 1
    dead.refresh_from_db()
    assert (dead.status, dead.last_error, dead.claimed_until) == (OutboxStatus.FAILED, CANCELLED, None)
    assert outbox_deliver_due() == 0  # the dead worker's reminder is not retaken and sent
    assert OutboxMessage.objects.get(pk=live.pk).status == OutboxStatus.SENDING


@pytest.mark.django_db
def test_every_drain_refreshes_pending_service_records_and_logs_a_failure(world, monkeypatch, caplog):
    from mediation.services import service

    calls = []
    monkeypatch.setattr(service, "service_records_refresh_pending", lambda: calls.append(1) or 0)
    assert outbox.outbox_drain(worker_id="t") == 0  # nothing sent: still refreshed
    assert calls == [1]

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "service_records_refresh_pending", broken)
    assert outbox.outbox_drain(worker_id="t") == 0  # logged, not raised
    assert "Refreshing pending electronic service records failed" in caplog.text


@pytest.mark.django_db
def test_cancel_needs_a_prefix(world):
    with pytest.raises(ValueError, match="non-empty key prefix"):
        outbox_cancel(idempotency_key_prefix="")


# --- Delivery ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delivery_sends_each_channel_and_records_it(world):
    case = world.new_case()
    enqueue(case, key="s", recipient=world.applicant)
    enqueue(case, key="e", channel=MessageChannel.EMAIL, address="zhang@example.cn", subject="主题")
    enqueue(case, key="i", channel=MessageChannel.IN_APP, address="", recipient=world.applicant)
    assert outbox_deliver_due(worker_id="w1") == 3
    assert [m.request_id for m in sms.outbox] == ["s"]
    (email,) = mail.outbox
    assert email.to == ["zhang@example.cn"]
    assert email.subject == "主题"
    assert email.extra_headers["Message-ID"] == message_id_for("e")
    for message in OutboxMessage.objects.all():
        assert message.status == OutboxStatus.SENT
        assert message.attempts == 1
        assert message.sent_at is not None
        assert message.claimed_until is None
        assert message.provider_id
    events = AuditEvent.objects.filter(case=case, kind="notification.sent")
    assert events.count() == 3
    assert {e.data["address"] for e in events} == {"138****0001", "z***@example.cn", ""}
    assert outbox_deliver_due() == 0  # nothing twice


@pytest.mark.django_db
def test_a_message_without_a_case_is_not_audited(world):
    enqueue(key="no-case")
    outbox_deliver_due()
    assert not AuditEvent.objects.filter(kind__startswith="notification.").exists()


@pytest.mark.django_db
def test_a_failure_is_retried_with_exponential_backoff_and_then_fails_for_good(world, monkeypatch):
    monkeypatch.setattr("mediation.adapters.sms.get_sms_backend", lambda: FailingSms())
    monkeypatch.setattr("mediation.services.outbox.random.uniform", lambda a, b: 0)
    case = world.new_case()
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    with time_machine.travel(t0, tick=False) as traveller:
        message = enqueue(case, key="flaky")
        assert outbox_deliver_due() == 0
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
        assert message.next_attempt_at == t0 + dt.timedelta(seconds=30)
        assert "gateway down" in message.last_error

        traveller.move_to(t0 + dt.timedelta(seconds=29))
        assert outbox_deliver_due() == 0
        assert OutboxMessage.objects.get().attempts == 1  # not due yet: not tried

        traveller.move_to(t0 + dt.timedelta(seconds=30))
        outbox_deliver_due()
        message.refresh_from_db()
        assert message.attempts == 2
        assert message.next_attempt_at == t0 + dt.timedelta(seconds=30 + 60)

        traveller.move_to(message.next_attempt_at)
        outbox_deliver_due()
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)

        traveller.shift(dt.timedelta(days=1))
        assert outbox_deliver_due() == 0
    assert OutboxMessage.objects.get().attempts == 3
    (event,) = AuditEvent.objects.filter(case=case, kind="notification.failed")
    assert "gateway down" in event.data["error"]
    assert not AuditEvent.objects.filter(kind="notification.sent").exists()


def test_the_backoff_doubles_and_is_capped(settings):
    settings.OUTBOX_RETRY_SECONDS = 30
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("mediation.services.outbox.random.uniform", lambda a, b: 0)
        assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
        assert retry_delay(30) == dt.timedelta(hours=6)


@pytest.mark.django_db
def test_a_lease_that_expires_lets_another_worker_retry(world, settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    with time_machine.travel(t0, tick=False) as traveller:
        message = enqueue(key="leased")
        # A worker claims it and dies before sending.
        assert outbox._claim(now=t0, limit=10, lease_until=t0 + dt.timedelta(seconds=60)) == [message.pk]
        traveller.move_to(t0 + dt.timedelta(seconds=59))
        assert outbox_deliver_due() == 0  # the lease still holds
        assert sms.outbox == []
        traveller.move_to(t0 + dt.timedelta(seconds=61))
        assert outbox_deliver_due(worker_id="second") == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    assert len(sms.outbox) == 1


@pytest.mark.django_db
def test_a_worker_renews_its_lease_when_it_runs_short_and_drops_rows_another_worker_took(world):
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    lease = dt.timedelta(seconds=60)
    with time_machine.travel(t0, tick=False) as traveller:
        kept, taken = enqueue(key="kept"), enqueue(key="taken", address="13800000002")
        batch = outbox._Batch(token=t0 + lease, lease=lease)
        outbox._claim(now=t0, limit=10, lease_until=batch.token)
        assert batch.hold([kept.pk, taken.pk])  # plenty of time left: no query, both held
        # The batch overran its lease and a second worker claimed one of the rows.
        OutboxMessage.objects.filter(pk=taken.pk).update(claimed_until=t0 + dt.timedelta(hours=1))
        traveller.move_to(t0 + dt.timedelta(seconds=55))
        assert batch.hold([kept.pk, taken.pk])
        assert batch.held == {kept.pk}
        assert batch.token == t0 + dt.timedelta(seconds=55) + lease
    assert OutboxMessage.objects.get(pk=kept.pk).claimed_until == batch.token


@pytest.mark.django_db
def test_a_message_whose_worker_died_on_the_last_attempt_is_marked_failed(world, settings):
    case = world.new_case()
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    with time_machine.travel(t0, tick=False) as traveller:
        message = enqueue(case, key="poison")
        for n in range(settings.OUTBOX_MAX_ATTEMPTS):
            traveller.move_to(t0 + dt.timedelta(hours=n))
            outbox._claim(now=timezone_now(), limit=10, lease_until=timezone_now() + dt.timedelta(minutes=5))
        traveller.move_to(t0 + dt.timedelta(hours=10))
        assert outbox_deliver_due() == 0
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.last_error == outbox.LOST_WORKER
    assert sms.outbox == []
    assert AuditEvent.objects.filter(case=case, kind="notification.failed").count() == 1


def timezone_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
def test_claiming_a_batch_costs_a_constant_number_of_queries(world):
    for n in range(30):
        enqueue(key=f"batch-{n}", address=f"138000000{n:02d}")
    with CaptureQueriesContext(connection) as queries:
        ids = outbox._claim(now=timezone_now(), limit=100, lease_until=timezone_now() + dt.timedelta(minutes=5))
    assert len(ids) == 30
    assert len(queries) <= 5


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliverers_never_send_the_same_message_twice(world):
    for n in range(40):
        with transaction.atomic():
            outbox_enqueue(channel=MessageChannel.SMS, address=f"138{n:08d}", template=nt.GENERIC,
                           context={"subject": "a", "text": f"消息{n}"}, idempotency_key=f"race-{n}")
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            total = 0
            for _ in range(10):
                total += outbox_deliver_due(limit=5, worker_id=name)
            results.append(total)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 40
    phones = [m.phone for m in sms.outbox]
    assert len(phones) == 40
    assert len(set(phones)) == 40
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_the_command_delivers_what_is_due(world, capsys):
    enqueue(key="cmd")
    call_command("deliver_outbox")
    assert "1 message(s) sent" in capsys.readouterr().out
    assert len(sms.outbox) == 1


@pytest.mark.django_db
def test_the_celery_task_delivers_what_is_due(world):
    from mediation.services.outbox import deliver_outbox

    enqueue(key="task")
    assert deliver_outbox.apply().get() == 1


# --- In-app messages --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_an_in_app_message_marks_it_read_once(world):
    message = enqueue(key="inbox", channel=MessageChannel.IN_APP, address="", recipient=world.applicant)
    outbox_deliver_due()
    t1 = dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)
    with time_machine.travel(t1, tick=False):
        assert inbox_mark_read(actor=world.applicant, message_id=message.pk).read_at == t1
    with time_machine.travel(t1 + dt.timedelta(hours=1), tick=False):
        assert inbox_mark_read(actor=world.applicant, message_id=message.pk).read_at == t1


@pytest.mark.django_db
def test_nobody_else_can_open_an_in_app_message(world):
    message = enqueue(key="private", channel=MessageChannel.IN_APP, address="", recipient=world.applicant)
    outbox_deliver_due()
    for user in (world.respondent, world.outsider, world.mediator, world.clerk):
        with pytest.raises(PermissionDenied):
            inbox_mark_read(actor=user, message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).read_at is None
