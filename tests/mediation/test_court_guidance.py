"""Calling the court in during mediation (issue 11 item 5): the mediator asks the referring court for live
guidance; the request reaches the court's judges (inbox and in-app notice); a judge of that court joins the room
as 法官（指导）, seen by everyone, controls nothing and signs nothing; the request is closed; every step audited.
Refusals: another court's judge, a party cannot request, a judge cannot join without a request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.choices import GuidanceStatus, MessageChannel, ParticipantRole
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, StaleState
from mediation.models import AuditEvent, GuidanceRequest, MediationSession, OutboxMessage, RoomEvent
from mediation.permissions import access_session_place
from mediation.selectors import rooms as room_selectors
from mediation.selectors.confirmation import guidance_requests_for_judge
from mediation.services import room_controls, room_entry, room_record
from mediation.services.room_guidance import guidance_request_get_for_user, room_guidance_close, room_guidance_request
from tests.room_support import joint_room, ready_member


def _counts() -> tuple[int, ...]:
    return GuidanceRequest.objects.count(), OutboxMessage.objects.count(), AuditEvent.objects.count()


@pytest.mark.django_db
def test_mediator_asks_the_court_and_its_judges_are_told(world):
    case, room, _m = joint_room(world)
    request = room_guidance_request(room=room, actor=world.mediator, reason="当事人对违约金计算有争议")
    assert request.status == GuidanceStatus.OPEN
    notice = OutboxMessage.objects.get(recipient=world.judge, channel=MessageChannel.IN_APP)
    assert "请求法院实时指导" in notice.body and "违约金" in notice.body
    assert not OutboxMessage.objects.filter(recipient=world.other_judge).exists()
    assert AuditEvent.objects.filter(kind="room.guidance_requested", case=case).exists()
    # The court's inbox lists it for its judges only.
    assert [r.request.pk for r in guidance_requests_for_judge(user=world.judge)] == [request.pk]
    assert guidance_requests_for_judge(user=world.other_judge) == []
    assert guidance_requests_for_judge(user=world.mediator) == []
    # A second request while one is open is refused.
    with pytest.raises(InvalidInput):
        room_guidance_request(room=room, actor=world.mediator, reason="再次请求")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["applicant", "lawyer", "judge", "outsider"])
def test_only_the_presiding_mediator_can_ask(world, name):
    _case, room, _m = joint_room(world)
    before = _counts()
    with pytest.raises((PermissionDenied, NotFound)):
        room_guidance_request(room=room, actor=getattr(world, name), reason="请求")
    assert _counts() == before


@pytest.mark.django_db
def test_empty_or_long_reason_is_refused(world):
    _case, room, _m = joint_room(world)
    before = _counts()
    for reason in ("", "  ", "长" * 501):
        with pytest.raises(InvalidInput):
            room_guidance_request(room=room, actor=world.mediator, reason=reason)
    assert _counts() == before


@pytest.mark.django_db
def test_a_judge_cannot_join_without_a_request_nor_a_judge_of_another_court(world):
    _case, room, _m = joint_room(world)
    session = MediationSession.objects.get(pk=room.session_id)
    with pytest.raises(NotFound):
        access_session_place(session=session, user=world.judge)
    room_guidance_request(room=room, actor=world.mediator, reason="请求指导")
    assert access_session_place(session=session, user=world.judge).role == ParticipantRole.JUDGE_GUIDE
    for name in ("other_judge", "clerk", "outsider"):
        with pytest.raises(NotFound):
            access_session_place(session=session, user=getattr(world, name))


@pytest.mark.django_db
def test_the_guide_joins_is_seen_by_all_speaks_but_controls_and_signs_nothing(world):
    case, room, m = joint_room(world)
    request = room_guidance_request(room=room, actor=world.mediator, reason="请求指导")
    guide = ready_member(room, world.judge, admit_by=world.mediator)
    assert guide.role == ParticipantRole.JUDGE_GUIDE and guide.state == "admitted"
    joined = AuditEvent.objects.get(kind="room.guidance_joined", case=case)
    assert joined.data["request"] == request.pk
    # Every party sees who is present, by that role.
    for name in ("applicant", "respondent"):
        snapshot = room_selectors.room_snapshot(member=m[name])
        roles = {p["member"]: p["role"] for p in snapshot["members"]}
        assert roles[guide.pk] == "judge_guide"
    # The guide speaks in the joint space (the chat reaches the parties) …
    event = room_record.room_chat_post(member=guide, text="请双方注意违约金不得过高。")
    assert event.audience == "all"
    # … but records nothing, confirms nothing and controls nothing.
    with pytest.raises(PermissionDenied):
        room_record.room_record_add(member=guide, text="法官记录")
    version = room_selectors.room_record_visible(member=guide)[1]
    with pytest.raises(PermissionDenied):
        room_record.room_record_confirm(member=guide, version=version)
    for act in (
        lambda: room_controls.room_lock(room=room, actor=world.judge, locked=True),
        lambda: room_controls.room_remove(room=room, actor=world.judge, member=m["applicant"]),
        lambda: room_controls.room_caucus_start(room=room, actor=world.judge, side="applicant"),
        lambda: room_controls.room_end(room=room, actor=world.judge, outcome="terminate", end_reason="withdrawn"),
    ):
        with pytest.raises(PermissionDenied):
            act()
    # In a caucus the guide is not in it: they see and hear the joint space only.
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    guide.refresh_from_db()
    room_obj = room_selectors.room_snapshot(member=guide)
    assert room_obj["space"].startswith("waiting:")
    # Leaving is audited.
    room_entry.room_leave(member=guide)
    assert AuditEvent.objects.filter(kind="room.guidance_left", case=case).exists()


@pytest.mark.django_db
def test_closing_the_request_ends_the_guides_place(world):
    case, room, _m = joint_room(world)
    request = room_guidance_request(room=room, actor=world.mediator, reason="请求指导")
    guide = ready_member(room, world.judge, admit_by=world.mediator)
    # Another court's judge and a party cannot see or close it.
    for name in ("other_judge", "applicant"):
        with pytest.raises(NotFound):
            guidance_request_get_for_user(user=getattr(world, name), request_id=request.pk)
    with pytest.raises(PermissionDenied):
        room_guidance_close(request=request, actor=world.other_judge)
    closed = room_guidance_close(request=request, actor=world.judge, answer="建议按实际损失调整违约金")
    assert closed.status == GuidanceStatus.CLOSED and closed.closed_by == world.judge
    guide.refresh_from_db()
    assert guide.state == "left"
    assert RoomEvent.objects.filter(room=room, kind="member.left", payload__member=guide.pk).exists()
    audit = AuditEvent.objects.get(kind="room.guidance_closed", case=case)
    assert audit.data["answer"] == "建议按实际损失调整违约金" and audit.data["by_role"] == "judge"
    session = MediationSession.objects.get(pk=room.session_id)
    with pytest.raises(NotFound):
        access_session_place(session=session, user=world.judge)
    with pytest.raises(StaleState):
        room_guidance_close(request=request, actor=world.mediator)


@pytest.mark.django_db
def test_court_inbox_shows_the_request_and_closes_it(world, client):
    _case, room, _m = joint_room(world)
    request = room_guidance_request(room=room, actor=world.mediator, reason="请求指导：违约金")
    client.force_login(world.judge)
    page = client.get(reverse("court_inbox")).content.decode()
    assert "请求指导：违约金" in page and reverse("session_room", args=[room.session_id]) in page
    client.force_login(world.other_judge)
    assert "请求指导：违约金" not in client.get(reverse("court_inbox")).content.decode()
    assert client.post(reverse("court_guidance_close", args=[request.pk])).status_code == 404
    client.force_login(world.judge)
    response = client.post(reverse("court_guidance_close", args=[request.pk]), {"answer": "已答复"})
    assert response.status_code == 302
    assert GuidanceRequest.objects.get(pk=request.pk).status == GuidanceStatus.CLOSED
