"""Issue 17 item 8: a file chosen on the evidence step but not uploaded is not dropped silently when the
person taps 下一步: the page keeps it, says it has not been uploaded yet, and stays on the step."""

from __future__ import annotations

import pytest

from mediation.models import Evidence
from tests.apply_support import pdf_bytes, verify_identity
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_chosen_file_is_kept_and_the_person_told_before_moving_on(live_server, world, settings, tmp_path, phone):
    settings.MEDIA_ROOT = tmp_path / "media"
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
    phone.click("button:has-text('下一步')")
    phone.fill("input[name=respondent_name]", "李四")
    phone.fill("input[name=respondent_phone]", "13900000002")
    phone.click("button:has-text('下一步')")
    phone.fill("textarea[name=claims]", "支付拖欠工资")
    phone.fill("textarea[name=summary]", "工资未发放。")
    phone.click("button:has-text('下一步')")

    phone.wait_for_selector("text=第 4 步，共 7 步")
    phone.set_input_files("input[name=file]", str(contract))
    phone.click("button:has-text('下一步')")
    phone.wait_for_selector("#upload-pending:visible")
    assert "劳动合同.pdf" in phone.text_content("#upload-pending")
    assert "第 4 步，共 7 步" in phone.text_content("main")
    assert phone.evaluate("document.querySelector('input[name=file]').files.length") == 1  # still chosen
    screenshot(phone, "apply-evidence-pending-390x844")

    phone.fill("input[name=title]", "劳动合同")
    phone.click("#upload-button")
    phone.wait_for_selector(".ap-evidence >> text=劳动合同.pdf")
    assert off_loop(lambda: Evidence.objects.count()) == 1
    phone.click("button:has-text('下一步')")
    phone.wait_for_selector("text=第 5 步，共 7 步")
