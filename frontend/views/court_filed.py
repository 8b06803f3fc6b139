"""Pages of court-filed mediation (legal-rules §A12, §B13): each party's consent on the phone, the mediator's
signature for the transferred materials (which starts the clock), the one 30-day extension (the parties'
consents, then the mediator's act), a party's request for a 民事调解书, and the court's page for the outcomes
(closure by other means, the filing-fee notice, the fee paid). Thin: parse, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.services.fee_notice import fee_notice_issue
from documents.services.mediation_document import current_mediation_document, mediation_document_prepare
from frontend.http import case_or_404, client_ip
from frontend.http import signed_in_user as _user
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, OtherMeansClosure
from mediation.exceptions import DomainError, InvalidInput
from mediation.exceptions import PermissionDenied as DomainPermissionDenied
from mediation.lifecycle import OTHER_MEANS_STATUSES
from mediation.models import Case, Party
from mediation.notices import COURT_ENTRUSTMENT_CONSENT, COURT_FILED_EXTENSION_CONSENT
from mediation.permissions import case_roles
from mediation.selectors.assignment import parties_acting_for
from mediation.selectors.court_filed import court_filed_view
from mediation.services.court_filed import (
    court_filed_close_other_means,
    court_filed_consent_record,
    court_filed_extend,
    court_filed_extension_consent_record,
    court_filed_fee_paid,
    court_filed_materials_receive,
    mediation_document_request,
    standard_text,
)


def _court_filed_case(request: HttpRequest, case_id: int) -> Case:
    case = case_or_404(request, case_id)
    if case.origin != CaseOrigin.COURT_FILED:
        raise Http404
    return case


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _party_for(request: HttpRequest, case: Case, *, message: str) -> list[Party]:
    parties = parties_acting_for(case=case, user=_user(request))
    if not parties:
        raise DomainPermissionDenied(message, case=case)
    return parties


def _party_answer_page(request: HttpRequest, case_id: int, *, extension: bool) -> HttpResponse:
    case = _court_filed_case(request, case_id)
    who = _("只有本案当事人本人或其代理人可以作出同意。")
    parties = _party_for(request, case, message=who)
    view = court_filed_view(case=case)
    assert view is not None
    text = standard_text(COURT_FILED_EXTENSION_CONSENT if extension else COURT_ENTRUSTMENT_CONSENT)
    record = court_filed_extension_consent_record if extension else court_filed_consent_record
    error = ""
    if request.method == "POST" and request.POST.get("answer") in ("yes", "no"):
        chosen = next((p for p in parties if p.pk == _int(request.POST.get("party"))), parties[0])
        try:
            record(case=case, party=chosen, actor=_user(request), granted=request.POST["answer"] == "yes",
                   shown_id=_int(request.POST.get("text")), ip_address=client_ip(request))
        except DomainError as exc:
            error = str(exc)
        else:
            messages.success(request, _("已记录您的意见。"))
            return redirect("case_detail", case_id=case.pk)
    answers = view.extension_consents if extension else view.consents
    return render(request, "frontend/court_filed/answer.html", {
        "case": case, "text": text, "parties": parties, "error": error, "extension": extension, "view": view,
        "answers": answers, "open": view.period_open if extension else view.consent_open,
    })


@login_required
def consent_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """A party's consent to the court entrusting the filed suit to mediation (§A12 art. 2), on the phone."""
    return _party_answer_page(request, case_id, extension=False)


@login_required
def extension_consent_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """A party's consent to the one 30-day extension (§A12 art. 3)."""
    return _party_answer_page(request, case_id, extension=True)


@login_required
def materials_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """The mediator signs for the materials the court transferred: the 15/7-day period starts (§A12 art. 3)."""
    case = _court_filed_case(request, case_id)
    if tr.MEDIATOR not in case_roles(_user(request), case):
        raise DomainPermissionDenied(_("只有本案调解员本人可以签收人民法院移送的材料。"), case=case)
    view = court_filed_view(case=case)
    error = ""
    if request.method == "POST":
        try:
            court_filed_materials_receive(case=case, actor=_user(request), note=request.POST.get("note", ""))
        except DomainError as exc:
            error = str(exc)
        else:
            messages.success(request, _("已签收移送材料，调解期限自今日起算。"))
            return redirect("case_detail", case_id=case.pk)
    return render(request, "frontend/court_filed/materials.html", {
        "case": case, "view": view, "error": error, "open": case.status == CaseStatus.ACCEPTED,
    }, status=400 if error else 200)


