"""The contact ledger (联系法官/调解员, issue 18): a party asks to be contacted, the case's mediator or judge
must reach them within one working day and feed back the result within two; each clock is a Timer row."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import ContactCategory, ContactHandler, ContactMethod, ContactStatus


class ContactRequest(models.Model):
    case = models.ForeignKey(
        "mediation.Case", on_delete=models.CASCADE, related_name="contact_requests", verbose_name=_("案件")
    )
    party = models.ForeignKey(
        "mediation.Party", on_delete=models.CASCADE, related_name="contact_requests", verbose_name=_("当事人")
    )
    requested_by = models.ForeignKey(
        "mediation.User",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("提出人"),
        help_text=_("当事人本人或其代理人；工作人员代为登记时为空。"),
    )
    logged_by = models.ForeignKey(
        "mediation.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("代为登记的工作人员"),
        help_text=_("接听当事人来电后代为登记的工作人员。"),
    )
    category = models.CharField(_("诉求类别"), max_length=16, choices=ContactCategory.choices)
    question = models.TextField(_("诉求内容"))
    handler = models.CharField(_("承办对象"), max_length=12, choices=ContactHandler.choices)
    handler_organisation = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("承办机构")
    )
    assigned_to = models.ForeignKey(
        "mediation.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_requests_assigned",
        verbose_name=_("承办人"),
    )
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats", verbose_name=_("重复诉求")
    )
    status = models.CharField(_("状态"), max_length=12, choices=ContactStatus.choices, default=ContactStatus.OPEN)
    first_timer = models.OneToOneField(
        "mediation.Timer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feedback_timer = models.OneToOneField(
        "mediation.Timer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(_("报负责人时间"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        "mediation.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("负责人所在机构"),
    )
    taken_over_by = models.ForeignKey(
        "mediation.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("接手的负责人"),
    )
    contacted_by = models.ForeignKey(
        "mediation.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("联系人"),
    )
    contacted_at = models.DateTimeField(_("联系时间"), null=True, blank=True)
    contact_method = models.CharField(_("联系方式"), max_length=12, choices=ContactMethod.choices, blank=True)
    contact_note = models.TextField(_("联系情况"), blank=True)
    contacted_on_time = models.BooleanField(_("按时联系"), null=True)
    result = models.TextField(_("办理结果"), blank=True)
    answered_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("按时反馈"), null=True)
    created_at = models.DateTimeField(_("提出时间"))

    class Meta:
        verbose_name = _("联系法官/调解员记录")
        verbose_name_plural = _("联系法官/调解员台账")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["handler_organisation", "status"])]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_category_display()} · {self.get_status_display()}"
