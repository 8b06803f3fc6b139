"""The mediation room of a session (issue 5; OMR 16-18, 22; OLR 7, 20, 27; CMed 5; SIM 14, 17; PML 20).

Every write lives here: opening a room, the way in (identity re-check, notices, single-use join token),
the mediator's controls, chat, files and the live record (调解笔录). Each change that a participant may
need after a reconnect is a ``RoomEvent``: the room row is locked, ``last_seq`` goes up by one, the event
is stored with the audience of the space it belongs to (``mediation.spaces``), and it is broadcast to the
room's group only after commit. Chat and record entries are stored before they are acknowledged, and a
resend with the same ``client_id`` returns the stored event instead of storing it twice.

Signaling (offer/answer/ICE) never comes here: the consumer relays it without touching the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import signals, spaces
from mediation import transitions as tr
from mediation.choices import (
    CaseStatus,
    ConsentKind,
    EndReason,
    OtpPurpose,
    ParticipantRole,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    RoomStatus,
    SessionStatus,
)
from mediation.exceptions import DomainError, InvalidInput, PermissionDenied, StaleState
from mediation.models import (
    Agent,
    Case,
    CaseMediator,
    Consent,
    MediationSession,
    NoticeText,
    Party,
    RecordConfirmation,
    RecordEntry,
    Room,
    RoomEvent,
    RoomJoinToken,
    RoomMember,
    SessionParticipant,
    User,
)
from mediation.notices import (
    CAUCUS_CONSENT,
    INVITED_PARTICIPANT_CONSENT,
    SESSION_NOTICE,
    SHAM_MEDIATION_WARNING,
    StandardText,
)
from mediation.permissions import case_roles
from mediation.services.audit import audit_append
from mediation.services.consents import consent_all_parties_granted, consent_record, notice_acknowledge
from mediation.services.consents import notice_text_publish as _publish
from mediation.signals import send_on_commit
from mediation.validators import mask_phone

logger = logging.getLogger(__name__)

S = CaseStatus
M = RoomMemberState
# A room may be opened while sessions of the case stay valid (see scheduling.SESSIONS_SURVIVE).
ROOM_STATUSES = frozenset({S.SCHEDULING, S.IN_MEDIATION, S.APPRAISAL_PAUSED, S.SUSPENDED, S.AGREEMENT_DRAFT,
                           S.SIGNING})
# "Agreement reached" ends a session only once signing has been opened (the agreement part does that).
AGREEMENT_STATUSES = frozenset({S.SIGNING, S.AGREEMENT_EFFECTIVE, S.CLOSED_SETTLED, S.JC_SUBMITTED,
                                S.JC_SUPPLEMENT_REQUESTED, S.JC_UNDER_REVIEW, S.JC_CONFIRMED, S.OBJECTION_WINDOW,
                                S.PERFORMANCE_TRACKING, S.CLOSED_PERFORMED, S.ENFORCEMENT_ELIGIBLE})
INVITED_ROLES = frozenset({ParticipantRole.INTERPRETER, ParticipantRole.HELPER})
PARTY_ROLES = frozenset({ParticipantRole.PARTY, ParticipantRole.AGENT})
REQUIRED_NOTICES: tuple[StandardText, ...] = (SESSION_NOTICE, SHAM_MEDIATION_WARNING)
MAX_CHAT = 2000
MAX_RECORD = 5000


# --- errors the consumer turns into close codes ---------------------------------------------------------------


class NotSignedIn(DomainError):
    code = "not_signed_in"  # 4401


class TokenInvalid(DomainError):
    code = "token_invalid"  # 4401: no such token for this room


class TokenSpent(DomainError):
    code = "token_spent"  # 4409: used or expired


class RoomEnded(DomainError):
    code = "room_ended"  # 4410


class MemberRemoved(DomainError):
    code = "removed"  # 4408


class RoomLocked(InvalidInput):
    code = "room_locked"  # 4423: the mediator locked the room against newcomers


class ChecksRequired(DomainError):
    code = "checks_required"  # 4412: identity re-check or notices not done for this room


class NoticesRequired(InvalidInput):
    """Some required notices were not acknowledged; ``required`` lists their codes."""

    code = "notices_required"

    def __init__(self, message: str, *, required: list[str]) -> None:
        super().__init__(message)
        self.required = required


# --- who has a place in a session ---------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    role: str
    side: str
    party: Party | None
    name: str


def session_place(*, session: MediationSession, user: User | None) -> Place | None:
    """The place ``user`` holds in ``session``: an active mediator of the case, a party, an agent, or an
    interpreter/helper invited to this very session. None for everyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    case_id = session.case_id
    if CaseMediator.objects.filter(case_id=case_id, mediator=user, is_active=True).exists():
        return Place(ParticipantRole.MEDIATOR, "", None, user.display_name)
    party = Party.objects.filter(case_id=case_id, user=user).order_by("pk").first()
    if party is not None:
        return Place(ParticipantRole.PARTY, party.role, party, party.name or user.display_name)
    agent = Agent.objects.filter(party__case_id=case_id, user=user).select_related("party").order_by("pk").first()
    if agent is not None:
        return Place(ParticipantRole.AGENT, agent.party.role, agent.party, agent.name or user.display_name)
    invited = (
        SessionParticipant.objects.filter(session=session, user=user, role__in=INVITED_ROLES)
        .select_related("party").order_by("pk").first()
    )
    if invited is not None:
        side = invited.party.role if invited.party is not None else ""
        return Place(invited.role, side, invited.party, user.display_name)
    return None


def _not_found() -> PermissionDenied:
    return PermissionDenied(_("调解活动不存在或您无权参加。"))


# --- events -----------------------------------------------------------------------------------------------


def _lock_room(room_id: int) -> Room:
    return Room.objects.select_for_update().select_related("case").get(pk=room_id)


