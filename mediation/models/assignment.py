"""Choosing, disclosing and recusing mediators (OMR 10-14; SIM 12-15) and complaints (OMR 29)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import ComplaintGround, ComplaintOutcome, ComplaintStatus, RecusalDecision


class MediatorChoice(models.Model):
    """One party's current pick in the joint choice of mediator (OMR 10): a mediator, or deferring to the
    court. A new pick replaces the party's row (the audit trail keeps every pick). When every party's
    pick in the current selection round names the same mediator, the platform assigns that mediator."""

    case = models.ForeignKey("mediation.Case", on_delete=models.CASCADE, related_name="mediator_choices")
    party = models.ForeignKey("mediation.Party", on_delete=models.CASCADE, related_name="mediator_choices")
    mediator = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("交由法院指定时为空。"),
    )
    chosen_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    chosen_at = models.DateTimeField()
    defer_to_court = models.BooleanField(_("交由法院指定"), default=False)

    class Meta:
        verbose_name = _("当事人选择调解员")
        verbose_name_plural = _("当事人选择调解员")
        constraints = [
            models.UniqueConstraint(fields=["case", "party"], name="mediator_choice_one_per_party"),
            models.CheckConstraint(
                condition=models.Q(defer_to_court=True, mediator__isnull=True)
                | models.Q(defer_to_court=False, mediator__isnull=False),
                name="mediator_choice_names_mediator_or_defers",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party} → {self.mediator if self.mediator_id else _('交由法院指定')}"


class Disclosure(models.Model):
    """A mediator's disclosure of a possible conflict (OMR 13); parties answer with a consent record."""

    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="disclosures")
    mediator = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(_("披露内容"))
    nothing_to_disclose = models.BooleanField(_("无应披露事项"), default=False)
    disclosed_at = models.DateTimeField(_("披露时间"))

    class Meta:
        verbose_name = _("调解员披露")
        verbose_name_plural = _("调解员披露")

    def __str__(self) -> str:
        return f"{self.mediator} {self.disclosed_at:%Y-%m-%d}"


class RecusalRequest(models.Model):
    """A party's request that a mediator step aside (OMR 13-14; SIM 15), decided by the organisation or court."""

    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="recusal_requests")
    party = models.ForeignKey("mediation.Party", on_delete=models.PROTECT, related_name="+")
    mediator = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    grounds = models.TextField(_("申请理由"))
    requested_at = models.DateTimeField(_("申请时间"))
    decision = models.CharField(_("决定"), max_length=10, choices=RecusalDecision.choices, blank=True, default="")
    decision_note = models.TextField(_("决定理由"), blank=True)
    decided_by = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回避申请")
        verbose_name_plural = _("回避申请")

    def __str__(self) -> str:
        return f"{self.party} / {self.mediator}"


class Complaint(models.Model):
    """A complaint against a mediator to the inviting court (OMR 29; SIM 28)."""

    mediator = models.ForeignKey(
        "mediation.MediatorProfile", on_delete=models.PROTECT, related_name="complaints", verbose_name=_("调解员")
    )
    court = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="complaints", verbose_name=_("受理法院")
    )
    case = models.ForeignKey("mediation.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    complainant = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    ground = models.CharField(_("投诉事由"), max_length=20, choices=ComplaintGround.choices)
    description = models.TextField(_("具体情况"))
    filed_at = models.DateTimeField(_("投诉时间"))
    status = models.CharField(
        _("处理状态"), max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.FILED
    )
    outcome = models.CharField(_("处理结果"), max_length=12, choices=ComplaintOutcome.choices, blank=True, default="")
    outcome_note = models.TextField(_("处理意见"), blank=True)
    decided_by = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-filed_at"]

    def __str__(self) -> str:
        return f"{self.mediator} {self.get_ground_display()}"
