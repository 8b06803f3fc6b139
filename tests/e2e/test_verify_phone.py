"""The public verification page on phones (390×844 and 360×640): upload a signed agreement and read the
verdict; type a code. Nothing overflows sideways; screenshots for a person to look at."""

from __future__ import annotations

import pytest

from tests.documents.ca_support import ThrowawayCA
from tests.documents.verify_support import issue, render_pdf, sign_by_both_parties
from tests.e2e.conftest import off_loop, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEV_CA_DIR = tmp_path / "dev-ca"


def _signed(world):
    record = issue(world.new_case(), render_pdf())
    sign_by_both_parties(record, ThrowawayCA())
    return record


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", [(390, 844), (360, 640)])
def test_a_visitor_uploads_a_signed_agreement_on_a_phone(live_server, world, phone, size):
    record = off_loop(lambda: _signed(world))
    phone.set_viewport_size({"width": size[0], "height": size[1]})
    phone.goto(f"{live_server.url}/verify/")
    assert _fits(phone)
    phone.set_input_files("input[type=file]", files=[
        {"name": "调解协议书.pdf", "mimeType": "application/pdf", "buffer": record.latest}])
    phone.click("text=上传并核验")
    phone.wait_for_selector("[data-verdict=latest]")
    assert "与平台存档一致（最新版本）" in phone.text_content(".verdict")
    assert _fits(phone)
    screenshot(phone, f"verify-upload-{size[0]}x{size[1]}")


def test_a_visitor_types_a_code_on_a_phone(live_server, world, phone):
    record = off_loop(lambda: _signed(world))
    phone.goto(f"{live_server.url}/verify/")
    phone.fill("input[name=code]", record.document.code.lower())
    phone.click("text=查询")
    phone.wait_for_selector("[data-verdict=found]")
    assert "李四" in phone.text_content("main")
    assert _fits(phone)
    screenshot(phone, "verify-code-390x844")


def test_a_tampered_file_shows_a_red_verdict(live_server, world, phone):
    record = off_loop(lambda: _signed(world))
    phone.goto(f"{live_server.url}/verify/")
    phone.set_input_files("input[type=file]", files=[
        {"name": "x.pdf", "mimeType": "application/pdf", "buffer": record.latest + b"\n%changed\n"}])
    phone.click("text=上传并核验")
    verdict = phone.wait_for_selector("[data-verdict=modified]")
    assert "文件已被修改" in verdict.inner_text()
    screenshot(phone, "verify-modified-390x844")
