"""The mediation agreement as data: drafted in the room, assented clause by clause, then frozen (OMR 19; §C1)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import AgreementScope, AgreementStatus, AgreementVariant, ClauseKind


class Agreement(models.Model):
    """One version of a case's agreement. Once frozen it is never edited: a change is a new version."""

    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="agreements")
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(_("状态"), max_length=12, choices=AgreementStatus.choices,
                              default=AgreementStatus.DRAFTING)
    variant = models.CharField(_("文书样式"), max_length=10, choices=AgreementVariant.choices)
    number = models.CharField(_("协议编号"), max_length=60, blank=True)
    facts = models.TextField(_("纠纷主要事实"), blank=True)
    disputed_matters = models.TextField(_("争议事项"), blank=True)
    responsibilities = models.TextField(
        _("各方当事人的责任"), blank=True, help_text=_("人民调解协议书必填（PML 29）。")
    )
    scope = models.CharField(_("达成范围"), max_length=8, choices=AgreementScope.choices, default=AgreementScope.FULL)
    unresolved_claims = models.TextField(_("未达成协议的请求"), blank=True)
    revision = models.PositiveIntegerField(default=0, help_text=_("每次修改加一；当事人的同意绑定到条款的内容哈希。"))
    room = models.ForeignKey("mediation.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    frozen_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="agreement_version_unique")]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.version}"


class AgreementClause(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="clauses")
    number = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("类型"), max_length=12, choices=ClauseKind.choices, default=ClauseKind.OTHER)
    obligor = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("义务人"))
    obligee = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("权利人"))
    subject = models.TextField(_("给付内容/标的"), blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    method = models.CharField(_("履行方式"), max_length=200, blank=True)
    place = models.CharField(_("履行地点"), max_length=200, blank=True)
    deadline = models.DateField(_("履行期限"), null=True, blank=True)
    instalments = models.TextField(_("分期安排"), blank=True)
    guarantee = models.TextField(_("担保"), blank=True)
    breach = models.TextField(_("违约责任"), blank=True)
    text = models.TextField(_("条款文字"), blank=True, help_text=_("为空时由以上各项生成。"))
    content_sha256 = models.CharField(max_length=64, blank=True, help_text=_("条款内容的哈希，同意绑定于此。"))

    class Meta:
        verbose_name = _("协议条款")
        verbose_name_plural = _("协议条款")
        ordering = ["agreement", "number"]
        constraints = [models.UniqueConstraint(fields=["agreement", "number"], name="clause_number_unique")]

    def __str__(self) -> str:
        return f"{self.agreement_id}#{self.number}"


class ClauseAssent(models.Model):
    """A party's assent to one clause as it read then (the content hash); a later edit needs a new assent."""

    clause = models.ForeignKey(AgreementClause, on_delete=models.CASCADE, related_name="assents")
    party = models.ForeignKey("mediation.Party", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    content_sha256 = models.CharField(max_length=64)
    assented_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("条款同意")
        verbose_name_plural = _("条款同意")
        constraints = [
            models.UniqueConstraint(fields=["clause", "party", "content_sha256"], name="one_assent_per_clause_text")
        ]

    def __str__(self) -> str:
        return f"{self.clause_id} {self.party_id}"
