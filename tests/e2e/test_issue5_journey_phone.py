"""Issue 5's "Done when" on the demo world, in three phone-sized browsers (headless Chromium, fake camera)
against the real ASGI application: the demo mediator 刘调解员 and both parties (张三, and 李四 for the
company) go from the case page through the join pages (one-time code, device check, notices) into the
room, are admitted, hold a joint session, a caucus with each side (the other side waits with a notice
and gets neither the caucus side's frames nor its chat nor its record), a joint session again, keep the
record (an undisputed fact, a settlement entry, a party's confirmation) and end the session to continue
on a later date. Every step is in the case's audit trail and the hash chain verifies. Screenshots under
tests/e2e/artifacts/issue5-*."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import timezone

from mediation.adapters.sms import outbox_clear
from mediation.choices import CaseStatus, RecordTag, RoomOutcome, SessionStatus
from mediation.management.commands.seed_demo import DEMO_CASE_TITLE, DEMO_PASSWORD
from mediation.models import AuditEvent, Case, MediationSession, RecordEntry, RoomEvent, RoomMember
from tests.e2e.conftest import off_loop, screenshot
from tests.e2e.phone_support import fits, new_phone, not_receiving, pass_room_checks, receiving, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.media, pytest.mark.django_db(transaction=True)]

FACT = "双方确认：申请人于2025年3月入职被申请人处任软件工程师，2026年8月离职。"
SETTLEMENT = "申请人表示，如工资一次付清，可放弃经济补偿金的一半。"
APPLICANT_CAUCUS_CHAT = "我方最低可以接受三万元。"
RESPONDENT_CAUCUS_CHAT = "公司资金紧张，希望分两期支付。"


@pytest.fixture
def demo(settings):
    """The demo world with the session ``seed_demo --room-session`` schedules for the demo case."""
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_clear()

    def load() -> tuple[Case, MediationSession]:
        with override_settings(DEBUG=True):  # seed_demo refuses to run with DEBUG off
            call_command("seed_demo", quiet=True, room_session=True)
        case = Case.objects.get(title=DEMO_CASE_TITLE)
        return case, MediationSession.objects.get(case=case, status=SessionStatus.SCHEDULED)

    yield off_loop(load)
    outbox_clear()


def enter(page, base: str, case: Case, phone: str, name: str, *, party: bool) -> None:
    """From the case page: the session's 进入调解室 link (the mediator opens the room), then the way in."""
    page.goto(f"{base}/cases/{case.pk}/")
    page.click("a.sch-room")
    page.wait_for_selector("button[name=open], h1:has-text('身份核验')")  # the enter page, or the room is open
    if page.locator("button[name=open]").count():
        page.click("button[name=open]")
    pass_room_checks(page, phone=phone, party=party, shots=f"issue5-{name}")


def everyone_sees_everyone(pages: dict[int, object]) -> None:
    for me, page in pages.items():
        for other in pages:
            if other != me:
                receiving(page, other)


def tab(page, name: str) -> None:
    page.click(f"#tab-{name}")


def chat(page, text: str) -> None:
    tab(page, "chat")
    page.fill("#rm-chat-text", text)
    page.click("#rm-chat-send")
    page.wait_for_selector(f"#rm-chat li:not(.pending):has-text('{text}')")


def record(page, text: str, tag: str) -> None:
    tab(page, "record")
    page.fill("#rm-record-text", text)
    page.check(f"#rm-record-form input[name=tag][value='{tag}']")
    page.click("#rm-record-form button.primary")
    page.wait_for_selector(f"#rm-record li:has-text('{text}')")


