"""Pre-computed statistics counters (D37): each day's raw counters per slice, so a court leader's
dashboard sums a few thousand rows instead of scanning every case. Built and refreshed by
``services/statistics_counters.py`` from the very queries the live figures use; never typed in."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatisticsCounter(models.Model):
    """One raw counter (``received``, ``outcome_seconds``, …) summed over one local day (Asia/Shanghai) and one
    slice: the case's court, mediation organisation (and its sector), presiding mediator and dispute type.
    Plain ids, not foreign keys: a counter outlives nothing and is rebuilt, never edited."""

    day = models.DateField(_("日期"))
    court_id = models.IntegerField(_("法院"), null=True)
    organisation_id = models.IntegerField(_("调解组织"), null=True)
    sector = models.CharField(_("行业领域"), max_length=32, blank=True, null=True)
    mediator_id = models.IntegerField(_("调解员"), null=True)
    dispute_type = models.CharField(_("纠纷类型"), max_length=32, blank=True, null=True)
    counter = models.CharField(_("计数项"), max_length=64)
    amount = models.FloatField(_("数值"))

    class Meta:
        verbose_name = _("统计计数")
        verbose_name_plural = _("统计计数")
        indexes = [
            models.Index(fields=["court_id", "day"], name="statcounter_court_day"),
            models.Index(fields=["organisation_id", "day"], name="statcounter_org_day"),
            models.Index(fields=["day"], name="statcounter_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.counter} {self.amount}"


class StatisticsCounterState(models.Model):
    """One row: the counters are complete for every day before ``counted_until`` (a local midnight); the
    figures for later times are computed live."""

    counted_until = models.DateTimeField(_("计数截至"))
    refreshed_at = models.DateTimeField(_("刷新时间"))

    class Meta:
        verbose_name = _("统计计数状态")
        verbose_name_plural = _("统计计数状态")

    def __str__(self) -> str:
        return f"counted until {self.counted_until:%Y-%m-%d %H:%M}"
