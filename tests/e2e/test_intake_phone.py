"""The intake pages on a phone-sized screen: the clerk's queue with an overdue clock, the return form,
the referral form, an organisation's queue and a mediator's dashboard; nothing overflows sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mediation.choices import CaseStatus, TimerKind
from mediation.models import RosterEntry, Timer
from tests.e2e.conftest import PHONE, off_loop, screenshot
from tests.e2e.phone_support import fits, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clerk_works_the_queue_on_a_phone(live_server, world, phone):
    def arrange():
        late = world.drive(world.new_case(), CaseStatus.SUBMITTED)
        # A clock three working days past due, as if the court had let it lapse.
        Timer.objects.filter(case=late, kind=TimerKind.COURT_DESIGNATION).update(
            due_at=timezone.now() - dt.timedelta(days=5)
        )
        world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
        world.drive(world.new_case(), CaseStatus.ASSIGNED)
        return late

    late = off_loop(arrange)
    base = live_server.url
    sign_in(phone, base, world.clerk.username)
    phone.goto(f"{base}/intake/")
    phone.wait_for_selector(".queue-row.overdue")
    assert late.reference in phone.text_content(".queue-row.overdue")
    assert "已逾期" in phone.text_content("main")
    assert fits(phone)
    screenshot(phone, "intake-queue-390x844")

    phone.click(f'.queue-row[data-case="{late.pk}"] >> text=退回')
    phone.wait_for_selector("text=退回事由（《在线调解规则》第九条）")
    assert fits(phone)
    screenshot(phone, "intake-return-390x844")
    phone.click("button[type=submit]")  # no reason chosen: the browser asks for one, nothing is sent
    assert phone.url.endswith(f"/intake/{late.pk}/return/")

    phone.goto(f"{base}/intake/referrals/new/")
    phone.fill("input[name=respondent_phone]", "abc")
    phone.fill("input[name=applicant_phone]", "13900000001")
    phone.fill("input[name=applicant_name]", "王五")
    phone.fill("input[name=respondent_name]", "北京某某科技有限公司")
    phone.fill("input[name=title]", "追索劳动报酬纠纷")
    phone.fill("textarea[name=claims]", "支付拖欠工资 8,000 元")
    phone.check("input[name=origin][value=court_filed]")
    phone.fill("input[name=court_case_number]", "（2026）京0101民初77号")
    phone.select_option("select[name=procedure]", "ordinary")
    phone.click("button[type=submit]")
    phone.wait_for_selector("p.error")
    assert "联系电话“abc”有误" in phone.text_content("p.error")
    assert fits(phone)
    screenshot(phone, "intake-referral-error-390x844")

    phone.set_viewport_size({"width": 360, "height": 640})
    phone.goto(f"{base}/intake/")
    assert fits(phone)
    screenshot(phone, "intake-queue-360x640")


def test_an_org_admin_and_a_mediator_see_their_queues_on_a_phone(live_server, world, phone):
    # Only a mediator on the competent court's roster may take the case (OMR 9(2)).
    off_loop(lambda: RosterEntry.objects.create(mediator=world.mediator.mediator_profile, court=world.court))
    waiting = off_loop(lambda: world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION))
    assigned = off_loop(lambda: world.drive(world.new_case(), CaseStatus.ASSIGNED))
    base = live_server.url
    sign_in(phone, base, world.org_admin.username)
    phone.goto(f"{base}/intake/org/")
    phone.wait_for_selector(f'.queue-row[data-case="{waiting.pk}"]')
    assert phone.viewport_size == PHONE
    assert fits(phone)
    screenshot(phone, "intake-org-queue-390x844")
    phone.select_option(f'#mediator-{waiting.pk}', str(world.mediator.pk))
    phone.click(f'.queue-row[data-case="{waiting.pk}"] button[type=submit]')
    phone.wait_for_selector("text=已将")

    phone.context.clear_cookies()
    sign_in(phone, base, world.mediator.username)
    phone.goto(f"{base}/intake/mine/")
    phone.wait_for_selector(f'.queue-row[data-case="{assigned.pk}"]')
    assert waiting.reference in phone.text_content("main")  # just distributed to this mediator
    assert "调解员确认接受（3个工作日）" in phone.text_content("main")
    assert fits(phone)
    screenshot(phone, "intake-mine-390x844")


def test_the_applicant_reads_why_the_court_returned_the_application(live_server, world, phone):
    case = off_loop(lambda: world.drive(world.new_case(), CaseStatus.SUBMITTED))
    base = live_server.url
    sign_in(phone, base, world.clerk.username)
    phone.goto(f"{base}/intake/{case.pk}/return/")
    phone.check("input[name=reason][value=unsuitable_online]")
    phone.fill("textarea[name=note]", "请携带身份证原件和劳动合同。")
    phone.click("button[type=submit]")
    phone.wait_for_selector("text=已退回")

    phone.context.clear_cookies()
    sign_in(phone, base, world.applicant.username)
    phone.goto(f"{base}/cases/{case.pk}/")
    notice = phone.text_content("#return-reason")
    assert "不适宜在线调解" in notice
    assert "请携带材料到人民法院诉讼服务大厅现场办理" in notice
    assert "请携带身份证原件和劳动合同。" in notice
    assert fits(phone)
    screenshot(phone, "case-returned-390x844")
