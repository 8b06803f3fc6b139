"""The pre-join self-test (issue 14 item 1): one plain verdict from what the browser measured against the
server's echo peer, the row that stores it (audited), and the room's rules accepted on the same step.

``selftest_verdict`` is the one place the thresholds live: a pure function, so the browser never decides the
verdict and the tests pin every boundary. The measurements come from the browser (``docs/protocol.md``,
"Self-test echo peer"); they are bounded here so a forged body cannot store nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import spaces
from mediation.choices import RoomMemberState, RoomStatus, SelfTestVerdict
from mediation.exceptions import InvalidInput, MemberRemoved, RoomEnded
from mediation.models import NoticeText, RoomMember, SelfTest
from mediation.notices import ROOM_RULES
from mediation.services.consents import notice_acknowledge
from mediation.services.consents import notice_text_publish as _publish
from mediation.services.room_events import lock_room, room_audit, store_event

# Video (a phone's 360p call) needs about this much each way; below TOO_WEAK_KBPS even voice breaks up.
GOOD_MIN_KBPS = 500
TOO_WEAK_KBPS = 100
GOOD_MAX_RTT_MS = 400
TOO_WEAK_RTT_MS = 1000
GOOD_MAX_LOSS = Decimal("5")
TOO_WEAK_LOSS = Decimal("15")


@dataclass(frozen=True)
class Measurement:
    """What one self-test run found. ``reachable`` False: no connection to the echo peer at all within the
    browser's time limit. ``rtt_ms`` None: the path was not measured (no WebRTC, or the server was busy)."""

    camera_ok: bool = False
    microphone_ok: bool = False
    speaker_ok: bool = False
    reachable: bool = True
    rtt_ms: int | None = None
    loss_percent: Decimal | None = None
    up_kbps: int | None = None
    down_kbps: int | None = None
    duration_ms: int | None = None


def selftest_verdict(m: Measurement) -> str:
    """视频良好 / 建议仅用语音 / 网络太弱: the weakest measure decides. Unmeasured network: audio only (we cannot
    promise video); no camera: audio only whatever the network."""
    if not m.reachable:
        return SelfTestVerdict.TOO_WEAK
    if m.rtt_ms is None or m.loss_percent is None or m.up_kbps is None or m.down_kbps is None:
        return SelfTestVerdict.AUDIO_ONLY
    rate = min(m.up_kbps, m.down_kbps)
    if m.loss_percent >= TOO_WEAK_LOSS or m.rtt_ms >= TOO_WEAK_RTT_MS or rate < TOO_WEAK_KBPS:
        return SelfTestVerdict.TOO_WEAK
    if m.loss_percent > GOOD_MAX_LOSS or m.rtt_ms > GOOD_MAX_RTT_MS or rate < GOOD_MIN_KBPS:
        return SelfTestVerdict.AUDIO_ONLY
    return SelfTestVerdict.GOOD if m.camera_ok else SelfTestVerdict.AUDIO_ONLY


def selftest_advice(verdict: str) -> str:
    """What the person should do, in one or two plain sentences."""
    return {
        SelfTestVerdict.GOOD: _("设备和网络都正常，可以用视频参加调解。"),
        SelfTestVerdict.AUDIO_ONLY: _("建议选择“仅音频”参加：声音更稳定，也更省流量。"
                                      "想用视频，可以换到信号更好的地方后重新检测。"),
        SelfTestVerdict.TOO_WEAK: _("现在的网络太弱，通话可能断断续续。请换到信号更好的地方，"
                                    "或换用无线网络（Wi-Fi）/移动数据后点“重新检测”。"
                                    "仍要进入时，将以仅音频方式进入，也可以用文字发言。"),
    }[SelfTestVerdict(verdict)]


def _require_open(member: RoomMember) -> None:
    if member.room.status != RoomStatus.OPEN:
        raise RoomEnded(_("该调解活动已经结束。"), room=member.room)
    if member.state == RoomMemberState.REMOVED:
        raise MemberRemoved(_("您已被调解员移出本次调解。"), room=member.room)


def _bounded(value: int | None, *, upper: int, name: str) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= upper:
        raise InvalidInput(_("自检结果超出范围：%(name)s。") % {"name": name})
    return value


