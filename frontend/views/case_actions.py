"""Pages that act on one case: choosing or designating its mediator (OMR 10), the mediator's acceptance with
a disclosure or decline (OMR 12-13), answering a disclosure, recusal (OMR 13-14; SIM 15), and seeking the
respondent's willingness on a one-sided application (OMR 15).

Thin: parse a form, call one service, render. People with no role on the case get 404 (they learn nothing
from the id); people with a role that may not take the action get a page saying so (403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontend.http import case_or_404 as _case_or_404
from frontend.http import client_ip
from frontend.http import signed_in_user as _user
from mediation import calendar
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, ConsentKind, RecusalDecision, Sector, TimerKind, TimerStatus
from mediation.exceptions import DomainError, NotFound
from mediation.exceptions import PermissionDenied as DomainPermissionDenied
from mediation.lifecycle import COURT_FILED_CONSENT_STATUSES
from mediation.models import (
    AuditEvent,
    Case,
    CaseMediator,
    Consent,
    Disclosure,
    MediatorProfile,
    RecusalRequest,
    Timer,
    User,
)
from mediation.notices import ONLINE_MEDIATION_CONSENT, ONLINE_MEDIATION_NOTICE
from mediation.permissions import case_roles, may_take_action
from mediation.recommendation import recommend_mediators
from mediation.selectors.assignment import (
    current_choices,
    designation_waits_for_parties,
    parties_acting_for,
    selection_window,
)
from mediation.selectors.cases import case_actions_available
from mediation.services.assignment import (
    disclosure_answer,
    disclosure_notice,
    disclosure_objection_resolve,
    disclosure_objections,
    mediator_accept,
    mediator_change_refused,
    mediator_choice_record,
    mediator_decline,
    mediator_designate,
    mediator_disclose,
    recusal_decide,
    recusal_request,
)
from mediation.services.identity import identity_is_verified
from mediation.services.respondent import (
    contact_clock,
    publish_standard,
    respondent_answer,
    respondent_invite,
    respondent_link,
    respondent_party_for,
    respondent_seek,
    respondent_unreachable,
)

S = CaseStatus
OPEN_TIMER = (TimerStatus.RUNNING, TimerStatus.PAUSED)
TEXTAREA = forms.Textarea(attrs={"rows": 4})


# --- helpers ---------------------------------------------------------------------------------------------




def _to_case(case: Case) -> HttpResponseRedirect:
    return redirect("case_detail", case_id=case.pk)


def _timer(case: Case, kind: str) -> Timer | None:
    return Timer.objects.filter(case=case, kind=kind).order_by("-pk").first()


def _clock(timer: Timer | None) -> dict[str, Any] | None:
    """What the page says about a legal clock: its name, last day, and whether it has run out."""
    if timer is None:
        return None
    running = timer.status in (TimerStatus.RUNNING, TimerStatus.PAUSED)
    return {
        "label": timer.get_kind_display(), "last_day": calendar.last_day(timer.due_at), "running": running,
        "overdue": timer.status == TimerStatus.FIRED or (running and timer.due_at <= timezone.now()),
        "status": timer.get_status_display(),
    }


@dataclass(frozen=True)
class _ActionPage:
    """The page on which a table row is taken, for the case page's action bar."""

    url_name: str
    label: StrPromise
    # Besides the table's roles: who the page is for, and when it has something to do.
    only_role: str = ""
    only_when: Callable[[Case], bool] | None = None


