"""API clients (a partner organisation's or a court's system), their hashed tokens, webhook subscriptions and
the log of every delivery attempt."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CASES_READ = "cases:read", _("读取案件状态与文书")
    REFERRALS_WRITE = "referrals:write", _("提交委派/委托调解及材料")
    COURT_WRITE = "court:write", _("推送法院案号")
    WEBHOOKS = "webhooks", _("订阅状态变更通知")
    APPLICATIONS_WRITE = "applications:write", _("为当事人准备调解申请（由当事人本人确认提交）")
    COURT_DOCUMENTS_WRITE = "court-documents:write", _("推送本院系统出具的裁定书、调解书")
    STATISTICS_READ = "statistics:read", _("读取本院（含下级法院）或本组织的统计数据")


class ApiClient(models.Model):
    """One system that calls the API, on behalf of one organisation. It acts as ``acting_user``, an account
    holding the memberships the reused services check (a court system's account is a clerk of that court), so
    the API can do nothing its organisation's staff could not do on the web pages."""

    name = models.CharField(_("名称"), max_length=120)
    organisation = models.ForeignKey("mediation.Organisation", on_delete=models.PROTECT, related_name="api_clients",
                                     verbose_name=_("所属机构"))
    acting_user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="api_clients",
                                    verbose_name=_("代表账户"))
    scopes = models.JSONField(_("权限范围"), default=list, help_text=_("例如 [\"cases:read\", \"webhooks\"]。"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """Only the SHA-256 of a token is stored; ``prefix`` (shown in logs and the admin) tells tokens apart."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=12, db_index=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        # The throttle keys its counter on this: one budget per client, however many tokens it holds.
        return f"api-client-{self.client_id}"


class WebhookSubscription(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("接收地址"), max_length=500)
    # Kept in clear: signing needs it at every attempt. Shown once, when the subscription is made.
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("状态变更订阅")
        verbose_name_plural = _("状态变更订阅")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscriber; the outbox row carries it (retries, back-off, leases)."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    message = models.OneToOneField("mediation.OutboxMessage", on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=36, unique=True)
    event_type = models.CharField(max_length=40)
    case = models.ForeignKey("mediation.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.event_id


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("投递尝试")
        verbose_name_plural = _("投递尝试")
        ordering = ["delivery", "number", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number} {self.status_code or self.error}"
