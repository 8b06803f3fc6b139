"""The public verification page: anyone may upload a PDF or type the code printed on it and see who signed,
when, and whether the file is byte-for-byte the document on record (documents/verification.py decides).

No sign-in: a bank, an employer or a court clerk elsewhere must be able to check an agreement. What the
page shows is limited to what the document itself shows its holder (docs/decisions.md D18).
"""

from __future__ import annotations

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from documents.verification import (
    Verdict,
    VerificationResult,
    max_upload_bytes,
    too_large,
    verification_audit,
    verify_code,
    verify_pdf,
)

# Uploads are validated with pyHanko (CPU) and codes are the only thing protecting a document's metadata
# from guessing: a per-address budget, counted in the cache.
RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 600
# What a multipart body adds around the file (boundaries, headers, the CSRF token).
MULTIPART_OVERHEAD = 64 * 1024

TONE = {
    Verdict.LATEST: "ok", Verdict.EARLIER: "warn", Verdict.FOUND: "info", Verdict.MODIFIED: "bad",
    Verdict.FOREIGN: "bad", Verdict.NOT_FOUND: "bad", Verdict.REJECTED: "bad",
}


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文书 PDF 文件"))


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("核验码"), max_length=40)


def _over_budget(request: HttpRequest) -> bool:
    key = f"verify-rate:{request.META.get('REMOTE_ADDR') or 'unknown'}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        count = 1
    return count > RATE_LIMIT


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


@csrf_exempt  # checked below, once we know the body is worth reading (the CSRF check parses all of it)
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Refuse an oversized upload from its declared length, before any of the body is read or spooled to
    disk; everything else goes to the CSRF-protected page."""
    declared = _declared_length(request)
    if request.method == "POST" and declared > max_upload_bytes() + MULTIPART_OVERHEAD:
        result = too_large(size=declared)
        verification_audit(result=result, method="upload", actor=request.user)
        return _page(request, result=result, method="upload", status=413)
    return _verify(request)


def _page(request: HttpRequest, *, result: VerificationResult | None, method: str, status: int,
          upload_form: UploadForm | None = None, code_form: CodeForm | None = None) -> HttpResponse:
    return render(request, "frontend/documents/verify.html", {
        "result": result, "tone": TONE.get(result.verdict, "info") if result else "",
        "upload_form": upload_form or UploadForm(), "code_form": code_form or CodeForm(), "method": method,
        "max_mb": max(1, max_upload_bytes() // (1024 * 1024)),
    }, status=status)


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    result: VerificationResult | None = None
    method = ""
    status = 200
    upload_form = UploadForm()
    code_form = CodeForm()
    if request.method == "POST" or "code" in request.GET:
        if _over_budget(request):
            result = VerificationResult(
                verdict=Verdict.REJECTED, message=_("核验次数过多"),
                detail=_("为防止滥用，同一网络每 10 分钟最多核验 %(n)s 次。请稍后再试。") % {"n": RATE_LIMIT},
            )
            status = 429
        elif request.method == "POST":
            upload_form = UploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                method = "upload"
                upload = upload_form.cleaned_data["file"]
                if upload.size > max_upload_bytes():
                    result = too_large(size=upload.size)  # not read at all
                else:
                    result = verify_pdf(data=upload.read())
        else:
            code_form = CodeForm(request.GET)
            if code_form.is_valid():
                method = "code"
                result = verify_code(code=code_form.cleaned_data["code"])
        if result is not None and method:
            verification_audit(result=result, method=method, actor=request.user)
    return _page(request, result=result, method=method, status=status, upload_form=upload_form,
                 code_form=code_form)
