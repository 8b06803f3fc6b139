"""Calling the court in (SIM 15-16: the referring court guides the mediation it invited): during a mediation
session the mediator asks the case's court for live guidance, with a short reason; the judges of that court see
it in their inbox (``/court/``) and an in-app notice; while the request is open a judge of that court may come
into the room as 法官（指导） (``permissions.session_place``), shown to everyone by that role. The guide sees and
hears the joint space and may speak and write in the chat; they control nothing, keep no record and confirm
nothing (``room_events.room_turn`` and ``room_record.room_record_confirm`` refuse them). A judge of the court or
the mediator closes the request; a guide still in the room then leaves it.

Audit: ``room.guidance_requested``, ``room.guidance_joined`` and ``room.guidance_left`` (``room_entry``),
``room.guidance_closed``.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import notification_templates as nt
from mediation import spaces
from mediation import transitions as tr
from mediation.choices import GuidanceStatus, MessageChannel, ParticipantRole, Role, RoomMemberState, RoomStatus
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, StaleState
from mediation.models import GuidanceRequest, Membership, Room, RoomMember, User
from mediation.permissions import case_roles
from mediation.services.outbox import outbox_enqueue
from mediation.services.room_events import (
    lock_room,
    member_payload,
    member_state,
    room_audit,
    room_is_verification,
    room_turn,
    store_event,
)

REASON_MAX = 500
ANSWER_MAX = 2000
M = RoomMemberState


def room_guidance_request(*, room: Room, actor: User, reason: str) -> GuidanceRequest:
    """The presiding mediator asks the case's court for live guidance. One open request per room."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请简要写明需要法院指导的事项。"))
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("请求指导的事项不能超过%(n)d个字。") % {"n": REASON_MAX})
    with transaction.atomic():
        room, mediator = room_turn(room.pk, actor=actor)
        if mediator.role != ParticipantRole.MEDIATOR or room_is_verification(room):
            raise PermissionDenied(_("司法确认询问由法官主持，无需请求法院指导。"), case=room.case)
        if GuidanceRequest.objects.filter(room=room, status=GuidanceStatus.OPEN).exists():
            raise InvalidInput(_("已向法院请求指导，请等候法官响应，或先结束该请求。"))
        try:
            with transaction.atomic():
                request = GuidanceRequest.objects.create(room=room, case=room.case, requested_by=actor, reason=reason)
        except IntegrityError as exc:
            raise InvalidInput(_("已向法院请求指导，请等候法官响应，或先结束该请求。")) from exc
        store_event(room, name="guidance.requested", audience=spaces.MEDIATORS, actor=actor, actor_member=mediator,
                    payload={"request": request.pk, "reason": reason, "status": request.status})
        room_audit("room.guidance_requested", actor=actor, room=room, data={"request": request.pk, "reason": reason})
        _notify_court(request)
    return request


def _notify_court(request: GuidanceRequest) -> None:
    case = request.case
    judges = (
        Membership.objects.filter(organisation_id=case.court_id, role__in=(Role.JUDGE, Role.COURT_PRESIDENT),
                                  is_active=True, user__is_active=True)
        .select_related("user").order_by("user_id")
    )
    context = {
        "subject": _("调解员请求法院指导：案件%(ref)s") % {"ref": case.reference},
        "text": _("案件%(ref)s（%(title)s）的调解员正在调解中，请求法院实时指导：%(reason)s") % {
            "ref": case.reference, "title": case.title, "reason": request.reason},
        "link": nt.site_url("court_inbox"),
    }
    seen: set[int] = set()
    for membership in judges:
        judge = membership.user
        if judge.pk in seen:
            continue
        seen.add(judge.pk)
        outbox_enqueue(channel=MessageChannel.IN_APP, address="", template=nt.GENERIC, recipient=judge, case=case,
                       context=context, idempotency_key=f"guidance:{request.pk}:{judge.pk}:inapp")


def guidance_request_get_for_user(*, user: User, request_id: int) -> GuidanceRequest:
    """A request the user may answer or close: a judge of the case's court or the case's mediator."""
    request = GuidanceRequest.objects.select_related("case", "room").filter(pk=request_id).first()
    if request is None or not case_roles(user, request.case) & {tr.JUDGE, tr.MEDIATOR}:
        raise NotFound(_("指导请求不存在或您无权查看。"))
    return request


def room_guidance_close(*, request: GuidanceRequest, actor: User, answer: str = "") -> GuidanceRequest:
    """A judge of the case's court (with an optional answer) or the case's mediator closes the request; a
    guide still in the room leaves it, and cannot come back until the mediator asks again."""
    answer = (answer or "").strip()
    if len(answer) > ANSWER_MAX:
        raise InvalidInput(_("答复不能超过%(n)d个字。") % {"n": ANSWER_MAX})
    roles = case_roles(actor, request.case)
    if not roles & {tr.JUDGE, tr.MEDIATOR}:
        raise PermissionDenied(_("只有本案法院的法官或本案调解员可以结束指导请求。"), case=request.case)
    with transaction.atomic():
        room = lock_room(request.room_id)
        fresh = GuidanceRequest.objects.select_for_update().get(pk=request.pk)
        if fresh.status != GuidanceStatus.OPEN:
            raise StaleState(_("该指导请求已经结束。"))
        now = timezone.now()
        fresh.status, fresh.closed_by, fresh.closed_at, fresh.answer = GuidanceStatus.CLOSED, actor, now, answer
        fresh.save(update_fields=["status", "closed_by", "closed_at", "answer"])
        if room.status == RoomStatus.OPEN:
            for guide in RoomMember.objects.filter(room=room, role=ParticipantRole.JUDGE_GUIDE,
                                                   state__in=(M.WAITING, M.ADMITTED, M.REFUSED)).order_by("pk"):
                guide.state, guide.left_at, guide.online_channel = M.LEFT, now, ""
                guide.save(update_fields=["state", "left_at", "online_channel"])
                store_event(room, name="member.left",
                            audience=spaces.either(spaces.ALL, spaces.user_audience(guide.user_id)),
                            actor=actor, payload=member_payload(guide), state=member_state(guide))
                room_audit("room.guidance_left", actor=guide.user, room=room,
                           data={"member": guide.pk, "request": fresh.pk, "because": "request_closed"})
            store_event(room, name="guidance.closed", audience=spaces.MEDIATORS, actor=actor,
                        payload={"request": fresh.pk, "status": fresh.status, "answer": answer})
        by_role = tr.JUDGE if tr.JUDGE in roles else tr.MEDIATOR
        room_audit("room.guidance_closed", actor=actor, room=room,
                   data={"request": fresh.pk, "answer": answer, "by_role": by_role})
    return fresh