# Rows of the transition table that have a page of their own; the others are taken where the work happens
# (the room, the agreement, the court's pages) or in the admin.
ACTION_PAGES: dict[str, _ActionPage] = {
    # OMR 10: the court or organisation designates only once the parties may no longer choose.
    "assign": _ActionPage("case_choose", gettext_lazy("指定调解员"),
                          only_when=lambda case: not designation_waits_for_parties(case)),
    "mediator_accept": _ActionPage("case_mediator_accept", gettext_lazy("确认接受")),
    "mediator_decline": _ActionPage("case_mediator_decline", gettext_lazy("不予接受")),
    # OMR 15: the mediator's step on a one-sided application; the respondent answers on a page of their own.
    "seek_respondent": _ActionPage("case_respondent", gettext_lazy("征询被申请人意愿"), only_role=tr.MEDIATOR,
                                   only_when=lambda case: case.one_sided),
    "respondent_declined": _ActionPage("case_respondent", gettext_lazy("征询被申请人意愿"), only_role=tr.MEDIATOR,
                                       only_when=lambda case: case.one_sided),
    "respondent_consented": _ActionPage("case_respond", gettext_lazy("表明是否愿意调解"), only_role=tr.RESPONDENT),
    # OMR 21: a party chooses online filing; the court resumes a 委托 case's trial.
    "refer_to_filing": _ActionPage("case_failure", gettext_lazy("在线申请立案")),
    "resume_trial": _ActionPage("case_failure", gettext_lazy("恢复审理")),
    # Court-filed mediation (§A12): the mediator signs for the materials; the court records the outcomes.
    "receive_materials": _ActionPage("court_filed_materials", gettext_lazy("签收移送材料"), only_role=tr.MEDIATOR),
    "close_other_means": _ActionPage("court_filed_court", gettext_lazy("法院办理")),
    "issue_fee_notice": _ActionPage("court_filed_court", gettext_lazy("法院办理")),
    "fee_paid": _ActionPage("court_filed_court", gettext_lazy("法院办理")),
}


def case_action_links(*, user: User, case: Case) -> list[tuple[str, str]]:
    """The actions ``user`` may open on ``case`` now, as (label, url): for the case page's action bar. The moves
    come from the transition table (``case_actions_available``, as in the admin); choosing a mediator, disclosure
    and recusal are acts on the case that change no status."""
    roles = case_roles(user, case)
    links: list[tuple[str, str]] = []

    def add(label: str, name: str) -> None:
        href = reverse(name, args=[case.pk])
        if all(existing != href for _label, existing in links):  # one button per page (a party who is staff too)
            links.append((label, href))

    if case.status == S.AWAITING_SELECTION and tr.PARTY_AUTHORISED in roles:
        add(_("选择调解员"), "case_choose")  # each party's pick (OMR 10); the platform assigns on a joint choice
    for row in case_actions_available(user=user, case=case):
        page = ACTION_PAGES.get(row.action)
        if page is None or (page.only_role and page.only_role not in roles):
            continue
        if page.only_when is not None and not page.only_when(case):
            continue
        add(str(page.label), page.url_name)
    if case.origin == CaseOrigin.COURT_FILED:
        _court_filed_links(case=case, roles=roles, add=add)
    has_mediator = CaseMediator.objects.filter(case=case, is_active=True).exists()
    if has_mediator and roles & {tr.PARTY, tr.MEDIATOR}:
        add(_("调解员披露"), "case_disclosure")
    if has_mediator and roles & {tr.PARTY, tr.CLERK, tr.ORG_ADMIN}:
        add(_("申请回避") if tr.PARTY in roles else _("回避申请"), "case_recusal")
    return links


def _court_filed_links(*, case: Case, roles: set[str], add: Callable[[str, str], None]) -> None:
    """The consents a party gives on the phone and the mediator's extension (§A12 arts. 2-3): acts that move
    no status, so the table does not offer them."""
    if tr.PARTY in roles and case.status in COURT_FILED_CONSENT_STATUSES:
        add(_("是否同意委托调解"), "court_filed_consent")
    period = Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD, status__in=OPEN_TIMER).first()
    if period is not None and period.extra_days == 0:
        if tr.PARTY in roles:
            add(_("是否同意延长调解期限"), "court_filed_extension_consent")
        if tr.MEDIATOR in roles:
            add(_("延长调解期限"), "court_filed_extend")


