"""Assisted filing at the nearest court (全域通办, issue 18): a clerk of any court files for a walk-in party into
the competent court's queue; nothing reaches that court until the party confirms on their own phone."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import AssistedFilingKind, AssistedFilingStatus, IdType, Sector


class AssistedFiling(models.Model):
    kind = models.CharField(_("事项"), max_length=12, choices=AssistedFilingKind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=AssistedFilingStatus.choices, default=AssistedFilingStatus.AWAITING_PARTY
    )
    assisting_court = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("代办法院")
    )
    assisted_by = models.ForeignKey(
        "mediation.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("代办人员")
    )
    competent_court = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("管辖法院")
    )
    jurisdiction_basis = models.CharField(_("管辖依据"), max_length=200)
    applicant_name = models.CharField(_("申请人/原告"), max_length=120)
    applicant_id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices)
    applicant_id_number = models.CharField(_("证件号码"), max_length=32)
    applicant_phone = models.CharField(_("手机号码"), max_length=20)
    respondent_name = models.CharField(_("被申请人/被告"), max_length=120)
    respondent_phone = models.CharField(_("被申请人电话"), max_length=20, blank=True)
    respondent_region_code = models.CharField(_("被申请人住所地区划代码"), max_length=6)
    dispute_type = models.CharField(_("纠纷类型"), max_length=20, choices=Sector.choices)
    claims = models.TextField(_("请求事项"))
    summary = models.TextField(_("事实与理由"), blank=True)
    identity_document = models.CharField(_("当场核验的证件"), max_length=16, choices=IdType.choices)
    identity_checked_at = models.DateTimeField(_("核验时间"))
    e_service_asked = models.BooleanField(_("当场表示同意电子送达"))
    mediation_asked = models.BooleanField(_("当场表示同意调解"))
    draft = models.OneToOneField(
        "mediation.ApplicationDraft",
        on_delete=models.PROTECT,
        related_name="assisted_filing",
        help_text=_("扫描材料经现有上传流程存放于此，当事人确认后随案移交。"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    token_expires_at = models.DateTimeField(_("确认链接有效期"))
    confirmed_by = models.ForeignKey(
        "mediation.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("确认的当事人账号"),
    )
    confirmed_at = models.DateTimeField(_("当事人确认时间"), null=True, blank=True)
    case = models.OneToOneField(
        "mediation.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="assisted_filing"
    )
    created_at = models.DateTimeField(_("代办时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("跨域代办立案")
        verbose_name_plural = _("跨域代办立案")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.applicant_name} → {self.competent_court} ({self.get_status_display()})"
