"""Issue 3's journey in headless Chromium, every person on a 390x844 phone: the applicant signs in by SMS
code, passes the real-name check and files with a PDF; the clerk accepts it and designates the top
recommended mediator; the mediator accepts and invites the respondent by SMS; the respondent opens the
link, signs in with that number and consents. A screenshot of each page is saved as
tests/e2e/artifacts/journey-*.png for a person to look at."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from mediation.adapters.sms import outbox, outbox_clear
from mediation.audit_chain import verify_stream
from mediation.choices import CaseStatus, RosterScope
from mediation.models import AuditEvent, Case
from mediation.services.roster import roster_entry_add
from tests.apply_support import pdf_bytes
from tests.e2e.conftest import PHONE, off_loop, screenshot
from tests.factories import TEST_PASSWORD, make_resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

APPLICANT_PHONE = "13811112222"
RESPONDENT_PHONE = "13722223333"


@pytest.fixture
def sms_outbox(settings, tmp_path):
    settings.SMS_BACKEND = "console"
    settings.MEDIA_ROOT = tmp_path / "media"
    outbox_clear()
    yield outbox
    outbox_clear()


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def shot(page, name: str) -> None:
    fits(page)
    screenshot(page, f"journey-{name}")


def code_for(phone: str) -> str:
    match = re.search(r"\d{6}", [m for m in outbox if m.phone == phone][-1].text)
    assert match
    return match.group()


def another_phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    return context, context.new_page()


def sign_in_by_code(page, phone_number: str, name: str) -> None:
    """On the phone sign-in page (reached from a page that needs an account): number, code, sign in."""
    page.wait_for_selector("input[name=phone]")
    page.fill("input[name=phone]", phone_number)
    shot(page, f"{name}-phone")
    page.click("button[value=send]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", code_for(phone_number))
    shot(page, f"{name}-code")
    page.click("button[value=verify]")


def sign_in_with_password(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=退出")


def test_the_issue3_journey_on_phones(live_server, world, sms_outbox, tmp_path, browser, phone):
    base = live_server.url
    off_loop(lambda: roster_entry_add(
        mediator=world.mediator.mediator_profile, court=world.court, scope=RosterScope.COURT, actor=world.clerk,
    ))
    contract = tmp_path / "劳动合同.pdf"
    contract.write_bytes(pdf_bytes())

    # --- 张三 files from his phone ------------------------------------------------------------------------
    phone.goto(f"{base}/apply/")
    sign_in_by_code(phone, APPLICANT_PHONE, "01-applicant-sign-in")
    phone.wait_for_selector("input[name=real_name]")  # the real-name check comes first, then back to /apply/
    phone.fill("input[name=real_name]", "张三")
    phone.fill("input[name=id_number]", make_resident_id(1))
    assert phone.input_value("input[name=phone]") == APPLICANT_PHONE
    shot(phone, "02-identity")
    phone.click("button[value=send]")
    phone.wait_for_selector("input[name=code]")
    phone.fill("input[name=code]", code_for(APPLICANT_PHONE))
    shot(phone, "02-identity-code")
    phone.click("button[value=verify]")

    phone.wait_for_selector("text=第 1 步，共 7 步")
    phone.select_option("select[name=dispute_type]", "labour")
    phone.select_option("select[name=court]", label="北京市东城区人民法院")
    shot(phone, "03-apply-dispute")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 2 步，共 7 步")
    phone.fill("input[name=respondent_name]", "李四")
    phone.fill("input[name=respondent_phone]", RESPONDENT_PHONE)
    phone.fill("input[name=respondent_address]", "北京市东城区东直门南大街1号")
    shot(phone, "04-apply-parties")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 3 步，共 7 步")
    phone.fill("textarea[name=claims]", "支付拖欠工资12000元")
    phone.fill("input[name=amount]", "12000")
    phone.fill("textarea[name=summary]", "2025年10月至12月的工资未发放，多次催要无果。")
    shot(phone, "05-apply-claims")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 4 步，共 7 步")
    phone.set_input_files("input[name=file]", str(contract))
    phone.fill("input[name=title]", "劳动合同")
    phone.click("#upload-button")
    phone.wait_for_selector(".ap-evidence >> text=劳动合同.pdf")
    shot(phone, "06-apply-evidence")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 5 步，共 7 步")
    phone.check("input[name=ack_notice]")
    phone.check("input[name=consent_online]")
    phone.check("input[name=e_service][value=yes]")
    shot(phone, "07-apply-notices")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 6 步，共 7 步")
    phone.fill("input[name=postal_address]", "北京市东城区王府井大街1号")
    shot(phone, "08-apply-address")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 7 步，共 7 步")
    shot(phone, "09-apply-review")
    phone.click("text=提交申请")
    phone.wait_for_selector("text=申请已提交")
    shot(phone, "10-applicant-submitted")
    case = off_loop(lambda: Case.objects.get())
    case_url = f"{base}/cases/{case.pk}/"

    # --- The clerk accepts it and designates the first recommendation -------------------------------------
    clerk_context, desk = another_phone(browser)
    sign_in_with_password(desk, base, world.clerk.username)
    desk.goto(f"{base}/intake/")
    desk.wait_for_selector(f"text={case.reference}")
    shot(desk, "11-clerk-queue")
    desk.click("button:has-text('受理并进入选定调解员')")
    desk.wait_for_selector("text=进入选定调解员阶段")
    desk.goto(f"{base}/cases/{case.pk}/choose/")
    first = desk.locator("input[name=mediator]").first
    assert first.get_attribute("value") == str(world.mediator.pk)
    first.check()
    shot(desk, "12-clerk-designates")
    desk.click("button[value=designate]")
    desk.wait_for_selector("text=等待其确认接受")
    clerk_context.close()

    # --- The mediator accepts and invites the respondent --------------------------------------------------
    mediator_context, desk = another_phone(browser)
    sign_in_with_password(desk, base, world.mediator.username)
    desk.goto(case_url)
    desk.click("a:has-text('确认接受')")
    desk.check("input[name=nothing_to_disclose]")
    shot(desk, "13-mediator-accepts")
    desk.click("button:has-text('作出披露并确认接受')")
    desk.wait_for_selector("button[value=seek]")
    desk.click("button[value=seek]")
    desk.wait_for_selector("button[value=invite]")
    desk.click("button[value=invite]")
    desk.wait_for_selector("text=已向被申请人发送短信邀请")
    shot(desk, "14-mediator-invited")
    mediator_context.close()

    # --- 李四 follows the SMS link on his phone and consents ------------------------------------------------
    invitation = [m for m in outbox if m.phone == RESPONDENT_PHONE][-1].text
    link = re.search(r"https?://\S+/cases/\d+/respond/", invitation)
    assert link, invitation
    respondent_context, other = another_phone(browser)
    other.goto(base + urlsplit(link.group()).path)
    sign_in_by_code(other, RESPONDENT_PHONE, "15-respondent-sign-in")
    other.wait_for_selector("button:has-text('我是被申请人李四，继续')")
    shot(other, "16-respondent-confirms-who")
    other.click("button:has-text('我是被申请人李四，继续')")
    # The same real-name step as 张三's before consenting (issue 17 item 15), then back to the answer page.
    other.wait_for_selector("input[name=real_name]")
    other.fill("input[name=real_name]", "李四")
    other.fill("input[name=id_number]", make_resident_id(2))
    other.click("button[value=send]")
    other.wait_for_selector("input[name=code]")
    other.fill("input[name=code]", code_for(RESPONDENT_PHONE))
    shot(other, "16b-respondent-identity")
    other.click("button[value=verify]")
    other.wait_for_selector("text=在线调解告知书")
    shot(other, "17-respondent-notice")
    other.click("button:has-text('我已阅读，愿意在线调解')")
    other.wait_for_selector("text=已记录您愿意调解")
    shot(other, "18-respondent-consented")
    respondent_context.close()

    # --- 张三 sees where the case stands, every step in the timeline --------------------------------------
    phone.goto(case_url)
    phone.wait_for_selector(".timeline")
    timeline = phone.text_content(".timeline")
    for label in ("提交调解申请", "指定调解员", "调解员作出披露声明", "短信通知被申请人", "被申请人登录平台",
                  "状态变更为：安排调解"):
        assert label in timeline, label
    shot(phone, "19-applicant-timeline")

    case = off_loop(lambda: Case.objects.get(pk=case.pk))
    assert case.status == CaseStatus.SCHEDULING
    assert off_loop(lambda: verify_stream(f"case.{case.pk}")) is None
    kinds = off_loop(lambda: list(AuditEvent.objects.filter(case=case).values_list("kind", flat=True)))
    for kind in ("application.submitted", "case.accept_for_mediation", "case.mediator_designated",
                 "case.mediator_accept", "respondent.invited", "party.linked", "case.respondent_consented"):
        assert kind in kinds, kind
