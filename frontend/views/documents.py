"""Document pages: read a document (page images, its signatures, who still signs), download the latest
revision, and sign on the phone (one-time code + handwriting). Thin: one selector or service per request."""

from __future__ import annotations

import base64
import binascii
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from documents.models import Document
from documents.selectors import document_get_for_user, external_document_get_for_user
from documents.services.signing import (
    SCAN_SLOT,
    SignOption,
    document_download,
    document_latest_revision,
    document_pending_slots,
    document_sealed_scan_upload,
    document_sign,
    document_sign_code_send,
    document_sign_options,
    external_document_download,
)
from frontend.http import client_ip, signed_in_user
from mediation import transitions as tr
from mediation.choices import OtpPurpose, SignerRole
from mediation.exceptions import DomainError, InvalidInput, NotFound
from mediation.permissions import case_roles
from mediation.services.identity import OtpThrottled, otp_resend_wait
from mediation.validators import mask_phone

PAGE_DPI = 100  # page previews: sharp on a phone, ~100 KB a page
_DATA_URL_PREFIX = "data:image/png;base64,"


def _document_or_404(request: HttpRequest, pk: int) -> Document:
    return document_get_for_user(user=signed_in_user(request), pk=pk)



@login_required
@require_GET
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document_or_404(request, pk)
    user = signed_in_user(request)
    newer = Document.objects.filter(case=document.case, kind=document.kind, version__gt=document.version).order_by(
        "-version").first()
    pending = document_pending_slots(document) if newer is None else []
    context = {
        "document": document, "case": document.case,
        "signatures": document.signatures.select_related("party").order_by("sequence"),
        "pending": pending,
        "options": document_sign_options(document=document, user=user),
        "pages": range(1, document.pages + 1), "newer": newer,
    }
    context["may_upload_scan"] = any(slot.key == SCAN_SLOT for slot in pending) and \
        tr.ORG_ADMIN in case_roles(user, document.case)
    return render(request, "frontend/documents/detail.html", context)


