"""The agreement on a phone: the mediator's editor and a party's clause-by-clause assent at 390×844, and the
room's panel posting in place (the page, and so the call, is never left)."""

from __future__ import annotations

import pytest

from mediation.choices import ClauseKind
from mediation.services.agreements import agreement_clause_add
from tests.agreement_support import draft_labour_agreement
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_party_assents_clause_by_clause_on_a_phone(live_server, world, phone):
    agreement = off_loop(lambda: draft_labour_agreement(world, assent=False))
    sign_in(phone, live_server.url, world.applicant.username, next_path=f"/cases/{agreement.case_id}/agreement/")
    phone.wait_for_selector("text=同意本条")
    assert "壹万贰仟元整" in phone.text_content("main")
    assert fits(phone)
    screenshot(phone, "agreement-party-390x844")
    phone.locator("form.agr-assent button").first.click()
    phone.wait_for_selector("text=已同意第1条")
    assert "已同意 1/2 条" in phone.text_content("main")
    assert fits(phone)
    phone.set_viewport_size({"width": 360, "height": 640})
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "agreement-party-360x640")


def _with_a_flawed_clause(world):
    agreement = draft_labour_agreement(world, assent=False)
    agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.OTHER,
                         text="被申请人逾期未付的，申请人可以另行起诉。")
    agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.PAYMENT, subject="经济补偿")
    return agreement


def test_the_mediator_s_editor_fits_a_phone(live_server, world, phone):
    agreement = off_loop(lambda: _with_a_flawed_clause(world))
    sign_in(phone, live_server.url, world.mediator.username, next_path=f"/cases/{agreement.case_id}/agreement/")
    phone.wait_for_selector("text=发起签署")
    phone.locator("#agr-clauses details.agr-edit summary").first.click()
    first = off_loop(lambda: agreement.clauses.get(number=1).pk)
    assert phone.input_value(f"#id_c{first}-deadline") != ""
    assert "第4条（给付金钱）缺少" in phone.text_content("main")
    assert fits(phone)
    screenshot(phone, "agreement-mediator-390x844")


def test_the_panel_posts_in_place(live_server, world, phone):
    agreement = off_loop(lambda: draft_labour_agreement(world, assent=False))
    page_path = f"/cases/{agreement.case_id}/"
    sign_in(phone, live_server.url, world.respondent.username, next_path=page_path)
    phone.wait_for_selector("main")
    # What the room page does: load the fragment into its slot, and the panel script once.
    phone.evaluate(
        """async ([panelUrl, scriptUrl]) => {
            const slot = document.createElement("div");
            slot.innerHTML = await (await fetch(panelUrl)).text();
            document.querySelector("main").prepend(slot);
            await import(scriptUrl);
        }""",
        [f"/cases/{agreement.case_id}/agreement/panel/", "/static/frontend/agreements.js"],
    )
    phone.locator("[data-agreement-panel] form.agr-assent button").first.click()
    phone.wait_for_selector("[data-agreement-panel] >> text=已同意第1条")
    assert phone.url.endswith(page_path)
    screenshot(phone, "agreement-panel-390x844")