def event_frame(event: RoomEvent, *, actor_member: int | None) -> dict[str, Any]:
    """An event as a client sees it (docs/protocol.md: ``event``)."""
    return {"type": "event", "seq": event.seq, "kind": event.kind, "at": event.created_at.isoformat(),
            "actor": actor_member, "payload": event.payload}


def _store(
    room: Room,
    *,
    name: str,
    audience: str,
    actor: User | None,
    payload: dict[str, Any],
    client_id: str = "",
    actor_member: RoomMember | None = None,
    state: dict[str, Any] | None = None,
) -> RoomEvent:
    """Append one event to ``room`` (already locked by the caller) and broadcast it after commit."""
    seq = room.last_seq + 1
    Room.objects.filter(pk=room.pk).update(last_seq=seq)
    room.last_seq = seq
    event = RoomEvent.objects.create(room=room, seq=seq, kind=name, audience=audience, actor=actor,
                                     client_id=client_id, payload=payload)
    message = {
        "type": "room.event", "event": event_frame(event, actor_member=actor_member.pk if actor_member else None),
        "audience": audience, "state": state or {},
    }
    send_on_commit(signals.room_event, room_id=room.pk, message=message)
    return event


def _existing(room: Room, actor: User, client_id: str, kind: str) -> RoomEvent | None:
    """The event ``actor`` already stored under ``client_id`` (a resend), if any. A ``client_id`` names one
    event of one kind: reusing it for something else is refused, never answered with the earlier event
    (which would acknowledge a record entry, say, that was never stored)."""
    if not client_id:
        return None
    event = RoomEvent.objects.filter(room=room, actor=actor, client_id=client_id).first()
    if event is not None and event.kind != kind:
        raise InvalidInput(_("编号（ref）%(ref)s已用于另一条消息，请换一个编号。") % {"ref": client_id})
    return event


def _member_state(member: RoomMember) -> dict[str, Any]:
    return {"member": member.pk, "user": member.user_id, "role": member.role, "side": member.side,
            "state": member.state}


def _member_payload(member: RoomMember) -> dict[str, Any]:
    return {"member": member.pk, "name": member.display_name, "role": member.role, "side": member.side,
            "state": member.state}


def _audit(kind: str, *, actor: User | None, room: Room, data: dict[str, Any] | None = None) -> None:
    audit_append(kind=kind, actor=actor, case=room.case,
                 data={"room": room.pk, "session": room.session_id, **(data or {})})


def room_announce(*, case: Case, kind: str, payload: dict[str, Any]) -> list[RoomEvent]:
    """Append an audience-``all`` event to every open room of ``case`` and broadcast it after commit
    (e.g. ``agreement.updated``). Nothing happens when no room is open."""
    events = []
    with transaction.atomic():
        open_rooms = Room.objects.filter(case=case, status=RoomStatus.OPEN).order_by("pk")
        for room_id in open_rooms.values_list("pk", flat=True):
            room = _lock_room(room_id)
            if room.status != RoomStatus.OPEN:
                continue
            events.append(_store(room, name=kind, audience=spaces.ALL, actor=None, payload=payload))
    return events


# --- opening a room and coming in ----------------------------------------------------------------------


def room_for_session(*, session: MediationSession, actor: User) -> Room:
    """The room of ``session``, opened on first use. The actor must have a place in the session. When the
    mediator comes in and the case is still being scheduled, mediation starts (OMR 16-17)."""
    session = MediationSession.objects.select_related("case").get(pk=session.pk)
    place = session_place(session=session, user=actor)
    if place is None:
        raise _not_found()
    room = Room.objects.filter(session=session).select_related("case").first()
    if room is None:
        if session.status == SessionStatus.CANCELLED:
            raise InvalidInput(_("该调解活动已取消或改期，请使用新的邀请链接。"))
        if session.status == SessionStatus.HELD:
            raise RoomEnded(_("该调解活动已经结束。"))
        if session.case.status not in ROOM_STATUSES:
            raise InvalidInput(
                _("案件当前状态为“%(status)s”，不能进行调解。") % {"status": CaseStatus(session.case.status).label}
            )
        with transaction.atomic():
            MediationSession.objects.select_for_update().get(pk=session.pk)
            room, created = Room.objects.get_or_create(
                session=session, defaults={"case": session.case, "opened_by": actor}
            )
            if created:
                audit_append(kind="room.opened", actor=actor, case=session.case,
                             data={"room": room.pk, "session": session.pk})
    room = Room.objects.select_related("case").get(pk=room.pk)
    if place.role == ParticipantRole.MEDIATOR and room.status == RoomStatus.OPEN and room.case.status == S.SCHEDULING:
        from mediation.services.cases import case_transition

        try:
            room.case = case_transition(case=room.case, to=S.IN_MEDIATION, actor=actor,
                                        data={"room": room.pk, "session": session.pk})
        except StaleState:
            room.case.refresh_from_db()
    return room


def _place_of(member: RoomMember) -> tuple[str, str, int | None]:
    return member.role, member.side, member.party_id


def place_key(place: Place) -> tuple[str, str, int | None]:
    return place.role, place.side, place.party.pk if place.party is not None else None


def _place_changed(room: Room, member: RoomMember, place: Place) -> RoomMember:
    """``member``'s place in the case changed since they came in (an agent now acts for the other side, an
    interpreter was re-assigned): their row follows the case, and what they may see is decided afresh, so a
    non-mediator goes back to the waiting room. Everyone admitted is told, so their browsers stop sending
    media to this person at once. The room is locked by the caller."""
    before = {"role": member.role, "side": member.side, "party": member.party_id}
    is_mediator = place.role == ParticipantRole.MEDIATOR
    member.role, member.side, member.party = place.role, place.side, place.party
    member.display_name = place.name[:120]
    member.state = M.ADMITTED if is_mediator else M.WAITING
    member.admitted_at = timezone.now() if is_mediator else None
    member.save(update_fields=["role", "side", "party", "display_name", "state", "admitted_at"])
    audience = spaces.either(spaces.ALL, spaces.user_audience(member.user_id))
    _store(room, name="member.admitted" if is_mediator else "member.waiting", audience=audience, actor=None,
           payload=_member_payload(member), actor_member=None, state=_member_state(member))
    _audit("room.member_place_changed", actor=None, room=room,
           data={"member": member.pk, "before": before,
                 "after": {"role": member.role, "side": member.side, "party": member.party_id}})
    return member


