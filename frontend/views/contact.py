"""Contact requests (联系法官/调解员, issue 18): the party's page on the case, and the handler's queue. Thin: parse,
call one service, go back; a refusal goes to the error boundary, bad input comes back as a message."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.http import case_or_404
from frontend.http import signed_in_user as _user
from mediation.choices import ContactCategory, ContactMethod, ContactStatus
from mediation.exceptions import InvalidInput, StaleState
from mediation.models import Party
from mediation.permissions import case_roles
from mediation.selectors.contact import (
    contact_figures,
    contact_queue,
    contact_request_get_for_handler,
    contact_requests_for_case,
)
from mediation.services.contact_requests import (
    LOGGING_ROLES,
    contact_request_answer,
    contact_request_create,
    contact_request_record,
    contact_request_take,
    is_head,
    parties_represented_by,
)


@login_required
def contact_requests(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    case = case_or_404(request, case_id)
    own = parties_represented_by(user, case)
    logs_calls = not own and bool(case_roles(user, case) & LOGGING_ROLES)
    if request.method == "POST":
        party = None
        if request.POST.get("party"):
            party = Party.objects.filter(case=case, pk=request.POST.get("party", "").strip() or 0).first()
        try:
            contact_request_create(
                case=case,
                actor=user,
                category=request.POST.get("category", ""),
                question=request.POST.get("question", ""),
                party=party,
            )
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已登记。承办人将在1个工作日内与您联系，2个工作日内反馈办理结果。"))
            return redirect("contact_requests", case_id=case.pk)
    return render(
        request,
        "frontend/contact/case.html",
        {
            "case": case,
            "rows": contact_requests_for_case(user=user, case=case),
            "own": own,
            "logs_calls": logs_calls,
            "parties": list(case.parties.all()) if logs_calls else [],
            "categories": ContactCategory.choices,
            "may_ask": bool(own) or logs_calls,
        },
    )


@login_required
def contact_queue_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = [(row, row.status == ContactStatus.ESCALATED and is_head(user, row)) for row in contact_queue(user=user)]
    return render(
        request,
        "frontend/contact/queue.html",
        {
            "rows": rows,
            "methods": ContactMethod.choices,
            "figures": contact_figures(user=user),
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )


def _when(value: str) -> dt.datetime | None:
    parsed = parse_datetime(value.strip()) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@login_required
@require_POST
def contact_take(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    row = contact_request_get_for_handler(user=user, request_id=request_id)
    try:
        contact_request_take(request=row, actor=user)
    except StaleState as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已接手该联系请求。"))
    return redirect("contact_queue")


@login_required
@require_POST
def contact_record(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    row = contact_request_get_for_handler(user=user, request_id=request_id)
    when = _when(request.POST.get("contacted_at", ""))
    try:
        if when is None:
            raise InvalidInput(_("请填写联系时间。"))
        contact_request_record(
            request=row,
            actor=user,
            method=request.POST.get("method", ""),
            contacted_at=when,
            note=request.POST.get("note", ""),
            result=request.POST.get("result", ""),
        )
    except (InvalidInput, StaleState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已登记联系情况。"))
    return redirect("contact_queue")


@login_required
@require_POST
def contact_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    row = contact_request_get_for_handler(user=user, request_id=request_id)
    try:
        contact_request_answer(request=row, actor=user, result=request.POST.get("result", ""))
    except (InvalidInput, StaleState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已向当事人反馈办理结果（站内消息和短信）。"))
    return redirect("contact_queue")
