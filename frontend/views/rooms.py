"""The mediation room in a phone browser: entering from a session, the join steps (identity re-check with a
one-time code, OLR 7; device check; the SIM 14 / OMR 17 notices), the room page itself, the mediator's
invitation with a QR code, the small JSON API other clients use (``docs/protocol.md``), and file upload.

Thin: every write is one call to ``mediation.services.rooms``. A person's room member is always looked up
from the signed-in user, never from anything the request names, so nobody can act as someone else's
member. People with no place in the session get 404, the same for "absent" and "not yours".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST

from frontend.http import client_ip, signed_in_user
from mediation.choices import (
    EndReason,
    OtpPurpose,
    ParticipantRole,
    PartyRole,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    RoomStatus,
)
from mediation.exceptions import DomainError, InvalidInput
from mediation.exceptions import PermissionDenied as DomainPermissionDenied
from mediation.models import MediationSession, Room, RoomMember
from mediation.selectors.rooms import room_for_session_get, room_get_for_user
from mediation.services.identity import OtpThrottled, otp_resend_wait
from mediation.services.rooms import (
    NoticesRequired,
    room_file_attach,
    room_for_session,
    room_identity_code_send,
    room_identity_verify,
    room_member_get_or_create,
    room_notices_acknowledge,
    room_notices_required,
    room_phone_on_file,
    room_token_issue,
    session_place,
)
from mediation.services.scheduling import span_text, user_time_zone
from mediation.validators import clean_single_line, mask_phone

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


class RoomClosed(Exception):
    """The room cannot be entered now (ended, locked, removed): the page says why."""

    def __init__(self, room: Room, message: str) -> None:
        super().__init__(message)
        self.room = room
        self.message = message


def _member_or_404(request: HttpRequest, room_id: int) -> RoomMember:
    """The signed-in user's place in room ``room_id`` (made on the first visit); 404 for anyone without one."""
    user = signed_in_user(request)
    try:
        room = room_get_for_user(user=user, room_id=room_id)
    except DomainPermissionDenied as exc:
        raise Http404(str(exc)) from exc
    try:
        return room_member_get_or_create(room=room, user=user)
    except DomainPermissionDenied as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:  # ended, or locked against newcomers
        raise RoomClosed(room, str(exc)) from exc


def _closed_page(request: HttpRequest, closed: RoomClosed) -> HttpResponse:
    room = closed.room
    return render(request, "frontend/rooms/closed.html", {
        "room": room, "case": room.case, "message": closed.message, "ended": room.status == RoomStatus.ENDED,
        "outcome": RoomOutcome(room.outcome).label if room.outcome else "",
        "end_reason": EndReason(room.end_reason).label if room.end_reason else "",
    }, status=409)


