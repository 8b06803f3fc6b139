"""Issue 11 on real screens: the judge, on a desktop, demands evidence on suspected sham mediation; the party, on a
390×844 phone, reads it on the case page, answers with a photo of the IOU and asks to withdraw; the judge reads
both on the review page and allows the withdrawal."""

from __future__ import annotations

import pytest

from mediation.choices import CaseStatus, InquiryKind
from mediation.models import Case, ConfirmationInquiry
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_application_receive,
    confirmation_inquiry_ask,
)
from tests.apply_support import pdf_bytes
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


def _accepted_with_a_demand(world) -> tuple[Case, ConfirmationInquiry]:
    case = world.drive(world.new_case(), CaseStatus.CLOSED_SETTLED)
    confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64)
    confirmation_accept(case=case, actor=world.judge, case_number="（2026）京0101民特77号")
    inquiry = confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.SHAM_EVIDENCE,
                                       question="请提供借款实际交付的银行转账记录。", days=5)
    return Case.objects.get(pk=case.pk), inquiry


def test_a_party_answers_the_courts_demand_on_a_phone_and_the_judge_allows_withdrawal(
        live_server, world, settings, tmp_path, browser, phone):
    settings.MEDIA_ROOT = tmp_path / "media"
    case, inquiry = off_loop(lambda: _accepted_with_a_demand(world))
    receipt = tmp_path / "转账记录.pdf"
    receipt.write_bytes(pdf_bytes())

    sign_in(phone, live_server.url, world.applicant.username, next_path=f"/cases/{case.pk}/")
    phone.wait_for_selector("text=法院要求提供证据")
    assert "请提供借款实际交付的银行转账记录" in phone.text_content("#confirmation")
    assert fits(phone)
    screenshot(phone, "confirmation-inquiry-party-390x844")
    phone.fill(f"#answer-{inquiry.pk}", "转账记录见附件。")
    phone.set_input_files(f"#file-{inquiry.pk}", str(receipt))
    phone.click(f"form[action$='/inquiries/{inquiry.pk}/'] button[type=submit]")
    phone.wait_for_selector("text=答复已提交法院")
    phone.click("summary:has-text('申请撤回司法确认申请')")
    phone.fill("#withdraw-reason", "双方已自行和解，不再申请确认。")
    phone.click("form[action$='/confirmation/withdraw/'] button[type=submit]")
    phone.wait_for_selector("text=撤回申请已提交法院")
    assert fits(phone)
    screenshot(phone, "confirmation-withdrawal-party-390x844")

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    sign_in(desk, live_server.url, world.judge.username, next_path=f"/court/{case.pk}/")
    desk.wait_for_selector("h2:has-text('办理')")
    review = desk.text_content("main")
    assert "转账记录见附件" in review and "双方已自行和解" in review and "转账记录.pdf" in review
    screenshot(desk, "confirmation-review-judge-1280")
    desk.click("form[data-form=withdraw] button[type=submit]")
    desk.wait_for_selector("text=已准许撤回申请")
    assert off_loop(lambda: Case.objects.get(pk=case.pk).status) == CaseStatus.JC_WITHDRAWN
