"""What a review of the room page found, in a real phone-sized browser: a party whose camera and microphone
are refused is told what still works and how to fix it (not that the network failed), and another member
cannot hide a party's own message behind theirs by copying its ref. Screenshots in tests/e2e/artifacts/."""

from __future__ import annotations

import pytest

from mediation.models import RoomEvent
from mediation.services import room_record
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.test_room_phone import SMALL, chat, fits, new_phone, sign_in
from tests.room_support import open_room, ready_member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REFUSE_MEDIA = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def test_a_party_whose_camera_is_refused_is_told_what_to_do_and_a_copied_ref_cannot_hide_their_message(
    asgi_live_server, world, browser
):
    def setup():
        _case, _session, room = open_room(world)
        ready_member(room, world.mediator)
        alice = ready_member(room, world.applicant, admit_by=world.mediator)
        bob = ready_member(room, world.respondent, admit_by=world.mediator)
        return room, alice, bob

    room, _alice_member, bob_member = off_loop(setup)
    base = asgi_live_server.url
    alice = new_phone(browser, SMALL)
    alice.context.add_init_script(REFUSE_MEDIA)
    sign_in(alice, base, world.applicant.username)
    alice.goto(f"{base}/rooms/{room.pk}/", wait_until="domcontentloaded")
    alice.wait_for_function("() => window.yizhanRoom && window.yizhanRoom.connected()")

    # Refused: a lasting note that says what still works and how to fix it, never "reconnecting".
    alice.wait_for_selector("#rm-media-note:has-text('文字')")
    assert "重试" in alice.text_content("#rm-media-note-text")
    # ... and below it this browser's own way to allow the camera (help.js shows the block for the browser).
    assert "设置" in alice.locator(".rm-media-help:visible").first.inner_text()
    assert alice.locator("#rm-media-retry").is_visible()
    assert "重新连接" not in (alice.text_content("#rm-banner") or "")
    assert fits(alice)
    screenshot(alice, "room-review-camera-refused-360x640")

    # A member of the same space copies the next ref of the party's messages: the party's message still shows.
    chat(alice, "我的第一条")
    first_ref = off_loop(lambda: RoomEvent.objects.get(room=room, kind="chat").client_id)
    prefix, number = first_ref.rsplit(".", 1)
    copied = f"{prefix}.{int(number) + 1}"
    off_loop(lambda: room_record.room_chat_post(member=bob_member, text="冒充的消息", client_id=copied))
    alice.wait_for_selector("#rm-chat li:has-text('冒充的消息')")
    chat(alice, "我的第二条")

    assert alice.locator("#rm-chat li.mine:has-text('冒充的消息')").count() == 0
    assert alice.locator("#rm-chat li.mine:has-text('我的第二条')").count() == 1
    screenshot(alice, "room-review-chat-360x640")
