"""A mediator schedules a hybrid session on a phone with the "find a common free time" button; a lawyer in
London sees it in London time. Screenshots of every scheduling page; nothing overflows sideways."""

from __future__ import annotations

import datetime as dt

import pytest

from mediation.choices import CaseStatus
from mediation.models import MediationSession
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, sign_in
from tests.scheduling_support import hours, venue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_mediator_schedules_a_hybrid_session_on_a_phone(live_server, world, phone):
    def setup():
        case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
        room = venue(world)
        hours(world.lawyer, days=range(7), start=dt.time(0), end=dt.time(23, 59), time_zone="Europe/London")
        return case, room

    case, room = off_loop(setup)
    base = live_server.url
    sign_in(phone, base, world.mediator.username)
    phone.goto(f"{base}/cases/{case.pk}/sessions/new/")
    assert fits(phone)
    screenshot(phone, "sched-new-390x844")

    phone.click("button[name=find]")
    phone.wait_for_selector(".sch-found")
    assert "最早的共同空闲时间" in phone.text_content(".sch-found")
    assert phone.input_value("input[name=date]")
    phone.check("input[name=kind][value=separate_slots]")
    assert phone.is_visible(".sch-slot-fields") and not phone.is_visible(".sch-attend")
    screenshot(phone, "sched-new-separate-390x844")
    phone.check("input[name=kind][value=hybrid]")
    phone.select_option("select[name=venue]", str(room.pk))
    phone.check(f"input[name^='attend_party-{world.respondent.pk}-']")
    assert fits(phone)
    screenshot(phone, "sched-new-hybrid-390x844")

    phone.click("button[name=save]")
    phone.wait_for_selector(".sch-card")
    assert "已安排调解活动" in phone.text_content(".messages")
    assert fits(phone)
    screenshot(phone, "sched-list-mediator-390x844")
    session = off_loop(lambda: MediationSession.objects.get(case=case))
    assert session.venue_id == room.pk

    phone.goto(f"{base}/cases/{case.pk}/sessions/{session.pk}/reschedule/")
    assert fits(phone)
    screenshot(phone, "sched-reschedule-390x844")
    phone.click("button[type=submit]")
    assert "改期须写明理由" in phone.text_content(".act-alert")
    screenshot(phone, "sched-reschedule-error-390x844")
    phone.goto(f"{base}/cases/{case.pk}/sessions/{session.pk}/cancel/")
    screenshot(phone, "sched-cancel-390x844")
    phone.goto(f"{base}/cases/{case.pk}/")
    phone.wait_for_selector("#sessions")
    assert fits(phone)
    screenshot(phone, "sched-case-block-mediator-390x844")

    phone.click("button:has-text('退出')")
    sign_in(phone, base, world.lawyer.username)
    phone.goto(f"{base}/cases/{case.pk}/sessions/")
    assert "Europe/London 时间" in phone.text_content(".sch-card")
    assert fits(phone)
    screenshot(phone, "sched-list-lawyer-london-390x844")
    phone.goto(f"{base}/calendar/")
    assert f"{base}/calendar/" in phone.input_value(".sch-url") or "/calendar/" in phone.input_value(".sch-url")
    assert fits(phone)
    screenshot(phone, "sched-subscribe-390x844")
