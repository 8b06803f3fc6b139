"""Electronic service pages (电子送达, OLR 29-31): serving a document, the recipient's page (read, download,
"确认收到", paper copy), the e-service certificate (§C7), and a party's service address and per-stage
consent.

Thin: parse a form, call one service or selector, render. People with no right to a record or case get
404 (they learn nothing from the id); people with a role that may not take the action get 403.
"""

from __future__ import annotations

import os
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from documents.rendering import html_to_pdf
from frontend import forms_apply
from frontend.http import case_or_404 as _case_or_404
from frontend.http import client_ip
from frontend.http import signed_in_user as _user
from mediation.choices import ServiceStage
from mediation.exceptions import DomainError, NotFound
from mediation.exceptions import PermissionDenied as DomainPermissionDenied
from mediation.models import Case, Party, ServiceRecord, User
from mediation.notices import E_SERVICE_CONSENT, SERVICE_ADDRESS_NOTICE
from mediation.permissions import case_roles
from mediation.selectors.service import (
    ACTION_ACKNOWLEDGED,
    STAFF_ROLES,
    is_recipient,
    paper_copy_available,
    parties_represented,
    rule_label,
    service_address_current,
    service_certificate,
    service_plans_for_case,
    service_records_for_case,
    service_stage_of,
)
from mediation.services import service as service_writes
from mediation.services.consents import notice_text_publish
from mediation.services.evidence import detect_file_type

PARTY_LOGIN = "phone_login"  # parties sign in with their phone; a notice's link brings them here



def _via(request: HttpRequest) -> str:
    via = request.GET.get("via", "")
    return via if via in ("sms", "email") else ""


def service_case_context(*, user: User, case: Case) -> dict[str, Any]:
    """What the case page's e-service block shows ``user``: the records they may see and what they may do."""
    roles = case_roles(user, case)
    links: list[tuple[str, str]] = []
    if roles & STAFF_ROLES:
        links.append((_("电子送达文书"), reverse("service_serve", args=[case.pk])))
    if parties_represented(case=case, user=user):
        links.append((_("送达地址与电子送达"), reverse("service_address", args=[case.pk])))
    return {"service_records": list(service_records_for_case(user=user, case=case)[:50]), "service_links": links}


# --- Serving (the case's mediator, clerk or judge) -------------------------------------------------------


