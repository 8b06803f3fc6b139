"""Performance on a 390×844 phone: the obligee reads the schedule at a glance (paid, overdue), reports the default
on a confirmed agreement and is led to the 强制执行申请书; on an unconfirmed agreement the page explains the
contract remedy instead. Nothing overflows sideways, under the site's CSP."""

from __future__ import annotations

import pytest
import time_machine

from mediation.services.performance import obligation_confirm_receipt
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, sign_in
from tests.performance_support import START, confirmed, local, obligations, unconfirmed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def backends(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SMS_BACKEND = "console"
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _confirmed_with_first_paid(world):
    # Built in March 2026; the page is read at today's date, when both due dates (April, May 2026) have passed.
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = confirmed(world, traveller)
        obligation_confirm_receipt(obligation=obligations(case)[0], actor=world.applicant)
    return case


def _unconfirmed(world):
    with time_machine.travel(local(*START), tick=False) as traveller:
        return unconfirmed(world, traveller)


def test_the_obligee_reports_the_default_on_a_confirmed_agreement_on_a_phone(live_server, world, phone):
    case = off_loop(lambda: _confirmed_with_first_paid(world))
    sign_in(phone, live_server.url, world.applicant.username, next_path=f"/cases/{case.pk}/")
    phone.wait_for_selector("#performance")
    block = phone.text_content("#performance")
    assert "执行依据" in block and "权利人已确认履行" in block and "已逾期" in block
    assert fits(phone)
    screenshot(phone, "performance-confirmed-390x844")
    last = off_loop(lambda: obligations(case)[2])
    phone.click(f"#obligation-{last.pk} button.danger")
    phone.wait_for_selector("text=查看强制执行申请书")
    assert fits(phone)
    screenshot(phone, "performance-enforcement-390x844")


def test_the_unconfirmed_agreement_explains_the_contract_remedy_on_a_phone(live_server, world, phone):
    case = off_loop(lambda: _unconfirmed(world))
    sign_in(phone, live_server.url, world.applicant.username, next_path=f"/cases/{case.pk}/")
    phone.wait_for_selector("#performance")
    first = off_loop(lambda: obligations(case)[0])
    phone.click(f"#obligation-{first.pk} button.danger")
    phone.wait_for_selector("text=不能直接申请强制执行")
    assert "人民调解法第三十一条" in phone.text_content("#performance")
    assert phone.locator("text=查看强制执行申请书").count() == 0
    assert fits(phone)
    screenshot(phone, "performance-contract-390x844")