@login_required
def extend_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """The mediator extends the period once by 30 days with both parties' recorded consent."""
    case = _court_filed_case(request, case_id)
    if tr.MEDIATOR not in case_roles(_user(request), case):
        raise DomainPermissionDenied(_("只有本案调解员可以延长调解期限。"), case=case)
    error = ""
    if request.method == "POST":
        try:
            court_filed_extend(case=case, actor=_user(request))
        except DomainError as exc:
            error = str(exc)
        else:
            messages.success(request, _("调解期限已延长三十日，延长的期限不计入审理期限。"))
            return redirect("case_detail", case_id=case.pk)
    return render(request, "frontend/court_filed/extend.html", {
        "case": case, "view": court_filed_view(case=case), "error": error,
    }, status=400 if error else 200)


@login_required
@require_POST
def request_document(request: HttpRequest, case_id: int) -> HttpResponse:
    """A party expressly asks for a 民事调解书: the agreement goes to the judge (§A12 art. 4)."""
    case = _court_filed_case(request, case_id)
    try:
        mediation_document_request(case=case, actor=_user(request))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已申请出具民事调解书，调解协议已提交法官审查。"))
    return redirect("case_detail", case_id=case.pk)


# --- The court's page ---------------------------------------------------------------------------------------


def _court_case(request: HttpRequest, case_id: int) -> Case:
    case = _court_filed_case(request, case_id)
    if not case_roles(_user(request), case) & {tr.CLERK, tr.JUDGE}:
        raise DomainPermissionDenied(_("只有本案管辖法院的法官或书记员可以办理。"), case=case)
    return case


def _render_court(request: HttpRequest, case: Case, *, error: str = "", status: int = 200) -> HttpResponse:
    roles = case_roles(_user(request), case)
    return render(request, "frontend/court_filed/court.html", {
        "case": case, "view": court_filed_view(case=case), "error": error, "roles": roles,
        "is_clerk": tr.CLERK in roles, "is_judge": tr.JUDGE in roles, "closures": OtherMeansClosure.choices,
        "posted": request.POST, "mediation_document": current_mediation_document(case),
        "can_close": case.status in OTHER_MEANS_STATUSES,
    }, status=status)


@login_required
def court_page(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_court(request, _court_case(request, case_id))


COURT_ACTIONS = ("close_other_means", "fee_notice", "fee_paid", "mediation_document")


@login_required
@require_POST
def court_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    if action not in COURT_ACTIONS:
        raise Http404
    case = _court_case(request, case_id)
    user, post = _user(request), request.POST
    try:
        if action == "close_other_means":
            court_filed_close_other_means(case=case, actor=user, reason=post.get("reason", ""),
                                          note=post.get("note", ""))
            done = _("已以其他方式结案。")
        elif action == "mediation_document":
            document = mediation_document_prepare(case=case, actor=user)
            messages.success(request, _("民事调解书（第%(v)d版）已制作。请核对后以审判员身份签署，"
                                        "本院电子印章随签署加盖，随后向各方当事人电子送达，由当事人签收。")
                             % {"v": document.version})
            return redirect("document_detail", pk=document.pk)
        elif action == "fee_notice":
            _document, records = fee_notice_issue(case=case, actor=user, amount=post.get("amount", ""),
                                                  days=post.get("days", ""))
            done = _("交纳案件受理费通知书已发出并送达（%(n)d份送达记录），交费期限开始计算。") % {"n": len(records)}
        else:
            court_filed_fee_paid(case=case, actor=user, note=post.get("note", ""))
            done = _("已登记案件受理费已交纳，案件转入审理。")
    except DomainPermissionDenied:
        raise  # a refusal is the error page's (403), not a message beside a form
    except InvalidInput as exc:
        return _render_court(request, Case.objects.get(pk=case.pk), error=str(exc), status=400)
    except DomainError as exc:
        return _render_court(request, Case.objects.get(pk=case.pk), error=str(exc), status=409)
    messages.success(request, done)
    return redirect("court_filed_court", case_id=case.pk)
