"""A party signs the mediation agreement on a 390×844 phone: opens it from the case page, draws a signature
with a finger, gets the one-time code, confirms; the page shows the signature and nothing overflows sideways."""

from __future__ import annotations

import pytest

from documents.models import DocumentSignature
from tests.e2e.conftest import PHONE, off_loop, screenshot
from tests.factories import TEST_PASSWORD
from tests.signing_support import dev_ca_dir, last_code, ready_to_sign, signing_env  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("signing_env")]


def sign_in(phone, live_server, user, next_path: str) -> None:
    phone.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    phone.fill("input[name=username]", user.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit]")


def fits(phone) -> bool:
    return phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def draw_signature(phone) -> None:
    pad = phone.locator("#sign-pad")
    pad.scroll_into_view_if_needed()
    phone.wait_for_function("Math.abs(document.getElementById('sign-pad').getBoundingClientRect().top"
                            " - (window.__lastTop ?? (window.__lastTop = -1))) < 0.5"
                            " || (window.__lastTop = document.getElementById('sign-pad').getBoundingClientRect().top,"
                            " false)", polling=100)  # wait until the smooth scroll has settled
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    phone.mouse.move(x + w * 0.1, y + h * 0.7)
    phone.mouse.down()
    for fx, fy in [(0.2, 0.25), (0.3, 0.65), (0.42, 0.2), (0.55, 0.7), (0.68, 0.3), (0.85, 0.55)]:
        phone.mouse.move(x + w * fx, y + h * fy, steps=6)
    phone.mouse.up()


def test_a_party_signs_the_agreement_on_a_phone(live_server, world, phone):
    document = off_loop(lambda: ready_to_sign(world))
    sign_in(phone, live_server, world.applicant, f"/cases/{document.case_id}/")
    phone.wait_for_selector("#documents")
    assert "待您签署" in phone.text_content("#documents")
    phone.locator("#documents").scroll_into_view_if_needed()
    screenshot(phone, "signing-case-documents-390x844")
    phone.click(f"#documents a[href='/documents/{document.pk}/']")
    phone.wait_for_selector("#to-sign")
    assert fits(phone)
    screenshot(phone, "signing-document-390x844")

    phone.click("#to-sign a.button")
    phone.wait_for_selector("#sign-pad")
    phone.click("#sign-submit")  # nothing drawn yet: refused on the page
    assert "请在签名框内手写签名" in phone.text_content("#send-status")
    draw_signature(phone)
    assert "invalid" not in (phone.get_attribute(".sg-pad", "class") or "")
    phone.click("#send-code")
    phone.wait_for_selector("#send-status:has-text('验证码已发送')")
    code = off_loop(lambda: last_code(world.applicant.phone))
    phone.fill("#id_code", code)
    phone.check("input[name=agree]")
    assert fits(phone)
    screenshot(phone, "signing-pad-390x844")

    phone.click("#sign-submit")
    phone.wait_for_selector("text=签署完成", timeout=30_000)
    signature = off_loop(lambda: DocumentSignature.objects.get(document=document))
    assert signature.signer_name in phone.text_content("#signatures")
    assert phone.locator("#to-sign").count() == 0
    assert fits(phone)
    screenshot(phone, "signing-done-390x844")
