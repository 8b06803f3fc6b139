"""The party's online application, one step per page, and the permission-checked evidence download.

Every step is kept on the server as soon as it is posted (mediation.services.applications), so a closed
tab resumes where it stopped. The views only parse, call a service and render.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from frontend import forms_apply as f
from frontend.http import client_ip
from frontend.http import signed_in_user as _user
from mediation.choices import EvidenceKind, PartyKind, Sector, ServiceStage
from mediation.exceptions import DomainError, InvalidInput, NotFound, PermissionDenied
from mediation.models import ApplicationDraft, Evidence, Organisation
from mediation.services import applications as apps
from mediation.services import evidence as evidence_service

# Parties sign in with their phone number (the identity pages); staff use the password page.
PARTY_LOGIN = "phone_login"

STEP_FORMS: dict[str, type[f.StepForm]] = {
    "dispute": f.DisputeForm,
    "parties": f.PartiesForm,
    "claims": f.ClaimsForm,
    "evidence": f.EvidenceDoneForm,
    "notices": f.NoticesForm,
    "address": f.AddressForm,
}



def _identity_redirect(request: HttpRequest) -> HttpResponse | None:
    """Send a party who has not verified their real name to do so first, then back here."""
    if apps.application_identity(user=_user(request)) is not None:
        return None
    messages.info(request, _("申请调解前，请先完成实名认证。"))
    back = request.get_full_path() if request.method == "GET" else reverse("apply_start")
    return redirect(f"{reverse('identity_verify')}?{urlencode({'next': back})}")


def _step_url(step: str) -> str:
    return reverse("apply_step", args=[step])


def _form_for(step: str, *, draft: ApplicationDraft, data: Any = None) -> f.StepForm:
    form_class = STEP_FORMS[step]
    kwargs: dict[str, Any] = {}
    if form_class is f.DisputeForm:
        kwargs["courts"] = apps.application_courts()
    saved = (draft.data or {}).get(step)
    initial = form_class.initial_from(saved) if isinstance(saved, dict) else _defaults(step, draft)
    return form_class(data, initial=initial, **kwargs)


def _defaults(step: str, draft: ApplicationDraft) -> dict[str, Any]:
    """First-visit answers a party would otherwise type twice: the address form starts from the
    applicant's own name and phone."""
    if step != "address":
        return {}
    identity = apps.application_identity(user=draft.owner)
    parties = (draft.data or {}).get("parties") or {}
    name = parties.get("applicant_name") if parties.get("applicant_kind") == PartyKind.ENTITY else None
    name = name or (identity.name if identity else "")
    phone = identity.phone if identity else ""
    return {"recipient_name": name, "postal_recipient": name, "postal_phone": phone, "mobile": phone,
            "stages": list(ServiceStage.values)}


def _step_context(step: str, draft: ApplicationDraft, form: Any) -> dict[str, Any]:
    index = apps.STEPS.index(step)
    context: dict[str, Any] = {
        "step": step,
        "step_number": index + 1,
        "step_count": len(apps.STEPS),
        "step_title": apps.STEP_TITLES[step],
        "steps": [(s, apps.STEP_TITLES[s], i <= index) for i, s in enumerate(apps.STEPS)],
        "previous_url": _step_url(apps.STEPS[index - 1]) if index else None,
        "form": form,
        "draft": draft,
    }
    if step == "parties":
        context["identity"] = apps.application_identity(user=draft.owner)
    if step == "evidence":
        context["evidence"] = draft.evidence.filter(case__isnull=True).order_by("pk")
        context["upload_form"] = f.EvidenceForm()
        context["max_mb"] = settings.EVIDENCE_MAX_BYTES // (1024 * 1024)
    if step == "notices":
        context["texts"] = apps.application_texts(apps.NOTICE_FIELDS)
    if step == "address":
        context["address_text"] = apps.application_texts(apps.ADDRESS_FIELDS)["text"]
        context["e_service"] = ((draft.data or {}).get("notices") or {}).get("e_service") is True
    if step == "review":
        context.update(_review(draft))
    return context


def _review(draft: ApplicationDraft) -> dict[str, Any]:
    data = draft.data or {}
    dispute = data.get("dispute", {})
    address = data.get("address", {})
    return {
        "data": data,
        "identity": apps.application_identity(user=draft.owner),
        "dispute_label": Sector(dispute["dispute_type"]).label if dispute.get("dispute_type") in Sector.values else "",
        "court": Organisation.objects.filter(pk=dispute.get("court")).first(),
        "evidence": draft.evidence.filter(case__isnull=True).order_by("pk"),
        "stage_labels": [ServiceStage(s).label for s in address.get("stages", []) if s in ServiceStage.values],
        "texts": apps.application_texts(apps.NOTICE_FIELDS),
        "address_text": apps.application_texts(apps.ADDRESS_FIELDS)["text"],
    }


def _open_draft(request: HttpRequest) -> ApplicationDraft | HttpResponse:
    needs_identity = _identity_redirect(request)
    if needs_identity is not None:
        return needs_identity
    return apps.application_draft_open(actor=_user(request))


@login_required(login_url=PARTY_LOGIN)
@require_GET
def apply_start(request: HttpRequest) -> HttpResponse:
    """Resume the application at its first unfinished step (a new one starts at step 1)."""
    draft = _open_draft(request)
    if isinstance(draft, HttpResponse):
        return draft
    return redirect(_step_url(apps.application_progress(draft=draft)))


