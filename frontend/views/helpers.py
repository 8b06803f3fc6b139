"""The mediator's page for the interpreters and helpers of a case (issue 18 item 4): invite one for a party,
or end an invitation. Thin: parse, call ``mediation.services.helpers``, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from frontend.http import case_or_404, signed_in_user
from mediation import transitions as tr
from mediation.choices import HelperKind
from mediation.exceptions import DomainError, PermissionDenied
from mediation.models import CaseHelper, Party
from mediation.permissions import case_roles
from mediation.selectors.helpers import case_helpers
from mediation.services.helpers import helper_invite, helper_withdraw


@login_required
def case_helpers_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    user = signed_in_user(request)
    if tr.MEDIATOR not in case_roles(user, case):
        raise PermissionDenied(_("只有本案调解员可以邀请翻译人员或协助人员。"), case=case)
    parties = list(Party.objects.filter(case=case).order_by("role", "pk"))
    error, values = "", {}
    if request.method == "POST" and request.POST.get("form") == "withdraw":
        helper = CaseHelper.objects.filter(case=case, pk=request.POST.get("helper") or 0).first()
        if helper is not None:
            helper_withdraw(helper=helper, actor=user)
            messages.success(request, _("已取消对%(name)s的邀请。") % {"name": helper.name})
        return redirect("case_helpers", case_id=case.pk)
    if request.method == "POST":
        fields = ("party", "kind", "name", "phone", "language", "relation")
        values = {k: request.POST.get(k, "").strip() for k in fields}
        assists = next((p for p in parties if str(p.pk) == values["party"]), None)
        try:
            if assists is None:
                raise DomainError(_("请选择被协助的当事人。"))
            helper = helper_invite(
                case=case,
                assists=assists,
                kind=values["kind"],
                name=values["name"],
                phone=values["phone"],
                language=values["language"],
                relation=values["relation"],
                actor=user,
            )
        except DomainError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("已邀请%(name)s（%(service)s）。请告知其使用该手机号码登录，从本案调解活动的邀请链接进入。")
                % {"name": helper.name, "service": helper.service_label},
            )
            return redirect("case_helpers", case_id=case.pk)
    return render(
        request,
        "frontend/case_actions/helpers.html",
        {
            "case": case,
            "helpers": list(case_helpers(case)),
            "parties": parties,
            "kinds": HelperKind.choices,
            "values": values,
            "error": error,
        },
    )
