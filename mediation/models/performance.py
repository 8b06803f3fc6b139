"""The schedule of obligations of an effective agreement, and what the parties report against it (PML 31-33;
CPL 250; legal-rules §B3 PERFORMANCE_TRACKING).

Each obligation is copied from one clause of the frozen agreement when the agreement takes effect
(``mediation.services.obligations``): the clause's amount, deadline and instalment wording as agreed, never
more. A clause without a deadline gives an obligation without a due date. Only
``mediation.services.performance`` writes the status and the reports.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import ClauseKind, ObligationStatus


class Obligation(models.Model):
    case = models.ForeignKey("mediation.Case", on_delete=models.CASCADE, related_name="obligations",
                             verbose_name=_("案件"))
    agreement = models.ForeignKey("mediation.Agreement", on_delete=models.PROTECT, related_name="obligations",
                                  verbose_name=_("调解协议"))
    clause = models.OneToOneField("mediation.AgreementClause", on_delete=models.PROTECT, related_name="obligation",
                                  verbose_name=_("协议条款"))
    number = models.PositiveIntegerField(_("条款序号"))
    kind = models.CharField(_("类型"), max_length=12, choices=ClauseKind.choices)
    obligor = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("义务人"))
    obligee = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("权利人"))
    subject = models.TextField(_("给付内容/标的"), blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(_("履行期限"), null=True, blank=True, help_text=_("协议未约定期限的为空。"))
    instalments = models.TextField(_("分期安排（协议原文）"), blank=True)
    status = models.CharField(_("履行状态"), max_length=16, choices=ObligationStatus.choices,
                              default=ObligationStatus.OPEN)
    reminded_ahead_at = models.DateTimeField(_("到期前提醒时间"), null=True, blank=True)
    reminded_due_at = models.DateTimeField(_("到期日提醒时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认履行时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("确认人"))
    defaulted_at = models.DateTimeField(_("报告未履行时间"), null=True, blank=True)
    defaulted_by = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("报告人"))
    default_note = models.TextField(_("未履行情况说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("履行义务")
        verbose_name_plural = _("履行义务")
        ordering = ["case", "number"]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.number}"


class PaymentProof(models.Model):
    """A proof of performance the obligor uploaded (a transfer slip, a receipt): the file is evidence of the
    case, stored by content hash (``services.evidence``)."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="proofs")
    evidence = models.OneToOneField("mediation.Evidence", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("履行凭证")
        verbose_name_plural = _("履行凭证")
        ordering = ["obligation", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.obligation_id} {self.evidence_id}"