def room_member_get_or_create(*, room: Room, user: User) -> RoomMember:
    """``user``'s place in ``room``: mediators are admitted at once, everyone else waits for the mediator.
    Someone who left comes back to the waiting room. A locked room takes no newcomers. A member whose place
    in the case changed since (role, side or party) is brought up to date and waits to be admitted again."""
    session = MediationSession.objects.get(pk=room.session_id)
    place = session_place(session=session, user=user)
    if place is None:
        raise _not_found()
    with transaction.atomic():
        room = _lock_room(room.pk)
        if room.status != RoomStatus.OPEN:
            raise RoomEnded(_("该调解活动已经结束。"))
        member = RoomMember.objects.filter(room=room, user=user).first()
        if member is not None and member.state != M.LEFT:
            if member.state == M.REMOVED or _place_of(member) == place_key(place):
                return member
            return _place_changed(room, member, place)
        is_mediator = place.role == ParticipantRole.MEDIATOR
        if room.locked and not is_mediator:
            raise RoomLocked(_("调解室已锁定，暂不接受新的入会请求。请联系调解员。"))
        now = timezone.now()
        state = M.ADMITTED if is_mediator else M.WAITING
        if member is None:
            member = RoomMember.objects.create(
                room=room, user=user, party=place.party, role=place.role, side=place.side,
                display_name=place.name[:120], state=state, admitted_at=now if is_mediator else None,
            )
        else:
            member.state, member.left_at = state, None
            member.admitted_at = now if is_mediator else member.admitted_at
            member.save(update_fields=["state", "left_at", "admitted_at"])
        if is_mediator:
            _store(room, name="member.admitted", audience=spaces.either(spaces.ALL, spaces.user_audience(user.pk)),
                   actor=user, payload=_member_payload(member), actor_member=member, state=_member_state(member))
        else:
            _store(room, name="member.waiting",
                   audience=spaces.either(spaces.MEDIATORS, spaces.user_audience(user.pk)),
                   actor=user, payload=_member_payload(member), actor_member=member, state=_member_state(member))
        _audit("room.member_entered", actor=user, room=room,
               data={"member": member.pk, "role": member.role, "side": member.side, "state": member.state})
    return member


def room_phone_on_file(member: RoomMember) -> str:
    """The number the session code goes to: the account's, else the one the case holds for the person."""
    if member.user.phone:
        return str(member.user.phone)
    if member.role == ParticipantRole.PARTY and member.party is not None and member.party.phone:
        return str(member.party.phone)
    if member.role == ParticipantRole.AGENT:
        agent = Agent.objects.filter(party=member.party, user=member.user).first()
        if agent is not None and agent.phone:
            return str(agent.phone)
    raise InvalidInput(_("您的账户没有登记手机号码，无法发送验证码。请联系调解员或法院诉讼服务中心。"))


def room_identity_code_send(*, member: RoomMember, ip_address: str | None = None) -> str:
    """Send the session code (OLR 7: identity is re-checked at every session). Returns the masked number."""
    from mediation.services.identity import otp_send

    member = RoomMember.objects.select_related("user", "party", "room").get(pk=member.pk)
    _require_open_member(member)
    phone = room_phone_on_file(member)
    otp_send(phone=phone, purpose=OtpPurpose.SESSION_JOIN, ip_address=ip_address)
    return mask_phone(phone)


def room_identity_verify(*, member: RoomMember, code: str, ip_address: str | None = None) -> RoomMember:
    """Check the session code and record the identity re-check for this room."""
    from mediation.services.identity import otp_verify

    member = RoomMember.objects.select_related("user", "party", "room").get(pk=member.pk)
    _require_open_member(member)
    phone = room_phone_on_file(member)
    otp_verify(phone=phone, purpose=OtpPurpose.SESSION_JOIN, code=code, ip_address=ip_address)  # commits failures
    return _identity_checked(member, method="sms_otp", data={"phone": mask_phone(phone), "ip": ip_address})


def _identity_checked(member: RoomMember, *, method: str, data: dict[str, Any]) -> RoomMember:
    with transaction.atomic():
        room = _lock_room(member.room_id)
        now = timezone.now()
        RoomMember.objects.filter(pk=member.pk).update(identity_checked_at=now)
        member.identity_checked_at = now
        _audit("room.identity_checked", actor=member.user, room=room,
               data={"member": member.pk, "method": method, **data})
    return member


def room_notices_required() -> list[NoticeText]:
    """The current versions of the notices everyone acknowledges before entering (SIM 14, OMR 17)."""
    return [_publish(code=t.code, title=t.title, body=t.body, actor=None) for t in REQUIRED_NOTICES]


def room_consent_texts() -> dict[str, NoticeText]:
    """The consent questions a party answers on the way in: caucus (OMR 16) and invited participants (PML 20)."""
    return {kind: _publish(code=t.code, title=t.title, body=t.body, actor=None)
            for kind, t in ((ConsentKind.SEPARATE_SESSIONS, CAUCUS_CONSENT),
                            (ConsentKind.INVITED_PARTICIPANT, INVITED_PARTICIPANT_CONSENT))}


