"""Legal clocks as database rows (legal-rules §B4): a periodic sweep fires what is due."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import TimerKind, TimerStatus, TimerUnit


class Timer(models.Model):
    case = models.ForeignKey("mediation.Case", on_delete=models.CASCADE, related_name="timers", verbose_name=_("案件"))
    kind = models.CharField(_("期限"), max_length=24, choices=TimerKind.choices)
    unit = models.CharField(_("单位"), max_length=16, choices=TimerUnit.choices)
    length = models.PositiveIntegerField(_("期间长度"))
    started_at = models.DateTimeField(_("起算事件时间"), help_text=_("起算日不计入期间（CPL 85）。"))
    due_at = models.DateTimeField(_("届满时间"), db_index=True, help_text=_("期间最后一日结束之时；中止后重算。"))
    status = models.CharField(_("状态"), max_length=10, choices=TimerStatus.choices, default=TimerStatus.RUNNING)
    extra_days = models.PositiveIntegerField(
        _("延长天数"), default=0, help_text=_("经全体当事人同意延长的天数（OMR 24）。")
    )
    fired_at = models.DateTimeField(_("届满处理时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(
        _("到期提醒时间"), null=True, blank=True, help_text=_("届满前已提醒责任人的时间；每个期限只提醒一次。")
    )
    stopped_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    source = models.CharField(_("依据"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("法定期限")
        verbose_name_plural = _("法定期限")
        ordering = ["due_at"]
        # stopped_at / fired_at: the statistics read the clocks closed after the last counted day (D37).
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["stopped_at"], name="timer_stopped_at"),
            models.Index(fields=["fired_at"], name="timer_fired_at"),
        ]
        constraints = [
            # A contact request's clocks belong to the request, so one case may have several open (issue 18).
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(status__in=["running", "paused"])
                & ~models.Q(kind__in=["contact_first", "contact_feedback"]),
                name="one_open_timer_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.due_at:%Y-%m-%d %H:%M}"


class TimerPause(models.Model):
    """A stretch of time not counted in a period (appraisal, OMR 26)."""

    timer = models.ForeignKey(Timer, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("中止原因"), max_length=200)
    started_at = models.DateTimeField(_("中止时间"))
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("期限中止")
        verbose_name_plural = _("期限中止")
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.reason} {self.started_at:%Y-%m-%d}"


class HolidayOverride(models.Model):
    """A day whose working status the admin sets by hand, for years the calendar package does not cover."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"), help_text=_("勾选表示调休上班日；不勾选表示法定节假日。"))
    name = models.CharField(_("名称"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("休息")
        return f"{self.date} {kind} {self.name}"
