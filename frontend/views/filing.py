"""After a failed mediation (OMR 21): the case's failure page (a party chooses online filing; the court resumes a
委托 case's trial) and the court's filing queue, where the clerk files a handed-over case and types the number
the court's case management system gave it. Thin: parse, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from frontend.http import case_or_404, signed_in_user
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus
from mediation.exceptions import DomainError
from mediation.exceptions import PermissionDenied as DomainPermissionDenied
from mediation.models import CourtFiling
from mediation.permissions import case_roles
from mediation.selectors.filing import filing_courts_for_clerk, filing_get_for_clerk, filing_queue
from mediation.services.filing import filing_choose_online, filing_record, filing_resume_trial, online_filing_offered


@login_required
@require_http_methods(["GET", "POST"])
def case_failure(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    user = signed_in_user(request)
    roles = case_roles(user, case)
    may_choose = tr.PARTY in roles and online_filing_offered(case)
    may_resume = bool(roles & {tr.CLERK, tr.JUDGE}) and case.origin == CaseOrigin.ENTRUSTED \
        and case.status == CaseStatus.TERMINATED
    error = ""
    if request.method == "POST":
        act = request.POST.get("act", "")
        try:
            if act == "file_online":
                filing_choose_online(case=case, actor=user)
                messages.success(request, _("已将本案电子材料提交%(court)s立案队列，法院将依法登记立案。")
                                 % {"court": case.court.name})
            elif act == "resume_trial":
                filing_resume_trial(case=case, actor=user)
                messages.success(request, _("已记录本案恢复审理。"))
            else:
                raise DomainPermissionDenied(_("请选择要办理的事项。"), case=case)
        except DomainPermissionDenied:
            raise
        except DomainError as exc:
            error = str(exc)
        else:
            return redirect("case_failure", case_id=case.pk)
    filing = CourtFiling.objects.filter(case=case).select_related("court", "chosen_by_party").first()
    return render(request, "frontend/filing/case_failure.html", {
        "case": case, "filing": filing, "may_choose": may_choose, "may_resume": may_resume, "error": error,
    })


@login_required
def filing_queue_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not filing_courts_for_clerk(user):
        raise DomainPermissionDenied(_("只有法院立案人员可以查看立案队列。"))
    return render(request, "frontend/filing/queue.html", {
        "pending": list(filing_queue(user=user)), "filed": list(filing_queue(user=user, pending=False)[:20]),
        "errors": {},
    })


@login_required
@require_http_methods(["POST"])
def filing_file(request: HttpRequest, filing_id: int) -> HttpResponse:
    user = signed_in_user(request)
    filing = filing_get_for_clerk(user=user, filing_id=filing_id)
    if filing is None:
        raise Http404
    try:
        filing = filing_record(filing=filing, actor=user, court_case_number=request.POST.get("court_case_number", ""))
    except DomainPermissionDenied:
        raise
    except DomainError as exc:
        return render(request, "frontend/filing/queue.html", {
            "pending": list(filing_queue(user=user)), "filed": list(filing_queue(user=user, pending=False)[:20]),
            "errors": {filing.pk: str(exc)}, "typed": {filing.pk: request.POST.get("court_case_number", "")},
        }, status=400)
    messages.success(request, _("已登记立案：案件%(ref)s，案号%(number)s。")
                     % {"ref": filing.case.reference, "number": filing.court_case_number})
    return redirect("filing_queue")
