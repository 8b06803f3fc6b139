"""Consents and notices, each tied to the exact version of the text a person was shown (legal-rules §B5)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import Channel, ConsentKind


class NoticeText(models.Model):
    """One immutable version of a notice or consent text. A changed text is a new version."""

    code = models.CharField(_("文本代码"), max_length=40, help_text=_("例如 omr7.online_mediation。"))
    version = models.PositiveIntegerField(_("版本"))
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("告知/同意文本")
        verbose_name_plural = _("告知/同意文本")
        constraints = [
            models.UniqueConstraint(fields=["code", "version", "language"], name="notice_text_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Notice texts are immutable; publish a new version instead.")
        self.sha256 = hashlib.sha256(self.body.encode("utf-8")).hexdigest()
        super().save(*args, **kwargs)


class Consent(models.Model):
    """A person's recorded answer (granted or refused) to one consent question at one stage."""

    # PROTECT: a consent is evidence (OMR 4, §B11); deleting a party or case must not erase it.
    case = models.ForeignKey(
        "mediation.Case", on_delete=models.PROTECT, related_name="consents", verbose_name=_("案件")
    )
    party = models.ForeignKey(
        "mediation.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="consents",
        verbose_name=_("当事人"),
    )
    user = models.ForeignKey(
        "mediation.User", on_delete=models.PROTECT, related_name="consents", verbose_name=_("作出人")
    )
    kind = models.CharField(_("事项"), max_length=32, choices=ConsentKind.choices)
    stage = models.CharField(_("阶段"), max_length=32, help_text=_("作出同意时的案件状态或阶段。"))
    granted = models.BooleanField(_("同意"))
    text = models.ForeignKey(NoticeText, on_delete=models.PROTECT, verbose_name=_("所示文本版本"))
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    given_at = models.DateTimeField(_("时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    room = models.ForeignKey(
        "mediation.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("只对一次调解活动有效的同意（录音录像）所属的调解室。"),
    )

    class Meta:
        verbose_name = _("同意记录")
        verbose_name_plural = _("同意记录")
        ordering = ["given_at"]
        indexes = [models.Index(fields=["case", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {'✓' if self.granted else '✗'}"


class NoticeAcknowledgement(models.Model):
    """A person confirmed that they were shown a notice (e.g. OMR 7, OMR 17 sham-mediation warning)."""

    case = models.ForeignKey(
        "mediation.Case", on_delete=models.PROTECT, related_name="notice_acks", verbose_name=_("案件")
    )
    user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, verbose_name=_("确认人"))
    text = models.ForeignKey(NoticeText, on_delete=models.PROTECT, verbose_name=_("所示文本版本"))
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    acknowledged_at = models.DateTimeField(_("确认时间"))

    class Meta:
        verbose_name = _("告知确认")
        verbose_name_plural = _("告知确认")

    def __str__(self) -> str:
        return f"{self.user} · {self.text}"
