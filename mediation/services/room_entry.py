"""Coming into the room of a session (OMR 16-17; OLR 7, 20; SIM 14, 17; PML 20): opening the room, a person's
member row, the identity re-check with a one-time code, the notices and consents, the single-use join token,
authorising a socket, presence, and leaving.

The mediator's controls are in ``room_controls``, what is said and recorded in ``room_record``, the shared
opening and event store in ``room_events``, and the reads (snapshot, record, files) in
``mediation.selectors.rooms``. Signaling (offer/answer/ICE) never comes here: the consumer relays it without
touching the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import spaces
from mediation.choices import (
    AgreementVariant,
    CaseStatus,
    ConsentKind,
    GuidanceStatus,
    OtpPurpose,
    ParticipantRole,
    RoomMemberState,
    RoomStatus,
    SessionPurpose,
    SessionStatus,
)
from mediation.exceptions import (
    ChecksRequired,
    InvalidInput,
    MemberRemoved,
    NoticesRequired,
    NotSignedIn,
    PermissionDenied,
    RoomEnded,
    RoomLocked,
    StaleState,
    TokenInvalid,
    TokenSpent,
)
from mediation.lifecycle import SESSIONS_SURVIVE, VERIFICATION_STATUSES
from mediation.models import (
    Case,
    GuidanceRequest,
    MediationSession,
    NoticeText,
    Room,
    RoomJoinToken,
    RoomMember,
    User,
)
from mediation.notices import (
    CAUCUS_CONSENT,
    INTERPRETER_DECLARATION,
    INVITED_PARTICIPANT_CONSENT,
    SESSION_NOTICE,
    SESSION_NOTICE_ENTRUSTED,
    SESSION_NOTICE_PEOPLES,
    SHAM_MEDIATION_WARNING,
    StandardText,
)
from mediation.permissions import PARTY_ROLES, Place, access_session_place, helper_of, place_key
from mediation.selectors.rooms import room_checks_done, room_members_with_room, room_phone_on_file
from mediation.services.agreements import agreement_variant_for
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.consents import consent_record, notice_acknowledge
from mediation.services.consents import notice_text_publish as _publish
from mediation.services.helpers import helper_declaration_record
from mediation.services.identity import otp_send, otp_verify
from mediation.services.recording import recording_guard_admitted
from mediation.services.room_controls import helpers_follow_party
from mediation.services.room_events import (
    lock_open_room,
    lock_room,
    member_payload,
    member_state,
    room_audit,
    store_event,
)
from mediation.validators import mask_phone

logger = logging.getLogger(__name__)

S = CaseStatus
M = RoomMemberState
REQUIRED_NOTICES: tuple[StandardText, ...] = (SESSION_NOTICE, SHAM_MEDIATION_WARNING)


# --- opening a room and coming in ----------------------------------------------------------------------


def room_for_session(*, session: MediationSession, actor: User) -> Room:
    """The room of ``session``, opened on first use. The actor must have a place in the session. When the
    mediator comes in and the case is still being scheduled, mediation starts (OMR 16-17). The room of a
    verification session is opened by its presiding judge only, while the application is under review."""
    session = MediationSession.objects.select_related("case").get(pk=session.pk)
    place = access_session_place(session=session, user=actor)
    room = Room.objects.filter(session=session).select_related("case").first()
    if room is None:
        if session.status == SessionStatus.CANCELLED:
            raise InvalidInput(_("该调解活动已取消或改期，请使用新的邀请链接。"))
        if session.status == SessionStatus.HELD:
            raise RoomEnded(_("该调解活动已经结束。"), case=session.case)
        verification = session.purpose == SessionPurpose.VERIFICATION
        if verification and place.role != ParticipantRole.JUDGE:
            raise InvalidInput(_("询问尚未开始：请等候主持的法官开始后再进入。"))
        if verification and session.case.status not in VERIFICATION_STATUSES:
            raise InvalidInput(
                _("案件当前状态为“%(status)s”，不能进行司法确认询问。")
                % {"status": CaseStatus(session.case.status).label}
            )
        if not verification and session.case.status not in SESSIONS_SURVIVE:
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
        try:
            room.case = case_transition(case=room.case, to=S.IN_MEDIATION, actor=actor,
                                        data={"room": room.pk, "session": session.pk})
        except StaleState:
            room.case.refresh_from_db()
    return room


def _place_of(member: RoomMember) -> tuple[str, str, int | None]:
    return member.role, member.side, member.party_id


def _place_changed(room: Room, member: RoomMember, place: Place) -> RoomMember:
    """``member``'s place in the case changed since they came in (an agent now acts for the other side, an
    interpreter was re-assigned): their row follows the case, and what they may see is decided afresh, so a
    non-mediator goes back to the waiting room. Everyone admitted is told, so their browsers stop sending
    media to this person at once. The room is locked by the caller."""
    before = {"role": member.role, "side": member.side, "party": member.party_id}
    is_mediator = place.role in spaces.PRESIDING
    member.role, member.side, member.party = place.role, place.side, place.party
    member.display_name = place.name[:120]
    member.state = M.ADMITTED if is_mediator else M.WAITING
    member.admitted_at = timezone.now() if is_mediator else None
    member.save(update_fields=["role", "side", "party", "display_name", "state", "admitted_at"])
    audience = spaces.either(spaces.ALL, spaces.user_audience(member.user_id))
    store_event(room, name="member.admitted" if is_mediator else "member.waiting", audience=audience, actor=None,
                payload=member_payload(member), actor_member=None, state=member_state(member))
    if is_mediator:
        recording_guard_admitted(room, member)
    room_audit("room.member_place_changed", actor=None, room=room,
               data={"member": member.pk, "before": before,
                     "after": {"role": member.role, "side": member.side, "party": member.party_id}})
    return member


def room_member_get_or_create(*, room: Room, user: User) -> RoomMember:
    """``user``'s place in ``room``: mediators are admitted at once, everyone else waits for the mediator.
    Someone who left comes back to the waiting room. A locked room takes no newcomers. A member whose place
    in the case changed since (role, side or party) is brought up to date and waits to be admitted again."""
    session = MediationSession.objects.get(pk=room.session_id)
    place = access_session_place(session=session, user=user)
    with transaction.atomic():
        room = lock_open_room(room.pk)
        member = RoomMember.objects.filter(room=room, user=user).first()
        if member is not None and member.state != M.LEFT:
            if member.state == M.REMOVED or _place_of(member) == place_key(place):
                return member
            return _place_changed(room, member, place)
        is_mediator = place.role in spaces.PRESIDING
        if room.locked and not is_mediator:
            raise RoomLocked(_("调解室已锁定，暂不接受新的入会请求。请联系调解员。"), room=room)
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
            audience = spaces.either(spaces.ALL, spaces.user_audience(user.pk))
        else:
            audience = spaces.either(spaces.MEDIATORS, spaces.user_audience(user.pk))
        store_event(room, name="member.admitted" if is_mediator else "member.waiting", audience=audience,
                    actor=user, payload=member_payload(member), actor_member=member, state=member_state(member))
        room_audit("room.member_entered", actor=user, room=room,
                   data={"member": member.pk, "role": member.role, "side": member.side, "state": member.state})
        if is_mediator:  # a presiding member comes straight in: a recording stops unless they consented
            recording_guard_admitted(room, member)
        if member.role == ParticipantRole.JUDGE_GUIDE:
            room_audit("room.guidance_joined", actor=user, room=room,
                       data={"member": member.pk, "request": _open_guidance_id(room)})
    return member


def _open_guidance_id(room: Room) -> int | None:
    return GuidanceRequest.objects.filter(room=room, status=GuidanceStatus.OPEN).values_list("pk", flat=True).first()


def room_identity_code_send(*, member: RoomMember, ip_address: str | None = None) -> str:
    """Send the session code (OLR 7: identity is re-checked at every session). Returns the masked number."""
    member = RoomMember.objects.select_related("user", "party", "room").get(pk=member.pk)
    _require_open_member(member)
    phone = room_phone_on_file(member)
    otp_send(phone=phone, purpose=OtpPurpose.SESSION_JOIN, ip_address=ip_address)
    return mask_phone(phone)


def room_identity_verify(*, member: RoomMember, code: str, ip_address: str | None = None) -> RoomMember:
    """Check the session code and record the identity re-check for this room."""
    member = RoomMember.objects.select_related("user", "party", "room").get(pk=member.pk)
    _require_open_member(member)
    phone = room_phone_on_file(member)
    otp_verify(phone=phone, purpose=OtpPurpose.SESSION_JOIN, code=code, ip_address=ip_address)  # commits failures
    return _identity_checked(member, method="sms_otp", data={"phone": mask_phone(phone), "ip": ip_address})


def _identity_checked(member: RoomMember, *, method: str, data: dict[str, Any]) -> RoomMember:
    with transaction.atomic():
        room = lock_room(member.room_id)
        now = timezone.now()
        RoomMember.objects.filter(pk=member.pk).update(identity_checked_at=now)
        member.identity_checked_at = now
        room_audit("room.identity_checked", actor=member.user, room=room,
                   data={"member": member.pk, "method": method, **data})
    return member


def session_notice_for(case: Case | None) -> StandardText:
    """The session notice whose effect-of-agreement sentence fits ``case`` (legal-rules §A11 item 2): a people's
    mediation committee's agreement needs the mediator's signature and the committee's seal too (PML 29); a 委托
    agreement goes to the court for a 调解书 (OMR 20); otherwise every party's e-signature (OMR 19)."""
    variant = agreement_variant_for(case) if case is not None else AgreementVariant.DELEGATED
    if variant == AgreementVariant.PEOPLES:
        return SESSION_NOTICE_PEOPLES
    if variant == AgreementVariant.ENTRUSTED:
        return SESSION_NOTICE_ENTRUSTED
    return SESSION_NOTICE


