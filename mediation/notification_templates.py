"""The texts of outbox messages (SMS, e-mail, in-app), Chinese first, English through gettext.

A message is rendered once, when it is enqueued, in the recipient's language, so the outbox row holds
exactly what was sent. Texts tell people *that* something happened and where to look; they never carry
settlement content (proposals, amounts, what a party said in a session): mediation is confidential and
an SMS or e-mail leaves our hands.

Context values may be strings, lazy translations (``SessionKind(kind).label``: translated into the
message's language) or aware datetimes (written as local time in ``context["time_zone"]``, else Beijing
time). A link follows a space, so phones and ``urlize`` see where it starts. A line whose optional
placeholders are all missing or empty is left out (a session without a venue has no venue line).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

SESSION_INVITATION = "session.invitation"
SESSION_VERIFICATION_INVITATION = "session.verification_invitation"
SESSION_VERIFICATION_REMINDER = "session.verification_reminder"
SESSION_RESCHEDULED = "session.rescheduled"
SESSION_CANCELLED = "session.cancelled"
SESSION_REMINDER_24H = "session.reminder_24h"
SESSION_REMINDER_1H = "session.reminder_1h"
TIMER_REMINDER = "timer.reminder"
OBLIGATION_REMINDER = "obligation.reminder"
SERVICE_NOTICE = "service.notice"
SERVICE_SIGN_FOR_NOTICE = "service.sign_for_notice"  # a 调解书: effective only when signed for (CPL 100)
GENERIC = "generic"
APPLICATION_PREPARED = "application.prepared"

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Template:
    subject: str  # marked with gettext_noop, translated at render time
    lines: tuple[str, ...]
    required: frozenset[str]  # keys without which the message makes no sense


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


TEMPLATES: dict[str, Template] = {
    SESSION_INVITATION: Template(
        subject=gettext_noop("调解会议通知：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s（%(title)s）定于%(start)s举行%(kind)s。"),
            gettext_noop("地点：%(venue)s。"),
            gettext_noop("您的时段：%(slot)s。"),
            gettext_noop("请准时参加，详情及入口： %(link)s"),
        ),
        required=frozenset({"reference", "start", "kind"}),
    ),
    SESSION_VERIFICATION_INVITATION: Template(
        subject=gettext_noop("司法确认询问通知：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s（%(title)s）的司法确认申请正在审查，法院定于%(start)s以视频方式询问双方当事人。"),
            gettext_noop("请双方共同到场（民诉法解释第三百五十六条），准时通过以下入口参加，届时须核验身份： %(link)s"),
        ),
        required=frozenset({"reference", "start"}),
    ),
    SESSION_VERIFICATION_REMINDER: Template(
        subject=gettext_noop("司法确认询问提醒：案件%(reference)s"),
        lines=(
            gettext_noop("提醒：法院将于%(start)s以视频方式共同询问案件%(reference)s的双方当事人。"),
            gettext_noop("请提前准备好身份证件和网络环境，入口： %(link)s"),
        ),
        required=frozenset({"reference", "start"}),
    ),
    SESSION_RESCHEDULED: Template(
        subject=gettext_noop("调解会议改期：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s（%(title)s）的%(kind)s已改期至%(start)s，原定%(previous_start)s的安排取消。"),
            gettext_noop("改期原因：%(reason)s。"),
            gettext_noop("地点：%(venue)s。"),
            gettext_noop("您的时段：%(slot)s。"),
            gettext_noop("详情及入口： %(link)s"),
        ),
        required=frozenset({"reference", "start", "kind"}),
    ),
    SESSION_CANCELLED: Template(
        subject=gettext_noop("调解会议取消：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s（%(title)s）原定%(start)s举行的%(kind)s已取消。"),
            gettext_noop("取消原因：%(reason)s。"),
            gettext_noop("详情： %(link)s"),
        ),
        required=frozenset({"reference", "start", "kind"}),
    ),
    SESSION_REMINDER_24H: Template(
        subject=gettext_noop("明日调解会议提醒：案件%(reference)s"),
        lines=(
            gettext_noop("提醒：案件%(reference)s（%(title)s）的%(kind)s将于%(start)s举行。"),
            gettext_noop("地点：%(venue)s。"),
            gettext_noop("您的时段：%(slot)s。"),
            gettext_noop("请提前准备好身份证件和网络环境，入口： %(link)s"),
        ),
        required=frozenset({"reference", "start", "kind"}),
    ),
    SESSION_REMINDER_1H: Template(
        subject=gettext_noop("调解会议即将开始：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s的%(kind)s将于%(start)s开始。"),
            gettext_noop("地点：%(venue)s。"),
            gettext_noop("您的时段：%(slot)s。"),
            gettext_noop("入口： %(link)s"),
        ),
        required=frozenset({"reference", "start", "kind"}),
    ),
    TIMER_REMINDER: Template(
        subject=gettext_noop("期限提醒：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s：%(what)s将于%(when)s届满。%(hint)s"),
            gettext_noop("详情： %(link)s"),
        ),
        required=frozenset({"reference", "what", "when"}),
    ),
    # No amount or content of the clause: an SMS leaves our hands, and the agreement is confidential.
    OBLIGATION_REMINDER: Template(
        subject=gettext_noop("履行提醒：案件%(reference)s"),
        lines=(
            gettext_noop("案件%(reference)s：调解协议第%(number)s条约定的履行期限%(when)s。"),
            gettext_noop("履行后可在案件页面上传履行凭证： %(link)s"),
        ),
        required=frozenset({"reference", "number", "when"}),
    ),
    SERVICE_NOTICE: Template(
        subject=gettext_noop("送达通知：案件%(reference)s"),
        lines=(
            gettext_noop("%(serving_body)s向您送达案件%(reference)s的《%(document_title)s》。"),
            gettext_noop("文书编号：%(document_number)s。"),
            gettext_noop("请登录查阅、下载： %(link)s"),
            gettext_noop("查阅后请点击“确认收到”。送达时间依《人民法院在线诉讼规则》第三十一条确定，请及时查阅。"),
        ),
        required=frozenset({"reference", "document_title", "link"}),
    ),
    SERVICE_SIGN_FOR_NOTICE: Template(
        subject=gettext_noop("送达通知：案件%(reference)s"),
        lines=(
            gettext_noop("%(serving_body)s向您送达案件%(reference)s的《%(document_title)s》。"),
            gettext_noop("文书编号：%(document_number)s。"),
            gettext_noop("请登录查阅并签收： %(link)s"),
            gettext_noop("调解书经双方当事人签收后即具有法律效力（民事诉讼法第一百条），以您在平台上点击“签收”的时间为签收时间。"),
        ),
        required=frozenset({"reference", "document_title", "link"}),
    ),
    APPLICATION_PREPARED: Template(
        subject=gettext_noop("%(organisation)s为您准备了调解申请"),
        lines=(
            gettext_noop("%(name)s您好：%(organisation)s根据您的来访，为您准备了与%(respondent)s的调解申请草稿。"),
            gettext_noop("申请由您本人核对、补充并提交后才会送到法院；请在%(expires)s前打开： %(link)s"),
            gettext_noop("如果您没有委托该组织，请打开链接点“不是我的申请”，或忽略本短信。"),
        ),
        required=frozenset({"organisation", "name", "respondent", "link", "expires"}),
    ),
    GENERIC: Template(
        subject=gettext_noop("%(subject)s"),
        lines=(gettext_noop("%(text)s"), gettext_noop("详情： %(link)s")),
        required=frozenset({"subject", "text"}),
    ),
}


def render(*, template: str, context: Mapping[str, object], language: str) -> Rendered:
    """Subject and body of ``template`` in ``language``; ValueError for an unknown template or a missing
    required value (a programming error in the caller, not something a user can fix)."""
    try:
        spec = TEMPLATES[template]
    except KeyError:
        raise ValueError(f"Unknown notification template {template!r}") from None
    with translation.override(language):
        values = {key: _text(value, context) for key, value in context.items()}
        missing = sorted(key for key in spec.required if not values.get(key))
        if missing:
            raise ValueError(f"Template {template!r} needs {', '.join(missing)}")
        subject = _(spec.subject) % _Values(values)
        lines = []
        for line in spec.lines:
            keys = _PLACEHOLDER.findall(line)
            optional = [key for key in keys if key not in spec.required]
            if optional and not any(values.get(key) for key in optional):
                continue
            lines.append(_(line) % _Values(values))
        return Rendered(subject=subject[:200], body="\n".join(lines))


class _Values(dict[str, str]):
    """Missing keys render empty, so a line with one of several optional values still reads."""

    def __missing__(self, key: str) -> str:
        return ""


def _text(value: object, context: Mapping[str, object]) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return local_time_text(value, time_zone=str(context.get("time_zone") or ""))
    return str(value)  # lazy translations are translated here, inside the override


def local_time_text(moment: dt.datetime, *, time_zone: str = "") -> str:
    """``2026年3月5日 14:30（北京时间）`` or, for an overseas participant, the time in their zone named."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    local = timezone.localtime(moment, zone)
    beijing = str(zone) in {"Asia/Shanghai", "Asia/Chongqing", "PRC"}
    zone_name = _("北京时间") if beijing else str(zone)
    return _("%(y)d年%(m)d月%(d)d日 %(h)02d:%(min)02d（%(zone)s）") % {
        "y": local.year, "m": local.month, "d": local.day, "h": local.hour, "min": local.minute, "zone": zone_name,
    }


def site_url(viewname: str, *, args: tuple[object, ...] = (), language: str = "") -> str:
    """The absolute address of a page for a message (an SMS or e-mail has no request to build it from)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        path = reverse(viewname, args=args)
    return (settings.SITE_URL or "").rstrip("/") + path