def room_notices_acknowledge(
    *,
    member: RoomMember,
    codes: list[str] | tuple[str, ...],
    audio_only: bool = False,
    consent_caucus: bool | None = None,
    consent_invited: bool | None = None,
    ip_address: str | None = None,
) -> RoomMember:
    """Log each acknowledgement with the version of the text shown, and a party's answers to the caucus
    and invited-participant questions when given; then the person may take a join token."""
    member = RoomMember.objects.select_related("user", "party", "room", "room__case").get(pk=member.pk)
    _require_open_member(member)
    texts = room_notices_required()
    missing = [t.code for t in texts if t.code not in set(codes)]
    if missing:
        raise NoticesRequired(_("请阅读并确认全部告知事项后再进入调解室。"), required=[t.code for t in texts])
    answers = {ConsentKind.SEPARATE_SESSIONS: consent_caucus, ConsentKind.INVITED_PARTICIPANT: consent_invited}
    if any(v is not None for v in answers.values()) and (
        member.role not in PARTY_ROLES or member.party is None
    ):
        raise PermissionDenied(_("只有当事人本人或其代理人可以作出同意。"))
    case = member.room.case
    with transaction.atomic():
        for text in texts:
            notice_acknowledge(case=case, actor=member.user, text=text)
        consent_texts = room_consent_texts()
        for kind, granted in answers.items():
            if granted is not None and member.party is not None:
                consent_record(case=case, party=member.party, actor=member.user, kind=kind, granted=granted,
                               text=consent_texts[kind], ip_address=ip_address)
        room = _lock_room(member.room_id)
        now = timezone.now()
        RoomMember.objects.filter(pk=member.pk).update(notices_acknowledged_at=now, audio_only=audio_only)
        member.notices_acknowledged_at, member.audio_only = now, audio_only
        _audit("room.notices_acknowledged", actor=member.user, room=room,
               data={"member": member.pk, "notices": {t.code: t.version for t in texts}, "audio_only": audio_only,
                     "consent_caucus": consent_caucus, "consent_invited": consent_invited})
    return member


def room_checks_record_by_command(*, member: RoomMember, command: str) -> RoomMember:
    """Development only (``manage.py join_link``, which refuses ``DEBUG=0``): record the identity
    re-check and the notices as done by the command, and say so in the audit trail."""
    member = RoomMember.objects.select_related("user", "room", "room__case").get(pk=member.pk)
    texts = room_notices_required()
    _identity_checked(member, method="command", data={"command": command})
    with transaction.atomic():
        room = _lock_room(member.room_id)
        now = timezone.now()
        RoomMember.objects.filter(pk=member.pk).update(notices_acknowledged_at=now)
        member.notices_acknowledged_at = now
        _audit("room.notices_acknowledged", actor=member.user, room=room,
               data={"member": member.pk, "notices": {t.code: t.version for t in texts}, "by_command": command})
    return member


def _require_open_member(member: RoomMember) -> None:
    if member.room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"))
    if member.state == M.REMOVED:
        raise MemberRemoved(_("您已被调解员移出本次调解。"))


def room_checks_done(member: RoomMember) -> bool:
    return member.identity_checked_at is not None and member.notices_acknowledged_at is not None


# --- join tokens ----------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def room_token_issue(*, member: RoomMember) -> tuple[str, RoomJoinToken]:
    """A single-use join token for ``member`` (only its SHA-256 is stored), once both checks are done."""
    if not room_checks_done(member):
        raise ChecksRequired(_("请先完成身份核验并确认告知事项。"))
    token = secrets.token_urlsafe(32)
    row = RoomJoinToken.objects.create(
        room_id=member.room_id, user_id=member.user_id, token_sha256=_token_hash(token),
        expires_at=timezone.now() + dt.timedelta(seconds=int(settings.ROOM_TOKEN_TTL)),
    )
    return token, row


def room_token_redeem(*, room_id: int, token: str) -> RoomMember:
    """Spend ``token`` on a socket of room ``room_id``: the first socket that presents it wins."""
    if not token or len(token) > 200:
        raise TokenInvalid(_("入会令牌无效，请重新进入。"))
    with transaction.atomic():
        row = RoomJoinToken.objects.select_for_update().filter(room_id=room_id, token_sha256=_token_hash(token)).first()
        if row is None:
            raise TokenInvalid(_("入会令牌无效，请重新进入。"))
        now = timezone.now()
        if row.used_at is not None:
            raise TokenSpent(_("入会令牌已使用，请重新获取。"))
        if row.expires_at <= now:
            raise TokenSpent(_("入会令牌已过期，请重新获取。"))
        RoomJoinToken.objects.filter(pk=row.pk).update(used_at=now)
    member = RoomMember.objects.filter(room_id=room_id, user_id=row.user_id).select_related("user").first()
    if member is None:
        raise TokenInvalid(_("入会令牌无效，请重新进入。"))
    return member


def room_connect(*, room_id: int, user: User | None, token: str = "") -> RoomMember:
    """Authorise one socket: by join token or by the signed-in user, then the room's rules, in the order
    of the close codes (docs/protocol.md). A member who had left comes back to the waiting room."""
    room = Room.objects.filter(pk=room_id).select_related("session", "case").first()
    if token:
        if room is None:
            raise TokenInvalid(_("入会令牌无效，请重新进入。"))
        member = room_token_redeem(room_id=room_id, token=token)
        user = member.user
    elif user is None or not user.is_authenticated:
        raise NotSignedIn(_("请先登录。"))
    place = session_place(session=room.session, user=user) if room is not None else None
    if room is None or place is None:
        raise _not_found()
    assert user is not None
    if room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"))
    found = RoomMember.objects.filter(room=room, user=user).select_related("user").first()
    if found is None or not room_checks_done(found):
        raise ChecksRequired(_("请先完成身份核验并确认告知事项。"))
    if found.state == M.REMOVED:
        raise MemberRemoved(_("您已被调解员移出本次调解。"))
    if found.state == M.LEFT or _place_of(found) != place_key(place):
        found = room_member_get_or_create(room=room, user=user)
    return found