def room_notices_required(case: Case | None = None, role: str = "") -> list[NoticeText]:
    """The current versions of the notices everyone acknowledges before entering (SIM 14, OMR 17), the session
    notice in the version for ``case`` (``session_notice_for``); an interpreter (``role``) also accepts the
    如实翻译 declaration (issue 18 item 4)."""
    texts = [session_notice_for(case) if t is SESSION_NOTICE else t for t in REQUIRED_NOTICES]
    if role == ParticipantRole.INTERPRETER:
        texts.append(INTERPRETER_DECLARATION)
    return [_publish(code=t.code, title=t.title, body=t.body, actor=None) for t in texts]


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
    texts = room_notices_required(member.room.case, member.role)
    missing = [t.code for t in texts if t.code not in set(codes)]
    if missing:
        raise NoticesRequired(_("请阅读并确认全部告知事项后再进入调解室。"), required=[t.code for t in texts])
    answers = {ConsentKind.SEPARATE_SESSIONS: consent_caucus, ConsentKind.INVITED_PARTICIPANT: consent_invited}
    if any(v is not None for v in answers.values()) and (
        member.role not in PARTY_ROLES or member.party is None
    ):
        raise PermissionDenied(_("只有当事人本人或其代理人可以作出同意。"), case=member.room.case)
    case = member.room.case
    with transaction.atomic():
        for text in texts:
            notice_acknowledge(case=case, actor=member.user, text=text)
        helper = helper_of(member.user, case)
        if helper is not None and helper.needs_declaration:
            declaration = next(t for t in texts if t.code == INTERPRETER_DECLARATION.code)
            helper_declaration_record(helper=helper, text=declaration)
        consent_texts = room_consent_texts()
        for kind, granted in answers.items():
            if granted is not None and member.party is not None:
                consent_record(case=case, party=member.party, actor=member.user, kind=kind, granted=granted,
                               text=consent_texts[kind], ip_address=ip_address)
        room = lock_room(member.room_id)
        now = timezone.now()
        RoomMember.objects.filter(pk=member.pk).update(notices_acknowledged_at=now, audio_only=audio_only)
        member.notices_acknowledged_at, member.audio_only = now, audio_only
        room_audit("room.notices_acknowledged", actor=member.user, room=room,
                   data={"member": member.pk, "notices": {t.code: t.version for t in texts}, "audio_only": audio_only,
                         "consent_caucus": consent_caucus, "consent_invited": consent_invited})
    return member