class ServeForm(forms.Form):
    recipient = forms.TypedChoiceField(label=gettext_lazy("受送达人"), coerce=int)
    document_title = forms.CharField(
        label=gettext_lazy("文书名称"), max_length=200,
        help_text=gettext_lazy("例如“调解协议书”“民事裁定书”“调解笔录”。"),
    )
    document_number = forms.CharField(
        label=gettext_lazy("文书编号（选填）"), max_length=80, required=False,
        help_text=gettext_lazy("例如法院案号或文书字号。"),
    )
    document = forms.FileField(label=gettext_lazy("文书文件"), help_text=gettext_lazy("PDF 文件，或 JPEG、PNG 图片。"))

    def __init__(self, *args: Any, parties: list[Party], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p.pk, f"{p.get_role_display()}：{p.name}") for p in parties]
        self.fields["document"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


@login_required
def serve(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    if not case_roles(user, case) & STAFF_ROLES:
        raise DomainPermissionDenied(_("只有本案的调解员、书记员或法官可以送达文书。"), case=case)
    plans = service_plans_for_case(case=case)
    form = ServeForm(request.POST or None, request.FILES or None, parties=[p.party for p in plans])
    if request.method == "POST" and form.is_valid():
        recipient = next(p.party for p in plans if p.party.pk == form.cleaned_data["recipient"])
        try:
            record = service_writes.document_serve(
                case=case, recipient=recipient, actor=user, document_title=form.cleaned_data["document_title"],
                document_number=form.cleaned_data["document_number"], file=form.cleaned_data["document"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已向%(name)s送达《%(title)s》，电子送达凭证编号 %(no)s。") % {
                "name": recipient.name, "title": record.document_title, "no": record.certificate_number})
            return redirect("service_record", record_id=record.pk)
    return render(request, "frontend/service/serve.html", {
        "case": case, "form": form, "plans": plans, "stage": ServiceStage(service_stage_of(case)).label,
    })


# --- The record, as the recipient and the staff see it ----------------------------------------------------


@login_required(login_url=PARTY_LOGIN)
def record_page(request: HttpRequest, record_id: int) -> HttpResponse:
    user = _user(request)
    via = _via(request)
    if request.method == "POST":
        return _record_action(request, record_id)
    record = service_writes.service_record_open(actor=user, record_id=record_id)
    return _render_record(request, record, via=via)


def _render_record(request: HttpRequest, record: ServiceRecord, *, via: str, status: int = 200) -> HttpResponse:
    user = _user(request)
    certificate = service_certificate(record=record)
    recipient = is_recipient(user, record)
    acknowledged = any(ACTION_ACKNOWLEDGED in row.action.split(",") for row in certificate.rows)
    return render(request, "frontend/service/record.html", {
        "case": record.case, "record": record, "certificate": certificate, "via": via,
        "is_recipient": recipient, "acknowledged": acknowledged, "sign_for": service_writes.needs_sign_for(record),
        "may_request_paper": recipient and paper_copy_available(record) and record.paper_copy_requested_at is None,
        "rule": rule_label(record.rule),
    }, status=status)


def _record_action(request: HttpRequest, record_id: int) -> HttpResponse:
    user = _user(request)
    via = request.POST.get("via", "")
    via = via if via in ("sms", "email") else ""
    record = service_writes.service_record_view(actor=user, record_id=record_id, via=via)
    action = request.POST.get("action", "")
    if action == "read":  # sent by frontend/service.js once the page is visible to a person
        return HttpResponse(status=204)
    try:
        if action == "acknowledge":
            service_writes.service_record_acknowledge(actor=user, record=record, via=via)
            messages.success(request, _("已确认收到。"))
        elif action == "paper_copy":
            service_writes.service_paper_copy_request(actor=user, record=record)
            messages.success(request, _("已记录您申请纸质文书，送达机关将邮寄到您确认的送达地址。"))
        else:
            raise DomainError(_("请选择要进行的操作。"))
    except DomainError as exc:
        messages.error(request, str(exc))
        record.refresh_from_db()
        return _render_record(request, record, via=via, status=400)
    return redirect(reverse("service_record", args=[record.pk]) + (f"?via={via}" if via else ""))


@require_http_methods(["GET", "POST"])
@login_required(login_url=PARTY_LOGIN)
def download(request: HttpRequest, record_id: int) -> HttpResponseBase:
    """The served document, as an attachment, never inline. The recipient's download is an act with legal
    weight, so it is a POST (the page's button); a GET hands the recipient back to the page instead, so a
    prefetcher or a scanner following a link records nothing. Anyone else may GET it (logged)."""
    user = _user(request)
    try:
        if request.method == "POST":
            via = request.POST.get("via", "")
            record = service_writes.service_record_download(
                actor=user, record_id=record_id, via=via if via in ("sms", "email") else "")
        else:
            record = service_writes.service_record_open(actor=user, record_id=record_id)
            if is_recipient(user, record):
                url = reverse("service_record", args=[record.pk])
                back = redirect(url + (f"?via={_via(request)}" if _via(request) else ""))
                back.status_code = 303
                return back
            record = service_writes.service_record_download(actor=user, record_id=record_id)
        handle = record.document_file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(_("文书文件不存在。")) from exc
    head = handle.read(64)
    handle.seek(0)
    kind = detect_file_type(head)
    extension = kind.extensions[0] if kind is not None else ""
    name = os.path.basename(record.document_title.replace("/", "／")) or "document"
    response = FileResponse(
        handle, as_attachment=True, filename=f"{name}{extension}",
        content_type=kind.content_type if kind is not None else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_GET
@login_required(login_url=PARTY_LOGIN)
def certificate(request: HttpRequest, record_id: int) -> HttpResponse:
    """The 电子送达凭证 as a page (the PDF comes with the documents capability)."""
    record = service_writes.service_record_view(actor=_user(request), record_id=record_id)
    cert = service_certificate(record=record)
    return render(request, "frontend/service/certificate.html", {
        "case": record.case, "record": record, "certificate": cert, "rule": rule_label(record.rule),
    })


@require_GET
@login_required(login_url=PARTY_LOGIN)
def certificate_pdf(request: HttpRequest, record_id: int) -> HttpResponse:
    """The 电子送达凭证 as an A4 PDF with the CJK font embedded; the same content and digest as the page."""
    record = service_writes.service_record_view(actor=_user(request), record_id=record_id)
    cert = service_certificate(record=record)
    html = render_to_string("frontend/service/certificate_pdf.html", {
        "case": record.case, "record": record, "certificate": cert, "rule": rule_label(record.rule),
    }, request=request)
    response = HttpResponse(html_to_pdf(html, base_url=request.build_absolute_uri("/")),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{record.certificate_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- A party's service address and per-stage consent (OLR 4, 30) ------------------------------------------


class AddressForm(forms_apply.AddressForm):
    """The application's 送达地址确认书 fields, plus the e-service answer and the platform account."""

    # The base class's tuple has a fixed length in its inferred type; one more field is still a tuple of names.
    required_fields = (*forms_apply.AddressForm.required_fields, "e_service")  # type: ignore[assignment]
    e_service = forms.ChoiceField(
        label=gettext_lazy("是否同意电子送达"), choices=forms_apply.YES_NO, widget=forms.RadioSelect,
    )
    platform_account = forms.BooleanField(label=gettext_lazy("同时向我的平台账户送达（推荐）"), required=False)
    consent_text = forms.IntegerField(widget=forms.HiddenInput, required=False)


class WithdrawForm(forms.Form):
    stage = forms.ChoiceField(choices=ServiceStage.choices)
    consent_text = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _address_initial(party: Party) -> dict[str, Any]:
    current = service_address_current(party=party)
    if current is None:
        return {
            "recipient_name": party.name, "postal_address": party.service_address or party.address,
            "postal_recipient": party.name, "postal_phone": party.phone, "mobile": party.phone,
            "email": party.email, "stages": list(ServiceStage.values), "e_service": "yes", "platform_account": True,
        }
    fields = ("recipient_name", "postal_address", "postal_code", "postal_recipient", "postal_phone",
              "agent_recipient", "agent_relationship", "agent_phone", "mobile", "email", "im_account", "confidential")
    initial: dict[str, Any] = {name: getattr(current, name) for name in fields}
    initial.update(stages=list(current.stages or []), e_service="yes" if current.e_service_consent else "no",
                   platform_account=current.platform_account or not current.e_service_consent)
    return initial


def _missing_answer(form: AddressForm) -> bool:
    if form.cleaned_data.get("e_service") in ("yes", "no"):
        return False
    form.add_error("e_service", _("请选择是否同意电子送达。"))
    return True


@login_required(login_url=PARTY_LOGIN)
def address_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    parties = parties_represented(case=case, user=user)
    if not parties:
        raise DomainPermissionDenied(_("只有当事人本人或其代理人可以确认或变更送达地址。"), case=case)
    chosen = request.POST.get("party") or request.GET.get("party")
    party = next((p for p in parties if str(p.pk) == chosen), parties[0])
    address_text = notice_text_publish(
        code=SERVICE_ADDRESS_NOTICE.code, title=SERVICE_ADDRESS_NOTICE.title, body=SERVICE_ADDRESS_NOTICE.body,
        actor=None,
    )
    consent_text = notice_text_publish(
        code=E_SERVICE_CONSENT.code, title=E_SERVICE_CONSENT.title, body=E_SERVICE_CONSENT.body, actor=None
    )
    posted = request.POST.get("form") if request.method == "POST" else None
    form = AddressForm(request.POST if posted == "address" else None, initial=_address_initial(party))
    withdraw_form = WithdrawForm(request.POST if posted == "withdraw" else None)
    ip = client_ip(request)
    if posted == "address" and form.is_valid() and not _missing_answer(form):
        data = form.cleaned_data
        try:
            service_writes.service_address_change(
                case=case, party=party, actor=user, recipient_name=data["recipient_name"] or "",
                postal_address=data["postal_address"] or "", postal_recipient=data["postal_recipient"] or "",
                postal_phone=data["postal_phone"] or "", postal_code=data["postal_code"] or "",
                agent_recipient=data["agent_recipient"] or "", agent_relationship=data["agent_relationship"] or "",
                agent_phone=data["agent_phone"] or "", e_service_consent=data["e_service"] == "yes",
                mobile=data["mobile"] or "", email=data["email"] or "", im_account=data["im_account"] or "",
                platform_account=bool(data["platform_account"]), stages=list(data["stages"] or []),
                confidential=bool(data["confidential"]), address_text_id=data["text"],
                consent_text_id=data["consent_text"], ip_address=ip,
            )
        except service_writes.AddressInvalid as exc:
            form.add_step_errors(exc.errors)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已更新送达地址，此后的送达将使用新的地址。"))
            return redirect("service_address", case_id=case.pk)
    if posted == "withdraw" and withdraw_form.is_valid():
        stage = withdraw_form.cleaned_data["stage"]
        try:
            service_writes.e_service_withdraw(
                case=case, party=party, actor=user, stage=stage,
                consent_text_id=withdraw_form.cleaned_data["consent_text"], ip_address=ip,
            )
        except DomainError as exc:
            withdraw_form.add_error(None, str(exc))
        else:
            messages.success(request, _("已撤回“%(stage)s”阶段的电子送达同意。") % {"stage": ServiceStage(stage).label})
            return redirect("service_address", case_id=case.pk)
    current = service_address_current(party=party)
    consented = [
        (code, label) for code, label in ServiceStage.choices
        if current is not None and current.e_service_consent and code in (current.stages or [])
    ]
    return render(request, "frontend/service/address.html", {
        "case": case, "party": party, "parties": parties, "form": form, "withdraw_form": withdraw_form,
        "current": current, "consented_stages": consented, "address_text": address_text,
        "consent_text": consent_text,
    }, status=400 if posted else 200)
