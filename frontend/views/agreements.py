"""The agreement pages: the mediator's structured editor and the parties' clause-by-clause assent (OMR 19),
as a full page and as the fragment the room page loads into its agreement slot.

Thin: each POST parses a form, calls one service and comes back to the page (or, when the room's script
posts with ``X-Agreement-Panel``, returns the fresh fragment so the call is never left). People with no role
on the case get 404; people with a role who may not see the draft get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontend.http import signed_in_user
from mediation.choices import AgreementScope, CaseStatus, ClauseKind
from mediation.exceptions import DomainError, NotFound, PermissionDenied
from mediation.lifecycle import AGREEMENT_LINK_STATUSES
from mediation.models import AgreementClause, Case, Party, User
from mediation.permissions import case_roles
from mediation.selectors.agreements import READERS, AgreementView, agreement_view_for_user
from mediation.services.agreements import (
    agreement_clause_add,
    agreement_clause_assent,
    agreement_clause_delete,
    agreement_clause_move,
    agreement_clause_update,
    agreement_clause_withdraw_assent,
    agreement_open_signing,
    agreement_revise,
    agreement_start,
    agreement_update,
)

PANEL_HEADER = "HTTP_X_AGREEMENT_PANEL"
TEXTAREA = forms.Textarea(attrs={"rows": 3})


class HeaderForm(forms.Form):
    facts = forms.CharField(label=gettext_lazy("纠纷主要事实"), required=False, widget=TEXTAREA)
    disputed_matters = forms.CharField(label=gettext_lazy("争议事项"), required=False, widget=TEXTAREA)
    responsibilities = forms.CharField(
        label=gettext_lazy("各方当事人的责任"), required=False, widget=TEXTAREA,
        help_text=gettext_lazy("人民调解协议书应载明（人民调解法第二十九条）。"),
    )
    scope = forms.ChoiceField(label=gettext_lazy("达成范围"), choices=AgreementScope.choices)
    unresolved_claims = forms.CharField(
        label=gettext_lazy("未达成协议的请求"), required=False, widget=TEXTAREA,
        help_text=gettext_lazy("部分达成协议时必填。"),
    )


class ClauseForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=ClauseKind.choices)
    obligor = forms.TypedChoiceField(label=gettext_lazy("义务人"), required=False, coerce=int, empty_value=None)
    obligee = forms.TypedChoiceField(label=gettext_lazy("权利人"), required=False, coerce=int, empty_value=None)
    subject = forms.CharField(
        label=gettext_lazy("给付内容/标的"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("例如：2026年3月至5月拖欠的工资"),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("金额（元）"), required=False, min_value=0, max_digits=14, decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    method = forms.CharField(label=gettext_lazy("履行方式"), required=False, max_length=200,
                             help_text=gettext_lazy("例如：银行转账至权利人名下账户"))
    place = forms.CharField(label=gettext_lazy("履行地点"), required=False, max_length=200)
    deadline = forms.DateField(label=gettext_lazy("履行期限"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    instalments = forms.CharField(label=gettext_lazy("分期安排"), required=False, widget=TEXTAREA)
    guarantee = forms.CharField(label=gettext_lazy("担保"), required=False, widget=TEXTAREA)
    breach = forms.CharField(label=gettext_lazy("违约责任"), required=False, widget=TEXTAREA)
    text = forms.CharField(
        label=gettext_lazy("条款文字"), required=False, widget=TEXTAREA,
        help_text=gettext_lazy("留空时由以上各项自动生成。"),
    )

    def __init__(self, *args: Any, parties: list[Party], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((p.pk, f"{p.get_role_display()} {p.name}") for p in parties)]
        for name in ("obligor", "obligee"):
            self.fields[name].choices = choices  # type: ignore[attr-defined]


def _clause_initial(clause: AgreementClause) -> dict[str, Any]:
    return {
        "kind": clause.kind, "obligor": clause.obligor_id, "obligee": clause.obligee_id, "subject": clause.subject,
        "amount": clause.amount, "method": clause.method, "place": clause.place, "deadline": clause.deadline,
        "instalments": clause.instalments, "guarantee": clause.guarantee, "breach": clause.breach,
        "text": clause.text,
    }


# --- reading ------------------------------------------------------------------------------------------------


def _context(request: HttpRequest, view: AgreementView, *, panel: bool) -> dict[str, Any]:
    forms_by_clause: dict[int, ClauseForm] = {}
    header_form = new_clause_form = None
    if view.editable and view.agreement is not None:
        agreement = view.agreement
        header_form = HeaderForm(initial={
            "facts": agreement.facts, "disputed_matters": agreement.disputed_matters,
            "responsibilities": agreement.responsibilities, "scope": agreement.scope,
            "unresolved_claims": agreement.unresolved_claims,
        })
        new_clause_form = ClauseForm(parties=view.parties, prefix="new")
        for row in view.rows:
            forms_by_clause[row.clause.pk] = ClauseForm(
                parties=view.parties, prefix=f"c{row.clause.pk}", initial=_clause_initial(row.clause)
            )
    return {
        "v": view, "case": view.case, "agreement": view.agreement, "panel": panel,
        "rows": [(row, forms_by_clause.get(row.clause.pk)) for row in view.rows],
        "header_form": header_form, "new_clause_form": new_clause_form,
        "page_url": reverse("agreement_page", args=[view.case.pk]),
    }


def _render(request: HttpRequest, view: AgreementView, *, panel: bool) -> HttpResponse:
    template = "frontend/agreements/panel.html" if panel else "frontend/agreements/page.html"
    return render(request, template, _context(request, view, panel=panel))


@login_required
def agreement_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """Outsiders get 404 and people of the case who may not read the draft 403 (``frontend.middleware``)."""
    return _render(request, agreement_view_for_user(user=signed_in_user(request), case_id=case_id), panel=False)


@login_required
def agreement_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    """The same agreement as an HTML fragment (no base template) for the room page's agreement slot. A person
    of the case who may not read the draft gets the reason as a fragment too: the room shows it in the slot."""
    try:
        view = agreement_view_for_user(user=signed_in_user(request), case_id=case_id)
    except NotFound:
        raise
    except PermissionDenied as exc:
        return HttpResponse(format_html('<p class="agr-refused">{}</p>', str(exc)), status=exc.status)
    return _render(request, view, panel=True)


def agreement_link_for(*, user: User, case: Case) -> str | None:
    """The case page's link to the agreement, for those who may read it and when there is one to read (or, for
    the mediator, one to start)."""
    roles = case_roles(user, case)
    if not roles & READERS:
        return None
    if case.status in AGREEMENT_LINK_STATUSES or (case.status == CaseStatus.IN_MEDIATION and "mediator" in roles):
        return reverse("agreement_page", args=[case.pk])
    return None


# --- acting -------------------------------------------------------------------------------------------------


def _act(
    request: HttpRequest, case_id: int, act: Callable[[AgreementView, User], str], anchor: str = ""
) -> HttpResponse:
    """Run one service call for the signed-in user and come back: to the page, or the fresh panel fragment."""
    user = signed_in_user(request)
    view = agreement_view_for_user(user=user, case_id=case_id)
    try:
        done = act(view, user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        if done:
            messages.success(request, done)
    if request.META.get(PANEL_HEADER):
        return _render(request, agreement_view_for_user(user=user, case_id=case_id), panel=True)
    return redirect(reverse("agreement_page", args=[case_id]) + anchor)


def _agreement(view: AgreementView) -> Any:
    if view.agreement is None:
        raise DomainError(_("本案还没有调解协议草稿。"))
    return view.agreement


def _clause(view: AgreementView, clause_id: int) -> AgreementClause:
    for row in view.rows:
        if row.clause.pk == clause_id:
            return row.clause
    raise DomainError(_("该条款不存在或已被删除，请刷新页面。"))


def _form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        joined = "；".join(str(error) for error in errors)
        parts.append(f"{label}：{joined}" if label else joined)
    return _("请检查：%(errors)s") % {"errors": "；".join(parts)}


@login_required
@require_POST
def agreement_start_view(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        agreement_start(case=view.case, actor=user)
        return _("已开始起草调解协议，双方当事人可以在手机上同步查看。")

    return _act(request, case_id, act)


@login_required
@require_POST
def agreement_header_view(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        form = HeaderForm(request.POST)
        if not form.is_valid():
            raise DomainError(_form_errors(form))
        agreement_update(agreement=_agreement(view), actor=user, **form.cleaned_data)
        return _("已保存。")

    return _act(request, case_id, act, "#agr-header")


@login_required
@require_POST
def agreement_clause_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        form = ClauseForm(request.POST, parties=view.parties, prefix="new")
        if not form.is_valid():
            raise DomainError(_form_errors(form))
        clause = agreement_clause_add(agreement=_agreement(view), actor=user, **form.cleaned_data)
        return _("已增加第%(n)d条。") % {"n": clause.number}

    return _act(request, case_id, act, "#agr-clauses")


@login_required
@require_POST
def agreement_clause_edit_view(request: HttpRequest, case_id: int, clause_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        clause = _clause(view, clause_id)
        form = ClauseForm(request.POST, parties=view.parties, prefix=f"c{clause_id}")
        if not form.is_valid():
            raise DomainError(_form_errors(form))
        agreement_clause_update(clause=clause, actor=user, **form.cleaned_data)
        return _("第%(n)d条已保存；各方须对修改后的内容重新表示同意。") % {"n": clause.number}

    return _act(request, case_id, act, f"#clause-{clause_id}")


@login_required
@require_POST
def agreement_clause_delete_view(request: HttpRequest, case_id: int, clause_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        clause = _clause(view, clause_id)
        number = clause.number
        agreement_clause_delete(clause=clause, actor=user)
        return _("已删除第%(n)d条。") % {"n": number}

    return _act(request, case_id, act, "#agr-clauses")


@login_required
@require_POST
def agreement_clause_move_view(request: HttpRequest, case_id: int, clause_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        clause = _clause(view, clause_id)
        step = -1 if request.POST.get("direction") == "up" else 1
        agreement_clause_move(clause=clause, actor=user, position=clause.number + step)
        return ""

    return _act(request, case_id, act, f"#clause-{clause_id}")


@login_required
@require_POST
def agreement_clause_assent_view(request: HttpRequest, case_id: int, clause_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        clause = _clause(view, clause_id)
        party = next((p for p in view.parties if str(p.pk) == request.POST.get("party", "")), None)
        if party is None:
            raise DomainError(_("请选择您代表的当事人。"))
        if request.POST.get("action") == "withdraw":
            agreement_clause_withdraw_assent(clause=clause, actor=user, party=party)
            return _("已撤回对第%(n)d条的同意。") % {"n": clause.number}
        agreement_clause_assent(
            clause=clause, actor=user, party=party, content_sha256=request.POST.get("sha256") or None
        )
        return _("已同意第%(n)d条。") % {"n": clause.number}

    return _act(request, case_id, act, f"#clause-{clause_id}")


@login_required
@require_POST
def agreement_open_signing_view(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        revision = request.POST.get("revision", "")
        agreement_open_signing(
            agreement=_agreement(view), actor=user, revision=int(revision) if revision.isdigit() else None
        )
        return _("协议已定稿，进入签署。调解协议书生成后，各方可在手机上签署。")

    return _act(request, case_id, act)


@login_required
@require_POST
def agreement_revise_view(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(view: AgreementView, user: User) -> str:
        revised = agreement_revise(agreement=_agreement(view), actor=user)
        return _("已生成第%(v)d版协议草稿，各方须重新逐条确认。") % {"v": revised.version}

    return _act(request, case_id, act)
