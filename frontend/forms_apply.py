"""Forms of the application pages: they render the fields and parse what a phone posts. The rules (what
is required when, checksums, text versions) are checked by mediation.services.applications, whose
refusals the views put back next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mediation.choices import EvidenceKind, PartyKind, Sector, ServiceStage
from mediation.models import Organisation
from mediation.services.evidence import ACCEPT_ATTRIBUTE

YES_NO = [("yes", _("同意")), ("no", _("不同意"))]


def _tel(**attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "type": "tel", **attrs})


class StepForm(forms.Form):
    """A step's form. ``to_data`` gives the JSON the draft keeps; ``initial_from`` the initial values back.

    Fields are optional here: whether an answer is needed (often it depends on another answer) is the
    service's rule, and its messages are the ones shown. ``required_fields`` only marks the labels and
    lets the phone's browser point at an empty field before a round trip."""

    required_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            if name in self.required_fields and not isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["required"] = True

    def to_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    @classmethod
    def initial_from(cls, data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    def add_step_errors(self, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)


class DisputeForm(StepForm):
    required_fields = ("dispute_type", "court")
    dispute_type = forms.ChoiceField(label=_("纠纷类型"), choices=[("", _("请选择")), *Sector.choices])
    court = forms.TypedChoiceField(
        label=_("向哪个法院申请"), coerce=int, empty_value=None,
        help_text=_("一般为被申请人住所地或合同履行地的基层人民法院。"),
    )

    def __init__(self, *args: Any, courts: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["court"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("请选择法院")), *((c.pk, c.name) for c in courts)]


class PartiesForm(StepForm):
    required_fields = ("applicant_kind", "respondent_kind", "respondent_name", "respondent_phone")
    applicant_kind = forms.ChoiceField(
        label=_("申请人是"), choices=[(PartyKind.NATURAL, _("本人（自然人）")), (PartyKind.ENTITY, _("单位"))],
        widget=forms.RadioSelect, initial=PartyKind.NATURAL,
    )
    applicant_name = forms.CharField(label=_("单位名称"), required=False, max_length=120)
    applicant_uscc = forms.CharField(
        label=_("统一社会信用代码"), required=False, max_length=18,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    legal_representative = forms.CharField(label=_("法定代表人或负责人"), required=False, max_length=60)
    respondent_kind = forms.ChoiceField(
        label=_("被申请人是"), choices=PartyKind.choices, widget=forms.RadioSelect, initial=PartyKind.NATURAL,
    )
    respondent_name = forms.CharField(label=_("被申请人姓名或名称"), max_length=120)
    respondent_phone = forms.CharField(
        label=_("被申请人手机号码"), max_length=20, widget=_tel(autocomplete="off"),
        help_text=_("法院和调解员将通过此号码征询对方的调解意愿。"),
    )
    respondent_id_number = forms.CharField(
        label=_("被申请人身份证号码（选填）"), required=False, max_length=18,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    respondent_uscc = forms.CharField(
        label=_("被申请人统一社会信用代码（选填）"), required=False, max_length=18,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    respondent_address = forms.CharField(label=_("被申请人住所地（选填）"), required=False, max_length=200)


class ClaimsForm(StepForm):
    required_fields = ("claims", "summary")
    claims = forms.CharField(
        label=_("请求事项"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("您希望对方做什么，例如“支付拖欠工资12000元”。"),
    )
    amount = forms.CharField(
        label=_("涉及金额（元，选填）"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}),
    )
    summary = forms.CharField(
        label=_("纠纷简要情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("发生了什么、什么时候、双方是否协商过。"),
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=_("选择文件"),
        error_messages={"required": _("请选择要上传的文件。"), "empty": _("文件是空的，请重新选择。")},
        widget=forms.FileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )
    title = forms.CharField(
        label=_("材料名称"), max_length=120, help_text=_("例如“劳动合同”“工资欠条”。"),
        error_messages={"required": _("请填写材料名称，例如“劳动合同”。")},
    )
    kind = forms.ChoiceField(label=_("类别"), choices=EvidenceKind.choices, initial=EvidenceKind.EVIDENCE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        file_field = self.fields["file"]
        file_field.help_text = _("PDF、照片（JPEG/PNG/HEIC）或音视频，单个不超过 %(mb)d MB。") % {
            "mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)
        }
        file_field.widget.attrs["data-max-bytes"] = str(settings.EVIDENCE_MAX_BYTES)


class EvidenceDoneForm(StepForm):
    def to_data(self) -> dict[str, Any]:
        return {"done": True}


class NoticesForm(StepForm):
    required_fields = ("ack_notice", "consent_online", "e_service")
    notice_text = forms.IntegerField(widget=forms.HiddenInput)
    consent_text = forms.IntegerField(widget=forms.HiddenInput)
    e_service_text = forms.IntegerField(widget=forms.HiddenInput)
    ack_notice = forms.BooleanField(label=_("我已阅读并理解《在线调解告知书》"), required=False)
    consent_online = forms.BooleanField(label=_("我同意通过人民法院调解平台进行在线调解"), required=False)
    e_service = forms.ChoiceField(
        label=_("是否同意电子送达"), choices=YES_NO, widget=forms.RadioSelect, required=False,
    )

    def to_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["e_service"] = {"yes": True, "no": False}.get(data.get("e_service") or "")
        return data

    @classmethod
    def initial_from(cls, data: dict[str, Any]) -> dict[str, Any]:
        initial = {k: v for k, v in data.items() if not k.endswith("_text")}  # the versions come from the page
        if isinstance(data.get("e_service"), bool):
            initial["e_service"] = "yes" if data["e_service"] else "no"
        return initial


class AddressForm(StepForm):
    required_fields = ("recipient_name", "postal_address", "postal_recipient", "postal_phone", "stages")
    text = forms.IntegerField(widget=forms.HiddenInput)
    recipient_name = forms.CharField(label=_("受送达人"), max_length=120)
    postal_address = forms.CharField(
        label=_("送达地址"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("能收到邮件的详细地址：省、市、区县、街道、门牌号。"),
    )
    postal_code = forms.CharField(
        label=_("邮政编码（选填）"), required=False, max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code", "pattern": "[0-9]*"}),
    )
    postal_recipient = forms.CharField(label=_("收件人"), max_length=60)
    postal_phone = forms.CharField(label=_("收件人电话"), max_length=20, widget=_tel())
    agent_recipient = forms.CharField(label=_("代收人（选填）"), required=False, max_length=60)
    agent_relationship = forms.CharField(label=_("代收人与您的关系"), required=False, max_length=30)
    agent_phone = forms.CharField(label=_("代收人电话"), required=False, max_length=20, widget=_tel(autocomplete="off"))
    mobile = forms.CharField(label=_("接收短信的手机号码"), required=False, max_length=20, widget=_tel())
    email = forms.CharField(
        label=_("电子邮箱（选填）"), required=False, max_length=254,
        widget=forms.EmailInput(attrs={"inputmode": "email", "autocomplete": "email"}),
    )
    im_account = forms.CharField(label=_("微信等即时通讯账号（选填）"), required=False, max_length=60)
    stages = forms.MultipleChoiceField(
        label=_("适用阶段"), choices=ServiceStage.choices, widget=forms.CheckboxSelectMultiple,
        initial=list(ServiceStage.values),
    )
    confidential = forms.BooleanField(label=_("请求对我的送达地址保密"), required=False)

    @classmethod
    def initial_from(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k != "text"}