def room_checks_record_by_command(*, member: RoomMember, command: str) -> RoomMember:
    """Development only (``manage.py join_link``, which refuses ``DEBUG=0``): record the identity
    re-check and the notices as done by the command, and say so in the audit trail."""
    member = RoomMember.objects.select_related("user", "room", "room__case").get(pk=member.pk)
    texts = room_notices_required(member.room.case, member.role)
    _identity_checked(member, method="command", data={"command": command})
    with transaction.atomic():
        room = lock_room(member.room_id)
        now = timezone.now()
        RoomMember.objects.filter(pk=member.pk).update(notices_acknowledged_at=now)
        member.notices_acknowledged_at = now
        room_audit("room.notices_acknowledged", actor=member.user, room=room,
                   data={"member": member.pk, "notices": {t.code: t.version for t in texts}, "by_command": command})
    return member


def _require_open_member(member: RoomMember) -> None:
    if member.room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"), room=member.room)
    if member.state == M.REMOVED:
        raise MemberRemoved(_("您已被调解员移出本次调解。"), room=member.room)


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
    place = access_session_place(session=room.session if room is not None else None, user=user)
    assert room is not None
    assert user is not None
    if room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"), room=room)
    found = RoomMember.objects.filter(room=room, user=user).select_related("user").first()
    if found is None or not room_checks_done(found):
        raise ChecksRequired(_("请先完成身份核验并确认告知事项。"))
    if found.state == M.REMOVED:
        raise MemberRemoved(_("您已被调解员移出本次调解。"), room=room)
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


