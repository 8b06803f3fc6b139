"""The mediation room on three phones (headless Chromium, fake camera) against the real ASGI application:
the join steps, the waiting room, joint video, a caucus with each side (the other side stops receiving
the caucus side's frames and never sees its chat), the live record, ending the session; and a page whose
socket is cut mid-session coming back with nothing lost. Screenshots of every step in tests/e2e/artifacts/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from mediation.choices import CaseStatus, RoomOutcome
from mediation.models import AuditEvent, RecordConfirmation, RoomEvent, RoomMember
from mediation.services import room_entry
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, new_phone, not_receiving, pass_room_checks, receiving, sign_in
from tests.room_support import open_room, ready_member, schedule_session

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

SMALL = {"width": 360, "height": 640}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def join(page, base: str, session_id: int, phone: str, name: str, *, party: bool) -> None:
    """The whole way in on a phone: the session's room link, the code, the device check, the notices."""
    page.goto(f"{base}/sessions/{session_id}/room/")
    if page.locator("button[name=open]").count():
        page.click("button[name=open]")
    pass_room_checks(page, phone=phone, party=party, shots=f"room-{name}")


def chat(page, text: str) -> None:
    page.click("#tab-chat")
    page.fill("#rm-chat-text", text)
    page.click("#rm-chat-send")
    page.wait_for_selector(f"#rm-chat li:not(.pending):has-text('{text}')")


def tab(page, name: str) -> None:
    page.click(f"#tab-{name}")


