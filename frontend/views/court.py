"""The judge's workspace for judicial confirmation (legal-rules §B8): the inbox of applications at the judge's
court, the review page of one application with its action forms, and a party's filing of supplements. Thin:
parse the form, call a selector or a service, render; a refused act re-renders the page with the reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from documents.verification import documents_verified_for_case
from frontend.http import case_or_404
from frontend.http import signed_in_user as _user
from mediation.choices import DocumentKind
from mediation.exceptions import DomainError, InvalidInput
from mediation.selectors.confirmation import ApplicationReview, confirmation_review_for_user, court_inbox_for_judge
from mediation.selectors.court_filed import court_filed_inbox
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_allow_withdrawal,
    confirmation_deem_withdrawn,
    confirmation_extension_approve,
    confirmation_not_accept,
    confirmation_request_supplement,
    confirmation_rule,
    confirmation_supplement_file,
)

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
    # Court-filed cases waiting for the court (§A12 arts. 4-6): a 调解书 asked for, fee notices, trial.
    filed = court_filed_inbox(user=_user(request))[:100]
    return render(request, "frontend/court/inbox.html", {"inbox": inbox, "filed": filed})


def _review(request: HttpRequest, case_id: int) -> ApplicationReview:
    return confirmation_review_for_user(user=_user(request), case_id=case_id)


# What the forms show again after a refusal. A plain dict with every key present: a missing key would make the
# template fall back to the dict's own attribute (``posted.items`` is ``dict.items``).
POSTED_FIELDS = ("case_number", "items", "days")


def _posted(request: HttpRequest | None) -> dict[str, str]:
    return {name: request.POST.get(name, "") if request is not None else "" for name in POSTED_FIELDS}


def _render_review(request: HttpRequest, review: ApplicationReview, *, error: str = "", form: str = "",
                   status: int = 200) -> HttpResponse:
    documents = documents_verified_for_case(user=_user(request), case=review.case, kinds=REVIEW_DOCUMENTS)
    context = {"review": review, "documents": documents, "error": error, "error_form": form,
               "posted": _posted(request) if error else _posted(None)}
    return render(request, "frontend/court/application.html", context, status=status)


@login_required
@require_GET
def court_application(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_review(request, _review(request, case_id))


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InvalidInput(_("补正期限须为整数天数。")) from None


ACTIONS = ("accept", "not_accept", "supplement", "deem_withdrawn", "withdraw", "confirm", "dismiss", "extend")


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
                                            days=_int(post.get("days")))
            done = _("已通知当事人限期补正材料。")
        elif action == "deem_withdrawn":
            confirmation_deem_withdrawn(case=case, actor=user, note=post.get("note", ""))
            done = _("已按撤回申请处理。")
        elif action == "withdraw":
            confirmation_allow_withdrawal(case=case, actor=user, note=post.get("note", ""))
            done = _("已准许撤回申请。")
        elif action == "confirm":
            confirmation_rule(case=case, actor=user, confirm=True, note=post.get("note", ""))
            done = _("已裁定调解协议有效。")
        elif action == "dismiss":
            confirmation_rule(case=case, actor=user, confirm=False, ground=post.get("ground", ""),
                              note=post.get("note", ""))
            done = _("已裁定驳回申请。")
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