def room_leave(*, member: RoomMember) -> RoomMember:
    """The person leaves the room; coming back puts them in the waiting room again (mediators excepted)."""
    with transaction.atomic():
        room = lock_room(member.room_id)
        fresh = RoomMember.objects.get(pk=member.pk)
        if fresh.state in (M.LEFT, M.REMOVED):
            return fresh
        fresh.state, fresh.left_at, fresh.online_channel = M.LEFT, timezone.now(), ""
        fresh.save(update_fields=["state", "left_at", "online_channel"])
        if room.status == RoomStatus.OPEN:
            store_event(room, name="member.left",
                        audience=spaces.either(spaces.ALL, spaces.user_audience(fresh.user_id)),
                        actor=fresh.user, payload=member_payload(fresh), actor_member=fresh,
                        state=member_state(fresh))
        room_audit("room.member_left", actor=fresh.user, room=room, data={"member": fresh.pk})
        helpers_follow_party(room, fresh, actor=fresh.user)
        if fresh.role == ParticipantRole.JUDGE_GUIDE:
            room_audit("room.guidance_left", actor=fresh.user, room=room,
                       data={"member": fresh.pk, "request": _open_guidance_id(room)})
    return fresh


# --- resume tokens (decisions D50) ----------------------------------------------------------------

RESUME_PREFIX = "r1."
RESUME_SALT = "yizhan.room.resume"


@dataclass(frozen=True)
class ResumeClaims:
    """What a resume token says: who (member and user), where (room, space and place when it was issued),
    how far the socket had got (``seq``) and when the person last came in by the full join (``joined``)."""

    member_id: int
    room_id: int
    user_id: int
    space: str
    place: tuple[str, str, int | None]
    seq: int
    joined: int


