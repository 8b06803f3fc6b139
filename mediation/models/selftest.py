"""The pre-join self-test of one person for one session (issue 14): devices, the path to the server's echo
peer, one verdict, and the room's rules accepted. Each run is a row; the latest per (session, user) counts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import SelfTestVerdict


class SelfTest(models.Model):
    session = models.ForeignKey("mediation.MediationSession", on_delete=models.CASCADE, related_name="self_tests")
    user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("自检结论"), max_length=12, choices=SelfTestVerdict.choices)
    camera_ok = models.BooleanField(_("摄像头可用"), default=False)
    microphone_ok = models.BooleanField(_("麦克风可用"), default=False)
    speaker_ok = models.BooleanField(_("扬声器可用"), default=False)
    rtt_ms = models.PositiveIntegerField(_("往返时延（毫秒）"), null=True, blank=True)
    loss_percent = models.DecimalField(_("丢包率（%）"), max_digits=5, decimal_places=2, null=True, blank=True)
    up_kbps = models.PositiveIntegerField(_("上行（kbps）"), null=True, blank=True)
    down_kbps = models.PositiveIntegerField(_("下行（kbps）"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("自检用时（毫秒）"), null=True, blank=True)
    rules_version = models.CharField(_("已接受的会场规则版本"), max_length=40, blank=True)
    rules_accepted_at = models.DateTimeField(_("接受会场规则时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("自检时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("入会前自检")
        verbose_name_plural = _("入会前自检")
        indexes = [models.Index(fields=["session", "user", "-created_at"], name="selftest_latest")]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.user_id}: {self.verdict}"
