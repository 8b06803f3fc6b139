"""The judge's review page with the court's ruling (issue 11 items 3 and 6), at desktop width and on a 390×844
phone: the ruling waiting for approval, the judge approving it on the signing page (handwriting + one-time
code), and the page afterwards showing both signatures and the service on each party. Screenshots go to
tests/e2e/artifacts/ for a person to look at."""

from __future__ import annotations

import pytest

from documents.models import DocumentSignature
from mediation.choices import CaseStatus
from mediation.models import Case
from tests.documents.ruling_support import decided, issued_ruling
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import draw_signature, fits, sign_in
from tests.signing_support import consent_to_e_service, dev_ca_dir, last_code, signing_env  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("signing_env")]
DESKTOP = {"width": 1280, "height": 900}


def _ready(world):  # type: ignore[no-untyped-def]
    case = decided(world, "confirmed")
    consent_to_e_service(case)
    return case, issued_ruling(world, case)


def test_the_judge_approves_and_seals_the_ruling_from_the_court_page(live_server, world, browser, phone):
    case, document = off_loop(lambda: _ready(world))
    desktop = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    sign_in(desktop, live_server.url, world.judge.username, next_path=f"/court/{case.pk}/")
    desktop.wait_for_selector("section.court-ruling")
    assert "批准并加盖本院电子印章" in desktop.text_content("section.court-ruling")
    screenshot(desktop, "ruling-court-page-1280")

    sign_in(phone, live_server.url, world.judge.username, next_path=f"/court/{case.pk}/")
    phone.wait_for_selector("section.court-ruling")
    assert fits(phone)
    phone.locator("section.court-ruling").scroll_into_view_if_needed()
    screenshot(phone, "ruling-court-page-390x844")
    phone.click("section.court-ruling a.button")
    phone.wait_for_selector("#sign-pad")
    draw_signature(phone)
    phone.click("#send-code")
    phone.wait_for_selector("#send-status:has-text('验证码已发送')")
    phone.fill("#id_code", off_loop(lambda: last_code(world.judge.phone)))
    phone.check("input[name=agree]")
    assert fits(phone)
    screenshot(phone, "ruling-approve-390x844")
    phone.click("#sign-submit")
    phone.wait_for_selector("text=签署完成", timeout=60_000)
    roles = off_loop(lambda: list(DocumentSignature.objects.filter(document=document).order_by("sequence")
                                  .values_list("role", flat=True)))
    assert roles == ["judge", "court"]
    assert off_loop(lambda: Case.objects.get(pk=case.pk).status) == CaseStatus.OBJECTION_WINDOW

    desktop.goto(f"{live_server.url}/court/{case.pk}/")
    section = desktop.text_content("section.court-ruling") or ""
    assert "人民法院电子印章" in section and "电子送达凭证" in section and "异议期" in section
    assert desktop.locator("section.court-ruling [data-service]").count() == 2
    screenshot(desktop, "ruling-court-served-1280")
    phone.goto(f"{live_server.url}/court/{case.pk}/")
    phone.locator("section.court-ruling").scroll_into_view_if_needed()
    assert fits(phone)
    screenshot(phone, "ruling-court-served-390x844")

    # Each party, on a phone, finds the served ruling on the case page and opens its e-service certificate.
    for party_user in (world.applicant, world.respondent):
        page = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True, locale="zh-CN").new_page()
        sign_in(page, live_server.url, party_user.username, next_path=f"/cases/{case.pk}/")
        page.wait_for_selector("section#service")
        block = page.text_content("section#service") or ""
        assert "《民事裁定书》" in block
        page.click("section#service a.sv-cert-link")
        page.wait_for_selector("h1:has-text('电子送达凭证')")
        certificate = page.text_content("main") or ""
        assert "民事裁定书" in certificate and party_user.real_name in certificate
        assert "民特" in (page.text_content("#cert-court-number") or "")  # the court's number, not "none yet"
        assert fits(page)
        screenshot(page, f"ruling-certificate-{party_user.username}-390x844")
        page.context.close()
