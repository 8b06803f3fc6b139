"""People and the roles they hold through organisations."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import IdType, Role
from mediation.validators import mask_phone, mask_resident_id


class User(AbstractUser):
    """Anyone who signs in. Case roles (party, agent) come from Party/Agent rows; staff roles from Membership."""

    real_name = models.CharField(_("真实姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True, db_index=True)
    id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True, help_text=_("仅本人可见完整号码。"))
    is_platform_admin = models.BooleanField(
        _("平台管理员"), default=False, help_text=_("运维人员：默认不能查看案件内容，紧急访问会被记录。")
    )
    elder_mode = models.BooleanField(
        _("长辈版"), default=False, help_text=_("大字、大按钮、高对比度，不自动消失的提示，可朗读页面。")
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.real_name or self.username

    @property
    def display_name(self) -> str:
        if self.real_name:
            return self.real_name
        if self.phone and self.username == f"p{self.phone}":
            # Accounts made by phone sign-in are named after the number: never show it in full.
            return mask_phone(self.phone)
        return self.username

    @property
    def id_number_masked(self) -> str:
        return mask_resident_id(self.id_number)


class Membership(models.Model):
    """A role a user holds in a court or mediation organisation (mediator, clerk, judge, ...)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户"))
    organisation = models.ForeignKey(
        "mediation.Organisation", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("机构")
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    is_active = models.BooleanField(_("有效"), default=True)
    since = models.DateField(_("起始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("机构成员")
        verbose_name_plural = _("机构成员")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"
