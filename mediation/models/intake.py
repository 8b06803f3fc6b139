"""A party's way in: one-time codes, identity checks, application drafts, evidence and the
service-address confirmation (OMR 7-8, 17; OLR 7, 29-30; legal-rules §B5, §C6)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import EvidenceKind, OtpPurpose


def _empty_list() -> list[str]:
    return []


class OneTimeCode(models.Model):
    """A code sent by SMS. Only its hash is stored; failed attempts count toward a lock-out."""

    phone = models.CharField(_("手机号码"), max_length=20, db_index=True)
    purpose = models.CharField(_("用途"), max_length=16, choices=OtpPurpose.choices)
    code_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    verified_at = models.DateTimeField(_("验证时间"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        # The last two serve the send caps across numbers (per address, and for the whole platform).
        indexes = [
            models.Index(fields=["phone", "purpose", "sent_at"]),
            models.Index(fields=["ip_address", "sent_at"], name="otp_address_sent"),
            models.Index(fields=["sent_at"], name="otp_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.purpose} {self.sent_at:%Y-%m-%d %H:%M}"


class IdentityVerification(models.Model):
    """One real-name check (OLR 7; §B11 item 1). The ID number is kept masked plus a salted hash."""

    user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="identity_checks")
    method = models.CharField(_("核验方式"), max_length=32, default="name_id_sms")
    real_name = models.CharField(_("姓名"), max_length=60)
    id_number_masked = models.CharField(_("证件号码（脱敏）"), max_length=32)
    phone = models.CharField(_("手机号码"), max_length=20)
    succeeded = models.BooleanField(_("结果"))
    provider_ref = models.CharField(_("服务商流水号"), max_length=64, blank=True)
    checked_at = models.DateTimeField(_("核验时间"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("实名核验记录")
        verbose_name_plural = _("实名核验记录")

    def __str__(self) -> str:
        return f"{self.real_name} {self.checked_at:%Y-%m-%d %H:%M}"


class ApplicationDraft(models.Model):
    """An application being written on a phone, saved on the server after each step so that a closed
    tab loses nothing."""

    # Empty only while a draft prepared by an organisation (``prepared_by``) waits for its party to claim it.
    owner = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.CASCADE, related_name="application_drafts"
    )
    data = models.JSONField(default=dict)
    step = models.CharField(max_length=24, default="dispute")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    case = models.OneToOneField(
        "mediation.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="draft",
        help_text=_("提交后生成的案件。"),
    )
    # A partner organisation's system may prepare a party's application (the API's POST /applications); it
    # is the party's only once they open the SMS link, pass the identity step as the named person and claim
    # it, and only the party submits it (OMR 8). See docs/decisions.md D39.
    prepared_by = models.ForeignKey(
        "mediation.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="prepared_drafts",
        verbose_name=_("代为准备的组织"),
    )
    prepared_for_name = models.CharField(_("当事人姓名"), max_length=60, blank=True)
    prepared_for_phone = models.CharField(_("当事人手机号码"), max_length=20, blank=True)
    claim_code_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("申请草稿")
        verbose_name_plural = _("申请草稿")

    def __str__(self) -> str:
        return f"{self.owner} {self.step}"


def evidence_path(instance: Evidence, filename: str) -> str:
    # The stored name is the content hash: no user-chosen path ever reaches the file system.
    return f"evidence/{instance.sha256[:2]}/{instance.sha256}"


class Evidence(models.Model):
    """An uploaded file, stored under its SHA-256 and served only through a permission check."""

    case = models.ForeignKey(
        "mediation.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    draft = models.ForeignKey(
        ApplicationDraft, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    uploaded_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=12, choices=EvidenceKind.choices, default=EvidenceKind.EVIDENCE)
    title = models.CharField(_("名称"), max_length=120)
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=80)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("证据材料")
        verbose_name_plural = _("证据材料")

    def __str__(self) -> str:
        return self.title


class ServiceAddress(models.Model):
    """A 送达地址确认书 (legal-rules §C6), confirmed by the recipient. A change is a new row."""

    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="service_addresses")
    party = models.ForeignKey("mediation.Party", on_delete=models.PROTECT, related_name="service_addresses")
    confirmed_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    recipient_name = models.CharField(_("受送达人"), max_length=120)
    recipient_id_masked = models.CharField(_("证件号码（脱敏）"), max_length=32, blank=True)
    agent_recipient = models.CharField(_("代收人"), max_length=60, blank=True)
    agent_relationship = models.CharField(_("与受送达人关系"), max_length=30, blank=True)
    agent_phone = models.CharField(_("代收人电话"), max_length=20, blank=True)
    postal_code = models.CharField(_("邮政编码"), max_length=6, blank=True)
    postal_address = models.CharField(_("送达地址"), max_length=200)
    postal_recipient = models.CharField(_("收件人"), max_length=60)
    postal_phone = models.CharField(_("收件人电话"), max_length=20)
    e_service_consent = models.BooleanField(_("同意电子送达"))
    mobile = models.CharField(_("接收短信的手机号码"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    im_account = models.CharField(_("即时通讯账号"), max_length=60, blank=True)
    platform_account = models.BooleanField(_("平台账户"), default=True)
    stages = models.JSONField(_("适用阶段"), default=_empty_list)
    confidential = models.BooleanField(_("请求对送达地址保密"), default=False)
    text = models.ForeignKey("mediation.NoticeText", on_delete=models.PROTECT, verbose_name=_("所示告知文本"))
    confirmed_at = models.DateTimeField(_("确认时间"))

    class Meta:
        verbose_name = _("送达地址确认书")
        verbose_name_plural = _("送达地址确认书")
        ordering = ["-confirmed_at"]

    def __str__(self) -> str:
        return f"{self.recipient_name} {self.confirmed_at:%Y-%m-%d}"
