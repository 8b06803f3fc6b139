"""Roster pages: the public mediator directory (OMR 5; SIM 8), complaints (OMR 29), the explained
recommendation for a case, and a court's roster management (OMR 27-28). Thin views: parse, call one
selector or service, render; a domain error is shown to the person, nothing half-saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontend.http import signed_in_user as _user
from mediation.choices import (
    ComplaintGround,
    ComplaintOutcome,
    ComplaintStatus,
    MediatorStatus,
    OrganisationKind,
    RosterScope,
    Sector,
)
from mediation.exceptions import DomainError, NotFound
from mediation.models import Case, MediatorProfile
from mediation.recommendation import recommend_mediators
from mediation.selectors.cases import case_get_for_user
from mediation.selectors.roster import (
    LANGUAGE_LABELS,
    adoption_candidates,
    adoption_requests_for_mediator,
    complaint_cases_for,
    complaint_courts_for_user,
    complaint_get_for_handler,
    complaints_for_handler,
    courts_managed_by,
    directory_courts,
    mediator_directory,
    mediator_directory_get,
    mediator_profile_get,
    mediators_to_list,
    normalise_region,
    roster_entries_of_court,
    roster_entry_get_for_mediator,
    roster_entry_get_for_staff,
)
from mediation.services.complaints import complaint_decide, complaint_file
from mediation.services.roster import (
    mediator_reinstate,
    mediator_suspend,
    roster_adoption_answer,
    roster_adoption_request,
    roster_entry_add,
)

PAGE_SIZE = 20


_ANY = ("", gettext_lazy("不限"))


# --- the directory -------------------------------------------------------------------------------------


class DirectoryFilterForm(forms.Form):
    court = forms.ModelChoiceField(
        label=gettext_lazy("法院"), queryset=directory_courts(), required=False, empty_label=gettext_lazy("全部法院")
    )
    region = forms.CharField(
        label=gettext_lazy("地区代码"), required=False, max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "110101"}),
    )
    specialty = forms.ChoiceField(label=gettext_lazy("擅长领域"), required=False, choices=[_ANY, *Sector.choices])
    language = forms.ChoiceField(
        label=gettext_lazy("工作语言"), required=False, choices=[_ANY, *LANGUAGE_LABELS.items()]
    )
    org_kind = forms.ChoiceField(
        label=gettext_lazy("组织类型"), required=False, choices=[_ANY, *OrganisationKind.choices]
    )
    sector = forms.ChoiceField(label=gettext_lazy("组织所属行业"), required=False, choices=[_ANY, *Sector.choices])

    def clean_region(self) -> str:
        region = self.cleaned_data["region"].strip()
        if region and normalise_region(region) is None:
            raise forms.ValidationError(_("地区代码应为 2 至 6 位数字，例如 11（北京市）或 110101（东城区）。"))
        return region


@dataclass(frozen=True)
class Card:
    """What the directory shows of one mediator: published facts only, never a phone or ID number."""

    profile: MediatorProfile
    name: str
    specialties: list[str]
    languages: list[str]
    organisations: list[str]
    courts: list[str]


def _card(profile: MediatorProfile) -> Card:
    sectors = dict(Sector.choices)
    entries = getattr(profile, "active_entries", [])
    memberships = getattr(profile.user, "mediator_memberships", [])
    courts: list[str] = []
    for entry in entries:
        scope = entry.get_scope_display()
        if entry.scope == RosterScope.SPECIALTY and entry.specialty:
            scope = f"{scope}·{entry.specialty_label}"
        label = f"{entry.court.name}（{scope}）"
        if label not in courts:
            courts.append(label)
    return Card(
        profile=profile,
        name=profile.user.display_name,
        specialties=[str(sectors.get(code, code)) for code in profile.specialties],
        languages=[str(LANGUAGE_LABELS.get(code, code)) for code in profile.languages],
        organisations=[m.organisation.name for m in memberships],
        courts=courts,
    )


def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "frontend/roster/directory.html", {"form": form, "page": None, "cards": []})
    filters = {key: value for key, value in (form.cleaned_data if form.is_bound else {}).items() if value}
    page = Paginator(mediator_directory(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "frontend/roster/directory.html", {
        "form": form, "page": page, "cards": [_card(p) for p in page.object_list], "query": query.urlencode(),
    })


def mediator_detail(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = mediator_directory_get(profile_id=profile_id)
    return render(request, "frontend/roster/detail.html", {"card": _card(profile), "profile": profile})


# --- complaints ------------------------------------------------------------------------------------------


class ComplaintForm(forms.Form):
    case = forms.ChoiceField(label=gettext_lazy("涉及的案件"), required=False)
    ground = forms.ChoiceField(label=gettext_lazy("投诉事由"), choices=ComplaintGround.choices)
    description = forms.CharField(
        label=gettext_lazy("具体情况"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000,
        help_text=gettext_lazy("请写明时间、经过和您掌握的证据。"),
    )

    def __init__(self, *args: Any, cases: list[Case], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cases = {str(case.pk): case for case in cases}
        field = self.fields["case"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext_lazy("不涉及具体案件"))] + [
            (str(case.pk), f"{case.reference} {case.title}") for case in cases
        ]


@login_required
def complaint_new(request: HttpRequest, profile_id: int) -> HttpResponse:
    user = _user(request)
    profile = mediator_profile_get(profile_id=profile_id)
    form = ComplaintForm(request.POST or None, cases=list(complaint_cases_for(user=user, mediator=profile)))
    if request.method == "POST" and form.is_valid():
        try:
            complaint = complaint_file(
                mediator=profile, complainant=user, ground=form.cleaned_data["ground"],
                description=form.cleaned_data["description"], case=form.cases.get(form.cleaned_data["case"]),
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("投诉已提交至%(court)s，法院将依法处理。") % {"court": complaint.court.name})
            return redirect("roster_directory")
    return render(request, "frontend/roster/complaint_form.html", {"form": form, "profile": profile})


class DecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("调查结论"),
        choices=[(ComplaintStatus.UPHELD, ComplaintStatus.UPHELD.label),
                 (ComplaintStatus.DISMISSED, ComplaintStatus.DISMISSED.label)],
    )
    outcome = forms.ChoiceField(label=gettext_lazy("处理结果"), choices=ComplaintOutcome.choices, required=False)
    note = forms.CharField(label=gettext_lazy("处理意见"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not complaint_courts_for_user(user=user).exists():
        raise NotFound(_("您不是投诉处理人员。"))
    complaints = list(complaints_for_handler(user=user)[:200])
    return render(request, "frontend/roster/complaint_list.html", {
        "complaints": complaints, "decision_form": DecisionForm(),
    })


@login_required
@require_POST
def complaint_decide_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    user = _user(request)
    complaint = complaint_get_for_handler(user=user, complaint_id=complaint_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择调查结论并写明处理意见。"))
    else:
        try:
            complaint_decide(
                complaint=complaint, status=form.cleaned_data["status"], outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"], actor=user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("处理决定已记录。"))
    return redirect("roster_complaint_list")


# --- recommendation --------------------------------------------------------------------------------------


@login_required
def recommend(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=_user(request), case_id=case_id)
    language = request.GET.get("language", "")
    if language not in LANGUAGE_LABELS:
        language = ""
    recommendations = recommend_mediators(case=case, language=language or None)
    return render(request, "frontend/roster/recommend.html", {
        "case": case, "recommendations": [(r, _card(r.mediator)) for r in recommendations],
        "language": language, "languages": list(LANGUAGE_LABELS.items()),
    })


# --- roster management (court staff) ------------------------------------------------------------------


class EntryAddForm(forms.Form):
    profile = forms.IntegerField(widget=forms.HiddenInput)
    scope = forms.ChoiceField(label=gettext_lazy("名册范围"), choices=RosterScope.choices)
    specialty = forms.ChoiceField(
        label=gettext_lazy("专业领域"), required=False, choices=[("", gettext_lazy("（仅专业名册）")), *Sector.choices]
    )


def _manage_url(court_id: int) -> str:
    return f"{reverse('roster_manage')}?court={court_id}"


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    courts = list(courts_managed_by(user=user))
    if not courts:
        raise NotFound(_("您不是任何法院名册的管理人员。"))
    court = next((c for c in courts if str(c.pk) == request.GET.get("court")), courts[0])
    query = request.GET.get("q", "").strip()
    return render(request, "frontend/roster/manage.html", {
        "courts": courts, "court": court, "q": query,
        "entries": roster_entries_of_court(user=user, court_id=court.pk),
        "candidates": adoption_candidates(court=court, query=query),
        "to_list": mediators_to_list(court=court, query=query) if query else [],
        "add_form": EntryAddForm(), "suspended": MediatorStatus.SUSPENDED, "active": MediatorStatus.ACTIVE,
    })


@login_required
@require_POST
def manage_add(request: HttpRequest, court_id: int) -> HttpResponse:
    user = _user(request)
    court = courts_managed_by(user=user).filter(pk=court_id).first()
    if court is None:
        raise NotFound(_("您不是该法院名册的管理人员。"))
    form = EntryAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择调解员和名册范围。"))
        return HttpResponseRedirect(_manage_url(court.pk))
    try:
        profile = mediator_profile_get(profile_id=form.cleaned_data["profile"])
        roster_entry_add(
            mediator=profile, court=court, scope=form.cleaned_data["scope"],
            specialty=form.cleaned_data["specialty"], actor=user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已将%(name)s列入名册。") % {"name": profile.user.display_name})
    return HttpResponseRedirect(_manage_url(court.pk))


@login_required
@require_POST
def manage_adopt(request: HttpRequest, court_id: int, entry_id: int) -> HttpResponse:
    user = _user(request)
    court = courts_managed_by(user=user).filter(pk=court_id).first()
    if court is None:
        raise NotFound(_("您不是该法院名册的管理人员。"))
    try:
        entry = roster_entry_get_for_staff(entry_id=entry_id)
        roster_adoption_request(entry=entry, court=court, actor=user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("采用请求已发送，调解员同意后生效。"))
    return HttpResponseRedirect(_manage_url(court.pk))


@login_required
@require_POST
def manage_suspend(request: HttpRequest, profile_id: int) -> HttpResponse:
    try:
        profile = mediator_profile_get(profile_id=profile_id)
        # The service requires the reason and says so; nothing else to parse.
        mediator_suspend(profile=profile, reason=request.POST.get("reason", "")[:500], actor=_user(request))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已暂停%(name)s的调解资格。") % {"name": profile.user.display_name})
    return HttpResponseRedirect(_back(request))


@login_required
@require_POST
def manage_reinstate(request: HttpRequest, profile_id: int) -> HttpResponse:
    try:
        profile = mediator_profile_get(profile_id=profile_id)
        mediator_reinstate(profile=profile, actor=_user(request))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已恢复%(name)s的调解资格。") % {"name": profile.user.display_name})
    return HttpResponseRedirect(_back(request))


def _back(request: HttpRequest) -> str:
    court = request.POST.get("court", "")
    return _manage_url(int(court)) if court.isdigit() else reverse("roster_manage")


# --- adoption requests (the mediator) ----------------------------------------------------------------


@login_required
def adoptions(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/roster/adoptions.html", {
        "requests": adoption_requests_for_mediator(user=_user(request)),
    })


@login_required
@require_POST
def adoption_answer(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _user(request)
    entry = roster_entry_get_for_mediator(user=user, entry_id=entry_id)
    accept = request.POST.get("answer") == "accept"
    try:
        roster_adoption_answer(entry=entry, accept=accept, actor=user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("您已同意加入%(court)s名册。") % {"court": entry.court.name} if accept
                         else _("您已拒绝%(court)s的采用请求。") % {"court": entry.court.name})
    return redirect("roster_adoptions")
