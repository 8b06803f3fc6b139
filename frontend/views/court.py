"""The judge's workspace for judicial confirmation (legal-rules §B8): the inbox of applications at the judge's
court, the review page of one application with its action forms, and a party's filing of supplements. Thin:
parse the form, call a selector or a service, render; a refused act re-renders the page with the reason."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from documents.services.signing import document_pending_slots, document_sign_options
from documents.verification import documents_verified_for_case
from frontend.http import case_or_404
from frontend.http import signed_in_user as _user
from mediation.choices import DocumentKind
from mediation.exceptions import DomainError, InvalidInput
from mediation.scheduling_slots import zone
from mediation.selectors.confirmation import (
    ApplicationReview,
    confirmation_review_for_user,
    court_inbox_for_judge,
    guidance_requests_for_judge,
)
from mediation.selectors.court_filed import court_filed_inbox
from mediation.selectors.scheduling import session_get_for_case, user_time_zone
from mediation.selectors.service import service_records_for_case
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_allow_withdrawal,
    confirmation_deem_withdrawn,
    confirmation_extension_approve,
    confirmation_inquiry_answer,
    confirmation_inquiry_ask,
    confirmation_not_accept,
    confirmation_request_supplement,
    confirmation_rule,
    confirmation_supplement_file,
    confirmation_withdrawal_request,
)
from mediation.services.room_guidance import guidance_request_get_for_user, room_guidance_close
from mediation.services.scheduling import verification_session_cancel, verification_session_schedule

# The documents a judge reads beside the agreement, in this order; each with its signatures verified.
REVIEW_DOCUMENTS = (
    DocumentKind.JC_APPLICATION, DocumentKind.AGREEMENT, DocumentKind.PRESIDING_PROOF, DocumentKind.TRANSCRIPT,
)


@login_required
@require_GET
def court_inbox(request: HttpRequest) -> HttpResponse:
    inbox = court_inbox_for_judge(
        user=_user(request), status=request.GET.get("status", ""), page_number=request.GET.get("page")
    )
    guidance = guidance_requests_for_judge(user=_user(request))
    # Court-filed cases waiting for the court (§A12 arts. 4-6): a 调解书 asked for, fee notices, trial.
    filed = court_filed_inbox(user=_user(request))[:100]
    return render(request, "frontend/court/inbox.html", {"inbox": inbox, "guidance": guidance, "filed": filed})


def _review(request: HttpRequest, case_id: int) -> ApplicationReview:
    return confirmation_review_for_user(user=_user(request), case_id=case_id)


# What the forms show again after a refusal. A plain dict with every key present: a missing key would make the
# template fall back to the dict's own attribute (``posted.items`` is ``dict.items``).
POSTED_FIELDS = ("case_number", "items", "days", "kind", "question", "date", "start", "end")


def _posted(request: HttpRequest | None) -> dict[str, str]:
    return {name: request.POST.get(name, "") if request is not None else "" for name in POSTED_FIELDS}


def _render_review(request: HttpRequest, review: ApplicationReview, *, error: str = "", form: str = "",
                   status: int = 200) -> HttpResponse:
    user = _user(request)
    documents = documents_verified_for_case(user=user, case=review.case, kinds=REVIEW_DOCUMENTS)
    context = {"review": review, "documents": documents, "error": error, "error_form": form,
               "posted": _posted(request) if error else _posted(None), **_ruling(request, review)}
    return render(request, "frontend/court/application.html", context, status=status)


def _ruling(request: HttpRequest, review: ApplicationReview) -> dict[str, object]:
    """The court's ruling on this application (legal-rules §C4): the issued document with its signatures
    verified, whether this judge may approve and seal it now, and, once sealed, its service on each party."""
    user = _user(request)
    rulings = documents_verified_for_case(user=user, case=review.case, kinds=(DocumentKind.RULING,))
    ruling = rulings[0] if rulings else None
    if ruling is None:
        return {"ruling": None}
    document = ruling.document
    records = [r for r in service_records_for_case(user=user, case=review.case)
               if r.document_number == document.number and r.document_title == document.title]
    return {"ruling": ruling, "ruling_pending": document_pending_slots(document),
            "ruling_may_approve": bool(document_sign_options(document=document, user=user)),
            "ruling_records": records}


@login_required
@require_GET
def court_application(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_review(request, _review(request, case_id))


def _int(value: str | None, message: str = "") -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InvalidInput(message or _("补正期限须为整数天数。")) from None


def _span(request: HttpRequest) -> tuple[dt.datetime, dt.datetime]:
    """The verification session's date and times, in the judge's own time zone."""
    try:
        day = dt.date.fromisoformat(request.POST.get("date", ""))
        start = dt.time.fromisoformat(request.POST.get("start", ""))
        end = dt.time.fromisoformat(request.POST.get("end", ""))
    except ValueError:
        raise InvalidInput(_("请填写询问的日期、开始时间和结束时间。")) from None
    tz = zone(user_time_zone(_user(request)))
    return dt.datetime.combine(day, start, tzinfo=tz), dt.datetime.combine(day, end, tzinfo=tz)


ACTIONS = ("accept", "not_accept", "supplement", "deem_withdrawn", "withdraw", "confirm", "dismiss", "extend",
           "inquire", "verification", "cancel_verification")


@login_required
@require_POST
def court_application_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    review = _review(request, case_id)
    user, case, post = _user(request), review.case, request.POST
    try:
        if action == "accept":
            confirmation_accept(case=case, actor=user, case_number=post.get("case_number", ""))
            done = _("已受理，审查期限开始计算。")
        elif action == "not_accept":
            confirmation_not_accept(case=case, actor=user, ground=post.get("ground", ""), note=post.get("note", ""))
            done = _("已裁定不予受理。")
        elif action == "supplement":
            confirmation_request_supplement(case=case, actor=user, items=post.get("items", ""),
                                            days=_int(post.get("days"), _("补正期限须为整数天数。")))
            done = _("已通知当事人限期补正材料。")
        elif action == "deem_withdrawn":
            confirmation_deem_withdrawn(case=case, actor=user, note=post.get("note", ""))
            done = _("已按撤回申请处理。")
        elif action == "withdraw":
            confirmation_allow_withdrawal(case=case, actor=user, note=post.get("note", ""))
            done = _("已准许撤回申请。")
        elif action == "verification":
            starts_at, ends_at = _span(request)
            verification_session_schedule(case=case, actor=user, starts_at=starts_at, ends_at=ends_at,
                                          note=post.get("note", ""))
            done = _("已安排司法确认询问，双方当事人已收到通知。")
        elif action == "cancel_verification":
            session = session_get_for_case(case=case, session_id=_int(post.get("session"), _("请选择要取消的询问。")))
            verification_session_cancel(session=session, reason=post.get("reason", ""), actor=user)
            done = _("已取消司法确认询问，双方当事人已收到通知。")
        elif action == "confirm":
            confirmation_rule(case=case, actor=user, confirm=True, note=post.get("note", ""))
            done = _("已裁定调解协议有效。")
        elif action == "dismiss":
            confirmation_rule(case=case, actor=user, confirm=False, ground=post.get("ground", ""),
                              note=post.get("note", ""))
            done = _("已裁定驳回申请。")
        elif action == "inquire":
            days = _int(post.get("days"), _("答复期限须为整数天数。"))
            confirmation_inquiry_ask(case=case, actor=user, kind=post.get("kind", ""),
                                     question=post.get("question", ""), days=days)
            done = _("已发出核实事项，答复后将通知您。")
        else:
            confirmation_extension_approve(case=case, actor=user, reason=post.get("reason", ""))
            done = _("已批准延长审查期限十日。")
    except InvalidInput as exc:
        return _render_review(request, _review(request, case_id), error=str(exc), form=action, status=400)
    except DomainError as exc:
        # Refused by who may act or by where the case stands: the page as it now is, with the reason.
        return _render_review(request, _review(request, case_id), error=str(exc), form=action, status=409)
    messages.success(request, done)
    return redirect("court_application", case_id=case.pk)


@login_required
@require_POST
def confirmation_supplement(request: HttpRequest, case_id: int) -> HttpResponse:
    """A party files what the court asked for, from the case page (on a phone)."""
    case = case_or_404(request, case_id)
    try:
        confirmation_supplement_file(case=case, actor=_user(request), note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("补正材料已提交法院。"))
    return redirect("case_detail", case_id=case.pk)


@login_required
@require_POST
def confirmation_withdrawal(request: HttpRequest, case_id: int) -> HttpResponse:
    """A party asks the court to let the application be withdrawn, from the case page."""
    case = case_or_404(request, case_id)
    try:
        confirmation_withdrawal_request(case=case, actor=_user(request), reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("撤回申请已提交法院，法院准许后本申请终结。"))
    return redirect("case_detail", case_id=case.pk)


@login_required
@require_POST
def confirmation_inquiry_reply(request: HttpRequest, case_id: int, inquiry_id: int) -> HttpResponse:
    """The organisation (verification) or a party (evidence) answers what the court asked, from the case page."""
    case = case_or_404(request, case_id)
    try:
        confirmation_inquiry_answer(case=case, actor=_user(request), inquiry_id=inquiry_id,
                                    answer=request.POST.get("answer", ""), file=request.FILES.get("file"))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("答复已提交法院。"))
    return redirect("case_detail", case_id=case.pk)


@login_required
@require_POST
def court_guidance_close(request: HttpRequest, request_id: int) -> HttpResponse:
    """A judge of the case's court answers and closes a mediator's request for live guidance."""
    user = _user(request)
    guidance = guidance_request_get_for_user(user=user, request_id=request_id)
    try:
        room_guidance_close(request=guidance, actor=user, answer=request.POST.get("answer", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("指导请求已结束。"))
    return redirect("court_inbox")
