"""The mediation room in a phone browser: entering from a session, the join steps (identity re-check with a
one-time code, OLR 7; device check; the SIM 14 / OMR 17 notices), the room page itself, the mediator's
invitation with a QR code, the small JSON API other clients use (``docs/protocol.md``), and file upload.

Thin: every write is one call to a room service (``mediation.services.room_entry``, ``room_record``). A
person's room member is always looked up from the signed-in user, never from anything the request names, so
nobody can act as someone else's member. People with no place in the session get 404, the same for "absent"
and "not yours".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

import segno
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST
from django_permissions_policy.decorators import permissions_policy_override

from frontend.http import JSON_ERRORS, client_ip, json_errors, signed_in_user
from frontend.inapp import open_in_browser
from mediation import spaces
from mediation.choices import (
    EndReason,
    OtpPurpose,
    ParticipantRole,
    PartyRole,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    RoomStatus,
    SelfTestVerdict,
    SessionPurpose,
)
from mediation.exceptions import (
    DomainError,
    InvalidInput,
    MemberRemoved,
    NoticesRequired,
    NotSignedIn,
    PermissionDenied,
)
from mediation.models import MediationSession, RoomMember
from mediation.permissions import access_session_place
from mediation.selectors.helpers import case_helpers
from mediation.selectors.rooms import room_for_session_get, room_get_for_user, room_phone_on_file
from mediation.selectors.scheduling import span_text, user_time_zone
from mediation.services.identity import SmsUnavailable, otp_resend_wait
from mediation.services.recording import recording_notice
from mediation.services.room_entry import (
    room_for_session,
    room_identity_code_send,
    room_identity_verify,
    room_member_get_or_create,
    room_notices_acknowledge,
    room_notices_required,
    room_token_issue,
)
from mediation.services.room_record import room_file_attach
from mediation.services.selftest import (
    Measurement,
    room_rules_text,
    selftest_advice,
    selftest_record,
    selftest_rules_accept,
)
from mediation.validators import clean_single_line, mask_phone
from realtime.echo_peer import EchoBusy, EchoOfferInvalid, echo_answer
from realtime.ice import ice_servers

AUDIO_ONLY_KEY = "room_audio_only"  # per room: the choice made on the device check, until the notices step
DEVICE_DONE_KEY = "room_device_checked"
CODE_SENT_KEY = "room_code_sent"



def _session_flag(request: HttpRequest, key: str, room_id: int) -> Any:
    return request.session.get(key, {}).get(str(room_id))


def _set_session_flag(request: HttpRequest, key: str, room_id: int, value: Any) -> None:
    flags = dict(request.session.get(key, {}))
    flags[str(room_id)] = value
    request.session[key] = flags


# --- finding the room and the person's place in it ---------------------------------------------------------


def _member(request: HttpRequest, room_id: int) -> RoomMember:
    """The signed-in user's place in room ``room_id`` (made on the first visit). Refusals go to the error
    boundary (``frontend.middleware``): ``NotFound`` for anyone without a place, ``RoomEnded`` /
    ``RoomLocked`` / ``MemberRemoved`` with the room, whose page says why it cannot be entered."""
    user = signed_in_user(request)
    room = room_get_for_user(user=user, room_id=room_id)
    member = room_member_get_or_create(room=room, user=user)
    if member.state == RoomMemberState.REMOVED:
        raise MemberRemoved(_("您已被调解员移出本次调解。"), room=member.room)
    return member


def member_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of one room for a signed-in person with a place in it: the view gets ``member``."""

    @wraps(view)
    def wrapper(request: HttpRequest, room_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, _member(request, room_id), *args, **kwargs)

    return login_required(wrapper)


def _next_step(request: HttpRequest, member: RoomMember) -> str:
    """The URL name of the first join step this person has not done, or ``room_page``."""
    if member.identity_checked_at is None:
        return "room_join_identity"
    if member.notices_acknowledged_at is None:
        if not _session_flag(request, DEVICE_DONE_KEY, member.room_id):
            return "room_join_device"
        return "room_join_notices"
    return "room_page"


def _steps(current: str) -> list[dict[str, Any]]:
    names = [("room_join_identity", _("身份核验")), ("room_join_device", _("入会自检")),
             ("room_join_notices", _("告知事项")), ("room_page", _("进入调解室"))]
    index = [n for n, _label in names].index(current)
    return [{"label": label, "done": i < index, "current": i == index} for i, (_n, label) in enumerate(names)]