class ResumeRefused(Exception):
    """The token cannot prove the way back in: ``reason`` is sent with the full join's ``welcome``
    (``resume_refused``), or, with no one to join as, the socket is refused with ``close_code``."""

    CLOSE_CODES = {"forged": 4401, "room": 4401, "expired": 4409}

    def __init__(self, reason: str, *, user_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id

    @property
    def close_code(self) -> int:
        return self.CLOSE_CODES.get(self.reason, 4401)


def is_resume_token(token: str) -> bool:
    return token.startswith(RESUME_PREFIX)


def resume_space_key(*, caucus_side: str, member: spaces.MemberLike) -> str:
    """The member's space, with the caucus side (a mediator is in ``caucus`` for either side)."""
    space = spaces.space_of(caucus_side=caucus_side, member=member)
    return f"{space}:{caucus_side}" if space == spaces.CAUCUS else space


def room_resume_token(
    *, member: spaces.MemberLike, room_id: int, caucus_side: str, party_id: int | None, seq: int, joined: int
) -> str:
    """A signed resume token (no database): valid ``ROOM_RESUME_TTL`` seconds; the socket sends a fresh one
    in every ``welcome`` and in a ``resume`` frame while it is open."""
    payload = {
        "m": member.pk,
        "r": room_id,
        "u": member.user_id,
        "s": resume_space_key(caucus_side=caucus_side, member=member),
        "p": [member.role, member.side, party_id],
        "q": seq,
        "j": joined,
    }
    return RESUME_PREFIX + signing.dumps(payload, salt=RESUME_SALT, compress=False)


def room_resume_read(*, token: str, room_id: int) -> ResumeClaims:
    """Check a resume token's signature, age and room (no database). ``ResumeRefused`` with ``forged``,
    ``expired``, ``room`` or ``stale`` (the last full join is older than ``ROOM_RESUME_MAX_AGE``)."""
    if len(token) > 600:
        raise ResumeRefused("forged")
    try:
        data = signing.loads(token[len(RESUME_PREFIX) :], salt=RESUME_SALT, max_age=int(settings.ROOM_RESUME_TTL))
        claims = ResumeClaims(
            member_id=int(data["m"]),
            room_id=int(data["r"]),
            user_id=int(data["u"]),
            space=str(data["s"]),
            place=(str(data["p"][0]), str(data["p"][1]), None if data["p"][2] is None else int(data["p"][2])),
            seq=max(0, int(data["q"])),
            joined=int(data["j"]),
        )
    except signing.SignatureExpired:
        raise ResumeRefused("expired") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, IndexError):
        raise ResumeRefused("forged") from None
    if claims.room_id != room_id:
        raise ResumeRefused("room")
    if time.time() - claims.joined > int(settings.ROOM_RESUME_MAX_AGE):
        # Access to the case is checked by the full join only: make sure it runs now and then.
        raise ResumeRefused("stale", user_id=claims.user_id)
    return claims


def room_resume(*, claims: ResumeClaims, channel: str) -> tuple[RoomMember, list[RoomMember]]:
    """Let a socket back in on a resume token: one read of the room with all its members, the checks the
    token cannot prove (the room is open and not locked, the member is neither removed nor gone, their place
    and space are what they were), and the presence update. Returns the member and every member row (each
    with the room). ``ResumeRefused`` with the reason otherwise: the caller runs the full join."""
    members = room_members_with_room(room_id=claims.room_id)
    member = next((m for m in members if m.pk == claims.member_id), None)
    if member is None or member.user_id != claims.user_id:
        raise ResumeRefused("forged")
    room = member.room
    refused = _resume_refusal(room, member, claims)
    if refused:
        raise ResumeRefused(refused, user_id=member.user_id)
    room_presence_set(member=member, channel=channel)
    member.online_channel = channel[:120]
    return member, members


def _resume_refusal(room: Room, member: RoomMember, claims: ResumeClaims) -> str:
    if room.status != RoomStatus.OPEN:
        return "ended"
    if member.state == M.REMOVED:
        return "removed"
    if member.state == M.LEFT:
        return "left"
    if _place_of(member) != claims.place:
        return "place"
    if resume_space_key(caucus_side=room.caucus_side, member=member) != claims.space:
        return "space"
    if room.locked:
        return "locked"
    return ""