def room_presence_set(*, member: RoomMember, channel: str) -> None:
    """This socket is now the member's connection (a newer one replaces an older one)."""
    RoomMember.objects.filter(pk=member.pk).update(online_channel=channel[:120])


def room_presence_clear(*, member_id: int, channel: str) -> bool:
    """The socket ``channel`` went away: the member is offline unless a newer socket took over."""
    return RoomMember.objects.filter(pk=member_id, online_channel=channel[:120]).update(online_channel="") == 1


def room_media_state(*, member: RoomMember, audio_only: bool, muted: bool) -> RoomMember:
    RoomMember.objects.filter(pk=member.pk).update(audio_only=audio_only, muted=muted)
    member.audio_only, member.muted = audio_only, muted
    return member


# --- the snapshot ---------------------------------------------------------------------------------------


def room_snapshot(*, member: RoomMember, since: int = 0) -> dict[str, Any]:
    """The ``welcome`` body without ``ice_servers`` and ``resume_token``: the room as ``member`` may see it,
    with every visible event after ``since``."""
    from mediation.selectors.rooms import room_events_visible, room_record_visible

    room = Room.objects.select_related("case").get(pk=member.room_id)
    member = RoomMember.objects.get(pk=member.pk)
    members = list(RoomMember.objects.filter(room=room).order_by("pk"))
    by_user = {m.user_id: m.pk for m in members}
    since = since if 0 <= since <= room.last_seq else 0
    listed = [m for m in members if m.state in (M.WAITING, M.ADMITTED)]
    my_space = spaces.space_of(caucus_side=room.caucus_side, member=member)
    entries, version = room_record_visible(member=member)
    return {
        "type": "welcome", "protocol": "yizhan-room/1",
        "you": {"member": member.pk, "role": member.role, "side": member.side, "state": member.state,
                "name": member.display_name},
        "room": {"id": room.pk, "case": room.case.reference, "status": room.status, "locked": room.locked,
                 "caucus_side": room.caucus_side, "outcome": room.outcome, "end_reason": room.end_reason,
                 "continue_at": room.continue_at.isoformat() if room.continue_at else None},
        "members": [
            {"member": m.pk, "name": m.display_name, "role": m.role, "side": m.side, "state": m.state,
             "online": bool(m.online_channel), "audio_only": m.audio_only, "muted": m.muted,
             "space": spaces.space_of(caucus_side=room.caucus_side, member=m)}
            for m in listed
        ],
        "space": my_space,
        "peers": [
            m.pk for m in listed
            if m.pk != member.pk and m.online_channel
            and spaces.share_space(caucus_side=room.caucus_side, a=member, b=m)
        ],
        "events": [event_frame(e, actor_member=by_user.get(e.actor_id or 0))
                   for e in room_events_visible(member=member, since=since)],
        "last_seq": room.last_seq,
        "record": [record_entry_payload(e) for e in entries],
        "record_version": version,
        "heartbeat_ms": 1000,
    }


def record_entry_payload(entry: RecordEntry) -> dict[str, Any]:
    return {"id": entry.pk, "text": entry.text, "tag": entry.tag, "caucus_side": entry.caucus_side,
            "supersedes": entry.supersedes_id, "released": entry.released_at is not None,
            "at": entry.created_at.isoformat()}


# --- mediator controls ----------------------------------------------------------------------------------


def _require_mediator(room: Room, actor: User) -> RoomMember:
    member = RoomMember.objects.filter(room=room, user=actor, role=ParticipantRole.MEDIATOR,
                                       state=M.ADMITTED).first()
    if member is None or tr.MEDIATOR not in case_roles(actor, room.case):
        raise PermissionDenied(_("只有主持本次调解的调解员可以这样做。"))
    return member


def _require_open(room: Room) -> None:
    if room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"))


def _target(room: Room, member: RoomMember | int) -> RoomMember:
    pk = member.pk if isinstance(member, RoomMember) else member
    found = RoomMember.objects.filter(room=room, pk=pk).first()
    if found is None:
        raise InvalidInput(_("该人员不在本调解室。"))
    return found


def _control(room: Room, actor: User) -> tuple[Room, RoomMember]:
    """Lock the room and check the actor is its mediator and the room is open."""
    locked = _lock_room(room.pk)
    _require_open(locked)
    mediator = _require_mediator(locked, actor)
    return locked, mediator


def _invited_consent_missing(case: Case) -> list[str]:
    return _consent_missing(case, ConsentKind.INVITED_PARTICIPANT)


def _consent_missing(case: Case, kind: str) -> list[str]:
    """Names of the parties whose latest answer to ``kind`` is not a standing grant."""
    if consent_all_parties_granted(case=case, kind=kind):
        return []
    missing = []
    for party in case.parties.order_by("role", "pk"):
        latest = Consent.objects.filter(case=case, party=party, kind=kind).order_by("-given_at", "-pk").first()
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            missing.append(party.name)
    return missing or [_("（无当事人）")]


def room_admit(*, room: Room, actor: User, member: RoomMember | int) -> RoomMember:
    """Let a waiting (or earlier refused) person in. Interpreters and helpers need every party's consent."""
    with transaction.atomic():
        room, mediator = _control(room, actor)
        target = _target(room, member)
        if target.state == M.ADMITTED:
            return target
        if target.state not in (M.WAITING, M.REFUSED):
            raise InvalidInput(_("该人员已离开或已被移出，不能准许入会。"))
        if target.role in INVITED_ROLES:
            missing = _invited_consent_missing(room.case)
            if missing:
                raise InvalidInput(
                    _("须经各方当事人同意，%(role)s方可参加调解。尚未同意：%(names)s。")
                    % {"role": ParticipantRole(target.role).label, "names": "、".join(missing)}
                )
        target.state, target.admitted_at = M.ADMITTED, timezone.now()
        target.save(update_fields=["state", "admitted_at"])
        _store(room, name="member.admitted", audience=spaces.either(spaces.ALL, spaces.user_audience(target.user_id)),
               actor=actor, payload=_member_payload(target), actor_member=mediator, state=_member_state(target))
        _audit("room.member_admitted", actor=actor, room=room,
               data={"member": target.pk, "role": target.role, "side": target.side})
    return target


