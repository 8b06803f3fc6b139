"""The mediator's page for interpreters and helpers, and a party's answer to them on the way into the room,
and an interpreter's way in through the pages with the declaration (issue 18 item 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.adapters.sms import outbox_clear
from mediation.choices import CaseStatus, ConsentKind, HelperKind, RoomMemberState
from mediation.models import CaseHelper, Consent, RoomMember
from mediation.notices import INTERPRETER_DECLARATION
from mediation.selectors import rooms as room_selectors
from mediation.services import room_entry
from mediation.services.helpers import helper_invite
from tests.agreement_support import parties_of
from tests.room_support import last_code, open_room, ready_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "console"
    settings.OTP_RESEND_SECONDS = 0
    outbox_clear()
    yield
    outbox_clear()


def test_the_mediator_invites_an_interpreter_from_the_page(world, client):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    applicant, _respondent = parties_of(case)
    client.force_login(world.mediator)

    assert "翻译及协助人员" in client.get(reverse("case_detail", args=[case.pk])).text
    response = client.post(
        reverse("case_helpers", args=[case.pk]),
        {"party": applicant.pk, "kind": HelperKind.SIGN_LANGUAGE, "name": "周译", "phone": "13900000301"},
    )

    assert response.status_code == 302
    helper = CaseHelper.objects.get(case=case)
    assert (helper.name, helper.assists, helper.kind) == ("周译", applicant, HelperKind.SIGN_LANGUAGE)
    assert "为申请人张三提供手语翻译" in client.get(reverse("case_helpers", args=[case.pk])).text


def test_bad_input_is_shown_in_chinese_and_nothing_saved(world, client):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    applicant, _respondent = parties_of(case)
    client.force_login(world.mediator)

    page = client.post(
        reverse("case_helpers", args=[case.pk]),
        {"party": applicant.pk, "kind": HelperKind.FAMILY, "name": "某某", "phone": "123"},
    )

    assert page.status_code == 200 and "手机号码应为以1开头的11位数字" in page.text
    assert not CaseHelper.objects.exists()


@pytest.mark.parametrize("name", ["applicant", "respondent", "lawyer", "outsider"])
def test_nobody_but_the_mediator_may_open_or_post_the_page(world, client, name):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    applicant, _respondent = parties_of(case)
    client.force_login(getattr(world, name))

    assert client.get(reverse("case_helpers", args=[case.pk])).status_code in (403, 404)
    client.post(
        reverse("case_helpers", args=[case.pk]),
        {"party": applicant.pk, "kind": HelperKind.FAMILY, "name": "某某", "phone": "13900000302"},
    )
    assert not CaseHelper.objects.exists()


def test_a_party_answers_the_invited_question_and_the_interpreter_walks_in_with_the_declaration(world, client):
    case, _session, room = open_room(world)
    applicant, _respondent = parties_of(case)
    helper = helper_invite(
        case=case,
        assists=applicant,
        kind=HelperKind.SIGN_LANGUAGE,
        name="周译",
        phone="13900000303",
        actor=world.mediator,
    )
    ready_member(room, world.mediator)
    ready_member(room, world.respondent, consent_invited=True, admit_by=world.mediator)

    client.force_login(world.applicant)
    room_entry.room_member_get_or_create(room=room, user=world.applicant)
    client.post(reverse("room_join_identity", args=[room.pk]), {"action": "send"})
    client.post(
        reverse("room_join_identity", args=[room.pk]), {"action": "verify", "code": last_code(world.applicant.phone)}
    )
    page = client.get(reverse("room_join_notices", args=[room.pk]))
    assert "翻译人员：周译（为申请人张三提供手语翻译）" in page.text
    codes = [t.code for t in room_entry.room_notices_required(case)]
    unanswered = client.post(reverse("room_join_notices", args=[room.pk]), {"notice": codes, "consent_caucus": "yes"})
    assert "请回答是否同意调解员邀请的翻译人员或协助人员参加调解" in unanswered.text
    client.post(
        reverse("room_join_notices", args=[room.pk]),
        {"notice": codes, "consent_caucus": "yes", "consent_invited": "yes"},
    )
    assert Consent.objects.get(case=case, party=applicant, kind=ConsentKind.INVITED_PARTICIPANT).granted

    client.force_login(helper.user)
    member = room_entry.room_member_get_or_create(room=room, user=helper.user)
    client.post(reverse("room_join_identity", args=[room.pk]), {"action": "send"})
    client.post(
        reverse("room_join_identity", args=[room.pk]),
        {"action": "verify", "code": last_code(room_selectors.room_phone_on_file(member))},
    )
    page = client.get(reverse("room_join_notices", args=[room.pk]))
    assert INTERPRETER_DECLARATION.title in page.text and "是否同意以下人员" not in page.text
    client.post(reverse("room_join_notices", args=[room.pk]), {"notice": codes})  # without the declaration
    helper.refresh_from_db()
    assert helper.declaration_accepted_at is None
    client.post(reverse("room_join_notices", args=[room.pk]), {"notice": [*codes, INTERPRETER_DECLARATION.code]})
    helper.refresh_from_db()
    assert helper.declaration_accepted_at is not None
    assert RoomMember.objects.get(room=room, user=helper.user).state == RoomMemberState.WAITING