def selftest_record(*, member: RoomMember, measurement: Measurement) -> SelfTest:
    """Store one run for ``member``'s session with the verdict computed here, audit it, and tell the
    room's mediators (a ``member.selftest`` event)."""
    m = measurement
    member = RoomMember.objects.select_related("room", "room__case", "user").get(pk=member.pk)
    _require_open(member)
    _bounded(m.rtt_ms, upper=60_000, name="rtt_ms")
    _bounded(m.up_kbps, upper=10_000_000, name="up_kbps")
    _bounded(m.down_kbps, upper=10_000_000, name="down_kbps")
    _bounded(m.duration_ms, upper=600_000, name="duration_ms")
    if m.loss_percent is not None and not Decimal(0) <= m.loss_percent <= Decimal(100):
        raise InvalidInput(_("自检结果超出范围：%(name)s。") % {"name": "loss_percent"})
    verdict = selftest_verdict(m)
    with transaction.atomic():
        # The rules, once accepted for this session, stay accepted on a later run (say "重新检测").
        previous = (SelfTest.objects.filter(session_id=member.room.session_id, user=member.user)
                    .exclude(rules_accepted_at=None).order_by("-created_at", "-id").first())
        row = SelfTest.objects.create(
            rules_version=previous.rules_version if previous else "",
            rules_accepted_at=previous.rules_accepted_at if previous else None,
            session_id=member.room.session_id, user=member.user, verdict=verdict,
            camera_ok=m.camera_ok, microphone_ok=m.microphone_ok, speaker_ok=m.speaker_ok,
            rtt_ms=m.rtt_ms, up_kbps=m.up_kbps, down_kbps=m.down_kbps, duration_ms=m.duration_ms,
            loss_percent=None if m.loss_percent is None else m.loss_percent.quantize(Decimal("0.01")),
        )
        # The mediator's waiting list shows the verdict beside the name as soon as it is known.
        room = lock_room(member.room_id)
        store_event(room, name="member.selftest", audience=spaces.MEDIATORS, actor=member.user,
                    payload={"member": member.pk, "selftest": verdict}, actor_member=member)
        room_audit("room.selftest_recorded", actor=member.user, room=room, data={
            "member": member.pk, "selftest": row.pk, "verdict": verdict, "reachable": m.reachable,
            "camera_ok": m.camera_ok, "microphone_ok": m.microphone_ok, "speaker_ok": m.speaker_ok,
            "rtt_ms": m.rtt_ms, "loss_percent": None if row.loss_percent is None else str(row.loss_percent),
            "up_kbps": m.up_kbps, "down_kbps": m.down_kbps, "duration_ms": m.duration_ms,
        })
    return row


def room_rules_text() -> NoticeText:
    """The current version of the room's rules and declaration (published on first use)."""
    return _publish(code=ROOM_RULES.code, title=ROOM_RULES.title, body=ROOM_RULES.body, actor=None)


def selftest_rules_accept(*, member: RoomMember, speaker_ok: bool | None = None) -> SelfTest:
    """The person accepted the room's rules on the self-test step: a NoticeAcknowledgement of the version
    shown, noted on their latest self-test of this session (a run with nothing measured when the page's
    script could not run one: the verdict then says audio only). ``speaker_ok``: the answer to "听到了吗",
    given after the run was stored, when given."""
    member = RoomMember.objects.select_related("room", "room__case", "user").get(pk=member.pk)
    _require_open(member)
    text = room_rules_text()
    with transaction.atomic():
        row = (SelfTest.objects.select_for_update()
               .filter(session_id=member.room.session_id, user=member.user).order_by("-created_at", "-id").first())
        if row is None:
            row = selftest_record(member=member, measurement=Measurement())
        notice_acknowledge(case=member.room.case, actor=member.user, text=text)
        row.rules_version, row.rules_accepted_at = f"{text.code}@{text.version}", timezone.now()
        fields = ["rules_version", "rules_accepted_at"]
        if speaker_ok is not None:
            row.speaker_ok = speaker_ok
            fields.append("speaker_ok")
        row.save(update_fields=fields)
        room_audit("room.rules_accepted", actor=member.user, room=member.room,
                   data={"member": member.pk, "selftest": row.pk, "text": text.code, "version": text.version,
                         "speaker_ok": speaker_ok})
    return row
