"""Issue 17 item 13: a mediator lands on the day's work: the workbench starts with today's sessions of their own
cases in Beijing time (a mediator with six cases a day), each with the way into its room."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mediation.choices import CaseStatus, SessionKind, SessionStatus
from mediation.models import MediationSession
from mediation.selectors.intake import mediator_sessions_today

pytestmark = pytest.mark.django_db


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_default_timezone())


def session(case, user, start: dt.datetime, **extra) -> MediationSession:
    return MediationSession.objects.create(case=case, kind=SessionKind.JOINT_ONLINE, starts_at=start,
                                           ends_at=start + dt.timedelta(hours=1), created_by=user, **extra)


def test_the_workbench_lists_todays_sessions_of_the_mediators_own_cases(client, world):
    with time_machine.travel(local(2026, 3, 3, 8), tick=False):
        mine = world.drive(world.new_case(), CaseStatus.ACCEPTED)
        other = world.drive(world.new_case(), CaseStatus.SUBMITTED)  # no mediator of ours
        early = session(mine, world.mediator, local(2026, 3, 3, 0, 30))  # just after local midnight (UTC: the 2nd)
        late = session(mine, world.mediator, local(2026, 3, 3, 15))
        session(mine, world.mediator, local(2026, 3, 4, 9))  # tomorrow
        session(mine, world.mediator, local(2026, 3, 2, 23, 30))  # yesterday, late
        session(mine, world.mediator, local(2026, 3, 3, 11), status=SessionStatus.CANCELLED)
        session(other, world.clerk, local(2026, 3, 3, 10))
        assert [s.pk for s in mediator_sessions_today(user=world.mediator)] == [early.pk, late.pk]
        assert mediator_sessions_today(user=world.other_mediator) == []

        client.force_login(world.mediator)
        response = client.get(reverse("landing"), follow=True)
        html = response.content.decode()
        assert response.redirect_chain[-1][0] == reverse("intake_mine")
        assert "今日调解活动" in html and "15:00" in html and "00:30" in html
        assert reverse("session_room", args=[late.pk]) in html


def test_a_day_without_sessions_says_so(client, world):
    world.drive(world.new_case(), CaseStatus.ACCEPTED)
    client.force_login(world.mediator)
    assert "今天没有安排调解活动" in client.get(reverse("intake_mine")).content.decode()
