"""Assisted filing at the nearest court (全域通办, issue 18): the clerk's form and list, and the party's own
confirmation on their phone. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from frontend.http import client_ip
from frontend.http import signed_in_user as _user
from mediation.choices import AssistedFilingKind, AssistedFilingStatus, EvidenceKind, Sector
from mediation.exceptions import InvalidInput
from mediation.models import Organisation
from mediation.selectors.assisted import assisted_filing_by_token, assisted_filing_for_clerk, assisted_filings_for_clerk
from mediation.services.assisted_filing import (
    assisted_filing_confirm,
    assisted_filing_start,
    assisting_court_of,
    competent_courts,
)
from mediation.services.evidence import evidence_upload

PARTY_LOGIN = "phone_login"
FIELDS = (
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "respondent_name",
    "respondent_phone",
    "dispute_type",
    "claims",
    "summary",
)


@login_required
def assisted_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    assisting = assisting_court_of(user)  # PermissionDenied for anyone but a court's clerk
    return render(
        request, "frontend/assisted/list.html", {"court": assisting, "rows": assisted_filings_for_clerk(user=user)}
    )


@login_required
def assisted_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    assisting = assisting_court_of(user)
    source = request.POST if request.method == "POST" else request.GET
    region = source.get("region_code", "").strip()
    suggestions: list[Organisation] = []
    error = ""
    if region:
        try:
            suggestions = competent_courts(region_code=region)
        except InvalidInput as exc:
            error = str(exc)
        if not suggestions and not error:
            error = _("没有登记该地区的基层人民法院，无法确定管辖法院，请核实被申请人住所地。")
    if request.method == "POST" and not error:
        chosen = next((c for c in suggestions if str(c.pk) == request.POST.get("competent_court")), None)
        try:
            filing, _token = assisted_filing_start(
                actor=user,
                kind=request.POST.get("kind", ""),
                competent_court=chosen,
                region_code=region,
                data={name: request.POST.get(name, "") for name in FIELDS},
                identity_document=request.POST.get("identity_document", ""),
                identity_number_seen=request.POST.get("identity_number_seen", ""),
                identity_checked=request.POST.get("identity_checked") == "on",
                e_service=request.POST.get("e_service") == "on",
                mediation=request.POST.get("mediation") == "on",
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            messages.success(
                request, _("已登记，确认短信已发送至当事人手机。请扫描上传材料；当事人本人确认后才转交管辖法院。")
            )
            return redirect("assisted_detail", filing_id=filing.pk)
    return render(
        request,
        "frontend/assisted/new.html",
        {
            "court": assisting,
            "region": region,
            "suggestions": suggestions,
            "error": error,
            "values": source,
            "kinds": AssistedFilingKind.choices,
            "sectors": Sector.choices,
        },
    )


@login_required
def assisted_detail(request: HttpRequest, filing_id: int) -> HttpResponse:
    user = _user(request)
    filing = assisted_filing_for_clerk(actor=user, filing_id=filing_id)
    if request.method == "POST" and filing.status == AssistedFilingStatus.AWAITING_PARTY:
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput(_("请选择要上传的文件。"))
            evidence_upload(
                actor=user,
                file=upload,
                title=request.POST.get("title", ""),
                kind=request.POST.get("kind", EvidenceKind.EVIDENCE),
                draft=filing.draft,
            )
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("材料已上传。"))
        return redirect("assisted_detail", filing_id=filing.pk)
    return render(
        request,
        "frontend/assisted/detail.html",
        {
            "filing": filing,
            "materials": filing.draft.evidence.order_by("pk"),
            "evidence_kinds": EvidenceKind.choices,
        },
    )


@login_required(login_url=PARTY_LOGIN)
def assisted_confirm(request: HttpRequest, token: str) -> HttpResponse:
    filing = assisted_filing_by_token(token=token)
    if request.method == "POST":
        try:
            filing = assisted_filing_confirm(
                token=token,
                actor=_user(request),
                e_service=request.POST.get("e_service") == "on",
                mediation=request.POST.get("mediation") == "on",
                ip_address=client_ip(request),
            )
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            if filing.case_id:
                messages.success(request, _("已确认，申请已提交%(court)s。") % {"court": filing.competent_court.name})
                return redirect("case_detail", case_id=filing.case_id)
            messages.info(request, _("您未同意调解，材料不转交管辖法院。如需起诉，请向管辖法院立案。"))
    return render(request, "frontend/assisted/confirm.html", {"filing": filing})
