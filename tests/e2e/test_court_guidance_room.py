"""Calling the court in, in real browsers: the mediator (phone) asks for the court's guidance from the room,
the judge (desktop) finds it in the court's inbox, comes in as 法官（指导）, is admitted by the mediator and seen
by the party (phone) by that role, sends a word of guidance in the chat, and ends the request from the inbox,
which ends their place in the room. Screenshots in tests/e2e/artifacts/guidance-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import AuditEvent, RoomMember
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import new_phone, pass_room_checks, receiving, sign_in
from tests.room_support import open_room

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def test_mediator_calls_the_court_and_a_judge_guides_as_seen_by_the_party(asgi_live_server, world, browser):
    def setup() -> tuple[Any, Any, Any]:
        case, session, room = open_room(world)
        return case, session, room

    case, session, room = off_loop(setup)
    base = asgi_live_server.url
    mediator, alice = new_phone(browser), new_phone(browser)
    judge = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    sign_in(mediator, base, world.mediator.username)
    sign_in(alice, base, world.applicant.username)
    sign_in(judge, base, world.judge.username)
    # Without a request the judge has no place in the session.
    assert judge.goto(f"{base}/sessions/{session.pk}/room/").status == 404

    mediator.goto(f"{base}/sessions/{session.pk}/room/")
    pass_room_checks(mediator, phone=world.mediator.phone, party=False)
    alice.goto(f"{base}/sessions/{session.pk}/room/")
    pass_room_checks(alice, phone=world.applicant.phone, party=True)
    a_id = off_loop(lambda: RoomMember.objects.get(room=room, user=world.applicant).pk)
    mediator.wait_for_selector(f"#rm-waiting button[data-cmd=admit][data-member='{a_id}']")
    mediator.click(f"#rm-waiting button[data-cmd=admit][data-member='{a_id}']")
    alice.wait_for_selector("#rm-wait", state="hidden")

    # The mediator asks for guidance from the room.
    mediator.fill("#rm-guidance-reason", "双方对违约金的计算标准争议较大，请法院指导。")
    mediator.click("#rm-guidance-form button")
    mediator.wait_for_selector("#rm-guidance-status:has-text('已请求法院指导')")
    screenshot(mediator, "guidance-mediator-phone-requested")

    # The judge finds it in the court's inbox and comes in.
    judge.goto(f"{base}/court/")
    judge.wait_for_selector("text=违约金的计算标准")
    screenshot(judge, "guidance-judge-desktop-inbox")
    judge.click(f"a[href='/sessions/{session.pk}/room/']")
    pass_room_checks(judge, phone=world.judge.phone, party=False)
    j_id = off_loop(lambda: RoomMember.objects.get(room=room, user=world.judge).pk)
    mediator.click("#tab-people")
    mediator.wait_for_selector(f"#rm-waiting button[data-cmd=admit][data-member='{j_id}']")
    mediator.click(f"#rm-waiting button[data-cmd=admit][data-member='{j_id}']")
    judge.wait_for_selector("#rm-wait", state="hidden")
    assert judge.locator("#rm-record-form, #rm-end-open, button[data-cmd=caucus]").count() == 0

    # The party sees who is present, and hears and sees the judge.
    alice.wait_for_selector(f"#rm-people [data-member='{j_id}'] .rm-meta:has-text('法官（指导）')")
    receiving(alice, j_id)
    judge.click("#tab-chat")
    judge.fill("#rm-chat-text", "违约金以不超过实际损失的百分之三十为宜。")
    judge.click("#rm-chat-send")
    alice.click("#tab-chat")
    alice.wait_for_selector("#rm-chat li:has-text('百分之三十')")
    alice.click("#tab-people")
    screenshot(alice, "guidance-applicant-phone-guide-present")
    screenshot(judge, "guidance-judge-desktop-in-room")

    # The court ends the request from its inbox: the guide's place in the room ends.
    inbox = judge.context.new_page()
    inbox.goto(f"{base}/court/")
    inbox.fill("textarea[name=answer]", "已当场指导。")
    inbox.click("form[action$='/close/'] button")
    inbox.wait_for_selector("text=指导请求已结束")
    alice.wait_for_function(f"() => !document.querySelector(\"#rm-people [data-member='{j_id}']\")")

    kinds = off_loop(lambda: set(AuditEvent.objects.filter(case=case).values_list("kind", flat=True)))
    assert {"room.guidance_requested", "room.guidance_joined", "room.guidance_closed", "room.guidance_left"} <= kinds