def room_refuse(*, room: Room, actor: User, member: RoomMember | int) -> RoomMember:
    with transaction.atomic():
        room, mediator = _control(room, actor)
        target = _target(room, member)
        if target.state != M.WAITING:
            raise InvalidInput(_("只能拒绝正在等候的人员。"))
        target.state = M.REFUSED
        target.save(update_fields=["state"])
        _store(room, name="member.refused",
               audience=spaces.either(spaces.MEDIATORS, spaces.user_audience(target.user_id)),
               actor=actor, payload=_member_payload(target), actor_member=mediator, state=_member_state(target))
        _audit("room.member_refused", actor=actor, room=room, data={"member": target.pk, "role": target.role})
    return target


def room_remove(*, room: Room, actor: User, member: RoomMember | int) -> RoomMember:
    with transaction.atomic():
        room, mediator = _control(room, actor)
        target = _target(room, member)
        if target.pk == mediator.pk:
            raise InvalidInput(_("调解员不能移出自己；请结束本次调解。"))
        if target.state == M.REMOVED:
            return target
        target.state, target.online_channel = M.REMOVED, ""
        target.save(update_fields=["state", "online_channel"])
        _store(room, name="member.removed", audience=spaces.either(spaces.ALL, spaces.user_audience(target.user_id)),
               actor=actor, payload=_member_payload(target), actor_member=mediator, state=_member_state(target))
        _audit("room.member_removed", actor=actor, room=room, data={"member": target.pk, "role": target.role})
    return target


def room_mute_request(*, room: Room, actor: User, member: RoomMember | int) -> RoomEvent:
    with transaction.atomic():
        room, mediator = _control(room, actor)
        target = _target(room, member)
        if target.state != M.ADMITTED:
            raise InvalidInput(_("该人员不在会中。"))
        event = _store(room, name="member.mute_requested",
                       audience=spaces.either(spaces.MEDIATORS, spaces.user_audience(target.user_id)),
                       actor=actor, payload={"member": target.pk, "by": mediator.pk}, actor_member=mediator)
        _audit("room.mute_requested", actor=actor, room=room, data={"member": target.pk})
    return event


def room_lock(*, room: Room, actor: User, locked: bool) -> RoomEvent:
    with transaction.atomic():
        room, mediator = _control(room, actor)
        Room.objects.filter(pk=room.pk).update(locked=locked)
        room.locked = locked
        event = _store(room, name="room.locked", audience=spaces.ALL, actor=actor, payload={"locked": locked},
                       actor_member=mediator)
        _audit("room.locked" if locked else "room.unlocked", actor=actor, room=room)
    return event


def room_caucus_start(*, room: Room, actor: User, side: str) -> RoomEvent:
    """Talk with one side alone (CMed 5; OMR 16): only with every party's recorded consent to separate
    sessions. The other side waits with a notice and receives nothing from the caucus."""
    if side not in (tr.APPLICANT, tr.RESPONDENT):
        raise InvalidInput(_("请选择申请人一方或被申请人一方。"))
    with transaction.atomic():
        room, mediator = _control(room, actor)
        if room.caucus_side == side:
            raise InvalidInput(_("已在与该方背对背沟通。"))
        missing = _consent_missing(room.case, ConsentKind.SEPARATE_SESSIONS)
        if missing:
            raise InvalidInput(
                _("背对背调解须经各方当事人同意。尚未同意：%(names)s。") % {"names": "、".join(missing)}
            )
        return _set_space(room, actor=actor, mediator=mediator, side=side)


def room_caucus_end(*, room: Room, actor: User) -> RoomEvent:
    """Back to the joint session."""
    with transaction.atomic():
        room, mediator = _control(room, actor)
        if not room.caucus_side:
            raise InvalidInput(_("当前已是共同调解。"))
        return _set_space(room, actor=actor, mediator=mediator, side="")


def _set_space(room: Room, *, actor: User, mediator: RoomMember, side: str) -> RoomEvent:
    previous = room.caucus_side
    Room.objects.filter(pk=room.pk).update(caucus_side=side)
    room.caucus_side = side
    event = _store(room, name="room.space", audience=spaces.EVERYONE, actor=actor, payload={"caucus_side": side},
                   actor_member=mediator, state={"caucus_side": side})
    if side:
        _audit("room.caucus_started", actor=actor, room=room, data={"side": side, "previous": previous})
    else:
        _audit("room.caucus_ended", actor=actor, room=room, data={"side": previous})
    return event