def member_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of one room for a signed-in person with a place in it: the view gets ``member``."""

    @wraps(view)
    def wrapper(request: HttpRequest, room_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            member = _member_or_404(request, room_id)
        except RoomClosed as closed:
            return _closed_page(request, closed)
        if member.state == RoomMemberState.REMOVED:
            return _closed_page(request, RoomClosed(member.room, _("您已被调解员移出本次调解。")))
        return view(request, member, *args, **kwargs)

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
    names = [("room_join_identity", _("身份核验")), ("room_join_device", _("设备检测")),
             ("room_join_notices", _("告知事项")), ("room_page", _("进入调解室"))]
    index = [n for n, _label in names].index(current)
    return [{"label": label, "done": i < index, "current": i == index} for i, (_n, label) in enumerate(names)]


def _is_mediator(member: RoomMember) -> bool:
    return member.role == ParticipantRole.MEDIATOR


# --- entering from a session ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def session_room_enter(request: HttpRequest, session_id: int) -> HttpResponse:
    """``/sessions/<id>/room/``: straight to the room's join steps once the room is open; before that, a
    button that opens it. Opening is a POST: for the mediator it starts the mediation (IN_MEDIATION)."""
    user = signed_in_user(request)
    session = MediationSession.objects.select_related("case").filter(pk=session_id).first()
    place = session_place(session=session, user=user) if session is not None else None
    if session is None or place is None:
        raise Http404(_("调解活动不存在或您无权参加。"))
    existing = room_for_session_get(user=user, session=session)
    if request.method == "GET" and existing is not None:
        return redirect("room_join", room_id=existing.pk)
    error = ""
    if request.method == "POST":
        try:
            room = room_for_session(session=session, actor=user)
            member = room_member_get_or_create(room=room, user=user)
        except DomainPermissionDenied as exc:
            raise Http404(str(exc)) from exc
        except DomainError as exc:
            error = str(exc)
        else:
            return redirect(_next_step(request, member), room_id=room.pk)
    return render(request, "frontend/rooms/enter.html", {
        "session": session, "case": session.case, "error": error,
        "mediator": place.role == ParticipantRole.MEDIATOR,
        "when": span_text(session.starts_at, session.ends_at, user_time_zone(user)),
    })


# --- the join steps --------------------------------------------------------------------------------------------


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
        except DomainPermissionDenied as exc:
            raise Http404(str(exc)) from exc
        except DomainError as exc:
            error = str(exc)
    sent = bool(_session_flag(request, CODE_SENT_KEY, room.pk))
    return render(request, "frontend/rooms/join_identity.html", {
        "room": room, "case": room.case, "member": member, "steps": _steps("room_join_identity"),
        "phone_masked": mask_phone(phone), "has_phone": bool(phone), "sent": sent, "error": error,
        "wait": otp_resend_wait(phone=phone, purpose=OtpPurpose.SESSION_JOIN) if phone else 0,
    })


@member_view
@require_http_methods(["GET", "POST"])
def room_join_device(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """Step 2: camera and microphone preview (in the page's script), and the choice of audio only."""
    room = member.room
    if member.identity_checked_at is None:
        return redirect("room_join_identity", room_id=room.pk)
    if request.method == "POST":
        _set_session_flag(request, AUDIO_ONLY_KEY, room.pk, request.POST.get("audio_only") == "1")
        _set_session_flag(request, DEVICE_DONE_KEY, room.pk, True)
        if member.notices_acknowledged_at is not None:
            return redirect("room_page", room_id=room.pk)
        return redirect("room_join_notices", room_id=room.pk)
    return render(request, "frontend/rooms/join_device.html", {
        "room": room, "case": room.case, "member": member, "steps": _steps("room_join_device"),
        "audio_only": bool(_session_flag(request, AUDIO_ONLY_KEY, room.pk)),
    })


@member_view
@require_http_methods(["GET", "POST"])
def room_join_notices(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """Step 3 (SIM 14, OMR 17): the notices, each acknowledged, and the caucus consent question."""
    room = member.room
    if member.identity_checked_at is None:
        return redirect("room_join_identity", room_id=room.pk)
    notices = list(room_notices_required())
    asks_caucus = member.role in (ParticipantRole.PARTY, ParticipantRole.AGENT)
    error = ""
    checked: set[str] = set()
    caucus_answer = ""
    if request.method == "POST":
        checked = set(request.POST.getlist("notice"))
        caucus_answer = request.POST.get("consent_caucus", "")
        missing = [n for n in notices if n.code not in checked]
        if missing:
            error = _("请阅读并逐项确认以下告知事项：%(titles)s。") % {"titles": "、".join(n.title for n in missing)}
        elif asks_caucus and caucus_answer not in ("yes", "no"):
            error = _("请回答是否同意背对背调解。")
        else:
            try:
                room_notices_acknowledge(
                    member=member, codes=[n.code for n in notices], ip_address=client_ip(request),
                    audio_only=bool(_session_flag(request, AUDIO_ONLY_KEY, room.pk)),
                    consent_caucus=(caucus_answer == "yes") if asks_caucus else None,
                )
            except DomainPermissionDenied as exc:
                raise Http404(str(exc)) from exc
            except DomainError as exc:
                error = str(exc)
            else:
                return redirect("room_page", room_id=room.pk)
    return render(request, "frontend/rooms/join_notices.html", {
        "room": room, "case": room.case, "member": member, "steps": _steps("room_join_notices"),
        "notices": notices, "checked": checked, "asks_caucus": asks_caucus, "caucus_answer": caucus_answer,
        "error": error,
    })


# --- the room ----------------------------------------------------------------------------------------------------


def _agreement_url(case_id: int) -> str:
    # The agreement pages come from another part of the work; the room works without them.
    try:
        return reverse("agreement_panel", args=[case_id])
    except NoReverseMatch:
        return ""


def _strings() -> dict[str, str]:
    """Every text room.js shows, translated here so the script holds no language of its own."""
    return {
        "joint": _("共同调解"), "caucus": _("背对背调解"), "lobby": _("等候室"), "waiting": _("等候中"),
        "caucus_with": _("调解员正在与%(side)s单独沟通"),
        "caucus_wait": _(
            "调解员正在与%(side)s单独沟通（背对背调解）。请在此稍候，您的音视频和文字不会被对方看到，"
            "也看不到对方的单独沟通内容。"
        ),
        "lobby_wait": _("请稍候，调解员确认后您将进入调解室。"),
        "refused": _("调解员未同意您进入本次调解。如有疑问，请联系调解员或法院诉讼服务中心。"),
        "removed": _("您已被调解员移出调解室。"),
        "ended": _("本次调解已结束。"), "status_ended": _("已结束"),
        "disconnected": _("已断开与调解室的连接"),
        "replaced": _("您已在其他页面或设备上进入调解室，本页面已断开。"),
        "not_found": _("调解室不存在或您无权进入。"),
        "sign_in": _("请先登录。"),
        "checks": _("请先完成身份核验和告知确认。"),
        "reconnecting": _("网络中断，正在重新连接…"),
        "beijing_time": _("北京时间"), "local_time": _("本机时间"),
        "connecting": _("正在连接…"),
        "tap_sound": _("轻触屏幕开启声音"),
        "you": _("我"), "online": _("在线"), "offline": _("离线"),
        "muted": _("已静音"), "audio_only": _("仅音频"),
        "net_good": _("网络良好"), "net_fair": _("网络一般"), "net_poor": _("网络较差"), "net_none": _("无连接"),
        "mic_on": _("静音"), "mic_off": _("取消静音"), "cam_on": _("关闭视频"), "cam_off": _("开启视频"),
        "audio_only_on": _("恢复视频"), "audio_only_off": _("仅音频"),
        "admit": _("允许进入"), "refuse": _("拒绝"), "remove": _("移出"), "ask_mute": _("请其静音"),
        "confirm_remove": _("确定将%(name)s移出调解室吗？"),
        "mute_request": _("调解员请您将麦克风静音。"), "mute_now": _("立即静音"), "dismiss": _("知道了"),
        "sending": _("发送中…"), "send_failed": _("未送达，恢复连接后将自动重发"),
        "uploading": _("正在上传…"), "uploaded": _("已上传"), "upload_failed": _("上传失败"),
        "record_empty": _("暂无笔录内容。"),
        "record_confirm": _("确认以上笔录内容"),
        "record_confirmed_by": _("%(name)s已确认笔录（版本 %(version)s）"),
        "record_caucus": _("背对背记录，仅%(side)s与调解员可见"),
        "record_release": _("同意向对方公开此条"),
        "record_correct": _("更正"),
        "record_correcting": _("更正："),
        "error": _("操作未成功"),
        "camera_denied": _("未获得摄像头或麦克风权限，已以仅音频或无音视频方式进入。可在浏览器设置中允许后刷新页面。"),
        "camera_denied_audio": _(
            "未获得摄像头权限：您以仅音频方式参加，其他人能听到您，但看不到您。需要视频时，请在浏览器的网站设置中"
            "允许使用摄像头，再点“重试”。"
        ),
        "camera_denied_none": _(
            "未获得摄像头和麦克风权限：其他人看不到也听不到您，您仍可通过“文字”参与。请在浏览器的网站设置中"
            "允许使用摄像头和麦克风，再点“重试”；也可改用电话联系调解员。"
        ),
        "no_camera": _("未检测到可用的摄像头：您以仅音频方式参加。"),
        "no_media": _("未检测到可用的摄像头或麦克风，您仍可通过文字参与。"),
        "locked_out": _("调解室已被调解员锁定，暂不接受进入。请联系调解员解除锁定后再进入。"),
        "chat_empty": _("暂无消息。"),
        "agreement_error": _("调解协议暂时无法加载。"),
        "locked": _("已锁定"), "unlocked": _("未锁定"), "lock": _("锁定调解室"), "unlock": _("解除锁定"),
        "applicant": str(PartyRole.APPLICANT.label) + _("方"), "respondent": str(PartyRole.RESPONDENT.label) + _("方"),
        "file": _("文件"),
        "scope_all": _("文字消息和文件：调解室内所有人可见。"),
        "scope_caucus": _("文字消息和文件：仅调解员与%(side)s可见，对方看不到。"),
        "scope_side": _("文字消息和文件：仅本方人员可见。"),
    }


@member_view
@ensure_csrf_cookie
def room_page(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """The room: video, people and spaces, chat, files, the live record and (mediators) the controls."""
    room = member.room
    step = _next_step(request, member)
    if step != "room_page":
        return redirect(step, room_id=room.pk)
    mediator = _is_mediator(member)
    config = {
        "room": room.pk, "member": member.pk, "role": member.role, "side": member.side,
        "ws_path": f"/ws/room/{room.pk}/",
        "files_url": reverse("room_files", args=[room.pk]),
        "join_url": reverse("room_join", args=[room.pk]),
        "agreement_url": _agreement_url(room.case_id),
        "case_url": reverse("case_detail", args=[room.case_id]),
        "audio_only": member.audio_only, "mediator": mediator,
        "strings": _strings(),
        "roles": dict(ParticipantRole.choices),
        "tags": dict(RecordTag.choices),
        "sides": {s: str(label) for s, label in PartyRole.choices},
        "outcomes": dict(RoomOutcome.choices),
        "end_reasons": dict(EndReason.choices),
    }
    return render(request, "frontend/rooms/room.html", {
        "room": room, "case": room.case, "member": member, "mediator": mediator,
        "config": json.loads(json.dumps(config, default=str)), "ended": room.status == RoomStatus.ENDED,
        "agreement_url": config["agreement_url"],
        "tags": RecordTag.choices, "outcomes": RoomOutcome.choices,
        "end_reasons": [(v, label) for v, label in EndReason.choices if v != EndReason.AGREEMENT_REACHED],
        "sides": PartyRole.choices,
    })


@member_view
def room_invite(request: HttpRequest, member: RoomMember) -> HttpResponse:
    """The mediator's invitation: the join link and its QR code (inline SVG, nothing loaded from elsewhere)."""
    room = member.room
    if not _is_mediator(member):
        return render(request, "frontend/case_actions/refused.html", {
            "case": room.case, "message": _("只有本案的调解员可以邀请他人进入调解室。"),
        }, status=403)
    link = request.build_absolute_uri(reverse("room_join", args=[room.pk]))
    qr = segno.make(link, error="m")
    return render(request, "frontend/rooms/invite.html", {
        "room": room, "case": room.case, "link": link,
        "qr_svg": qr.svg_inline(scale=5, dark="#1f2933", light="#ffffff", title=_("进入调解室的二维码")),
    })


# --- JSON: other clients, and the room page's upload ---------------------------------------------------------------


def _json_error(status: int, error: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": error, "message": message, **extra}, status=status)


def api_view(view: Callable[..., JsonResponse]) -> Callable[..., HttpResponse]:
    """A JSON endpoint of one room: 401 when not signed in (no redirect), 404 without a place, POST only."""

    @wraps(view)
    def wrapper(request: HttpRequest, room_id: int) -> HttpResponse:
        if not request.user.is_authenticated:
            return _json_error(401, "not_signed_in", _("请先登录。"))
        try:
            member = _member_or_404(request, room_id)
        except Http404:
            return _json_error(404, "not_found", _("调解室不存在或您无权进入。"))
        except RoomClosed as closed:
            ended = closed.room.status == RoomStatus.ENDED
            return _json_error(410 if ended else 409, "ended" if ended else "refused", closed.message)
        if member.state == RoomMemberState.REMOVED:
            return _json_error(403, "removed", _("您已被调解员移出本次调解。"))
        return view(request, member)

    return require_POST(wrapper)


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
    """Step 1 of the API: send the one-time code to the phone on file."""
    try:
        masked = room_identity_code_send(member=member, ip_address=client_ip(request))
    except OtpThrottled as exc:
        return _json_error(429, "throttled", str(exc), retry_after=exc.retry_after)
    except DomainError as exc:
        return _json_error(400, "code_not_sent", str(exc))
    return JsonResponse({"sent": True, "phone": masked})


@api_view
def api_token(request: HttpRequest, member: RoomMember) -> JsonResponse:
    """Step 2 of the API: verify the code (unless already done for this room), acknowledge the notices,
    and get a single-use join token for the socket."""
    try:
        data = _body(request)
    except InvalidInput as exc:
        return _json_error(400, "invalid", str(exc))
    code = data.get("code", "")
    codes = data.get("notices", [])
    audio_only = data.get("audio_only", False)
    consent = data.get("consent_caucus")
    well_formed = (
        isinstance(code, str) and isinstance(codes, list) and all(isinstance(c, str) for c in codes)
        and isinstance(audio_only, bool) and consent in (None, True, False)
    )
    if not well_formed:
        return _json_error(
            400, "invalid", _("字段格式不正确：code 为字符串，notices 为字符串数组，audio_only 为布尔值。")
        )
    if member.identity_checked_at is None or code:
        try:
            member = room_identity_verify(member=member, code=code, ip_address=client_ip(request))
        except DomainError as exc:
            return _json_error(400, "otp_invalid", str(exc))
    required = [n.code for n in room_notices_required()]
    if set(required) - set(codes):
        return _json_error(400, "notices_required", _("请确认全部告知事项。"), required=required)
    try:
        member = room_notices_acknowledge(member=member, codes=required, audio_only=audio_only,
                                          consent_caucus=consent, ip_address=client_ip(request))
        token, row = room_token_issue(member=member)
    except NoticesRequired as exc:
        return _json_error(400, "notices_required", str(exc), required=exc.required)
    except DomainPermissionDenied as exc:
        return _json_error(403, "forbidden", str(exc))
    except DomainError as exc:
        return _json_error(400, "refused", str(exc))
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
        return _json_error(400, "invalid", _("请选择要上传的文件。"))
    name = clean_single_line(request.POST.get("name") or "") or clean_single_line(upload.name or "")
    try:
        result = room_file_attach(member=member, file=upload, name=name)
    except DomainError as exc:
        return _json_error(400, "refused", str(exc))
    seq = getattr(result, "seq", None)
    return JsonResponse({"ok": True, "seq": seq}, status=201)