@login_required
def document_sealed_scan_view(request: HttpRequest, pk: int) -> HttpResponse:
    """OMR 19: the organisation without an e-seal uploads the scan of the sealed paper agreement (PDF)."""
    document = _document_or_404(request, pk)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("scan")
        try:
            document_sealed_scan_upload(
                document=document, actor=signed_in_user(request), data=upload.read() if upload else None,
                original_name=(upload.name or "") if upload else "", ip_address=client_ip(request),
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            messages.success(request, _("盖章的调解协议扫描件已上传。"))
            return redirect("document_detail", pk=document.pk)
    return render(request, "frontend/documents/sealed_scan.html",
                  {"document": document, "case": document.case, "error": error}, status=400 if error else 200)


@login_required
@require_GET
def document_page(request: HttpRequest, pk: int, page: int) -> HttpResponseBase:
    """Page ``page`` (from 1) of the latest revision as a PNG, rendered once per revision and cached."""
    document = _document_or_404(request, pk)
    if not 1 <= page <= document.pages:
        raise Http404
    data, digest = document_latest_revision(document)  # StoredFileAltered (409): show nothing of it
    name = f"documents/previews/{digest}-{page}.png"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(_render_page(data, page)))
    with default_storage.open(name) as handle:
        response = HttpResponse(handle.read(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _render_page(data: bytes, page: int) -> bytes:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise NotFound(_("服务器未安装页面预览工具。"))
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "doc.pdf"
        source.write_bytes(data)
        # Fixed arguments and a file we wrote: no user input reaches the command line.
        subprocess.run(  # noqa: S603
            [pdftoppm, "-png", "-r", str(PAGE_DPI), "-f", str(page), "-l", str(page), "-singlefile",
             str(source), str(Path(directory) / "page")],
            check=True, timeout=60, capture_output=True,
        )
        return (Path(directory) / "page.png").read_bytes()


@login_required
@require_GET
def document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document_or_404(request, pk)
    data, _digest = document_download(document=document, actor=signed_in_user(request), ip_address=client_ip(request))
    return _pdf_attachment(data, f"{document.title}-v{document.version}.pdf")


@login_required
@require_GET
def external_document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A ruling or 调解书 the court's own system pushed, as received (its readers: the case's document readers)."""
    user = signed_in_user(request)
    try:
        row = external_document_get_for_user(user=user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    data = external_document_download(document=row, actor=user, ip_address=client_ip(request))
    return _pdf_attachment(data, f"{row.title}-{row.number}.pdf")


def _pdf_attachment(data: bytes, filename: str) -> HttpResponse:
    """A PDF download, never cached or sniffed; ``/`` in the name becomes a full-width ``／``."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename.replace('/', '／'))}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _quote(value: str) -> str:
    return quote(value)


def _chosen(options: list[SignOption], value: str) -> SignOption | None:
    if len(options) == 1 and not value:
        return options[0]
    return next((o for o in options if o.value == value), None)


def _handwriting(value: str) -> bytes:
    try:
        if not value:
            raise InvalidInput(_("请在签名框内手写签名。"))
        if not value.startswith(_DATA_URL_PREFIX):
            raise InvalidInput(_("签名图片格式不正确，请清除后重新签写。"))
        try:
            return base64.b64decode(value[len(_DATA_URL_PREFIX):], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(_("签名图片无法读取，请清除后重新签写。")) from exc
    except InvalidInput as exc:
        exc.field = "handwriting"
        raise


@login_required
def document_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document_or_404(request, pk)
    user = signed_in_user(request)
    options = document_sign_options(document=document, user=user)
    wants_json = request.headers.get("x-requested-with") == "XMLHttpRequest"
    error, error_field = "", ""
    chosen_value = request.POST.get("as", "")
    handwriting = request.POST.get("handwriting", "")
    if request.method == "POST":
        option = _chosen(options, chosen_value)
        action = request.POST.get("action", "")
        party = option.party if option else None
        role = option.role if option else ""
        try:
            if option is None:
                if not options:
                    # Let the service say why (already signed, not in its signing state, not yours).
                    document_sign_code_send(document=document, actor=user)
                raise InvalidInput(_("请选择签署身份。"))
            if action == "send":
                document_sign_code_send(
                    document=document, actor=user, role=role, party=party, ip_address=client_ip(request)
                )
                sent = _("验证码已发送至 %(phone)s，5分钟内有效。") % {"phone": mask_phone(user.phone)}
                if wants_json:
                    return JsonResponse({"ok": True, "message": sent, "wait": _wait(user.phone)})
                messages.info(request, sent)
                return redirect("document_sign", pk=document.pk)
            if action == "sign":
                png = None if role == SignerRole.ORGANISATION else _handwriting(handwriting)
                if request.POST.get("agree") != "1":
                    refused = InvalidInput(_("请确认已阅读文书全文并自愿签署。"))
                    refused.field = "agree"
                    raise refused
                document_sign(
                    document=document, actor=user, role=role, party=party, code=request.POST.get("code", ""),
                    handwriting_png=png, ip_address=client_ip(request),
                )
                messages.success(request, _("签署完成：《%(title)s》。") % {"title": document.title})
                return redirect("document_detail", pk=document.pk)
            raise InvalidInput(_("请求无效，请刷新页面后重试。"))
        except OtpThrottled as exc:
            error, error_field = str(exc), exc.field
            if wants_json:
                return JsonResponse({"ok": False, "message": error, "wait": exc.retry_after}, status=429)
        except DomainError as exc:
            error, error_field = str(exc), exc.field
            if wants_json:
                return JsonResponse({"ok": False, "message": error}, status=400)
    context = {
        "document": document, "case": document.case, "options": options, "chosen": chosen_value,
        # Shown next to what it is about (the pad, the code, the statement); anything else at the top.
        "error": error if error_field not in _FIELDS_WITH_A_PLACE else "",
        "field_error": {error_field: error} if error_field in _FIELDS_WITH_A_PLACE else {},
        "handwriting": handwriting if handwriting.startswith(_DATA_URL_PREFIX) else "",
        "phone": mask_phone(user.phone or ""), "wait": _wait(user.phone) if user.phone else 0,
    }
    return render(request, "frontend/documents/sign.html", context, status=400 if error else 200)


_FIELDS_WITH_A_PLACE = frozenset({"handwriting", "code", "agree"})


def _wait(phone: str) -> int:
    return otp_resend_wait(phone=phone, purpose=OtpPurpose.SIGNING)