def test_mediator_and_two_parties_hold_joint_session_and_caucuses_on_phones(asgi_live_server, world, browser):
    def setup() -> tuple[Any, Any]:
        case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
        return case, schedule_session(world, case)

    case, session = off_loop(setup)
    base = asgi_live_server.url
    mediator, alice, bob = new_phone(browser), new_phone(browser), new_phone(browser)
    sign_in(mediator, base, world.mediator.username)
    sign_in(alice, base, world.applicant.username)
    sign_in(bob, base, world.respondent.username)

    join(mediator, base, session.pk, world.mediator.phone, "mediator", party=False)
    screenshot(mediator, "room-mediator-4-alone")
    join(alice, base, session.pk, world.applicant.phone, "applicant", party=True)
    join(bob, base, session.pk, world.respondent.phone, "respondent", party=True)
    alice.wait_for_selector("#rm-wait:has-text('请稍候')")
    assert fits(alice)
    screenshot(alice, "room-applicant-4-waiting-room")

    ids = off_loop(lambda: {m.user.username: m.pk for m in RoomMember.objects.filter(room__session=session)
                            .select_related("user")})
    m_id, a_id, b_id = ids[world.mediator.username], ids[world.applicant.username], ids[world.respondent.username]
    mediator.wait_for_selector(f"#rm-waiting [data-member='{b_id}']")
    screenshot(mediator, "room-mediator-5-waiting-list")
    for member in (a_id, b_id):
        mediator.click(f"#rm-waiting button[data-cmd=admit][data-member='{member}']")
    alice.wait_for_selector("#rm-wait", state="hidden")

    # Joint session: everyone sees everyone.
    for page, others in ((mediator, (a_id, b_id)), (alice, (m_id, b_id)), (bob, (m_id, a_id))):
        for other in others:
            receiving(page, other)
    assert alice.text_content("#rm-space") == "共同调解"
    alice.click("#rm-tap")  # the first tap turns the sound on (mobile autoplay rule)
    for page, name in ((mediator, "mediator"), (alice, "applicant"), (bob, "respondent")):
        assert fits(page)
        screenshot(page, f"room-{name}-6-joint")
    chat(alice, "大家好，我是申请人。")
    bob.click("#tab-chat")
    bob.wait_for_selector("#rm-chat li:has-text('大家好，我是申请人。')")
    chat(bob, "<img src=x onerror=alert(1)>")  # shown as text, never as markup
    alice.wait_for_selector("#rm-chat li:has-text('<img src=x')")
    assert alice.locator("#rm-chat img").count() == 0

    # A file from the phone, with a progress bar; the others get a link.
    alice.set_input_files("#rm-file", files=[{"name": "劳动合同.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    alice.wait_for_selector("#rm-upload-text:has-text('已上传')")
    bob.wait_for_selector("#rm-chat a.rm-file:has-text('劳动合同')")
    screenshot(alice, "room-applicant-6-file-uploaded")

    # Muting shows on the others' lists.
    alice.click("#rm-mic")
    tab(mediator, "people")
    mediator.wait_for_selector(f"#rm-people [data-member='{a_id}'] .rm-meta:has-text('已静音')")
    alice.click("#rm-mic")

    # Caucus with the applicant's side: the respondent waits with a notice and loses the applicant's media.
    mediator.click("button[data-cmd=caucus][data-side=applicant]")
    bob.wait_for_selector("#rm-wait:has-text('单独沟通')")
    not_receiving(bob, a_id)
    not_receiving(bob, m_id)
    receiving(alice, m_id)
    receiving(mediator, a_id)
    chat(alice, "我方最低可以接受两万元。")
    mediator.click("#tab-chat")
    mediator.wait_for_selector("#rm-chat li:has-text('我方最低可以接受两万元。')")
    assert alice.text_content("#rm-space") == "背对背调解 · 申请人方"
    screenshot(alice, "room-applicant-7-caucus")
    screenshot(bob, "room-respondent-7-waiting-during-caucus")
    screenshot(mediator, "room-mediator-7-caucus-applicant")

    # Back to joint: everyone sees everyone again; the respondent never got the caucus chat.
    mediator.click("#tab-people")
    mediator.click("button[data-cmd=joint]")
    bob.wait_for_selector("#rm-wait", state="hidden")
    for page, others in ((mediator, (a_id, b_id)), (alice, (m_id, b_id)), (bob, (m_id, a_id))):
        for other in others:
            receiving(page, other)
    assert "两万元" not in bob.text_content("#rm-chat")

    # Caucus with the respondent's side, then joint again.
    mediator.click("button[data-cmd=caucus][data-side=respondent]")
    alice.wait_for_selector("#rm-wait:has-text('单独沟通')")
    not_receiving(alice, b_id)
    receiving(bob, m_id)
    chat(bob, "公司愿意分两期支付。")
    screenshot(bob, "room-respondent-8-caucus")
    screenshot(alice, "room-applicant-8-waiting-during-caucus")
    mediator.click("#tab-people")
    mediator.click("button[data-cmd=joint]")
    alice.wait_for_selector("#rm-wait", state="hidden")
    receiving(alice, b_id)
    receiving(bob, a_id)
    assert "分两期" not in alice.text_content("#rm-chat")

    # The live record: the mediator records an undisputed fact, the applicant confirms this version.
    tab(mediator, "record")
    mediator.fill("#rm-record-text", "申请人于2025年3月入职，月工资12,000元。")
    mediator.check("#rm-record-form input[name=tag][value=undisputed_fact]")
    mediator.click("#rm-record-form button.primary")
    tab(alice, "record")
    alice.wait_for_selector("#rm-record li:has-text('月工资12,000元')")
    alice.wait_for_selector("#rm-record-confirm:not([disabled])")
    alice.click("#rm-record-confirm")
    mediator.wait_for_selector("#rm-confirmations li")
    screenshot(alice, "room-applicant-9-record")
    screenshot(mediator, "room-mediator-9-record")
    tab(mediator, "agreement")
    mediator.wait_for_function("() => !document.getElementById('agreement-panel').textContent.includes('正在加载')")
    screenshot(mediator, "room-mediator-9-agreement-tab")
    alice.set_viewport_size(SMALL)
    alice.wait_for_timeout(300)
    assert fits(alice)
    screenshot(alice, "room-applicant-9-record-360x640")
    tab(alice, "people")
    screenshot(alice, "room-applicant-9-joint-360x640")

    # End the session: continue on a later date.
    tab(mediator, "people")
    mediator.click("#rm-end-open")
    mediator.check("#rm-end-form input[name=outcome][value=continue]")
    later = timezone.localtime(timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    mediator.fill("#rm-end-form input[name=continue_at]", later)
    screenshot(mediator, "room-mediator-10-end-dialog")
    mediator.click("#rm-end-submit")
    for page, name in ((mediator, "mediator"), (alice, "applicant"), (bob, "respondent")):
        page.wait_for_selector("#rm-ended:has-text('本次调解已结束')")
        screenshot(page, f"room-{name}-11-ended")

    def facts() -> tuple[set[str], list[str], int, str]:
        kinds = set(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
        caucus_chat = list(RoomEvent.objects.filter(room__session=session, kind="chat")
                           .exclude(audience="all").values_list("audience", flat=True))
        room = session.room
        return kinds, caucus_chat, RecordConfirmation.objects.filter(room=room).count(), room.outcome

    kinds, caucus_chat, confirmations, outcome = off_loop(facts)
    assert {"room.opened", "room.identity_checked", "room.notices_acknowledged", "room.member_admitted",
            "room.caucus_started", "room.caucus_ended", "room.chat_posted", "room.record_added",
            "room.record_confirmed", "room.ended"} <= kinds
    assert sorted(caucus_chat) == ["caucus:applicant", "caucus:respondent"]
    assert confirmations == 1 and outcome == RoomOutcome.CONTINUE


def test_a_cut_socket_comes_back_with_no_chat_or_record_entry_lost(asgi_live_server, world, browser):
    def setup():
        _case, _session, room = open_room(world)
        ready_member(room, world.mediator)
        member = ready_member(room, world.applicant, admit_by=world.mediator)
        return room, member

    room, alice_member = off_loop(setup)
    base = asgi_live_server.url
    mediator, alice = new_phone(browser), new_phone(browser)
    sign_in(mediator, base, world.mediator.username)
    sign_in(alice, base, world.applicant.username)
    for page in (mediator, alice):
        page.goto(f"{base}/rooms/{room.pk}/")
        page.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")
    receiving(alice, off_loop(lambda: RoomMember.objects.get(room=room, user=world.mediator).pk))
    chat(alice, "断线前的消息")

    # Cut the applicant's socket and hold it down for 4 s, while both sides keep talking.
    alice.evaluate("window.yizhanRoom.cutSocket(4000)")
    alice.wait_for_selector("#rm-banner:has-text('重新连接')")
    screenshot(alice, "room-reconnect-1-banner")
    alice.fill("#rm-chat-text", "断线期间我发的消息")
    alice.click("#rm-chat-send")
    chat(mediator, "断线期间调解员的消息")
    tab(mediator, "record")
    mediator.fill("#rm-record-text", "断线期间记入的笔录")
    mediator.click("#rm-record-form button.primary")

    alice.wait_for_function("() => window.yizhanRoom.connected()", timeout=15000)
    alice.wait_for_selector("#rm-banner", state="hidden")
    alice.wait_for_selector("#rm-chat li:has-text('断线期间调解员的消息')")
    alice.wait_for_selector("#rm-chat li:not(.pending):has-text('断线期间我发的消息')")
    tab(mediator, "chat")
    mediator.wait_for_selector("#rm-chat li:has-text('断线期间我发的消息')")
    tab(alice, "record")
    alice.wait_for_selector("#rm-record li:has-text('断线期间记入的笔录')")
    receiving(alice, off_loop(lambda: RoomMember.objects.get(room=room, user=world.mediator).pk))
    screenshot(alice, "room-reconnect-2-back")

    # Nothing twice, nothing lost: each message once on each page and once in the database.
    for page in (alice, mediator):
        texts = page.locator("#rm-chat li p").all_text_contents()
        assert texts.count("断线前的消息") == 1 and texts.count("断线期间我发的消息") == 1
        assert texts.count("断线期间调解员的消息") == 1
    stored = off_loop(lambda: list(RoomEvent.objects.filter(room=room, kind="chat")
                                   .values_list("payload__text", flat=True)))
    assert sorted(stored) == sorted(["断线前的消息", "断线期间我发的消息", "断线期间调解员的消息"])
    assert alice_member.pk == off_loop(lambda: room_entry.room_member_get_or_create(room=room, user=world.applicant).pk)

    # Audio only sends no video (the others see the avatar); switching back brings the video back.
    alice.click("#rm-audio")
    mediator.wait_for_selector(f"#rm-tiles [data-member='{alice_member.pk}'].no-video")
    assert alice.evaluate("window.yizhanRoom.state.audioOnly")
    screenshot(mediator, "room-reconnect-3-peer-audio-only")
    alice.click("#rm-audio")
    mediator.wait_for_selector(f"#rm-tiles [data-member='{alice_member.pk}']:not(.no-video)")
    receiving(mediator, alice_member.pk)
