"""Issue 17 item 1: password sign-in is throttled per account and per address, over HTTP with real sessions;
a locked-out person is told in Chinese until when and for how long, and every failure and lock-out is audited."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mediation.models import AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def _post(client: Client, url: str, username: str, password: str, *, ip: str = "203.0.113.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_wrong_passwords_for_one_account_lock_it_and_the_page_says_until_when(world, url_name):
    staff = UserFactory(username="staff1", is_staff=True, is_superuser=url_name == "admin:login")
    url = reverse(url_name)
    client = Client()
    for _ in range(4):
        assert _post(client, url, staff.username, "wrong").status_code == 200
    locked = _post(client, url, staff.username, "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    until = timezone.localtime(timezone.now() + dt.timedelta(minutes=15)).strftime("%H:%M")
    assert "登录失败次数过多" in page and "15 分钟" in page and until in page
    # The right password is refused while locked, from another address too (the account is locked).
    assert _post(Client(), url, staff.username, TEST_PASSWORD, ip="198.51.100.9").status_code == 429
    assert AuditEvent.objects.filter(kind="auth.password_failed", stream=f"user.{staff.pk}").count() >= 5
    lock = AuditEvent.objects.filter(kind="auth.locked_out", stream=f"user.{staff.pk}").order_by("seq").first()
    assert lock is not None
    assert lock.data["ip"] == "203.0.113.7" and lock.data["minutes"] == 15


def test_after_the_lock_out_the_right_password_works_again(world):
    staff = UserFactory(username="staff2", is_staff=True)
    url = reverse("login")
    for _ in range(5):
        _post(Client(), url, staff.username, "wrong")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        client = Client()
        answer = _post(client, url, staff.username, TEST_PASSWORD)
        assert answer.status_code == 302
        assert client.get(reverse("home")).wsgi_request.user == staff


def test_spraying_many_names_from_one_address_locks_that_address(world):
    url = reverse("login")
    client = Client()
    answers = [_post(client, url, f"nobody{n}", "guess").status_code for n in range(6)]
    assert answers[:4] == [200] * 4 and answers[-1] == 429
    # A real account cannot be signed into from that address, but from another one it can.
    judge = world.judge
    assert _post(Client(), url, judge.username, TEST_PASSWORD).status_code == 429
    assert _post(Client(), url, judge.username, TEST_PASSWORD, ip="198.51.100.10").status_code == 302
    assert AuditEvent.objects.filter(kind="auth.password_failed").count() >= 5
    # A name with no account is audited without storing what was typed (it may be a mistyped password).
    unknown = AuditEvent.objects.filter(kind="auth.password_failed").first()
    assert unknown is not None and "nobody" not in str(unknown.data)
