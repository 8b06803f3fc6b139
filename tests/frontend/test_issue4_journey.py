"""Issue 4 end to end on the demo world, through the pages only: the demo mediator finds the first common
free time and schedules a joint online session; every participant is invited on each of their channels
and reminded 24 hours and 1 hour before, exactly once; each sees the session in their own time and takes
the ``.ics`` file; a session overlapping by one minute is refused, naming the clash; then the mediator
serves a PDF on the respondent, whose certificate shows the effective time and the OLR 31 rule applied.

Nothing here calls a service to act; the ORM is only read to check the outcome. The console SMS backend
and Django's locmem e-mail backend stand in for the people's phones and mailboxes (the "development
backends" of the Done-when).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from mediation.adapters.sms import outbox as sms_outbox
from mediation.adapters.sms import outbox_clear
from mediation.audit_chain import verify_all, verify_stream
from mediation.choices import (
    MessageChannel,
    OutboxStatus,
    ParticipantRole,
    ServiceChannel,
    ServiceRule,
    SessionKind,
    SessionStatus,
)
from mediation.management.commands.seed_demo import DEMO_CASE_TITLE
from mediation.models import AuditEvent, Case, MediationSession, OutboxMessage, ServiceRecord, User
from mediation.services.outbox import outbox_drain
from tests.apply_support import pdf_bytes

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "yizhan-demo-2026"
BEIJING = ZoneInfo("Asia/Shanghai")
# A Friday after office hours: the first common free hour is Monday 09:00, far enough ahead for both reminders.
FRIDAY_EVENING = dt.datetime(2026, 3, 6, 17, 30, tzinfo=BEIJING)
SESSION_START = dt.datetime(2026, 3, 9, 9, 0, tzinfo=BEIJING)
SESSION_END = SESSION_START + dt.timedelta(hours=1)
WHEN = "2026年3月9日 09:00–10:00（北京时间）"
PARTICIPANTS = ("mediator", "alice", "bob", "lawyer")


@pytest.fixture
def clock():
    with time_machine.travel(FRIDAY_EVENING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def demo(settings, tmp_path, clock):
    """The demo world as `make run` loads it, with the development message backends."""
    settings.DEBUG = True
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path
    outbox_clear()
    call_command("seed_demo", quiet=True)
    yield Case.objects.get(title=DEMO_CASE_TITLE)
    outbox_clear()


# --- What a person does with a page ----------------------------------------------------------------------


def page(response) -> str:
    assert response.status_code == 200, (response.status_code, response.content.decode()[:3000])
    return response.content.decode()


def moved(response) -> str:
    assert response.status_code == 302, (response.status_code, response.content.decode()[:3000])
    return response["Location"]


def signed_in(username: str) -> Client:
    client = Client()
    moved(client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD,
                                         "next": reverse("home")}))
    return client


def user(username: str) -> User:
    return User.objects.get(username=username)


def sms_texts(phone: str) -> list[str]:
    return [m.text for m in sms_outbox if m.phone == phone]


def deliver() -> int:
    """What the worker (beat → ``deliver_outbox``) does, run here in the test's process."""
    return outbox_drain(worker_id="journey")


def session_form(**overrides: str) -> dict[str, str]:
    data = {"kind": SessionKind.JOINT_ONLINE, "date": "", "start": "", "duration": "60", "note": ""}
    data.update(overrides)
    return data


# --- The journey ------------------------------------------------------------------------------------------


def mediator_schedules_the_first_common_free_hour(mediator: Client, case: Case) -> MediationSession:
    detail = page(mediator.get(reverse("case_detail", args=[case.pk])))
    new_url = reverse("session_new", args=[case.pk])
    assert f'href="{new_url}"' in detail  # "安排调解活动" on the case page
    assert "查找共同空闲时间" in page(mediator.get(new_url))

    found = page(mediator.post(new_url, {**session_form(), "find": "1"}))
    assert f"最早的共同空闲时间：{WHEN}" in found
    date = re.search(r'name="date" value="([^"]+)"', found)
    start = re.search(r'name="start" value="([^"]+)"', found)
    assert date and start, "the found time is not filled into the form"
    assert (date.group(1), start.group(1)) == ("2026-03-09", "09:00")

    done = moved(mediator.post(new_url, {**session_form(date=date.group(1), start=start.group(1)), "save": "1"}))
    assert done == reverse("session_list", args=[case.pk])
    assert f"已安排调解活动（{WHEN}），已通知各参加人员。" in page(mediator.get(done))
    session = MediationSession.objects.get(case=case)
    assert (session.starts_at, session.ends_at, session.status) == (SESSION_START, SESSION_END,
                                                                   SessionStatus.SCHEDULED)
    return session


def expected_channels() -> dict[str, set[str]]:
    """Everyone gets SMS and in-app; 张三 also e-mail (the address on her 送达地址确认书)."""
    channels = {name: {MessageChannel.SMS, MessageChannel.IN_APP} for name in PARTICIPANTS}
    channels["alice"].add(MessageChannel.EMAIL)
    return channels