@login_required(login_url=PARTY_LOGIN)
def apply_step(request: HttpRequest, step: str) -> HttpResponse:
    if step not in apps.STEPS:
        raise NotFound(_("没有这一步。"))
    draft = _open_draft(request)
    if isinstance(draft, HttpResponse):
        return draft
    first_open = apps.application_progress(draft=draft)
    if apps.STEPS.index(step) > apps.STEPS.index(first_open):
        return redirect(_step_url(first_open))  # no skipping ahead of an unfinished step
    if step == "review":
        return render(request, "frontend/apply/review.html", _step_context(step, draft, None))

    status = 200
    if request.method == "POST":
        form = _form_for(step, draft=draft, data=request.POST)
        if form.is_valid():
            try:
                apps.application_step_save(draft=draft, actor=_user(request), step=step, data=form.to_data())
            except apps.StepInvalid as exc:
                form.add_step_errors(exc.errors)
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(_step_url(apps.STEPS[apps.STEPS.index(step) + 1]))
        status = 400
    else:
        form = _form_for(step, draft=draft)
    return render(request, f"frontend/apply/{step}.html", _step_context(step, draft, form), status=status)


@login_required(login_url=PARTY_LOGIN)
@require_POST
def apply_evidence_upload(request: HttpRequest) -> HttpResponse:
    draft = _open_draft(request)
    if isinstance(draft, HttpResponse):
        return draft
    form = f.EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = evidence_service.evidence_upload(
                actor=_user(request), draft=draft, file=form.cleaned_data["file"],
                title=form.cleaned_data["title"], kind=form.cleaned_data["kind"] or EvidenceKind.EVIDENCE,
            )
        except DomainError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("已上传：%(title)s") % {"title": evidence.title})
            return redirect(_step_url("evidence"))
    context = _step_context("evidence", draft, f.EvidenceDoneForm())
    context["upload_form"] = form
    return render(request, "frontend/apply/evidence.html", context, status=400)


@login_required(login_url=PARTY_LOGIN)
@require_POST
def apply_evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = evidence_service.evidence_get_for_user(user=_user(request), pk=pk)
    try:
        evidence_service.evidence_discard(actor=_user(request), evidence=evidence)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已删除：%(title)s") % {"title": evidence.title})
    return redirect(_step_url("evidence"))


@login_required(login_url=PARTY_LOGIN)
@require_POST
def apply_submit(request: HttpRequest) -> HttpResponse:
    draft = _open_draft(request)
    if isinstance(draft, HttpResponse):
        return draft
    try:
        case = apps.application_submit(draft=draft, actor=_user(request), ip_address=client_ip(request))
    except DomainError as exc:
        # Nothing was saved; the first step that needs attention (e.g. a notice published since) opens.
        messages.error(request, str(exc))
        return redirect(reverse("apply_start"))
    messages.success(
        request, _("申请已提交，平台编号 %(ref)s。法院将在3个工作日内处理，请留意短信通知。") % {"ref": case.reference}
    )
    return redirect(reverse("case_detail", args=[case.pk]))


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Hand out one evidence file to someone with a right to it, as an attachment under its original name
    (RFC 5987 for Chinese names), never rendered inline; each download is recorded."""
    try:
        evidence: Evidence = evidence_service.evidence_download(actor=_user(request), pk=pk)
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(_("文件不存在。")) from exc
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response


@login_required(login_url=PARTY_LOGIN)
def apply_prepared(request: HttpRequest, code: str) -> HttpResponse:
    """The SMS link to an application a partner organisation prepared (D39): after the identity step, the named
    party reads it and makes it their own (then continues as in their own application) or declines it."""
    needs_identity = _identity_redirect(request)
    if needs_identity is not None:
        return needs_identity
    draft = apps.application_prepared_get(code=code)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "claim":
                apps.application_prepared_claim(draft=draft, actor=_user(request))
                messages.success(request, _("申请已归您本人所有。请补充材料、阅读告知并确认送达地址后提交。"))
                return redirect(reverse("apply_start"))
            if action == "decline":
                apps.application_prepared_decline(draft=draft, actor=_user(request))
                messages.success(request, _("已记录：这不是您的申请。它不会被提交。"))
                return redirect(reverse("home"))
            raise InvalidInput(_("请选择“继续填写”或“不是我的申请”。"))
        except DomainError as exc:
            return render(request, "frontend/apply/prepared.html", {"refusal": str(exc), "code": code}, status=400)
    try:
        apps.application_prepared_check(draft=draft, actor=_user(request))
    except DomainError as exc:
        return render(request, "frontend/apply/prepared.html", {"refusal": str(exc), "code": code}, status=403
                      if isinstance(exc, PermissionDenied) else 400)
    data = draft.data or {}
    dispute = data.get("dispute", {})
    return render(request, "frontend/apply/prepared.html", {
        "draft": draft, "code": code, "data": data,
        "dispute_label": Sector(dispute["dispute_type"]).label if dispute.get("dispute_type") in Sector.values else "",
        "court": Organisation.objects.filter(pk=dispute.get("court")).first(),
        "evidence": draft.evidence.filter(case__isnull=True).order_by("pk"),
    })
