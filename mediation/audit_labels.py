"""Human-readable Chinese descriptions of audit events, for timelines a party or judge reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mediation.choices import CaseStatus, ConsentKind, TimerKind
from mediation.models import AuditEvent

_FIXED = {
    "case.created": _("创建案件"),
    "case.mediator_designated": _("指定调解员"),
    "admin.case_viewed": _("管理后台查看案件"),
    "notice.acknowledged": _("确认已阅读告知"),
    "notice.published": _("发布告知文本"),
}
_TIMER = {
    "timer.started": _("期限开始计算"),
    "timer.paused": _("期限中止"),
    "timer.resumed": _("期限恢复计算"),
    "timer.stopped": _("期限结束"),
    "timer.extended": _("期限延长"),
    "timer.expired": _("期限届满"),
}


def _choice_label(enum: type, value: object) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def audit_event_label(event: AuditEvent) -> str:
    data = event.data or {}
    if event.kind in _FIXED:
        return str(_FIXED[event.kind])
    if event.kind in _TIMER:
        detail = _choice_label(TimerKind, data.get("kind"))
        return _("%(event)s：%(detail)s") % {"event": _TIMER[event.kind], "detail": detail}
    if event.kind in ("consent.granted", "consent.refused"):
        verb = _("同意") if event.kind == "consent.granted" else _("不同意")
        return _("%(event)s：%(detail)s") % {"event": verb, "detail": _choice_label(ConsentKind, data.get("consent"))}
    if event.kind.startswith("case.") and "to" in data:
        return _("状态变更为：%(status)s") % {"status": _choice_label(CaseStatus, data["to"])}
    return event.kind