def _is_mediator(member: RoomMember) -> bool:
    """Whether ``member`` presides the room: the mediator, or the judge of a verification session."""
    return member.role in spaces.PRESIDING


# --- entering from a session ---------------------------------------------------------------------------------


@open_in_browser
@login_required
@require_http_methods(["GET", "POST"])
def session_room_enter(request: HttpRequest, session_id: int) -> HttpResponse:
    """``/sessions/<id>/room/``: straight to the room's join steps once the room is open; before that, a
    button that opens it. Opening is a POST: for the mediator it starts the mediation (IN_MEDIATION)."""
    user = signed_in_user(request)
    session = MediationSession.objects.select_related("case").filter(pk=session_id).first()
    place = access_session_place(session=session, user=user)
    assert session is not None
    existing = room_for_session_get(user=user, session=session)
    if request.method == "GET" and existing is not None:
        return redirect("room_join", room_id=existing.pk)
    error = ""
    if request.method == "POST":
        try:
            room = room_for_session(session=session, actor=user)
            member = room_member_get_or_create(room=room, user=user)
        except PermissionDenied:
            raise  # no place in the session: the error boundary answers, not the form
        except DomainError as exc:
            error = str(exc)
        else:
            return redirect(_next_step(request, member), room_id=room.pk)
    return render(request, "frontend/rooms/enter.html", {
        "session": session, "case": session.case, "error": error,
        "mediator": place.role in spaces.PRESIDING,
        "verification": session.purpose == SessionPurpose.VERIFICATION,
        "when": span_text(session.starts_at, session.ends_at, user_time_zone(user)),
    })


# --- the join steps --------------------------------------------------------------------------------------------


