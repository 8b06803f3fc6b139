"""A verified party applies for mediation on a phone, step by step, uploading a PDF; nothing overflows
sideways, and a screenshot of every step is saved for a person to look at."""

from __future__ import annotations

import pytest

from mediation.choices import CaseStatus
from mediation.models import Case
from tests.apply_support import pdf_bytes, verify_identity
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import TEST_PASSWORD, make_resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"390x844": {"width": 390, "height": 844}, "360x640": {"width": 360, "height": 640}}


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size", list(SIZES))
def test_a_party_applies_for_mediation_on_a_phone(live_server, world, settings, tmp_path, phone, size):
    settings.MEDIA_ROOT = tmp_path / "media"
    viewport = SIZES[size]
    phone.set_viewport_size(viewport)
    off_loop(lambda: verify_identity(world.applicant))
    contract = tmp_path / "劳动合同.pdf"
    contract.write_bytes(pdf_bytes())

    phone.goto(f"{live_server.url}/accounts/login/?next=/apply/")
    phone.fill("input[name=username]", world.applicant.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit]")

    phone.wait_for_selector("text=第 1 步，共 7 步")
    phone.select_option("select[name=dispute_type]", "labour")
    phone.select_option("select[name=court]", label="北京市东城区人民法院")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-1-dispute-{size}")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 2 步，共 7 步")
    assert "张三" in phone.text_content("main")  # the verified identity, not typed again
    phone.fill("input[name=respondent_name]", "李四")
    phone.fill("input[name=respondent_phone]", "13900000002")
    phone.fill("input[name=respondent_id_number]", make_resident_id(2))
    phone.fill("input[name=respondent_address]", "北京市东城区东直门南大街1号")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-2-parties-{size}")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 3 步，共 7 步")
    phone.fill("textarea[name=claims]", "支付拖欠工资12000元")
    phone.fill("input[name=amount]", "12000")
    phone.fill("textarea[name=summary]", "2025年10月至12月的工资未发放，多次催要无果。")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-3-claims-{size}")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 4 步，共 7 步")
    phone.set_input_files("input[name=file]", str(contract))
    phone.fill("input[name=title]", "劳动合同")
    phone.click("#upload-button")
    phone.wait_for_selector(".ap-evidence >> text=劳动合同.pdf")
    assert "已上传：劳动合同" in phone.text_content("main")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-4-evidence-{size}")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 5 步，共 7 步")
    assert "在线调解告知书" in phone.text_content("main")
    phone.check("input[name=ack_notice]")
    phone.check("input[name=consent_online]")
    phone.check("input[name=e_service][value=yes]")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-5-notices-{size}")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 6 步，共 7 步")
    assert phone.input_value("input[name=recipient_name]") == "张三"
    phone.fill("input[name=postal_address]", "北京市东城区王府井大街1号")
    phone.fill("input[name=postal_code]", "100010")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-6-address-{size}")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 7 步，共 7 步")
    body = phone.text_content("main")
    assert "李四" in body and "劳动合同" in body and "12000.00" in body
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-7-review-{size}")
    phone.click("text=提交申请")

    phone.wait_for_selector("text=申请已提交")
    fits(phone, viewport["width"])
    screenshot(phone, f"apply-8-submitted-{size}")
    case = off_loop(lambda: Case.objects.get())
    assert case.status == CaseStatus.SUBMITTED
    assert case.title == "张三与李四劳动争议"
    assert off_loop(lambda: case.evidence.count()) == 1


def test_a_bad_phone_number_and_a_too_large_file_are_refused_on_the_phone(
    live_server, world, settings, tmp_path, phone
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    off_loop(lambda: verify_identity(world.applicant))
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(pdf_bytes() + b"0" * (3 * 1024 * 1024))

    phone.goto(f"{live_server.url}/accounts/login/?next=/apply/")
    phone.fill("input[name=username]", world.applicant.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("text=第 1 步，共 7 步")
    phone.select_option("select[name=dispute_type]", "labour")
    phone.select_option("select[name=court]", label="北京市东城区人民法院")
    phone.click("button:has-text('下一步')")
    phone.fill("input[name=respondent_name]", "李四")
    phone.fill("input[name=respondent_phone]", "abc")
    phone.click("button:has-text('下一步')")
    phone.wait_for_selector("#field-respondent_phone >> text=手机号码应为以1开头的11位数字")
    assert phone.input_value("input[name=respondent_name]") == "李四"  # what was typed stays
    screenshot(phone, "apply-2-parties-error-390x844")
    phone.fill("input[name=respondent_phone]", "13900000002")
    phone.click("button:has-text('下一步')")
    phone.fill("textarea[name=claims]", "支付拖欠工资")
    phone.fill("textarea[name=summary]", "工资未发放。")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 4 步，共 7 步")
    phone.set_input_files("input[name=file]", str(big))
    phone.fill("input[name=title]", "扫描件")
    phone.click("#upload-button")
    phone.wait_for_selector("text=单个文件不能超过 1 MB")
    assert "3.1 MB" in phone.text_content("#upload-status")  # rounded up: never as big as a limit it is over
    screenshot(phone, "apply-upload-too-large-390x844")
