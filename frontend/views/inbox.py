"""The in-app inbox: the signed-in person's own messages from the outbox, newest first; opening one marks
it read. Anybody else's message answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from frontend.http import signed_in_user as _user
from mediation.selectors.inbox import inbox_list_for_user
from mediation.services.outbox import inbox_mark_all_read, inbox_mark_read

PAGE_SIZE = 20


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox_list_for_user(user=_user(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "frontend/inbox/list.html", {"page": page})


@login_required
@require_GET
def inbox_message(request: HttpRequest, message_id: int) -> HttpResponse:
    message = inbox_mark_read(actor=_user(request), message_id=message_id)
    return render(request, "frontend/inbox/message.html", {"message": message})


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = inbox_mark_all_read(actor=_user(request))
    if count:
        text = ngettext("%(n)d 条消息已标为已读。", "%(n)d 条消息已标为已读。", count) % {"n": count}
        messages.success(request, text)
    else:
        messages.info(request, _("没有未读消息。"))
    return redirect("inbox")
