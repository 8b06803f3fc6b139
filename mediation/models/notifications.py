"""The outbox: every message is a row written in the same transaction as the change that caused it,
delivered later by a worker with retries, and never sent twice (idempotency key)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import MessageChannel, OutboxStatus


class OutboxMessage(models.Model):
    channel = models.CharField(_("渠道"), max_length=8, choices=MessageChannel.choices)
    recipient = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("地址"), max_length=200, help_text=_("手机号码或电子邮箱；站内消息为空。"))
    case = models.ForeignKey("mediation.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    template = models.CharField(_("模板"), max_length=60)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    idempotency_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(_("状态"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True, help_text=_("工作进程的租约，到期可被他人重新认领。"))
    last_error = models.TextField(_("最近错误"), blank=True)
    provider_id = models.CharField(_("服务商消息编号"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} {self.address} {self.template}"
