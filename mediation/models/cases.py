"""Cases, the parties to them, their agents and the mediators assigned.

``Case.status`` is written only by ``mediation.services.cases.case_transition`` (compare-and-set on the
expected status, with an audit event); the field is not editable in forms or the admin.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import (
    INTERPRETER_KINDS,
    AgentAuthority,
    AgentKind,
    CaseOrigin,
    CaseStatus,
    EndReason,
    HelperKind,
    IdType,
    ParticipantRole,
    PartyKind,
    PartyRole,
    Procedure,
    ReturnReason,
    Sector,
)
from mediation.validators import mask_resident_id, validate_resident_id

LIFECYCLE_FIELDS = frozenset({"status", "status_changed_at", "end_reason", "return_reason", "agreement_effective_at"})
# Kept by the timer service (``mediation.services.timers.case_next_due_refresh``), never from an instance.
DERIVED_FIELDS = frozenset({"next_due_at"})


class Case(models.Model):
    reference = models.CharField(
        _("平台编号"), max_length=32, unique=True,
        help_text=_("本平台内部编号。法院案号由法院系统给出，另行录入。"),
    )
    origin = models.CharField(_("来源"), max_length=16, choices=CaseOrigin.choices)
    procedure = models.CharField(_("审理程序"), max_length=10, choices=Procedure.choices, blank=True, default="")
    dispute_type = models.CharField(_("纠纷类型"), max_length=20, choices=Sector.choices)
    title = models.CharField(_("案由/标题"), max_length=200)
    summary = models.TextField(_("纠纷简要情况"), blank=True)
    claims = models.TextField(_("请求事项"), blank=True)
    amount = models.DecimalField(_("标的额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    court = models.ForeignKey(
        "mediation.Organisation", on_delete=models.PROTECT, related_name="cases", verbose_name=_("管辖法院")
    )
    mediation_organisation = models.ForeignKey(
        "mediation.Organisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="mediated_cases", verbose_name=_("调解组织"),
    )
    court_case_number = models.CharField(
        _("法院案号"), max_length=60, blank=True, help_text=_("由法院案件管理系统给出，人工录入，平台不生成。")
    )
    referral_number = models.CharField(_("委派/委托编号"), max_length=60, blank=True)
    one_sided = models.BooleanField(
        _("单方申请"), default=False, help_text=_("仅一方申请时，需征询被申请人调解意愿（OMR 15）。")
    )
    status = models.CharField(
        _("状态"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.DRAFT, editable=False, db_index=True
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True, editable=False)
    end_reason = models.CharField(
        _("终结事由"), max_length=20, choices=EndReason.choices, blank=True, editable=False
    )
    return_reason = models.CharField(
        _("退回事由"), max_length=24, choices=ReturnReason.choices, blank=True, editable=False
    )
    agreement_effective_at = models.DateTimeField(_("调解协议生效时间"), null=True, blank=True, editable=False)
    # The earliest due moment among the case's live, unpaused clocks (the queues' sort key), kept by the
    # timer service whenever a clock starts, stops, pauses, resumes, moves or fires, and by every transition.
    next_due_at = models.DateTimeField(_("最近届满时间"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["court", "status"]),
            # The clerk's queue: one court's cases in a few statuses, most urgent clock first.
            models.Index(fields=["court", "status", "next_due_at", "created_at", "id"], name="case_court_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Never write the lifecycle fields from a model instance: a stale copy would silently undo a
        transition. Only ``case_transition`` changes them, with a compare-and-set update; ``next_due_at`` only
        the timer service."""
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            names = update_fields if update_fields is not None else [
                f.name for f in self._meta.concrete_fields if not f.primary_key
            ]
            kwargs["update_fields"] = [
                name for name in names if name not in LIFECYCLE_FIELDS and name not in DERIVED_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def audit_stream(self) -> str:
        return f"case.{self.pk}"



class Party(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties", verbose_name=_("案件"))
    user = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="party_roles",
        verbose_name=_("账户"),
    )
    role = models.CharField(_("诉讼地位"), max_length=12, choices=PartyRole.choices)
    kind = models.CharField(_("主体类型"), max_length=10, choices=PartyKind.choices, default=PartyKind.NATURAL)
    name = models.CharField(_("姓名/名称"), max_length=120)
    id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    legal_representative = models.CharField(_("法定代表人/负责人"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("住所地"), max_length=200, blank=True)
    service_address = models.CharField(_("送达地址"), max_length=200, blank=True)
    # §C1 asks for these on every agreement; sex and date of birth come from a resident ID number.
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    occupation = models.CharField(_("职业/工作单位"), max_length=120, blank=True)
    legal_representative_title = models.CharField(_("法定代表人职务"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["case", "role", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    @property
    def id_number_masked(self) -> str:
        return mask_resident_id(self.id_number)

    def clean(self) -> None:
        if self.kind == PartyKind.NATURAL and self.id_type == IdType.RESIDENT_ID and self.id_number:
            try:
                validate_resident_id(self.id_number)
            except ValidationError as exc:
                raise ValidationError({"id_number": exc.messages}) from exc


class Agent(models.Model):
    """A party's 委托代理人 (CPL 61: at most two per party). Signing needs special authority (CPL 62)."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="agents", verbose_name=_("被代理人"))
    user = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="agent_roles",
        verbose_name=_("账户"),
    )
    name = models.CharField(_("姓名"), max_length=60)
    kind = models.CharField(_("代理人类型"), max_length=16, choices=AgentKind.choices)
    authority = models.CharField(_("代理权限"), max_length=10, choices=AgentAuthority.choices)
    authority_scope = models.TextField(_("授权范围"), blank=True, help_text=_("授权委托书载明的事项。"))
    license_number = models.CharField(_("执业证号"), max_length=40, blank=True)
    firm = models.CharField(_("所在单位"), max_length=120, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("委托代理人")
        verbose_name_plural = _("委托代理人")

    def __str__(self) -> str:
        return _("%(name)s（%(authority)s）") % {"name": self.name, "authority": self.get_authority_display()}

    @property
    def may_sign_agreement(self) -> bool:
        return self.authority == AgentAuthority.SPECIAL


class CaseHelper(models.Model):
    """An interpreter or helper the mediator invited for one party (issue 18 item 4; PML 20). Modelled like
    an ``Agent``: a person linked to the party they ``assists``. They take the party's side in a room (caucus
    included), pass the same identity step, and never assent or sign (``permissions.helper_of``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="helpers", verbose_name=_("案件"))
    assists = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="helpers", verbose_name=_("协助的当事人"))
    user = models.ForeignKey(
        "mediation.User", on_delete=models.PROTECT, related_name="helper_roles", verbose_name=_("账户")
    )
    kind = models.CharField(_("协助类型"), max_length=20, choices=HelperKind.choices)
    name = models.CharField(_("姓名"), max_length=60)
    phone = models.CharField(_("联系电话"), max_length=20)
    language = models.CharField(_("语言"), max_length=40, blank=True, help_text=_("如：蒙古语、英语、中国手语。"))
    relation = models.CharField(_("与当事人关系"), max_length=40, blank=True, help_text=_("家属陪同时填写，如：女儿。"))
    invited_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("邀请人"))
    invited_at = models.DateTimeField(_("邀请时间"), auto_now_add=True)
    declaration_code = models.CharField(_("保证书文本编号"), max_length=60, blank=True)
    declaration_version = models.PositiveIntegerField(_("保证书文本版本"), null=True, blank=True)
    declaration_accepted_at = models.DateTimeField(_("作出如实翻译保证时间"), null=True, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("翻译及协助人员")
        verbose_name_plural = _("翻译及协助人员")
        ordering = ["case", "assists", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], condition=models.Q(is_active=True),
                                    name="one_active_helper_role_per_user_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def role(self) -> str:
        """The room role: 翻译人员 for the three kinds of translation, 协助调解人员 otherwise."""
        return ParticipantRole.INTERPRETER if self.kind in INTERPRETER_KINDS else ParticipantRole.HELPER

    @property
    def role_label(self) -> str:
        return str(ParticipantRole(self.role).label)

    @property
    def needs_declaration(self) -> bool:
        return self.role == ParticipantRole.INTERPRETER

    @property
    def service_label(self) -> str:
        """"为申请人张三提供手语翻译" — what the documents say this person did, and for whom."""
        what = self.get_kind_display()
        if self.language and self.kind == HelperKind.FOREIGN_LANGUAGE:
            what = _("%(language)s翻译") % {"language": self.language}
        elif self.language and self.kind == HelperKind.INTERPRETATION:
            what = _("%(language)s口译") % {"language": self.language}
        if self.kind in (HelperKind.FAMILY, HelperKind.INVITED):
            relation = _("（系其%(relation)s）") % {"relation": self.relation} if self.relation else ""
            return _("为%(side)s%(party)s提供协助%(relation)s") % {
                "side": self.assists.get_role_display(), "party": self.assists.name, "relation": relation}
        return _("为%(side)s%(party)s提供%(what)s") % {
            "side": self.assists.get_role_display(), "party": self.assists.name, "what": what}


class CaseMediator(models.Model):
    """A mediator assigned to a case. Several may be assigned (OMR 11); one presides."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mediator_assignments")
    mediator = models.ForeignKey(
        "mediation.User", on_delete=models.PROTECT, related_name="mediator_assignments", verbose_name=_("调解员")
    )
    presiding = models.BooleanField(_("主持调解员"), default=True)
    is_active = models.BooleanField(_("有效"), default=True, help_text=_("回避或更换后失效，失去案件访问权限。"))
    assigned_at = models.DateTimeField(_("指定时间"), auto_now_add=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("案件调解员")
        verbose_name_plural = _("案件调解员")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(is_active=True, presiding=True), name="one_presiding_mediator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mediator} · {self.case_id}"


class MediatorCaseLoad(models.Model):
    """A mediator's case figures as the recommendation reads them: active assignments to open cases (the
    load), and to finished ones (settled, and finished in all). Kept by ``mediation.services.mediator_load``
    whenever a transition or a designation changes them, so the ranking reads 10,000 rows instead of
    aggregating every assignment; ``manage.py rebuild_list_figures`` recomputes them from the assignments."""

    mediator = models.OneToOneField(
        "mediation.User", primary_key=True, on_delete=models.CASCADE, related_name="case_load",
        verbose_name=_("调解员"),
    )
    open_cases = models.PositiveIntegerField(_("在办案件"), default=0)
    settled_cases = models.PositiveIntegerField(_("调解成功案件"), default=0)
    finished_cases = models.PositiveIntegerField(_("办结案件"), default=0)

    class Meta:
        verbose_name = _("调解员案件数")
        verbose_name_plural = _("调解员案件数")

    def __str__(self) -> str:
        return f"{self.mediator_id}: {self.open_cases}/{self.settled_cases}/{self.finished_cases}"