def test_demo_mediator_and_both_parties_hold_joint_session_caucuses_record_and_end_on_phones(
    asgi_live_server, demo, browser
):
    case, session = demo
    base = asgi_live_server.url
    mediator, alice, bob = new_phone(browser), new_phone(browser), new_phone(browser)
    sign_in(mediator, base, "mediator", password=DEMO_PASSWORD)
    sign_in(alice, base, "alice", password=DEMO_PASSWORD)
    sign_in(bob, base, "bob", password=DEMO_PASSWORD)

    # The mediator opens the room (the case moves into mediation); the parties come in and wait.
    mediator.goto(f"{base}/cases/{case.pk}/")
    mediator.wait_for_selector("a.sch-room")
    screenshot(mediator, "issue5-mediator-0-case")
    enter(mediator, base, case, "13800000010", "mediator", party=False)
    assert off_loop(lambda: Case.objects.get(pk=case.pk).status) == CaseStatus.IN_MEDIATION
    enter(alice, base, case, "13900000001", "applicant", party=True)
    enter(bob, base, case, "13900000002", "respondent", party=True)
    alice.wait_for_selector("#rm-wait:has-text('请稍候')")
    assert fits(alice)
    screenshot(alice, "issue5-applicant-4-waiting-room")

    ids = off_loop(lambda: {m.user.username: m.pk for m in RoomMember.objects.filter(room__session=session)
                            .select_related("user")})
    m_id, a_id, b_id = ids["mediator"], ids["alice"], ids["bob"]
    for member in (a_id, b_id):
        mediator.wait_for_selector(f"#rm-waiting [data-member='{member}']")
    screenshot(mediator, "issue5-mediator-4-waiting-list")
    for member in (a_id, b_id):
        mediator.click(f"#rm-waiting button[data-cmd=admit][data-member='{member}']")
    alice.wait_for_selector("#rm-wait", state="hidden")
    bob.wait_for_selector("#rm-wait", state="hidden")
    pages = {m_id: mediator, a_id: alice, b_id: bob}

    # Joint session: each sees the other two; the chat reaches everyone; an undisputed fact is recorded.
    everyone_sees_everyone(pages)
    assert alice.text_content("#rm-space") == "共同调解"
    chat(alice, "大家好，我是申请人张三。")
    tab(bob, "chat")
    bob.wait_for_selector("#rm-chat li:has-text('我是申请人张三')")
    record(mediator, FACT, RecordTag.UNDISPUTED_FACT)
    for page in (alice, bob):
        tab(page, "record")
        page.wait_for_selector(f"#rm-record li.tag-{RecordTag.UNDISPUTED_FACT}:has-text('软件工程师')")
        tab(page, "people")
    for page, name in ((mediator, "mediator"), (alice, "applicant"), (bob, "respondent")):
        assert fits(page)
        screenshot(page, f"issue5-{name}-5-joint")

    # Caucus with the applicant's side: 李四 waits with the notice and loses both their media; 张三's
    # caucus chat and the settlement entry reach the mediator and 张三 only.
    tab(mediator, "people")
    mediator.click("button[data-cmd=caucus][data-side=applicant]")
    bob.wait_for_selector("#rm-wait:has-text('单独沟通')")
    not_receiving(bob, a_id)
    not_receiving(bob, m_id)
    receiving(alice, m_id)
    receiving(mediator, a_id)
    assert alice.text_content("#rm-space") == "背对背调解 · 申请人方"
    chat(alice, APPLICANT_CAUCUS_CHAT)
    tab(mediator, "chat")
    mediator.wait_for_selector(f"#rm-chat li:has-text('{APPLICANT_CAUCUS_CHAT}')")
    record(mediator, SETTLEMENT, RecordTag.SETTLEMENT_COMMUNICATION)
    tab(alice, "record")
    alice.wait_for_selector(f"#rm-record li.tag-{RecordTag.SETTLEMENT_COMMUNICATION}:has-text('经济补偿金的一半')")
    screenshot(alice, "issue5-applicant-6-caucus-record")
    tab(alice, "people")
    screenshot(alice, "issue5-applicant-6-caucus")
    screenshot(bob, "issue5-respondent-6-waiting-during-caucus")
    screenshot(mediator, "issue5-mediator-6-caucus-applicant")

    # Joint again: everyone sees everyone; 李四 never got the caucus chat or the caucus record entry.
    tab(mediator, "people")
    mediator.click("button[data-cmd=joint]")
    bob.wait_for_selector("#rm-wait", state="hidden")
    everyone_sees_everyone(pages)
    assert APPLICANT_CAUCUS_CHAT not in bob.text_content("#rm-chat")
    assert "经济补偿金的一半" not in bob.text_content("#rm-record")

    # Caucus with the respondent's side: now 张三 waits and loses 李四's media and chat.
    mediator.click("button[data-cmd=caucus][data-side=respondent]")
    alice.wait_for_selector("#rm-wait:has-text('单独沟通')")
    not_receiving(alice, b_id)
    not_receiving(alice, m_id)
    receiving(bob, m_id)
    receiving(mediator, b_id)
    assert bob.text_content("#rm-space") == "背对背调解 · 被申请人方"
    chat(bob, RESPONDENT_CAUCUS_CHAT)
    tab(mediator, "chat")
    mediator.wait_for_selector(f"#rm-chat li:has-text('{RESPONDENT_CAUCUS_CHAT}')")
    tab(bob, "people")
    screenshot(bob, "issue5-respondent-7-caucus")
    screenshot(alice, "issue5-applicant-7-waiting-during-caucus")

    # Joint session again, all three on video.
    tab(mediator, "people")
    mediator.click("button[data-cmd=joint]")
    alice.wait_for_selector("#rm-wait", state="hidden")
    everyone_sees_everyone(pages)
    assert RESPONDENT_CAUCUS_CHAT not in alice.text_content("#rm-chat")
    for page, name in ((mediator, "mediator"), (alice, "applicant"), (bob, "respondent")):
        screenshot(page, f"issue5-{name}-8-joint-again")

    # 张三 confirms the record as it reads now (the shared entries); the mediator sees the confirmation.
    tab(alice, "record")
    alice.wait_for_selector("#rm-record-confirm:not([disabled])")
    alice.click("#rm-record-confirm")
    alice.wait_for_selector("#rm-confirmations li:has-text('张三')")
    tab(mediator, "record")
    mediator.wait_for_selector("#rm-confirmations li:has-text('张三')")
    assert fits(alice)
    screenshot(alice, "issue5-applicant-9-record-confirmed")
    screenshot(mediator, "issue5-mediator-9-record")

    # End the session: continue on a later date.
    tab(mediator, "people")
    mediator.click("#rm-end-open")
    mediator.check("#rm-end-form input[name=outcome][value=continue]")
    later = timezone.localtime(timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    mediator.fill("#rm-end-form input[name=continue_at]", later)
    screenshot(mediator, "issue5-mediator-10-end-dialog")
    mediator.click("#rm-end-submit")
    for page, name in ((mediator, "mediator"), (alice, "applicant"), (bob, "respondent")):
        page.wait_for_selector("#rm-ended:has-text('本次调解已结束')")
        assert fits(page)
        screenshot(page, f"issue5-{name}-11-ended")

    # Every step is in the case's audit trail, and the trail's hash chain is intact.
    def trail() -> tuple[Counter[str], dict[str, object]]:
        kinds = Counter(AuditEvent.objects.filter(case=case).values_list("kind", flat=True))
        room = session.room
        room.refresh_from_db()
        out = io.StringIO()
        call_command("verify_audit_chain", stdout=out)
        facts = {
            "outcome": room.outcome,
            "held": MediationSession.objects.get(pk=session.pk).status,
            "next": MediationSession.objects.filter(case=case, status=SessionStatus.SCHEDULED).count(),
            "caucus_chat": sorted(RoomEvent.objects.filter(room=room, kind="chat").exclude(audience="all")
                                  .values_list("audience", flat=True)),
            "record": sorted(RecordEntry.objects.filter(room=room).values_list("tag", flat=True)),
            "chain": out.getvalue(),
        }
        return kinds, facts

    kinds, facts = off_loop(trail)
    assert kinds["room.opened"] == 1 and kinds["case.start_mediation"] == 1
    assert kinds["room.identity_checked"] == 3
    assert kinds["room.notices_acknowledged"] == 3
    assert kinds["room.member_admitted"] >= 2
    assert kinds["room.caucus_started"] == 2 and kinds["room.caucus_ended"] == 2
    assert kinds["room.chat_posted"] >= 3
    assert kinds["room.record_added"] == 2
    assert kinds["room.record_confirmed"] == 1
    assert kinds["room.ended"] == 1
    assert facts["outcome"] == RoomOutcome.CONTINUE
    assert facts["held"] == SessionStatus.HELD and facts["next"] == 1
    assert facts["caucus_chat"] == ["caucus:applicant", "caucus:respondent"]
    assert facts["record"] == sorted([RecordTag.UNDISPUTED_FACT, RecordTag.SETTLEMENT_COMMUNICATION])
    assert str(facts["chain"]).startswith("OK:")