# --- Choosing and designating (OMR 10) ------------------------------------------------------------------


class ChoiceForm(forms.Form):
    action = forms.ChoiceField(choices=[("choose", "choose"), ("defer", "defer"), ("designate", "designate")])
    mediator = forms.IntegerField(required=False)
    party = forms.IntegerField(required=False)

    def clean_mediator(self) -> User | None:
        pk = self.cleaned_data.get("mediator")
        if pk is None:
            return None
        mediator = User.objects.filter(pk=pk, mediator_profile__isnull=False).first()
        if mediator is None:
            raise forms.ValidationError(_("所选调解员不存在，请重新选择。"))
        return mediator


def _ranked_mediators(case: Case) -> tuple[list[dict[str, Any]], bool]:
    """Mediators to offer, best first, each with a score and its reasons (the second value says they are
    scored; the template also shows unscored lists)."""
    ranked = recommend_mediators(case=case, limit=10)
    return [{"profile": r.mediator, "score": r.score, "reasons": r.reasons} for r in ranked], True


def _sector_labels(profile: MediatorProfile) -> list[str]:
    labels = []
    for code in profile.specialties or []:
        try:
            labels.append(str(Sector(code).label))
        except ValueError:
            labels.append(str(code))
    return labels


@login_required
def choose(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    roles = case_roles(user, case)
    my_parties = parties_acting_for(case=case, user=user, authorised=True)
    may_designate = bool(roles & {tr.CLERK, tr.ORG_ADMIN})
    if not my_parties and not may_designate:
        raise DomainPermissionDenied(
            _("只有当事人本人或其特别授权代理人可以选择调解员；指定调解员由本案管辖法院或调解组织进行。"), case=case
        )
    form = ChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        mediator = form.cleaned_data["mediator"]
        try:
            if action == "designate":
                if not may_designate:
                    raise DomainPermissionDenied(_("指定调解员由本案管辖法院或调解组织进行。"))
                if mediator is None:
                    raise DomainError(_("请选择要指定的调解员。"))
                mediator_designate(case=case, mediator=mediator, actor=user)
                messages.success(request, _("已指定调解员%(name)s，等待其确认接受。") % {"name": mediator.display_name})
                return _to_case(case)
            party = next((p for p in my_parties if p.pk == form.cleaned_data["party"]), None) or (
                my_parties[0] if my_parties else None
            )
            if party is None:
                raise DomainPermissionDenied(_("只有当事人本人或其特别授权代理人可以选择调解员。"))
            mediator_choice_record(
                case=case, party=party, mediator=mediator, actor=user, defer_to_court=action == "defer"
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            case.refresh_from_db()
            if case.status == S.ASSIGNED:
                messages.success(request, _("各方当事人选择了同一名调解员，已选定，等待其确认接受。"))
                return _to_case(case)
            messages.success(request, _("已记录您的选择。各方当事人选择同一名调解员后即为选定。"))
            return redirect("case_choose", case_id=case.pk)
    ranked, scored = _ranked_mediators(case) if case.status == S.AWAITING_SELECTION else ([], False)
    for row in ranked:
        row["sectors"] = _sector_labels(row["profile"])
    selecting = case.status == S.AWAITING_SELECTION
    choices = {choice.party_id: choice for choice in current_choices(case)} if selecting else {}
    window = selection_window(case)
    context = {
        "case": case, "form": form, "ranked": ranked, "scored": scored, "window": _clock(window),
        "my_parties": my_parties, "may_designate": may_designate,
        "party_choices": [(p, choices.get(p.pk)) for p in case.parties.order_by("role", "pk")],
        "my_choice": choices.get(my_parties[0].pk) if my_parties else None,
        "open": case.status == S.AWAITING_SELECTION,
        "can_choose": bool(my_parties) and window is not None and case.status == S.AWAITING_SELECTION,
        "designation_clock": _clock(_timer(case, TimerKind.COURT_DESIGNATION)),
        "designation_waits": may_designate and designation_waits_for_parties(case),
    }
    return render(request, "frontend/case_actions/choose.html", context)


# --- Acceptance and decline (OMR 12-13) ------------------------------------------------------------------


class AcceptForm(forms.Form):
    nothing_to_disclose = forms.BooleanField(
        required=False, label=gettext_lazy("本人与本案当事人、代理人及纠纷无应披露事项")
    )
    disclosure = forms.CharField(
        required=False, widget=TEXTAREA, label=gettext_lazy("应披露的情况"),
        help_text=gettext_lazy("例如与当事人或代理人是近亲属、与纠纷有利害关系，或有其他可能影响公正调解的关系。"),
    )


@login_required
def mediator_accept_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    if not may_take_action(user, case, "mediator_accept"):
        raise DomainPermissionDenied(_("只有本案被指定的调解员本人可以确认接受。"), case=case)
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = mediator_accept(
                case=case, actor=user, disclosure=form.cleaned_data["disclosure"],
                nothing_to_disclose=form.cleaned_data["nothing_to_disclose"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            if case.origin == CaseOrigin.COURT_FILED:
                messages.success(request, _("已确认接受本案。调解期限自您签收法院移送的材料之日起算。"))
            else:
                messages.success(request, _("已确认接受本案，调解期限自今日起算。"))
            if case.one_sided:
                return redirect("case_respondent", case_id=case.pk)
            return _to_case(case)
    return render(request, "frontend/case_actions/accept.html", {
        "case": case, "form": form, "open": case.status == S.ASSIGNED,
        "clock": _clock(_timer(case, TimerKind.MEDIATOR_ACCEPTANCE)),
    })


class DeclineForm(forms.Form):
    reasons = forms.CharField(
        required=False, widget=TEXTAREA, label=gettext_lazy("不予接受的理由"),
        help_text=gettext_lazy("例如超出本组织章程或本人擅长领域，或有其他不宜调解的情形。"),
    )


@login_required
def mediator_decline_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    if not may_take_action(user, case, "mediator_decline"):
        raise DomainPermissionDenied(_("只有本案被指定的调解员或本案调解组织管理员可以不予接受。"), case=case)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mediator_decline(case=case, actor=user, reasons=form.cleaned_data["reasons"])
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已不予接受，案件退回重新选定调解员。"))
            # A mediator who declines loses access to the case (decisions D12); an organisation admin keeps it.
            return _to_case(case) if case_roles(user, case) else redirect("home")
    return render(request, "frontend/case_actions/decline.html", {
        "case": case, "form": form, "open": case.status == S.ASSIGNED,
        "clock": _clock(_timer(case, TimerKind.MEDIATOR_ACCEPTANCE)),
    })


# --- Disclosure answers (OMR 13) -------------------------------------------------------------------------


class DisclosureAnswerForm(forms.Form):
    disclosure = forms.IntegerField()
    party = forms.IntegerField()
    agree = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class DiscloseForm(forms.Form):
    statement = forms.CharField(required=False, widget=TEXTAREA, label=gettext_lazy("补充披露的情况"))


@login_required
def disclosure_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    roles = case_roles(user, case)
    if not roles & {tr.PARTY, tr.MEDIATOR, tr.ORG_ADMIN, tr.CLERK}:
        raise DomainPermissionDenied(_("调解员的披露由本案当事人答复。"), case=case)
    may_resolve = bool(roles & {tr.MEDIATOR, tr.ORG_ADMIN, tr.CLERK})
    my_parties = parties_acting_for(case=case, user=user)
    active = set(CaseMediator.objects.filter(case=case, is_active=True).values_list("mediator_id", flat=True))
    disclosures = list(
        Disclosure.objects.filter(case=case, mediator_id__in=active, nothing_to_disclose=False)
        .select_related("mediator").order_by("-disclosed_at")
    )
    answer_form = DisclosureAnswerForm(request.POST or None) if request.POST.get("form") == "answer" else None
    disclose_form = DiscloseForm(request.POST if request.POST.get("form") == "disclose" else None)
    if answer_form is not None and answer_form.is_valid():
        disclosure = next((d for d in disclosures if d.pk == answer_form.cleaned_data["disclosure"]), None)
        party = next((p for p in my_parties if p.pk == answer_form.cleaned_data["party"]), None)
        try:
            if disclosure is None or party is None:
                raise DomainError(_("该披露已不需要答复，请刷新页面。"))
            disclosure_answer(disclosure=disclosure, party=party, actor=user, agree=answer_form.cleaned_data["agree"])
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if answer_form.cleaned_data["agree"]:
                messages.success(request, _("已记录：您同意该调解员继续调解。"))
            else:
                messages.success(request, _("已记录：您不同意该调解员继续调解。您可以申请其回避。"))
                return redirect("case_recusal", case_id=case.pk)
        return redirect("case_disclosure", case_id=case.pk)
    if request.method == "POST" and request.POST.get("form") == "objection":
        # OMR 13: a party said no; the mediator or the organisation changes the mediator or ends mediation.
        disclosure = next((d for d in disclosures if str(d.pk) == request.POST.get("disclosure", "")), None)
        try:
            if disclosure is None:
                raise DomainError(_("该披露已不需要处理，请刷新页面。"))
            disclosure_objection_resolve(disclosure=disclosure, actor=user, outcome=request.POST.get("outcome", ""),
                                         note=request.POST.get("note", ""))
        except DomainPermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("case_disclosure", case_id=case.pk)
        messages.success(request, _("已处理当事人对披露的异议。"))
        return redirect("case_detail", case_id=case.pk)
    if disclose_form.is_bound and disclose_form.is_valid():
        try:
            mediator_disclose(case=case, actor=user, statement=disclose_form.cleaned_data["statement"])
        except DomainError as exc:
            disclose_form.add_error(None, str(exc))
        else:
            messages.success(request, _("已披露，当事人将被请求答复。"))
            return redirect("case_disclosure", case_id=case.pk)
    answers = {
        (c.text_id, c.party_id): c
        for c in Consent.objects.filter(case=case, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE).order_by("given_at")
    }
    rows = []
    for disclosure in disclosures:
        text = disclosure_notice(disclosure)
        rows.append({
            "disclosure": disclosure,
            "answers": [(p, answers.get((text.pk, p.pk))) for p in case.parties.order_by("role", "pk")],
            "mine": [(p, answers.get((text.pk, p.pk))) for p in my_parties],
            "objecting": disclosure_objections(disclosure) if may_resolve else [],
        })
    return render(request, "frontend/case_actions/disclosure.html", {
        "case": case, "rows": rows, "disclose_form": disclose_form, "is_mediator": tr.MEDIATOR in roles,
        "may_resolve": may_resolve,
    })


# --- Recusal (OMR 13-14; SIM 15) -------------------------------------------------------------------------


class RecusalRequestForm(forms.Form):
    party = forms.IntegerField(required=False)
    grounds = forms.CharField(
        required=False, widget=TEXTAREA, label=gettext_lazy("申请回避的理由"),
        help_text=gettext_lazy("例如调解员是一方当事人或代理人的近亲属，或与本纠纷有利害关系。"),
    )


class RecusalDecisionForm(forms.Form):
    request = forms.IntegerField()
    grant = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
    note = forms.CharField(required=False, widget=TEXTAREA, label=gettext_lazy("决定理由"))


@login_required
def recusal_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    roles = case_roles(user, case)
    may_request = tr.PARTY in roles
    may_decide = bool(roles & {tr.CLERK, tr.ORG_ADMIN})
    if not may_request and not may_decide:
        raise DomainPermissionDenied(_("回避由当事人申请，由本案调解组织或管辖法院决定。"), case=case)
    my_parties = parties_acting_for(case=case, user=user)
    posted = request.POST.get("form")
    ask_form = RecusalRequestForm(request.POST if posted == "request" else None)
    decide_form = RecusalDecisionForm(request.POST if posted == "decide" else None)
    if ask_form.is_bound and ask_form.is_valid():
        party = next((p for p in my_parties if p.pk == ask_form.cleaned_data["party"]), None) or (
            my_parties[0] if my_parties else None
        )
        try:
            if party is None:
                raise DomainPermissionDenied(_("只有当事人本人或其代理人可以申请调解员回避。"))
            recusal_request(case=case, party=party, actor=user, grounds=ask_form.cleaned_data["grounds"])
        except DomainError as exc:
            ask_form.add_error(None, str(exc))
        else:
            messages.success(request, _("回避申请已提交，将由调解组织或人民法院作出决定。"))
            return redirect("case_recusal", case_id=case.pk)
    if may_decide and posted == "deemed_refusal":
        # OMR 14: after a change of mediator the party still objects and will not choose.
        refusing = case.parties.filter(pk=request.POST.get("party") or 0).first()
        try:
            if refusing is None:
                raise DomainError(_("请选择仍有异议的当事人。"))
            mediator_change_refused(case=case, party=refusing, actor=user, note=request.POST.get("note", ""))
        except DomainPermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("case_recusal", case_id=case.pk)
        messages.success(request, _("已认定为拒绝调解，调解程序终结。"))
        return redirect("case_detail", case_id=case.pk)
    if decide_form.is_bound and decide_form.is_valid():
        pending = RecusalRequest.objects.filter(
            case=case, pk=decide_form.cleaned_data["request"], decision=RecusalDecision.PENDING
        ).first()
        try:
            if pending is None:
                raise DomainError(_("该回避申请已经作出决定，请刷新页面。"))
            recusal_decide(
                request=pending, grant=decide_form.cleaned_data["grant"], note=decide_form.cleaned_data["note"],
                actor=user,
            )
        except DomainError as exc:
            decide_form.add_error(None, str(exc))
        else:
            messages.success(request, _("已作出决定。"))
            return redirect("case_recusal", case_id=case.pk)
    presiding = CaseMediator.objects.filter(case=case, is_active=True, presiding=True).select_related(
        "mediator"
    ).first()
    requests = RecusalRequest.objects.filter(case=case).select_related("party", "mediator").order_by("-requested_at")
    return render(request, "frontend/case_actions/recusal.html", {
        "case": case, "ask_form": ask_form, "decide_form": decide_form, "may_request": may_request,
        "may_decide": may_decide, "presiding": presiding, "requests": requests, "my_parties": my_parties,
        "decide_for": decide_form.data.get("request") if decide_form.is_bound else None,
        "parties": case.parties.order_by("role", "pk") if may_decide else [],
    })


# --- Seeking the respondent (OMR 15) ----------------------------------------------------------------------


class UnreachableForm(forms.Form):
    note = forms.CharField(
        required=False, widget=TEXTAREA, label=gettext_lazy("联系经过和无法联系的原因"),
        help_text=gettext_lazy("例如拨打电话、发送短信的时间和结果。"),
    )


@login_required
def respondent_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """The mediator's page for the respondent step: start it, invite by SMS, or record unreachable."""
    case = _case_or_404(request, case_id)
    user = _user(request)
    if tr.MEDIATOR not in case_roles(user, case):
        raise DomainPermissionDenied(_("只有本案调解员可以征询被申请人的调解意愿。"), case=case)
    action = request.POST.get("action")
    form = UnreachableForm(request.POST if action == "unreachable" else None)
    if request.method == "POST":
        try:
            if action == "seek":
                respondent_seek(case=case, actor=user)
                messages.success(request, _("已进入征询被申请人意愿阶段，请通知被申请人。"))
            elif action == "invite":
                respondent_invite(case=case, actor=user)
                messages.success(request, _("已向被申请人发送短信邀请。"))
            elif action == "unreachable" and form.is_valid():
                respondent_unreachable(case=case, actor=user, note=form.cleaned_data["note"])
                messages.success(request, _("已记录无法联系被申请人，调解终结，材料已退回法院并通知申请人。"))
                return _to_case(case)
            else:
                raise DomainError(_("请选择要进行的操作。"))
        except DomainError as exc:
            if action == "unreachable":
                form.add_error(None, str(exc))
            else:
                messages.error(request, str(exc))
        else:
            return redirect("case_respondent", case_id=case.pk)
    invitations = AuditEvent.objects.filter(case=case, kind="respondent.invited").order_by("-seq")
    return render(request, "frontend/case_actions/respondent.html", {
        "case": case, "form": form, "invitations": invitations, "clock": _clock(contact_clock(case)),
        "respondents": case.parties.filter(role="respondent").order_by("pk"),
    })


def _phone_login_url() -> str:
    try:
        return reverse("phone_login")
    except NoReverseMatch:  # the phone sign-in pages are optional here
        return reverse("login")


def respond_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """The respondent's page from the SMS: sign in with the phone, confirm being the respondent, read the
    OMR 7 notice and answer whether they are willing to mediate online."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _phone_login_url())
    user = _user(request)
    case = Case.objects.select_related("court").filter(pk=case_id).first()
    if case is None:
        raise NotFound(_("案件不存在或您无权查看。"))
    roles = case_roles(user, case)
    if not roles:
        party = respondent_party_for(case=case, user=user)
        if party is None:
            raise NotFound(_("案件不存在或您无权查看。"))
        if request.method == "POST" and request.POST.get("action") == "link":
            respondent_link(case=case, actor=user)
            return redirect("case_respond", case_id=case.pk)
        applicants = list(case.parties.filter(role="applicant").order_by("pk").values_list("name", flat=True))
        return render(request, "frontend/case_actions/respond_link.html", {
            "case": case, "party": party, "applicants": applicants,
        })
    if tr.RESPONDENT not in roles:
        raise DomainPermissionDenied(_("只有被申请人本人或其代理人可以表明是否愿意调解。"), case=case)
    if case.status == S.RESPONDENT_PENDING and not identity_is_verified(user):
        # The same real-name step an applicant takes before applying (name matched to the ID by the identity
        # provider, and the phone), before anyone answers for the respondent; back here afterwards.
        return redirect(f"{reverse('identity_verify')}?{urlencode({'next': request.get_full_path()})}")
    notice = publish_standard(ONLINE_MEDIATION_NOTICE)
    consent_text = publish_standard(ONLINE_MEDIATION_CONSENT)
    error = ""
    if request.method == "POST" and request.POST.get("answer") in ("yes", "no"):
        try:
            case = respondent_answer(
                case=case, actor=user, willing=request.POST["answer"] == "yes",
                notice_text_id=_int(request.POST.get("notice_text")),
                consent_text_id=_int(request.POST.get("consent_text")), ip_address=client_ip(request),
            )
        except DomainError as exc:
            error = str(exc)
        else:
            if case.status == S.TERMINATED:
                messages.success(request, _("已记录您不愿意调解。调解程序终结，申请人将收到通知。"))
            else:
                messages.success(request, _("已记录您愿意调解，调解员将与您联系安排调解。"))
            return _to_case(case)
    return render(request, "frontend/case_actions/respond.html", {
        "case": case, "notice": notice, "consent_text": consent_text, "error": error,
        "open": case.status == S.RESPONDENT_PENDING, "clock": _clock(contact_clock(case)),
        "applicants": list(case.parties.filter(role="applicant").order_by("pk").values_list("name", flat=True)),
    })


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


__all__ = [
    "case_action_links",
    "choose",
    "disclosure_page",
    "mediator_accept_page",
    "mediator_decline_page",
    "recusal_page",
    "respond_page",
    "respondent_page",
]
