"""A failed pre-filing mediation handed to the competent court's filing queue (OMR 21(1)-(2); SIM 21).

One row per case, written only by ``mediation.services.filing``: who chose online filing (or that the court must
file a 委派 case), when the electronic materials were handed over and which ones (titles and hashes, frozen at
hand-over), and, once the court's clerk has filed it, the number the court's case management system gave it.
The platform never makes a case number up.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import FilingRoute


class CourtFiling(models.Model):
    case = models.OneToOneField(
        "mediation.Case", on_delete=models.PROTECT, related_name="court_filing", verbose_name=_("案件")
    )
    court = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="filings", verbose_name=_("立案法院")
    )
    route = models.CharField(_("移送途径"), max_length=20, choices=FilingRoute.choices)
    chosen_by_party = models.ForeignKey(
        "mediation.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("选择在线立案的当事人"),
    )
    handed_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("提交人"), help_text=_("空：平台依规则自动移送。"),
    )
    handed_at = models.DateTimeField(_("提交立案时间"))
    materials = models.JSONField(_("移送材料"), default=list, help_text=_("移送时的材料名称与SHA-256。"))
    filed_at = models.DateTimeField(_("登记立案时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("登记立案的立案人员"),
    )
    court_case_number = models.CharField(
        _("法院案号"), max_length=60, blank=True, help_text=_("由法院案件管理系统给出，人工录入，平台不生成。")
    )

    class Meta:
        verbose_name = _("移送立案")
        verbose_name_plural = _("移送立案")
        indexes = [models.Index(fields=["court", "filed_at"], name="filing_court_queue")]

    def __str__(self) -> str:
        return f"{self.case} → {self.court}"
