"""The court's joint verification session (Interp 356) in real browsers: the judge on a desktop, both parties
on 390×844 phones, in the existing room against the real ASGI application. The judge opens and presides,
admits both parties from the lobby, video frames rise both ways, the judge has no caucus control, records a
question, both parties confirm it on their phones, and the judge ends the questioning. Screenshots in
tests/e2e/artifacts/verification-*.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from mediation.choices import RoomOutcome
from mediation.models import AuditEvent, RecordConfirmation, RoomMember
from mediation.services.scheduling import verification_session_schedule
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, new_phone, pass_room_checks, receiving, sign_in
from tests.mediation.test_confirmation import accepted

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
QUESTION = "问：双方签订调解协议是否出于自愿？是否存在恶意串通、损害他人利益的情形？答（双方）：自愿，不存在。"


def test_judge_on_desktop_questions_both_parties_on_phones(asgi_live_server, world, browser):
    def setup() -> tuple[Any, Any]:
        case = accepted(world)
        start = timezone.now() + dt.timedelta(minutes=30)
        session = verification_session_schedule(case=case, actor=world.judge, starts_at=start,
                                                ends_at=start + dt.timedelta(hours=1))
        return case, session

    case, session = off_loop(setup)
    base = asgi_live_server.url
    judge = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    alice, bob = new_phone(browser), new_phone(browser)
    sign_in(judge, base, world.judge.username)
    sign_in(alice, base, world.applicant.username)
    sign_in(bob, base, world.respondent.username)

    # A party who comes first waits for the judge to open: the room is the judge's to start.
    alice.goto(f"{base}/sessions/{session.pk}/room/")
    alice.click("button[name=open]")
    alice.wait_for_selector("text=等候主持的法官")

    # The judge starts it from the review page's link, passes the same way in, and is in at once.
    judge.goto(f"{base}/court/{case.pk}/")
    judge.click(f"a[href='/sessions/{session.pk}/room/']")
    judge.click("button[name=open]")
    pass_room_checks(judge, phone=world.judge.phone, party=False)
    assert judge.locator("button[data-cmd=caucus]").count() == 0  # no caucus in a verification session

    for page, user in ((alice, world.applicant), (bob, world.respondent)):
        page.goto(f"{base}/sessions/{session.pk}/room/")
        pass_room_checks(page, phone=user.phone, party=False)
        assert page.locator("input[name=consent_caucus]").count() == 0
        page.wait_for_selector("#rm-wait:not([hidden])")

    ids = off_loop(lambda: {m.user.username: m.pk for m in RoomMember.objects.filter(room__session=session)
                            .select_related("user")})
    j_id, a_id, b_id = ids[world.judge.username], ids[world.applicant.username], ids[world.respondent.username]
    for member in (a_id, b_id):
        judge.wait_for_selector(f"#rm-waiting [data-member='{member}']")
        judge.click(f"#rm-waiting button[data-cmd=admit][data-member='{member}']")
    alice.wait_for_selector("#rm-wait", state="hidden")
    bob.wait_for_selector("#rm-wait", state="hidden")

    # Video both ways: the judge sees both parties, each party sees the judge and the other party.
    for page, others in ((judge, (a_id, b_id)), (alice, (j_id, b_id)), (bob, (j_id, a_id))):
        for other in others:
            receiving(page, other)
    assert alice.text_content("#rm-space") == "共同询问"
    # The parties see who presides, by role.
    alice.wait_for_selector(f"#rm-people [data-member='{j_id}'] .rm-meta:has-text('法官')")

    # The judge records the question; both parties confirm it on their phones.
    judge.click("#tab-record")
    judge.fill("#rm-record-text", QUESTION)
    judge.click("#rm-record-form button.primary")
    for page in (alice, bob):
        page.click("#tab-record")
        page.wait_for_selector("#rm-record li:has-text('出于自愿')")
        page.wait_for_selector("#rm-record-confirm:not([disabled])")
        page.click("#rm-record-confirm")
    judge.wait_for_function("() => document.querySelectorAll('#rm-confirmations li').length >= 2")
    assert fits(alice) and fits(bob)
    screenshot(judge, "verification-judge-desktop-record")
    alice.click("#tab-people")
    screenshot(alice, "verification-applicant-phone-joint")
    alice.click("#tab-record")
    screenshot(alice, "verification-applicant-phone-record")

    # The judge ends the questioning: only "询问结束" is offered.
    judge.click("#tab-people")
    judge.click("#rm-end-open")
    outcomes = judge.locator("#rm-end-form input[name=outcome]")
    assert outcomes.count() == 1 and outcomes.first.get_attribute("value") == RoomOutcome.QUESTIONED
    outcomes.first.check()
    judge.click("#rm-end-submit")
    for page in (judge, alice, bob):
        page.wait_for_selector("#rm-ended:has-text('本次询问已结束')")

    def facts() -> tuple[int, str, set[str]]:
        room = session.room
        room.refresh_from_db()
        kinds = set(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
        return RecordConfirmation.objects.filter(room=room).count(), room.outcome, kinds

    confirmations, outcome, kinds = off_loop(facts)
    assert confirmations == 2 and outcome == RoomOutcome.QUESTIONED
    assert {"session.verification_scheduled", "room.opened", "room.member_admitted", "room.record_added",
            "room.record_confirmed", "room.ended"} <= kinds
    assert "room.caucus_started" not in kinds
