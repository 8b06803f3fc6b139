"""The mediator roster (OMR 5, 27-28; SIM 5-10; legal-rules §B12)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import MediatorKind, MediatorStatus, Nationality, RosterScope, Sector


def _empty_list() -> list[str]:
    return []


class MediatorProfile(models.Model):
    """A mediator's published profile. Organisations come from Membership(role=mediator)."""

    user = models.OneToOneField(
        "mediation.User", on_delete=models.CASCADE, related_name="mediator_profile", verbose_name=_("用户")
    )
    kind = models.CharField(_("调解员类别"), max_length=16, choices=MediatorKind.choices)
    title = models.CharField(_("职业/职务"), max_length=100, blank=True)
    bio = models.TextField(_("简介"), blank=True)
    specialties = models.JSONField(_("擅长领域"), default=_empty_list, blank=True, help_text=_("Sector 代码列表。"))
    dispute_scope = models.TextField(_("受理范围"), blank=True)
    languages = models.JSONField(_("工作语言"), default=_empty_list, blank=True, help_text=_("例如 zh、yue、en。"))
    regions = models.JSONField(_("服务地区"), default=_empty_list, blank=True, help_text=_("行政区划代码列表。"))
    nationality = models.CharField(
        _("国籍/地区"), max_length=10, choices=Nationality.choices, default=Nationality.MAINLAND
    )
    charges_fees = models.BooleanField(_("是否收费"), default=False)
    fee_schedule = models.TextField(_("收费标准"), blank=True)
    certificate_number = models.CharField(_("资格证书编号"), max_length=60, blank=True)
    certificate_valid_until = models.DateField(_("证书有效期至"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=MediatorStatus.choices, default=MediatorStatus.ACTIVE)
    capacity = models.PositiveSmallIntegerField(
        _("同时办理案件上限"), default=20, help_text=_("用于推荐时衡量当前负荷。")
    )

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员名册")

    def __str__(self) -> str:
        return self.user.display_name

    def certificate_valid_on(self, day: dt.date) -> bool:
        return self.certificate_valid_until is None or self.certificate_valid_until >= day


class RosterEntry(models.Model):
    """A mediator's place on a court's roster. Adoption from a higher court needs the mediator's consent (OMR 27)."""

    mediator = models.ForeignKey(
        MediatorProfile, on_delete=models.CASCADE, related_name="roster_entries", verbose_name=_("调解员")
    )
    court = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="roster_entries", verbose_name=_("邀请法院")
    )
    scope = models.CharField(_("名册范围"), max_length=12, choices=RosterScope.choices, default=RosterScope.COURT)
    specialty = models.CharField(_("专业名册领域"), max_length=20, blank=True)
    adopted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="adoptions",
        verbose_name=_("采用自上级法院名册"),
    )
    mediator_consented_at = models.DateTimeField(_("调解员同意时间"), null=True, blank=True)
    mediator_refused_at = models.DateTimeField(
        _("调解员拒绝时间"), null=True, blank=True,
        help_text=_("调解员拒绝被采用时记录；未答复的采用请求两个时间都为空。"),
    )
    is_active = models.BooleanField(_("有效"), default=True)
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("名册条目")
        verbose_name_plural = _("名册条目")
        constraints = [
            models.UniqueConstraint(fields=["mediator", "court", "scope"], name="roster_entry_unique"),
            models.CheckConstraint(
                # An adoption may wait for the mediator's consent, but is never active without it.
                condition=models.Q(adopted_from__isnull=True)
                | models.Q(mediator_consented_at__isnull=False)
                | models.Q(is_active=False),
                name="roster_adoption_needs_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mediator} @ {self.court} ({self.get_scope_display()})"

    @property
    def specialty_label(self) -> str:
        """The specialty roster's field in words (``specialty`` holds a Sector code)."""
        return str(dict(Sector.choices).get(self.specialty, self.specialty))
