"""Thin views: parse input, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.http import case_or_404
from frontend.views.agreements import agreement_link_for
from frontend.views.case_actions import case_action_links
from frontend.views.service import service_case_context
from mediation.audit_labels import audit_event_label
from mediation.choices import CaseOrigin, CaseStatus, Role
from mediation.models import Party
from mediation.permissions import can_see_full_id_number, may_take_action
from mediation.selectors.cases import case_list_for_user
from mediation.selectors.contact import is_contact_event, timeline_hides_contact_events
from mediation.selectors.court_filed import court_filed_view
from mediation.selectors.inbox import navigation_roles_and_unread
from mediation.selectors.recordings import recording_replaces_record, recordings_for_case
from mediation.selectors.rooms import room_files_hidden_from
from mediation.services.parties import parties_claimable_by, party_claim


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; send them to the icon the pages name."""
    return redirect(static("frontend/favicon.svg"), permanent=True)


# Where each staff role's work is, in this order for someone who holds several.
_LANDING = (
    ({Role.CLERK, Role.COURT_PRESIDENT}, "intake_queue"),
    ({Role.JUDGE}, "court_inbox"),
    ({Role.ORG_ADMIN}, "intake_org_queue"),
    ({Role.MEDIATOR}, "intake_mine"),
)


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Where signing in leads when no page asked for it (LOGIN_REDIRECT_URL): each role's work, a party's
    home page otherwise."""
    roles, _unread = navigation_roles_and_unread(user=request.user)  # type: ignore[arg-type]
    for wanted, url_name in _LANDING:
        if roles & wanted:
            return redirect(url_name)
    return redirect("home")


def home(request: HttpRequest) -> HttpResponse:
    cases = case_list_for_user(user=request.user)[:20] if request.user.is_authenticated else []
    return render(request, "frontend/home.html", {"cases": cases})


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = case_list_for_user(user=request.user)  # type: ignore[arg-type]
    claimable = parties_claimable_by(user=request.user)  # type: ignore[arg-type]
    return render(request, "frontend/case_list.html", {"cases": cases[:200], "claimable": claimable[:20]})


@login_required
@require_POST
def party_claim_view(request: HttpRequest, party_id: int) -> HttpResponse:
    party = Party.objects.filter(pk=party_id).first()
    if party is None:
        raise Http404
    party_claim(party=party, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("已关联案件：%(title)s") % {"title": party.case.title})
    return redirect("case_detail", case_id=party.case_id)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    user = request.user
    # Another side's caucus files stay out of the list and the timeline.
    hidden = room_files_hidden_from(user=user, case=case)  # type: ignore[arg-type]
    hide_contact = timeline_hides_contact_events(user=user, case=case)  # type: ignore[arg-type]
    timeline = [(event, audit_event_label(event)) for event in case.audit_events.order_by("seq")
                if not (event.kind.startswith("evidence.") and (event.data or {}).get("evidence") in hidden)
                and not (hide_contact and is_contact_event(event.kind, event.data))]
    # Each person sees their own ID number in full, everyone else's masked (PIPL minimisation).
    parties = [
        (party, party.id_number if can_see_full_id_number(user, party) else party.id_number_masked)  # type: ignore[arg-type]
        for party in case.parties.all()
    ]
    context = {
        "case": case, "timeline": timeline, "parties": parties,
        "actions": case_action_links(user=user, case=case),  # type: ignore[arg-type]
        "evidence": case.evidence.exclude(pk__in=hidden).order_by("uploaded_at"),
    }
    context.update(service_case_context(user=user, case=case))  # type: ignore[arg-type]
    context["agreement_url"] = agreement_link_for(user=user, case=case)  # type: ignore[arg-type]
    context["court_filed"] = court_filed_view(case=case)
    context["may_request_mediation_document"] = may_take_action(
        user, case, "request_mediation_document"  # type: ignore[arg-type]
    ) and case.status == CaseStatus.AGREEMENT_EFFECTIVE and case.origin == CaseOrigin.COURT_FILED
    context["recordings"] = recordings_for_case(user=user, case=case)  # type: ignore[arg-type]
    context["recording_replaces_record"] = recording_replaces_record(case) if context["recordings"] else False
    return render(request, "frontend/case_detail.html", context)