def room_end(
    *,
    room: Room,
    actor: User,
    outcome: str,
    end_reason: str = "",
    continue_at: dt.datetime | None = None,
    note: str = "",
    cost_conduct: str = "",
    court_matters: str = "",
) -> Room:
    """End the session with an outcome: ``continue`` on a later date (the next session is scheduled for
    everyone, through the scheduling rules, so a clash refuses the end with its reason), ``agreement``
    (signing must already be open), or ``terminate`` with an OMR 25 reason, which ends the mediation through
    the state machine. For a termination ``note`` is why mediation failed, and ``cost_conduct`` and
    ``court_matters`` are OMR 21's other two entries; the failure report is made from them. The session is
    marked held."""
    note = (note or "").strip()
    cost_conduct = (cost_conduct or "").strip()
    court_matters = (court_matters or "").strip()
    if outcome not in RoomOutcome.values:
        raise InvalidInput(_("请选择本次调解的结果。"))
    if outcome == RoomOutcome.CONTINUE:
        if continue_at is None or timezone.is_naive(continue_at) or continue_at <= timezone.now():
            raise InvalidInput(_("请填写继续调解的时间（须晚于现在）。"))
        end_reason = ""
    else:
        continue_at = None
    if outcome == RoomOutcome.AGREEMENT:
        end_reason = EndReason.AGREEMENT_REACHED
    if outcome == RoomOutcome.TERMINATE and end_reason not in EndReason.values:
        raise InvalidInput(_("终结调解须选择《人民法院在线调解规则》第二十五条规定的事由。"))
    from mediation.services.cases import case_transition

    with transaction.atomic():
        room, mediator = _control(room, actor)
        case = Case.objects.select_for_update().get(pk=room.case_id)
        if outcome == RoomOutcome.AGREEMENT and case.status not in AGREEMENT_STATUSES:
            raise InvalidInput(_("请先定稿调解协议并发起签署"))
        now = timezone.now()
        # Held first: a termination cancels the sessions still scheduled, and this one took place.
        held = MediationSession.objects.filter(pk=room.session_id, status=SessionStatus.SCHEDULED).update(
            status=SessionStatus.HELD
        )
        if outcome == RoomOutcome.TERMINATE:
            case_transition(case=case, to=S.TERMINATED, actor=actor, reason=end_reason, note=note,
                            data={"room": room.pk, "session": room.session_id, "failure_reasons": note,
                                  "cost_conduct": cost_conduct, "court_matters": court_matters})
        next_session = None
        if outcome == RoomOutcome.CONTINUE:
            assert continue_at is not None
            from mediation.services.scheduling import session_schedule

            session = MediationSession.objects.get(pk=room.session_id)
            next_session = session_schedule(
                case=case, actor=actor, kind=session.kind, starts_at=continue_at,
                ends_at=continue_at + (session.ends_at - session.starts_at), venue=session.venue,
                note=_("上次调解于%(date)s举行，本次继续调解。") % {"date": f"{timezone.localtime(now):%Y-%m-%d}"},
            )
        Room.objects.filter(pk=room.pk).update(
            status=RoomStatus.ENDED, outcome=outcome, end_reason=end_reason, continue_at=continue_at, ended_at=now,
            caucus_side="",
        )
        RoomMember.objects.filter(room=room).update(online_channel="")
        payload = {"outcome": outcome, "end_reason": end_reason,
                   "continue_at": continue_at.isoformat() if continue_at else None,
                   "next_session": next_session.pk if next_session is not None else None}
        _store(room, name="room.ended", audience=spaces.EVERYONE, actor=actor, payload=payload,
               actor_member=mediator, state={"status": RoomStatus.ENDED})
        _audit("room.ended", actor=actor, room=room,
               data={**payload, "note": note, "session_held": bool(held)})
    return Room.objects.select_related("case").get(pk=room.pk)


# --- content --------------------------------------------------------------------------------------------


def _speaker(member: RoomMember) -> tuple[Room, RoomMember]:
    """Lock the room and re-read the member: only admitted members of an open room may post."""
    room = _lock_room(member.room_id)
    _require_open(room)
    fresh = RoomMember.objects.select_related("user", "party").get(pk=member.pk)
    if fresh.state != M.ADMITTED:
        raise PermissionDenied(_("调解员准许入会后才能发言。"))
    return room, fresh


def room_chat_post(*, member: RoomMember, text: str, client_id: str = "") -> RoomEvent:
    """Store a chat message for the sender's current space, then broadcast it. Idempotent by ``client_id``."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("消息不能为空。"))
    if len(text) > MAX_CHAT:
        raise InvalidInput(_("消息不能超过%(n)d个字。") % {"n": MAX_CHAT})
    client_id = str(client_id or "")[:64]
    with transaction.atomic():
        room, member = _speaker(member)
        existing = _existing(room, member.user, client_id, "chat")
        if existing is not None:
            return existing
        audience = spaces.audience_for(caucus_side=room.caucus_side, member=member)
        event = _store(room, name="chat", audience=audience, actor=member.user, client_id=client_id,
                       payload={"text": text, "name": member.display_name, "client_id": client_id},
                       actor_member=member)
        _audit("room.chat_posted", actor=member.user, room=room,
               data={"seq": event.seq, "audience": audience, "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return event


def room_file_attach(*, member: RoomMember, file: File[Any], name: str, client_id: str = "") -> RoomEvent:
    """Attach a file to the case through the same checks as any upload, and show it in the sender's space."""
    from mediation.services.evidence import evidence_upload

    client_id = str(client_id or "")[:64]
    with transaction.atomic():
        room, member = _speaker(member)
        existing = _existing(room, member.user, client_id, "file")
        if existing is not None:
            return existing
        evidence = evidence_upload(actor=member.user, file=file, title=name, case=room.case)
        audience = spaces.audience_for(caucus_side=room.caucus_side, member=member)
        payload = {"name": evidence.title, "size": evidence.size, "evidence": evidence.pk,
                   "url": reverse("evidence_download", args=[evidence.pk])}
        event = _store(room, name="file", audience=audience, actor=member.user, client_id=client_id,
                       payload=payload, actor_member=member)
        _audit("room.file_attached", actor=member.user, room=room,
               data={"seq": event.seq, "audience": audience, "evidence": evidence.pk, "sha256": evidence.sha256})
    return event


