"""Courts and mediation organisations, arranged in one hierarchy of parent links."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import COURT_RANK, CourtLevel, OrganisationKind, Sector


class Organisation(models.Model):
    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=OrganisationKind.choices)
    court_level = models.CharField(
        _("法院层级"), max_length=16, choices=CourtLevel.choices, blank=True,
        help_text=_("仅人民法院填写。"),
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        help_text=_("法院填写上级法院；调解组织可填写其指导或邀请法院。"),
    )
    sector = models.CharField(
        _("行业领域"), max_length=20, choices=Sector.choices, blank=True,
        help_text=_("总对总合作单位与专业调解组织的领域，例如劳动争议、金融。"),
    )
    court_code = models.CharField(
        _("法院代字"), max_length=20, blank=True,
        help_text=_("法院案号中使用的代字，例如“川0104”。由法院提供，平台不生成。"),
    )
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    region_name = models.CharField(_("地区"), max_length=60, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    registration_number = models.CharField(
        _("统一社会信用代码/登记证号"), max_length=40, blank=True,
        help_text=_("调解组织的统一社会信用代码或登记证号，印在调解协议书和主持调解证明上（§C1、§C3a）。"),
    )
    has_e_seal = models.BooleanField(_("已配置电子印章"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="court") & ~models.Q(court_level=""))
                | (~models.Q(kind="court") & models.Q(court_level="")),
                name="organisation_court_level_iff_court",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_court(self) -> bool:
        return self.kind == OrganisationKind.COURT

    def clean(self) -> None:
        if self.is_court and not self.court_level:
            raise ValidationError({"court_level": _("人民法院必须填写法院层级。")})
        if not self.is_court and self.court_level:
            raise ValidationError({"court_level": _("只有人民法院才有法院层级。")})
        if self.is_court and self.parent_id:
            parent = self.parent
            if parent is None or not parent.is_court:
                raise ValidationError({"parent": _("法院的上级必须是法院。")})
            if COURT_RANK[CourtLevel(parent.court_level)] >= COURT_RANK[CourtLevel(self.court_level)]:
                raise ValidationError({"parent": _("上级法院的层级必须高于本院。")})

    def ancestors(self) -> list[Organisation]:
        """This organisation's parents, nearest first (a short walk: the hierarchy is at most 5 deep)."""
        chain: list[Organisation] = []
        node = self.parent
        while node is not None and len(chain) < 10:
            chain.append(node)
            node = node.parent
        return chain
