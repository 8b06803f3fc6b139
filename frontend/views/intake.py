"""Court intake pages: the clerk's queue (accept, return, refer), court referrals, a partner organisation's
queue and a mediator's dashboard. Thin: parse the form, call a selector or a service, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontend.http import signed_in_user as _user
from mediation.choices import RETURN_GUIDANCE, CaseOrigin, PartyKind, PartyRole, Procedure, ReturnReason, Sector
from mediation.exceptions import DomainError, NotFound
from mediation.models import Case, Organisation, User
from mediation.selectors.court_filed import court_filed_inbox
from mediation.selectors.intake import (
    court_list_for_clerk,
    intake_case_for_clerk,
    intake_queue_for_clerk,
    mediator_dashboard,
    mediator_sessions_today,
    org_case_for_admin,
    org_queue_for_admin,
    organisation_list_eligible_for_clerk,
    organisation_list_eligible_for_court,
)
from mediation.services.intake import (
    ReferralParty,
    case_accept_for_mediation,
    case_distribute_to_mediator,
    case_refer_to_organisation,
    case_referral_create,
    case_return,
)


def _clerk_case(request: HttpRequest, case_id: int) -> Case:
    return intake_case_for_clerk(user=_user(request), case_id=case_id)


# --- Forms ------------------------------------------------------------------------------------------------


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


class ReturnForm(_Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("退回事由"), choices=ReturnReason.choices, widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择退回事由。")},
    )
    note = forms.CharField(
        label=gettext_lazy("补充说明（选填）"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReferToOrganisationForm(_Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("调解组织"), queryset=Organisation.objects.none(),
        error_messages={"required": gettext_lazy("请选择调解组织。")},
    )

    def __init__(self, *args: Any, court: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list_eligible_for_court(court=court)  # type: ignore[attr-defined]


class DistributeForm(_Form):
    # Any user: the service says clearly when the chosen person is not one of the organisation's mediators.
    mediator = forms.ModelChoiceField(
        label=gettext_lazy("调解员"), queryset=User.objects.filter(is_active=True),
        error_messages={
            "required": gettext_lazy("请选择调解员。"), "invalid_choice": gettext_lazy("所选调解员不存在。")
        },
    )


class ReferralForm(_Form):
    # Since 2025-01-01 only court-filed mediation is opened (legal-rules §A12): no 委派 before filing.
    origin = forms.ChoiceField(
        label=gettext_lazy("调解类型"), widget=forms.RadioSelect, initial=CaseOrigin.COURT_FILED,
        choices=[(CaseOrigin.COURT_FILED.value, CaseOrigin.COURT_FILED.label)],
        error_messages={
            "required": gettext_lazy("请选择“立案后委托调解”。"),
            "invalid_choice": gettext_lazy(
                "自2025年1月1日起，人民法院不得对未经立案的民事起诉先行委派调解（《最高人民法院关于严格依法规范民事案件"
                "立案与调解工作的意见》第一条）。请先登记立案，取得民初案号后选择“立案后委托调解”。"
            ),
        },
    )
    court = forms.ModelChoiceField(label=gettext_lazy("法院"), queryset=Organisation.objects.none())
    court_case_number = forms.CharField(
        label=gettext_lazy("法院案号"), required=False, max_length=60,
        help_text=gettext_lazy("必填：照录法院案件管理系统给出的民事一审案号，例如（2026）京0101民初123号。"),
    )
    procedure = forms.ChoiceField(
        label=gettext_lazy("审理程序"), required=False, choices=Procedure.choices,
        help_text=gettext_lazy("必选：普通程序调解期限15日，简易程序7日，自调解员签收移送材料之日起算。"),
    )
    referral_number = forms.CharField(label=gettext_lazy("委托调解编号（选填）"), required=False, max_length=60)
    dispute_type = forms.ChoiceField(label=gettext_lazy("纠纷类型"), choices=Sector.choices)
    title = forms.CharField(label=gettext_lazy("案由"), max_length=200)
    claims = forms.CharField(label=gettext_lazy("请求事项"), widget=forms.Textarea(attrs={"rows": 3}))
    amount = forms.DecimalField(
        label=gettext_lazy("标的额（元，选填）"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("转交调解组织（选填）"), required=False, queryset=Organisation.objects.none()
    )
    applicant_kind = forms.ChoiceField(label=gettext_lazy("主体类型"), choices=PartyKind.choices)
    applicant_name = forms.CharField(label=gettext_lazy("姓名/名称"), max_length=120)
    applicant_phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=20)
    applicant_id_number = forms.CharField(
        label=gettext_lazy("身份证号码/统一社会信用代码（选填）"), required=False, max_length=32
    )
    respondent_kind = forms.ChoiceField(label=gettext_lazy("主体类型"), choices=PartyKind.choices)
    respondent_name = forms.CharField(label=gettext_lazy("姓名/名称"), max_length=120)
    respondent_phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=20)
    respondent_id_number = forms.CharField(
        label=gettext_lazy("身份证号码/统一社会信用代码（选填）"), required=False, max_length=32
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        courts = court_list_for_clerk(user=user)
        self.fields["court"].queryset = courts  # type: ignore[attr-defined]
        self.fields["organisation"].queryset = organisation_list_eligible_for_clerk(user=user)  # type: ignore[attr-defined]
        first = courts.first()
        if first is not None:
            self.fields["court"].initial = first.pk

    def parties(self) -> list[ReferralParty]:
        data = self.cleaned_data
        return [
            ReferralParty(
                role=role, kind=data[f"{role}_kind"], name=data[f"{role}_name"], phone=data[f"{role}_phone"],
                id_number=data[f"{role}_id_number"],
            )
            for role in (PartyRole.APPLICANT, PartyRole.RESPONDENT)
        ]


# --- The clerk's queue ------------------------------------------------------------------------------------


@login_required
def intake_queue(request: HttpRequest) -> HttpResponse:
    queue = intake_queue_for_clerk(user=_user(request), page_number=request.GET.get("page"))
    # Court-filed cases waiting for the court (§A12 arts. 4-6): the clerk serves the fee notices.
    filed = court_filed_inbox(user=_user(request))[:100]
    return render(request, "frontend/intake/queue.html", {"queue": queue, "filed": filed})


@login_required
@require_POST
def intake_accept(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _clerk_case(request, case_id)
    try:
        case_accept_for_mediation(case=case, actor=_user(request))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已受理 %(ref)s，进入选定调解员阶段。") % {"ref": case.reference})
    return redirect("intake_queue")


@login_required
def intake_return(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _clerk_case(request, case_id)
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case_return(
                case=case, actor=_user(request), reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("已退回 %(ref)s，申请人将在案件页面看到退回事由和指引。") % {"ref": case.reference}
            )
            return redirect("intake_queue")
    reasons = [(code, label, RETURN_GUIDANCE[ReturnReason(code)]) for code, label in ReturnReason.choices]
    selected = form["reason"].value()
    return render(
        request, "frontend/intake/return.html", {"case": case, "form": form, "reasons": reasons, "selected": selected}
    )


@login_required
def intake_refer_to_organisation(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _clerk_case(request, case_id)
    form = ReferToOrganisationForm(request.POST or None, court=case.court)
    if request.method == "POST" and form.is_valid():
        try:
            case_refer_to_organisation(case=case, organisation=form.cleaned_data["organisation"], actor=_user(request))
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已将 %(ref)s 转交 %(org)s，由其管理员分配调解员。")
                % {"ref": case.reference, "org": form.cleaned_data["organisation"].name},
            )
            return redirect("intake_queue")
    return render(request, "frontend/intake/refer_organisation.html", {"case": case, "form": form})


@login_required
def intake_referral_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ReferralForm(request.POST or None, user=user)
    if not form.fields["court"].queryset.exists():  # type: ignore[attr-defined]
        raise NotFound(_("只有人民法院立案/诉讼服务人员可以创建委派或委托调解案件。"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = case_referral_create(
                actor=user, origin=data["origin"], court=data["court"], dispute_type=data["dispute_type"],
                title=data["title"], claims=data["claims"], amount=data["amount"], parties=form.parties(),
                court_case_number=data["court_case_number"], referral_number=data["referral_number"],
                procedure=data["procedure"], organisation=data["organisation"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已登记 %(ref)s 并委托调解，进入选定调解员阶段。"
                  "请通知各方当事人在手机上登录本平台，表示是否同意委托调解。")
                % {"ref": case.reference},
            )
            return redirect("case_detail", case.pk)
    return render(request, "frontend/intake/referral_form.html", {"form": form})


# --- A partner organisation's queue -----------------------------------------------------------------------


@login_required
def intake_org_queue(request: HttpRequest) -> HttpResponse:
    queue = org_queue_for_admin(user=_user(request), page_number=request.GET.get("page"))
    return render(request, "frontend/intake/org_queue.html", {"queue": queue})


@login_required
@require_POST
def intake_org_distribute(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = org_case_for_admin(user=user, case_id=case_id)
    form = DistributeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors.get("mediator", [])))
        return redirect("intake_org_queue")
    mediator = form.cleaned_data["mediator"]
    try:
        case_distribute_to_mediator(case=case, mediator=mediator, actor=user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("已将 %(ref)s 分配给 %(name)s。") % {"ref": case.reference, "name": mediator.display_name}
        )
    return redirect(reverse("intake_org_queue"))


# --- A mediator's dashboard -------------------------------------------------------------------------------


@login_required
def intake_mine(request: HttpRequest) -> HttpResponse:
    dashboard = mediator_dashboard(user=_user(request), page_number=request.GET.get("page"))
    today = mediator_sessions_today(user=_user(request))
    return render(request, "frontend/intake/mine.html", {"queue": dashboard, "today": today})
