"""Mediation sessions, who takes part and how, venues and working hours (OMR 16-17)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import AttendanceMode, ParticipantRole, SessionKind, SessionPurpose, SessionStatus


class Venue(models.Model):
    """A room with equipment where a party without a phone can take part (OMR 16(2))."""

    organisation = models.ForeignKey("mediation.Organisation", on_delete=models.PROTECT, related_name="venues")
    name = models.CharField(_("名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=200)
    has_video_equipment = models.BooleanField(_("配备音视频设备"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("调解场所")
        verbose_name_plural = _("调解场所")

    def __str__(self) -> str:
        return self.name


class MediationSession(models.Model):
    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="sessions")
    kind = models.CharField(_("方式"), max_length=16, choices=SessionKind.choices)
    purpose = models.CharField(
        _("用途"), max_length=16, choices=SessionPurpose.choices, default=SessionPurpose.MEDIATION,
        help_text=_("调解，或法院司法确认审查中的共同询问（民诉法解释第三百五十六条），由法官主持。"),
    )
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    venue = models.ForeignKey(Venue, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(_("状态"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    note = models.TextField(_("说明"), blank=True)
    cancel_reason = models.TextField(_("取消/改期理由"), blank=True)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rescheduled_to"
    )
    created_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sequence = models.PositiveIntegerField(default=0, help_text=_("iCalendar SEQUENCE：每次修改加一。"))

    class Meta:
        verbose_name = _("调解活动")
        verbose_name_plural = _("调解活动")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.starts_at:%Y-%m-%d %H:%M}"


class SessionParticipant(models.Model):
    """One person's place in a session. In separate slots each party has its own window (OMR 16(1))."""

    session = models.ForeignKey(MediationSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("身份"), max_length=12, choices=ParticipantRole.choices)
    attendance = models.CharField(_("参加方式"), max_length=10, choices=AttendanceMode.choices,
                                  default=AttendanceMode.ONLINE)
    slot_starts_at = models.DateTimeField(_("分别调解开始时间"), null=True, blank=True)
    slot_ends_at = models.DateTimeField(_("分别调解结束时间"), null=True, blank=True)
    time_zone = models.CharField(_("时区"), max_length=40, default="Asia/Shanghai")

    class Meta:
        verbose_name = _("参加人员")
        verbose_name_plural = _("参加人员")

    def __str__(self) -> str:
        return f"{self.session_id} {self.get_role_display()}"


class WorkingHours(models.Model):
    """When someone can attend, in their own time zone (overseas parties, a lawyer's court days)."""

    user = models.ForeignKey("mediation.User", on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(_("星期"), help_text=_("0 = 周一 … 6 = 周日"))
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    time_zone = models.CharField(_("时区"), max_length=40, default="Asia/Shanghai")

    class Meta:
        verbose_name = _("可参加时间")
        verbose_name_plural = _("可参加时间")
        ordering = ["user", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.user} {self.weekday} {self.start}-{self.end}"


class CalendarFeedToken(models.Model):
    """The secret in a person's private iCalendar feed URL; rotating it revokes the old URL."""

    user = models.OneToOneField("mediation.User", on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("日历订阅")
        verbose_name_plural = _("日历订阅")

    def __str__(self) -> str:
        return str(self.user)
