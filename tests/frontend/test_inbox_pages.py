"""The in-app inbox: each person sees only their own delivered messages, newest first; opening one marks it
read; the unread count is in the navigation; anybody else's message is 404."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediation import notification_templates as nt
from mediation.choices import MessageChannel
from mediation.models import OutboxMessage
from mediation.services.outbox import outbox_deliver_due, outbox_enqueue

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _not_eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def send_in_app(user, *, key: str, subject: str = "通知", text: str = "您有一条新消息。", case=None,
                deliver_after=None) -> OutboxMessage:
    with transaction.atomic():
        message = outbox_enqueue(
            channel=MessageChannel.IN_APP, address="", template=nt.GENERIC, recipient=user, case=case,
            context={"subject": subject, "text": text, "link": "https://yizhan.example.cn/cases/1/"},
            idempotency_key=key, deliver_after=deliver_after,
        )
    outbox_deliver_due()
    message.refresh_from_db()
    return message


def test_the_inbox_lists_my_messages_newest_first_and_nobody_elses(world, client):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI), tick=False) as traveller:
        send_in_app(world.applicant, key="a1", subject="第一条")
        traveller.shift(dt.timedelta(hours=1))
        send_in_app(world.applicant, key="a2", subject="第二条")
        send_in_app(world.respondent, key="r1", subject="给李四的")
    client.force_login(world.applicant)
    html = client.get(reverse("inbox")).content.decode()
    assert html.index("第二条") < html.index("第一条")
    assert "给李四的" not in html
    assert "消息（2）" in html  # the unread count in the navigation


def test_a_message_for_later_is_not_shown_before_it_is_delivered(world, client):
    send_in_app(world.applicant, key="later", subject="明天的提醒",
                deliver_after=dt.datetime(2099, 1, 1, tzinfo=SHANGHAI))
    client.force_login(world.applicant)
    html = client.get(reverse("inbox")).content.decode()
    assert "明天的提醒" not in html
    assert "暂无消息" in html


def test_other_channels_are_not_in_the_inbox(world, client, settings):
    settings.SMS_BACKEND = "console"
    with transaction.atomic():
        outbox_enqueue(channel=MessageChannel.SMS, address="13800000001", template=nt.GENERIC,
                       recipient=world.applicant, context={"subject": "短信主题", "text": "短信"},
                       idempotency_key="sms-only")
    outbox_deliver_due()
    client.force_login(world.applicant)
    assert "短信主题" not in client.get(reverse("inbox")).content.decode()


def test_opening_a_message_shows_it_and_marks_it_read(world, client):
    message = send_in_app(world.applicant, key="open", subject="调解会议通知", text="请准时参加。")
    client.force_login(world.applicant)
    response = client.get(reverse("inbox_message", args=[message.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "请准时参加。" in html
    assert '<a href="https://yizhan.example.cn/cases/1/"' in html
    message.refresh_from_db()
    assert message.read_at is not None
    assert "消息（" not in client.get(reverse("inbox")).content.decode()


@pytest.mark.parametrize("who", ["respondent", "lawyer", "outsider", "mediator", "other_mediator", "clerk",
                                 "other_clerk", "other_judge", "org_admin"])
def test_nobody_else_can_open_my_message(world, client, who):
    message = send_in_app(world.applicant, key="mine", subject="私人消息", case=world.new_case())
    client.force_login(getattr(world, who))
    assert client.get(reverse("inbox_message", args=[message.pk])).status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_a_message_that_does_not_exist_is_404(world, client):
    client.force_login(world.applicant)
    assert client.get(reverse("inbox_message", args=[999999])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(world, client):
    message = send_in_app(world.applicant, key="anon")
    for url in (reverse("inbox"), reverse("inbox_message", args=[message.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]
    assert client.post(reverse("inbox_read_all")).status_code == 302
    message.refresh_from_db()
    assert message.read_at is None


def test_mark_all_read_touches_only_my_messages(world, client):
    mine = [send_in_app(world.applicant, key=f"m{n}") for n in range(3)]
    theirs = send_in_app(world.respondent, key="theirs")
    client.force_login(world.applicant)
    response = client.post(reverse("inbox_read_all"), follow=True)
    assert "3 条消息已标为已读。" in response.content.decode()
    assert all(OutboxMessage.objects.get(pk=m.pk).read_at for m in mine)
    assert OutboxMessage.objects.get(pk=theirs.pk).read_at is None
    assert client.get(reverse("inbox_read_all")).status_code == 405  # a write needs POST


def test_the_inbox_costs_the_same_queries_for_one_message_or_many(world, client):
    client.force_login(world.applicant)
    send_in_app(world.applicant, key="q0")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("inbox"))
    for n in range(1, 15):
        send_in_app(world.applicant, key=f"q{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("inbox"))
    assert len(many) == len(one)


def test_the_inbox_pages_through_older_messages(world, client):
    for n in range(25):
        send_in_app(world.applicant, key=f"p{n}", subject=f"消息{n:02d}")
    client.force_login(world.applicant)
    first = client.get(reverse("inbox")).content.decode()
    second = client.get(reverse("inbox"), {"page": 2}).content.decode()
    assert "消息24" in first and "消息04" not in first
    assert "消息04" in second and "消息00" in second


def test_the_navigation_reads_roles_and_the_unread_count_in_one_query(world, django_assert_num_queries):
    from mediation.choices import Role
    from mediation.models import Membership
    from mediation.selectors.inbox import navigation_roles_and_unread

    send_in_app(world.clerk, key="c1")
    send_in_app(world.clerk, key="c2")
    with django_assert_num_queries(1):
        assert navigation_roles_and_unread(user=world.clerk) == ({Role.CLERK}, 2)
    assert navigation_roles_and_unread(user=world.applicant) == (set(), 0)  # no membership, no messages
    Membership.objects.filter(user=world.mediator).update(is_active=False)
    send_in_app(world.mediator, key="m1")
    assert navigation_roles_and_unread(user=world.mediator) == (set(), 1)
