"""A joint application for judicial confirmation at the court (CPL 205-206; Interp 351-358; legal-rules §B8).

The case's status says where the application stands (JC_*); these rows hold what the court decided and on
what ground, the number the court's case management system gave it, the president's extension and what
the judge asked the parties to supply. They are written only by ``mediation.services.confirmation``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import ConfirmationOutcome, InquiryKind


class ConfirmationApplication(models.Model):
    case = models.OneToOneField(
        "mediation.Case", on_delete=models.CASCADE, related_name="confirmation", verbose_name=_("案件")
    )
    # The signed 司法确认申请书 lives in the documents app, which mediation does not import: its id and hash.
    document_id = models.PositiveIntegerField(_("申请书文书"), null=True, blank=True)
    document_sha256 = models.CharField(_("申请书哈希"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("申请时间"))
    case_number = models.CharField(
        _("法院案号"), max_length=60, blank=True,
        help_text=_("受理时由法官录入法院案件管理系统给出的案号（民特/诉前调确），平台不生成。"),
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("承办法官"),
    )
    extension_days = models.PositiveSmallIntegerField(_("院长批准延长天数"), default=0)
    extension_reason = models.TextField(_("延长理由"), blank=True)
    extension_approved_at = models.DateTimeField(_("延长批准时间"), null=True, blank=True)
    extension_approved_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("批准延长的院长"),
    )
    outcome = models.CharField(_("处理结果"), max_length=20, choices=ConfirmationOutcome.choices, blank=True)
    ground = models.CharField(_("理由代码"), max_length=24, blank=True)
    decision_note = models.TextField(_("理由说明"), blank=True)
    decided_at = models.DateTimeField(_("裁定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("作出裁定的法官"),
    )
    ruling_served_at = models.DateTimeField(_("裁定送达时间"), null=True, blank=True)
    # A party's request to withdraw before the ruling (Interp 357); the judge allows it or not.
    withdrawal_requested_at = models.DateTimeField(_("申请撤回时间"), null=True, blank=True)
    withdrawal_requested_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("申请撤回的当事人"),
    )
    withdrawal_reason = models.TextField(_("撤回理由"), blank=True)

    class Meta:
        verbose_name = _("司法确认申请")
        verbose_name_plural = _("司法确认申请")
        constraints = [
            models.UniqueConstraint(
                fields=["case_number"], condition=~models.Q(case_number=""), name="confirmation_case_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_number or self.case_id}"


class SupplementRequest(models.Model):
    """Materials the judge asked for, with a deadline (Interp 354, 356-357; T11)."""

    application = models.ForeignKey(
        ConfirmationApplication, on_delete=models.CASCADE, related_name="supplements", verbose_name=_("申请")
    )
    items = models.TextField(_("需补正的材料"))
    days = models.PositiveSmallIntegerField(_("补正期限（日）"))
    due_at = models.DateTimeField(_("补正期限届满时间"))
    requested_at = models.DateTimeField(_("要求补正时间"))
    requested_by = models.ForeignKey(
        "mediation.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("要求补正的法官")
    )
    filed_at = models.DateTimeField(_("补正提交时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("提交补正的当事人"),
    )
    filed_note = models.TextField(_("补正说明"), blank=True)

    class Meta:
        verbose_name = _("补正材料要求")
        verbose_name_plural = _("补正材料要求")
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} · {self.requested_at:%Y-%m-%d}"


class ConfirmationInquiry(models.Model):
    """What the judge asked while reviewing (status unchanged): the mediation organisation to verify how the
    agreement was reached (JC-2011 6), or the parties to produce evidence where sham mediation is suspected
    (OMR 23), with the answer when it comes."""

    application = models.ForeignKey(
        ConfirmationApplication, on_delete=models.CASCADE, related_name="inquiries", verbose_name=_("申请")
    )
    kind = models.CharField(_("事项"), max_length=20, choices=InquiryKind.choices)
    organisation = models.ForeignKey(
        "mediation.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("被核实的调解组织"),
    )
    question = models.TextField(_("核实或要求提供证据的内容"))
    due_at = models.DateTimeField(_("答复期限"))
    asked_at = models.DateTimeField(_("提出时间"))
    asked_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("提出的法官"))
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("答复人"),
    )
    evidence = models.ForeignKey(
        "mediation.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("随答复提交的材料"),
    )

    class Meta:
        verbose_name = _("司法确认核实事项")
        verbose_name_plural = _("司法确认核实事项")
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} · {self.kind}"