def test_the_mediator_schedules_invites_reminds_and_serves_on_the_demo_world(demo, clock):
    case = demo
    mediator = signed_in("mediator")

    # 1. Scheduling through the "first common free time" button.
    session = mediator_schedules_the_first_common_free_hour(mediator, case)
    participants = {p.user.username for p in session.participants.select_related("user")}
    assert participants == set(PARTICIPANTS)
    roles = {p.user.username: p.role for p in session.participants.select_related("user")}
    assert roles == {"mediator": ParticipantRole.MEDIATOR, "alice": ParticipantRole.PARTY,
                     "bob": ParticipantRole.PARTY, "lawyer": ParticipantRole.AGENT}

    # 2. The outbox, written in the scheduling transaction: an invitation per person and channel, and the
    #    24 h and 1 h reminders (SMS and in-app) due at the right moments.
    messages = list(OutboxMessage.objects.filter(case=case).select_related("recipient"))
    invitations: dict[str, set[str]] = {}
    reminders: dict[tuple[str, str], set[str]] = {}
    for m in messages:
        assert m.status == OutboxStatus.PENDING
        if m.template == "session.invitation":
            invitations.setdefault(m.recipient.username, set()).add(m.channel)
            assert m.next_attempt_at == FRIDAY_EVENING
        else:
            assert m.template in {"session.reminder_24h", "session.reminder_1h"}, m.template
            reminders.setdefault((m.recipient.username, m.template), set()).add(m.channel)
            ahead = dt.timedelta(hours=24 if m.template.endswith("24h") else 1)
            assert m.next_attempt_at == SESSION_START - ahead
    assert invitations == expected_channels()
    for name in PARTICIPANTS:
        for template in ("session.reminder_24h", "session.reminder_1h"):
            assert reminders[(name, template)] == {MessageChannel.SMS, MessageChannel.IN_APP}, (name, template)

    # 3. The worker delivers the invitations (and nothing that is not yet due).
    assert deliver() == sum(len(c) for c in expected_channels().values())
    assert deliver() == 0
    for name in PARTICIPANTS:
        texts = sms_texts(user(name).phone)
        assert len(texts) == 1 and "2026年3月9日" in texts[0], (name, texts)
    assert [m.to for m in mail.outbox] == [["zhangsan@example.cn"]]
    assert "2026年3月9日" in mail.outbox[0].body
    assert case.reference in mail.outbox[0].body or case.reference in mail.outbox[0].subject
    for name in PARTICIPANTS:
        inbox = page(signed_in(name).get(reverse("inbox")))
        assert case.reference in inbox or "调解" in inbox

    # 4. Each participant sees the session on the case page in their own time and takes the .ics file.
    ics_url = reverse("session_ics", args=[case.pk, session.pk])
    for name in PARTICIPANTS:
        person = signed_in(name)
        assert WHEN in page(person.get(reverse("case_detail", args=[case.pk]))), name
        assert ics_url in page(person.get(reverse("session_list", args=[case.pk]))), name
        response = person.get(ics_url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        events = list(calendar.walk("VEVENT"))
        assert len(events) == 1, name
        event = events[0]
        assert event.decoded("DTSTART") == SESSION_START
        assert event.decoded("DTEND") == SESSION_END
        assert str(calendar["METHOD"]) == "REQUEST"
        assert event.get("UID")
    charlie = signed_in("charlie")
    assert charlie.get(ics_url).status_code == 404
    assert charlie.get(reverse("session_list", args=[case.pk])).status_code == 404
    assert charlie.get(reverse("case_detail", args=[case.pk])).status_code == 404

    # 5. A second session overlapping the first by one minute is refused, naming the clash; nothing saved.
    queued = OutboxMessage.objects.count()
    audited = AuditEvent.objects.count()
    refused = mediator.post(reverse("session_new", args=[case.pk]),
                            {**session_form(date="2026-03-09", start="09:59"), "save": "1"})
    text = page(refused)
    assert "时间冲突" in text
    assert "刘调解员" in text and WHEN in text and case.reference in text
    assert MediationSession.objects.filter(case=case).count() == 1
    assert OutboxMessage.objects.count() == queued and AuditEvent.objects.count() == audited

    # 6. The reminders: each arrives once, 24 hours and then 1 hour before, however often the worker runs.
    clock.move_to(SESSION_START - dt.timedelta(hours=24, seconds=1))
    assert deliver() == 0
    clock.move_to(SESSION_START - dt.timedelta(hours=24))
    assert deliver() == 2 * len(PARTICIPANTS)
    assert deliver() == 0
    clock.move_to(SESSION_START - dt.timedelta(hours=1))
    assert deliver() == 2 * len(PARTICIPANTS)
    assert deliver() == 0
    for name in PARTICIPANTS:
        texts = sms_texts(user(name).phone)
        assert len(texts) == 3, (name, texts)
    per_key = Counter(m.idempotency_key for m in OutboxMessage.objects.filter(status=OutboxStatus.SENT))
    assert set(per_key.values()) == {1}
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
    assert len(mail.outbox) == 1  # reminders go by SMS and in-app only

    # 7. Electronic service: the mediator serves a small PDF on 北京某科技有限公司 (李四 acts for it).
    served_at = SESSION_START - dt.timedelta(hours=1)
    respondent = case.parties.get(user__username="bob")
    serve_url = reverse("service_serve", args=[case.pk])
    assert f'href="{serve_url}"' in page(mediator.get(reverse("case_detail", args=[case.pk])))
    page(mediator.get(serve_url))
    record_url = moved(mediator.post(serve_url, {
        "recipient": respondent.pk, "document_title": "调解笔录", "document_number": "",
        "document": SimpleUploadedFile("调解笔录.pdf", pdf_bytes(), content_type="application/pdf"),
    }))
    record = ServiceRecord.objects.get(case=case)
    assert record_url == reverse("service_record", args=[record.pk])
    assert record.recipient == respondent
    assert record.document_pages == 1
    channels = {d.channel: d for d in record.deliveries.all()}
    assert set(channels) == {ServiceChannel.PLATFORM, ServiceChannel.SMS}
    # The platform account is an address the recipient confirmed: effective on arrival (OLR 31 para 1).
    assert (record.effective_at, record.effective_channel, record.rule) == (
        served_at, ServiceChannel.PLATFORM, ServiceRule.ARRIVAL)

    clock.move_to(served_at + dt.timedelta(minutes=2))
    assert deliver() == 2  # the SMS notice and the in-app notice
    notice = sms_texts(user("bob").phone)[-1]
    assert "调解笔录" in notice and f"/service/{record.pk}/?via=sms" in notice
    sms_delivery = record.deliveries.get(channel=ServiceChannel.SMS)
    assert sms_delivery.arrived_at == served_at + dt.timedelta(minutes=2)

    # 李四 follows the link in the SMS: the read is recorded on the platform and the SMS channel.
    clock.move_to(served_at + dt.timedelta(minutes=5))
    bob = signed_in("bob")
    shown = page(bob.get(f"{reverse('service_record', args=[record.pk])}?via=sms"))
    assert "调解笔录" in shown and reverse("service_certificate", args=[record.pk]) in shown
    # The page's script records the read once the page is visible (a GET alone records nothing).
    assert bob.post(reverse("service_record", args=[record.pk]), {"action": "read", "via": "sms"}).status_code == 204
    read = {d.channel: d.read_at for d in record.deliveries.all()}
    assert read == {ServiceChannel.PLATFORM: served_at + dt.timedelta(minutes=5),
                    ServiceChannel.SMS: served_at + dt.timedelta(minutes=5)}
    record.refresh_from_db()
    assert record.effective_at == served_at and record.rule == ServiceRule.ARRIVAL  # the earliest still wins

    # The certificate, with every field of legal-rules §C7.
    cert_url = reverse("service_certificate", args=[record.pk])
    certificate = page(bob.get(cert_url))
    staff_copy = page(mediator.get(cert_url))
    for shown in (certificate, staff_copy):
        for field in (
            record.certificate_number, "北京市总工会劳动争议调解中心", case.reference,  # serving body, case no.
            "调解笔录", record.document_sha256, "页数",  # document: title, number, hash, pages
            "北京某科技有限公司", "被申请人",  # recipient and role
            "受送达人提供或确认的地址",  # address provenance
            "平台账户", "短信", "139****0002",  # the channels and the address used
            "发送成功时间", "到达系统时间", "阅知时间", "回复或下载时间",  # per-channel moments
            "2026-03-09 08:00:00",  # effective service time (Beijing)
            str(ServiceRule.ARRIVAL.label),  # the rule applied: OLR 31 para 1
            "申请纸质文书", "凭证哈希", "生成时间",
        ):
            assert field in shown, field

    # Nobody else sees the record, its document or its certificate: not the outsider, not the other party,
    # not a mediator of another organisation.
    for name in ("charlie", "alice", "mediator_fin"):
        other = signed_in(name)
        for url in (reverse("service_record", args=[record.pk]), cert_url,
                    reverse("service_download", args=[record.pk])):
            assert other.get(url).status_code == 404, (name, url)
    assert signed_in("mediator_fin").get(ics_url).status_code == 404

    # 8. Every step is in the case's audit chain, and the chains verify.
    kinds = list(AuditEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))
    for kind in ("session.scheduled", "notification.sent", "service.issued", "service.effective", "service.read"):
        assert kind in kinds, kind
    assert verify_stream(f"case.{case.pk}") is None
    assert verify_all() == []