@open_in_browser
@member_view
def room_join(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """The invitation link: send the person to the first step they have not done."""
    return redirect(_next_step(request, member), room_id=member.room_id)


@member_view
@require_http_methods(["GET", "POST"])
@ensure_csrf_cookie
def room_join_identity(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """Step 1 (OLR 7): a one-time code to the phone on file, entered here. Every session, every time."""
    room = member.room
    if member.identity_checked_at is not None:
        return redirect(_next_step(request, member), room_id=room.pk)
    try:
        phone = room_phone_on_file(member)
    except DomainError:
        phone = ""
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("send", "resend"):
                room_identity_code_send(member=member, ip_address=client_ip(request))
                _set_session_flag(request, CODE_SENT_KEY, room.pk, True)
                return redirect("room_join_identity", room_id=room.pk)
            if action == "verify":
                member = room_identity_verify(member=member, code=request.POST.get("code", ""),
                                              ip_address=client_ip(request))
                return redirect(_next_step(request, member), room_id=room.pk)
        except DomainError as exc:  # a wrong code, too many, no phone: shown on the step
            error = str(exc)
    sent = bool(_session_flag(request, CODE_SENT_KEY, room.pk))
    return render(request, "frontend/rooms/join_identity.html", {
        "room": room, "case": room.case, "member": member, "steps": _steps("room_join_identity"),
        "phone_masked": mask_phone(phone), "has_phone": bool(phone), "sent": sent, "error": error,
        "wait": otp_resend_wait(phone=phone, purpose=OtpPurpose.SESSION_JOIN) if phone else 0,
    })


# The two pages that open the camera and microphone; every other page denies them (config/settings.py).
_ROOM_POLICY: dict[str, str | list[str] | tuple[str]] = {
    **settings.PERMISSIONS_POLICY, "camera": ["self"], "microphone": ["self"],
}
room_media = permissions_policy_override(_ROOM_POLICY)


@room_media
@member_view
@require_http_methods(["GET", "POST"])
@ensure_csrf_cookie
def room_join_device(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """Step 2, the pre-join self-test (issue 14 item 1): camera preview, microphone level, a test sound and the
    network test against the server's echo peer (all in the page's script, results stored through
    ``room_selftest_result``), one verdict, and the room's rules accepted. Every session: the member is per room.
    The form can always be sent: audio only, or with the camera, whatever the verdict (never a dead end)."""
    room = member.room
    if member.identity_checked_at is None:
        return redirect("room_join_identity", room_id=room.pk)
    rules = room_rules_text()
    error = ""
    if request.method == "POST":
        audio_only = request.POST.get("audio_only") == "1"
        if request.POST.get("accept_rules") != "1":
            error = _("请阅读调解室规则，勾选“我已阅读并遵守”后再进入。")
        else:
            speaker = request.POST.get("speaker_ok", "")
            selftest_rules_accept(member=member, speaker_ok={"1": True, "0": False}.get(speaker))
            _set_session_flag(request, AUDIO_ONLY_KEY, room.pk, audio_only)
            _set_session_flag(request, DEVICE_DONE_KEY, room.pk, True)
            if member.notices_acknowledged_at is not None:
                return redirect("room_page", room_id=room.pk)
            return redirect("room_join_notices", room_id=room.pk)
    config = {
        "offer_url": reverse("room_selftest_offer", args=[room.pk]),
        "result_url": reverse("room_selftest_result", args=[room.pk]),
        "ice_servers": ice_servers(member_id=member.pk),
    }
    return render(request, "frontend/rooms/join_device.html", {
        "room": room, "case": room.case, "member": member, "steps": _steps("room_join_device"),
        "audio_only": bool(_session_flag(request, AUDIO_ONLY_KEY, room.pk)), "rules": rules, "error": error,
        "selftest_config": config,
    })


@member_view
@require_http_methods(["GET", "POST"])
def room_join_notices(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """Step 3 (SIM 14, OMR 17): the notices, each acknowledged, and the caucus consent question."""
    room = member.room
    if member.identity_checked_at is None:
        return redirect("room_join_identity", room_id=room.pk)
    notices = list(room_notices_required(room.case, member.role))
    # No caucus in the court's verification session (Interp 356): the question is not asked there.
    asks_caucus = member.role in (ParticipantRole.PARTY, ParticipantRole.AGENT) and (
        room.session.purpose != SessionPurpose.VERIFICATION)
    # The interpreters and helpers invited on the case (issue 18 item 4): a party answers PML 20's question.
    helpers = list(case_helpers(room.case)) if member.role in (ParticipantRole.PARTY, ParticipantRole.AGENT) else []
    error = ""
    checked: set[str] = set()
    caucus_answer = invited_answer = ""
    if request.method == "POST":
        checked = set(request.POST.getlist("notice"))
        caucus_answer = request.POST.get("consent_caucus", "")
        invited_answer = request.POST.get("consent_invited", "")
        missing = [n for n in notices if n.code not in checked]
        if missing:
            error = _("请阅读并逐项确认以下告知事项：%(titles)s。") % {"titles": "、".join(n.title for n in missing)}
        elif asks_caucus and caucus_answer not in ("yes", "no"):
            error = _("请回答是否同意背对背调解。")
        elif helpers and invited_answer not in ("yes", "no"):
            error = _("请回答是否同意调解员邀请的翻译人员或协助人员参加调解。")
        else:
            try:
                room_notices_acknowledge(
                    member=member, codes=[n.code for n in notices], ip_address=client_ip(request),
                    audio_only=bool(_session_flag(request, AUDIO_ONLY_KEY, room.pk)),
                    consent_caucus=(caucus_answer == "yes") if asks_caucus else None,
                    consent_invited=(invited_answer == "yes") if helpers else None,
                )
            except DomainError as exc:
                error = str(exc)
            else:
                return redirect("room_page", room_id=room.pk)
    return render(request, "frontend/rooms/join_notices.html", {
        "room": room, "case": room.case, "member": member, "steps": _steps("room_join_notices"),
        "notices": notices, "checked": checked, "asks_caucus": asks_caucus, "caucus_answer": caucus_answer,
        "helpers": helpers, "invited_answer": invited_answer, "error": error,
    })


# --- the room ----------------------------------------------------------------------------------------------------


def _agreement_url(case_id: int) -> str:
    # The agreement pages come from another part of the work; the room works without them.
    try:
        return reverse("agreement_panel", args=[case_id])
    except NoReverseMatch:
        return ""


@open_in_browser
@room_media
@member_view
@ensure_csrf_cookie
def room_page(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """The room: video, people and spaces, chat, files, the live record and (mediators) the controls."""
    room = member.room
    step = _next_step(request, member)
    if step != "room_page":
        return redirect(step, room_id=room.pk)
    mediator = _is_mediator(member)
    verification = room.session.purpose == SessionPurpose.VERIFICATION
    outcomes = [(v, label) for v, label in RoomOutcome.choices if (v == RoomOutcome.QUESTIONED) == verification]
    config = {
        "room": room.pk, "member": member.pk, "role": member.role, "side": member.side,
        "ws_path": f"/ws/room/{room.pk}/",
        "files_url": reverse("room_files", args=[room.pk]),
        "join_url": reverse("room_join", args=[room.pk]),
        "agreement_url": "" if verification else _agreement_url(room.case_id),
        "case_url": reverse("case_detail", args=[room.case_id]),
        "audio_only": member.audio_only, "mediator": mediator, "verification": verification,
        "guide": member.role == ParticipantRole.JUDGE_GUIDE,
        "roles": dict(ParticipantRole.choices),
        "tags": dict(RecordTag.choices),
        "sides": {s: str(label) for s, label in PartyRole.choices},
        "outcomes": dict(RoomOutcome.choices),
        "end_reasons": dict(EndReason.choices),
        "selftest_verdicts": dict(SelfTestVerdict.choices),
    }
    return render(request, "frontend/rooms/room.html", {
        "room": room, "case": room.case, "member": member, "mediator": mediator,
        "config": json.loads(json.dumps(config, default=str)), "ended": room.status == RoomStatus.ENDED,
        "agreement_url": config["agreement_url"],
        "tags": RecordTag.choices, "outcomes": outcomes, "verification": verification,
        "end_reasons": [(v, label) for v, label in EndReason.choices if v != EndReason.AGREEMENT_REACHED],
        "sides": PartyRole.choices, "recording_notice": recording_notice(),
        # The SFU's scripts are fetched at page load, beside the socket and the camera, when the server runs
        # Janus (the welcome still decides the mode: docs/protocol.md "Media").
        "sfu_preload": getattr(settings, "ROOM_MEDIA", "mesh") == "sfu",
    })


@member_view
def room_invite(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """The mediator's invitation: the join link and its QR code (inline SVG, nothing loaded from elsewhere)."""
    room = member.room
    if not _is_mediator(member):
        raise PermissionDenied(_("只有本案的调解员可以邀请他人进入调解室。"), case=room.case)
    link = request.build_absolute_uri(reverse("room_join", args=[room.pk]))
    qr = segno.make(link, error="m")
    return render(request, "frontend/rooms/invite.html", {
        "room": room, "case": room.case, "link": link,
        "qr_svg": qr.svg_inline(scale=5, dark="#1f2933", light="#ffffff", title=_("进入调解室的二维码")),
    })


# --- JSON: other clients, and the room page's upload ---------------------------------------------------------------


def _json_error(status: int, error: str, message: str) -> JsonResponse:
    """The answer of an API step that failed (``code_not_sent``, ``otp_invalid``): the step, not the error
    class, names what went wrong. Every other refusal is answered by the error boundary."""
    return JsonResponse({"error": error, "message": message}, status=status)


def api_view(view: Callable[..., JsonResponse]) -> Callable[..., HttpResponse]:
    """A JSON endpoint of one room, POST only. Refusals are JSON with the status their error declares: 401
    when not signed in (no redirect), 404 without a place, 410 ended, 409 locked, 403 removed."""

    @wraps(view)
    def wrapper(request: HttpRequest, room_id: int) -> HttpResponse:
        if not request.user.is_authenticated:
            raise NotSignedIn(_("请先登录。"))
        return view(request, _member(request, room_id))

    return require_POST(json_errors(wrapper))


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(_("请求内容不是有效的 JSON。")) from exc
    if not isinstance(data, dict):
        raise InvalidInput(_("请求内容应为 JSON 对象。"))
    return data


@api_view
def api_code(request: HttpRequest, member: RoomMember) -> JsonResponse:
    """Step 1 of the API: send the one-time code to the phone on file (too soon again: 429 ``throttled``)."""
    try:
        masked = room_identity_code_send(member=member, ip_address=client_ip(request))
    except (InvalidInput, SmsUnavailable) as exc:  # no usable phone, or the gateway refused: this step failed
        return _json_error(400, "code_not_sent", str(exc))
    return JsonResponse({"sent": True, "phone": masked})


@api_view
def api_token(request: HttpRequest, member: RoomMember) -> JsonResponse:
    """Step 2 of the API: verify the code (unless already done for this room), acknowledge the notices,
    and get a single-use join token for the socket."""
    data = _body(request)
    code = data.get("code", "")
    codes = data.get("notices", [])
    audio_only = data.get("audio_only", False)
    consent = data.get("consent_caucus")
    well_formed = (
        isinstance(code, str) and isinstance(codes, list) and all(isinstance(c, str) for c in codes)
        and isinstance(audio_only, bool) and consent in (None, True, False)
    )
    if not well_formed:
        raise InvalidInput(_("字段格式不正确：code 为字符串，notices 为字符串数组，audio_only 为布尔值。"))
    if member.identity_checked_at is None or code:
        try:
            member = room_identity_verify(member=member, code=code, ip_address=client_ip(request))
        except DomainError as exc:  # whatever stopped the check, this step failed: the client asks again
            return _json_error(400, "otp_invalid", str(exc))
    required = [n.code for n in room_notices_required(member.room.case, member.role)]
    if set(required) - set(codes):
        raise NoticesRequired(_("请确认全部告知事项。"), required=required)
    member = room_notices_acknowledge(member=member, codes=required, audio_only=audio_only,
                                      consent_caucus=consent, ip_address=client_ip(request))
    token, row = room_token_issue(member=member)
    return JsonResponse({
        "token": token, "ws_url": f"/ws/room/{member.room_id}/?token={token}",
        "expires_at": row.expires_at.isoformat(), "member": member.pk,
    })


@api_view
def room_files(request: HttpRequest, member: RoomMember) -> JsonResponse:
    """An upload from the room page: attached to the case through the same checks as every upload, then
    shown to the uploader's current space as a ``file`` event."""
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput(_("请选择要上传的文件。"))
    name = clean_single_line(request.POST.get("name") or "") or clean_single_line(upload.name or "")
    result = room_file_attach(member=member, file=upload, name=name)
    seq = getattr(result, "seq", None)
    return JsonResponse({"ok": True, "seq": seq}, status=201)


# --- the pre-join self-test (issue 14 item 1) ---------------------------------------------------------------


async def room_selftest_offer(request: HttpRequest, room_id: int) -> HttpResponse:
    """``POST /rooms/<id>/selftest/offer/``: the browser's SDP offer in, the echo peer's answer out
    (docs/protocol.md, "Self-test echo peer"). Only a person with a place in this session, after the identity
    step; the peer lives in this process's event loop (ASGI), bounded in time and number."""
    request.META[JSON_ERRORS] = True
    if request.method != "POST":
        return JsonResponse({"error": "method_not_allowed"}, status=405)
    user = await request.auser()
    if not user.is_authenticated:
        raise NotSignedIn(_("请先登录。"))
    member = await sync_to_async(_member)(request, room_id)
    if member.identity_checked_at is None:
        raise PermissionDenied(_("请先完成身份核验。"))
    data = _body(request)
    sdp = data.get("sdp")
    if data.get("type") != "offer" or not isinstance(sdp, str) or not sdp or len(sdp) > 20_000:
        raise InvalidInput(_("字段格式不正确：type 应为 offer，sdp 为字符串。"))
    try:
        answer = await echo_answer(sdp, ice_servers=None)
    except EchoBusy:
        return _json_error(503, "busy", _("检测服务繁忙，网络检测暂时无法进行。可以直接进入，建议先用仅音频。"))
    except EchoOfferInvalid:
        return _json_error(400, "offer_invalid", _("浏览器发来的连接请求无法处理。"))
    return JsonResponse({"type": "answer", "sdp": answer})


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(_("字段格式不正确：%(key)s 应为数字。") % {"key": key})
    return round(value)


@api_view
def room_selftest_result(request: HttpRequest, member: RoomMember) -> JsonResponse:
    """``POST /rooms/<id>/selftest/result/``: what the page measured; the verdict is computed and stored here."""
    if member.identity_checked_at is None:
        raise PermissionDenied(_("请先完成身份核验。"))
    data = _body(request)
    flags = {k: data.get(k, False) for k in ("camera_ok", "microphone_ok", "speaker_ok", "reachable")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise InvalidInput(_("字段格式不正确：camera_ok、microphone_ok、speaker_ok、reachable 为布尔值。"))
    loss = _optional_int(data, "loss_permille")
    measurement = Measurement(
        **flags, rtt_ms=_optional_int(data, "rtt_ms"),
        loss_percent=None if loss is None else Decimal(loss) / 10,
        up_kbps=_optional_int(data, "up_kbps"), down_kbps=_optional_int(data, "down_kbps"),
        duration_ms=_optional_int(data, "duration_ms"),
    )
    row = selftest_record(member=member, measurement=measurement)
    return JsonResponse({
        "id": row.pk, "verdict": row.verdict, "label": str(SelfTestVerdict(row.verdict).label),
        "advice": selftest_advice(row.verdict),
    }, status=201)
