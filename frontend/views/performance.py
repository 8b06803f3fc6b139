"""Performance after an agreement, from the case page on a phone (PML 31-33; CPL 250): the obligee confirms
receipt or reports a default, the obligor uploads proof. Thin: find the obligation (NotFound for outsiders),
call one service, go back to the case page. A refusal of the wrong side goes to the error boundary (403); a
bad file or a too-early report comes back as a message beside the schedule."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.http import signed_in_user as _user
from mediation.choices import CaseStatus
from mediation.exceptions import InvalidInput, StaleState
from mediation.services.performance import (
    obligation_confirm_receipt,
    obligation_get_for_user,
    obligation_proof_upload,
    obligation_report_default,
)


def _back(case_id: int) -> HttpResponse:
    return redirect(reverse("case_detail", args=(case_id,)) + "#performance")


@login_required
@require_POST
def obligation_confirm(request: HttpRequest, case_id: int, obligation_id: int) -> HttpResponse:
    user = _user(request)
    obligation = obligation_get_for_user(user=user, case_id=case_id, obligation_id=obligation_id)
    try:
        obligation_confirm_receipt(obligation=obligation, actor=user)
    except (InvalidInput, StaleState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已确认收到第%(n)s条的履行。") % {"n": obligation.number})
    return _back(case_id)


@login_required
@require_POST
def obligation_default(request: HttpRequest, case_id: int, obligation_id: int) -> HttpResponse:
    user = _user(request)
    obligation = obligation_get_for_user(user=user, case_id=case_id, obligation_id=obligation_id)
    try:
        obligation_report_default(obligation=obligation, actor=user, note=request.POST.get("note", ""))
    except (InvalidInput, StaleState) as exc:
        messages.error(request, str(exc))
    else:
        obligation.case.refresh_from_db()
        if obligation.case.status == CaseStatus.ENFORCEMENT_ELIGIBLE:
            messages.success(request, _("已记录未履行。本案可以申请强制执行，强制执行申请书见“履行情况”。"))
        else:
            messages.success(request, _("已记录未履行。"))
    return _back(case_id)


@login_required
@require_POST
def obligation_proof(request: HttpRequest, case_id: int, obligation_id: int) -> HttpResponse:
    user = _user(request)
    obligation = obligation_get_for_user(user=user, case_id=case_id, obligation_id=obligation_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的履行凭证文件。"))
        return _back(case_id)
    try:
        obligation_proof_upload(obligation=obligation, actor=user, file=upload)
    except (InvalidInput, StaleState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("履行凭证已上传，等待权利人确认。"))
    return _back(case_id)