def room_record_add(
    *, member: RoomMember, text: str, tag: str = "", supersedes_id: int | None = None, client_id: str = ""
) -> RoomEvent:
    """The mediator adds an entry to the live record (OMR 22), or corrects one: a correction supersedes the
    old entry and keeps its caucus side. Entries made in a caucus are seen by that side and the mediators
    only, until the side releases them."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("笔录内容不能为空。"))
    if len(text) > MAX_RECORD:
        raise InvalidInput(_("一条笔录不能超过%(n)d个字。") % {"n": MAX_RECORD})
    if tag not in RecordTag.values:
        raise InvalidInput(_("笔录标记无效。"))
    client_id = str(client_id or "")[:64]
    with transaction.atomic():
        room, member = _speaker(member)
        _require_mediator(room, member.user)
        existing = _existing(room, member.user, client_id, "record.added")
        if existing is not None:
            return existing
        supersedes = None
        caucus_side = room.caucus_side
        if supersedes_id is not None:
            supersedes = RecordEntry.objects.filter(room=room, pk=supersedes_id).first()
            if supersedes is None:
                raise InvalidInput(_("要更正的笔录不存在。"))
            if RecordEntry.objects.filter(supersedes=supersedes).exists():
                raise InvalidInput(_("该笔录已被更正，请更正最新的版本。"))
            caucus_side = supersedes.caucus_side
        try:
            with transaction.atomic():
                entry = RecordEntry.objects.create(room=room, case=room.case, author=member.user, text=text, tag=tag,
                                                   caucus_side=caucus_side, supersedes=supersedes)
        except IntegrityError as exc:
            raise InvalidInput(_("该笔录已被更正，请更正最新的版本。")) from exc
        audience = spaces.caucus_audience(caucus_side) if caucus_side else spaces.ALL
        event = _store(room, name="record.added", audience=audience, actor=member.user, client_id=client_id,
                       payload={"entry": record_entry_payload(entry)}, actor_member=member)
        _audit("room.record_added", actor=member.user, room=room,
               data={"entry": entry.pk, "tag": tag, "caucus_side": caucus_side, "supersedes": supersedes_id,
                     "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return event


def shared_record(room: Room) -> list[RecordEntry]:
    """The record everyone may see: joint entries and released caucus entries, corrections applied."""
    from mediation.selectors.rooms import current_entries

    return [e for e in current_entries(room) if not e.caucus_side or e.released_at is not None]


def record_version(entries: list[RecordEntry]) -> str:
    """The SHA-256 a party confirms: the shared entries' ids, texts and tags in order."""
    body = [[e.pk, e.text, e.tag] for e in entries]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def room_record_view(*, member: RoomMember) -> tuple[list[RecordEntry], str]:
    """The record as ``member`` may see it, and the version of the shared record to confirm."""
    from mediation.selectors.rooms import room_record_visible

    return room_record_visible(member=member)


def room_record_confirm(*, member: RoomMember, version: str, client_id: str = "") -> RoomEvent:
    """A party (or its agent) confirms the shared record as of ``version`` (OMR 22; OLR 34)."""
    client_id = str(client_id or "")[:64]
    with transaction.atomic():
        room, member = _speaker(member)
        if member.role not in PARTY_ROLES or member.party is None:
            raise PermissionDenied(_("只有当事人或其代理人可以确认笔录。"))
        existing = _existing(room, member.user, client_id, "record.confirmed")
        if existing is not None:
            return existing
        entries = shared_record(room)
        current = record_version(entries)
        if version != current:
            raise InvalidInput(_("笔录已更新，请重新查看后再确认。"))
        if not entries:
            raise InvalidInput(_("笔录还没有内容。"))
        party = member.party
        RecordConfirmation.objects.create(room=room, party=party, user=member.user, version_sha256=current,
                                          entry_ids=[e.pk for e in entries])
        event = _store(room, name="record.confirmed", audience=spaces.ALL, actor=member.user, client_id=client_id,
                       payload={"party": party.pk, "name": member.display_name, "version": current},
                       actor_member=member)
        _audit("room.record_confirmed", actor=member.user, room=room,
               data={"party": party.pk, "version": current, "entries": [e.pk for e in entries]})
    return event


def room_record_release(*, member: RoomMember, entry_id: int, client_id: str = "") -> RoomEvent:
    """A side shares an entry recorded in its caucus with everyone."""
    client_id = str(client_id or "")[:64]
    with transaction.atomic():
        room, member = _speaker(member)
        if member.role not in PARTY_ROLES or not member.side:
            raise PermissionDenied(_("只有该方当事人或其代理人可以同意公开背对背笔录。"))
        existing = _existing(room, member.user, client_id, "record.released")
        if existing is not None:
            return existing
        entry = RecordEntry.objects.select_for_update().filter(room=room, pk=entry_id).first()
        if entry is None or entry.caucus_side != member.side:
            raise PermissionDenied(_("只能公开本方背对背时的笔录。"))
        if entry.released_at is not None:
            raise InvalidInput(_("该笔录已经公开。"))
        entry.released_at = timezone.now()
        entry.save(update_fields=["released_at"])
        event = _store(room, name="record.released", audience=spaces.ALL, actor=member.user, client_id=client_id,
                       payload={"entry": record_entry_payload(entry)}, actor_member=member)
        _audit("room.record_released", actor=member.user, room=room, data={"entry": entry.pk})
    return event


def room_leave(*, member: RoomMember) -> RoomMember:
    """The person leaves the room; coming back puts them in the waiting room again (mediators excepted)."""
    with transaction.atomic():
        room = _lock_room(member.room_id)
        fresh = RoomMember.objects.get(pk=member.pk)
        if fresh.state in (M.LEFT, M.REMOVED):
            return fresh
        fresh.state, fresh.left_at, fresh.online_channel = M.LEFT, timezone.now(), ""
        fresh.save(update_fields=["state", "left_at", "online_channel"])
        if room.status == RoomStatus.OPEN:
            _store(room, name="member.left", audience=spaces.either(spaces.ALL, spaces.user_audience(fresh.user_id)),
                   actor=fresh.user, payload=_member_payload(fresh), actor_member=fresh, state=_member_state(fresh))
        _audit("room.member_left", actor=fresh.user, room=room, data={"member": fresh.pk})
    return fresh
