"""Electronic service (电子送达) with the record the e-service certificate is made from (OLR 29-33; §C7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import AddressSource, ServiceChannel, ServiceRule


class ServiceRecord(models.Model):
    """One document served on one recipient, over one or more channels; the earliest effective channel counts."""

    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="service_records")
    recipient = models.ForeignKey("mediation.Party", on_delete=models.PROTECT, related_name="service_records")
    served_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    serving_body = models.ForeignKey("mediation.Organisation", on_delete=models.PROTECT, related_name="+")
    document_title = models.CharField(_("文书名称"), max_length=200)
    document_number = models.CharField(_("文书编号"), max_length=80, blank=True)
    document_sha256 = models.CharField(_("文书哈希"), max_length=64)
    document_pages = models.PositiveIntegerField(_("页数"), null=True, blank=True)
    document_file = models.FileField(upload_to="served/", max_length=200, blank=True)
    certificate_number = models.CharField(_("电子送达凭证编号"), max_length=40, unique=True)
    effective_at = models.DateTimeField(_("送达生效时间"), null=True, blank=True)
    effective_channel = models.CharField(_("生效渠道"), max_length=10, choices=ServiceChannel.choices, blank=True)
    rule = models.CharField(_("适用规则"), max_length=12, choices=ServiceRule.choices, blank=True)
    paper_copy_requested_at = models.DateTimeField(_("申请纸质文书时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("送达时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("电子送达记录")
        verbose_name_plural = _("电子送达记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="servicerecord_created_at")]

    def __str__(self) -> str:
        return f"{self.certificate_number} {self.document_title}"


class ServiceDelivery(models.Model):
    """One channel of one service: each moment the rules care about (§C7)."""

    record = models.ForeignKey(ServiceRecord, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=10, choices=ServiceChannel.choices)
    address = models.CharField(_("送达地址"), max_length=200)
    address_source = models.CharField(_("地址来源"), max_length=10, choices=AddressSource.choices)
    message = models.ForeignKey(
        "mediation.OutboxMessage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到达系统时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅知时间"), null=True, blank=True)
    acted_at = models.DateTimeField(_("回复或下载时间"), null=True, blank=True)
    action = models.CharField(_("受送达人行为"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("送达渠道记录")
        verbose_name_plural = _("送达渠道记录")
        constraints = [models.UniqueConstraint(fields=["record", "channel"], name="one_delivery_per_channel")]

    def __str__(self) -> str:
        return f"{self.record_id} {self.channel}"
