"""Evidence files: uploaded once, checked by their content, stored under their SHA-256 and handed out only
to people with a right to the draft or the case (OMR 8; legal-rules §B10, §B11 item 12).

Files are content-addressed: two uploads of the same bytes share one stored file. A database rollback
after the file was written leaves an unreferenced file behind, never a row without its file.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import EvidenceKind, Role
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import ApplicationDraft, Case, Evidence, Membership, User
from mediation.models.intake import evidence_path
from mediation.permissions import case_roles
from mediation.selectors.rooms import room_file_visible
from mediation.services.audit import audit_append
from mediation.validators import clean_single_line

# Who may add material to a case after submission: its parties (and their agents), its mediator, and the
# court's intake staff who digitise paper for a party (OMR 8).
UPLOAD_ROLES = frozenset({tr.PARTY, tr.MEDIATOR, tr.CLERK})
_HEAD_BYTES = 64
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: what its bytes look like, the names and declared types it may carry."""

    content_type: str
    label: str
    extensions: tuple[str, ...]
    declared: tuple[str, ...]


PDF = FileType("application/pdf", "PDF", (".pdf",), ("application/pdf", "application/x-pdf"))
JPEG = FileType("image/jpeg", "JPEG", (".jpg", ".jpeg", ".jpe", ".jfif"), ("image/jpeg", "image/pjpeg", "image/jpg"))
PNG = FileType("image/png", "PNG", (".png",), ("image/png",))
HEIC = FileType("image/heic", "HEIC", (".heic", ".heif"), ("image/heic", "image/heif", "image/heic-sequence"))
MP3 = FileType("audio/mpeg", "MP3", (".mp3",), ("audio/mpeg", "audio/mp3", "audio/mpeg3"))
MP4 = FileType("video/mp4", "MP4", (".mp4", ".m4v"), ("video/mp4", "video/x-m4v"))
M4A = FileType("audio/mp4", "M4A", (".m4a",), ("audio/mp4", "audio/x-m4a", "audio/m4a"))
MOV = FileType("video/quicktime", "MOV", (".mov",), ("video/quicktime",))
FILE_TYPES = (PDF, JPEG, PNG, HEIC, MP3, MP4, M4A, MOV)
# What a file picker on a phone may offer: the accept="" attribute of the upload input.
ACCEPT_ATTRIBUTE = ",".join(
    sorted({ext for t in FILE_TYPES for ext in t.extensions} | {t.content_type for t in FILE_TYPES})
)

# ISO base media files ("ftyp" box at offset 4) name their major brand in bytes 8-12.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VP", b"dash"}
_M4A_BRANDS = {b"M4A ", b"M4B "}
_MP3_FRAME_SYNC = {b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa"}


def detect_file_type(head: bytes) -> FileType | None:
    """The accepted type the first bytes of a file show, or None. Names and declared types are claims;
    only the bytes decide."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return HEIC
        if brand in _MP4_BRANDS:
            return MP4
        if brand in _M4A_BRANDS:
            return M4A
        if brand == b"qt  ":
            return MOV
        return None
    if head.startswith(b"ID3") or head[:2] in _MP3_FRAME_SYNC:
        return MP3
    return None


def _megabytes(size: int, *, up: bool = False) -> str:
    """``size`` in MB to one decimal. ``up`` rounds up, for a file over the limit: a file a few bytes over
    20 MB must not read as "20 MB, the limit is 20 MB"."""
    tenths = size / (1024 * 1024) * 10
    value = (math.ceil(tenths) if up else round(tenths)) / 10
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _clean_name(name: str) -> str:
    """The file's own name without any directory a browser may have sent, for Content-Disposition only."""
    base = os.path.basename(clean_single_line(name).replace("\\", "/")).strip()
    return base[:200] or "file"


def _allowed_types_text() -> str:
    return _("只能上传 PDF、JPEG、PNG、HEIC 图片或 MP3、M4A、MP4、MOV 音视频文件。")


def _check_type(*, head: bytes, name: str, declared: str) -> FileType:
    """The file's type by its content; refused when the name or the declared type says otherwise."""
    detected = detect_file_type(head)
    ext = os.path.splitext(name)[1].lower()
    claimed = next((t for t in FILE_TYPES if ext in t.extensions), None)
    if detected is None:
        if claimed is not None:
            raise InvalidInput(
                _("文件内容与扩展名不符：“%(name)s”不是有效的 %(type)s 文件。") % {"name": name, "type": claimed.label}
            )
        raise InvalidInput(_allowed_types_text())
    if ext and ext not in detected.extensions:
        raise InvalidInput(
            _("文件内容与扩展名不符：“%(name)s”的内容是 %(type)s 文件，请使用正确的扩展名后重新上传。")
            % {"name": name, "type": detected.label}
        )
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream" and declared not in detected.declared:
        raise InvalidInput(
            _("文件内容与扩展名不符：“%(name)s”声明的类型为 %(declared)s，实际内容是 %(type)s 文件。")
            % {"name": name, "declared": declared, "type": detected.label}
        )
    return detected


def _hash_stream(file: File[Any], limit: int) -> tuple[str, int]:
    """SHA-256 and size, reading the file in chunks (a 20 MB video never sits in memory at once)."""
    digest = hashlib.sha256()
    size = 0
    for chunk in file.chunks(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InvalidInput(
                _("文件过大：单个文件不能超过 %(max)s MB。") % {"max": _megabytes(limit)}
            )
        digest.update(chunk)
    return digest.hexdigest(), size


def _read_head(file: File[Any]) -> bytes:
    file.seek(0)
    head = file.read(_HEAD_BYTES)
    file.seek(0)
    return bytes(head or b"")


def _may_upload_to_draft(actor: User, draft: ApplicationDraft) -> None:
    if draft.prepared_by_id is not None and draft.owner_id != actor.pk:
        # A draft an organisation prepared: until its party claims it, that organisation's administrators (its
        # API client's account) add the materials the party brought them; from then on only the party.
        if draft.owner_id is not None or draft.declined_at is not None or not Membership.objects.filter(
            user=actor, organisation_id=draft.prepared_by_id, role=Role.ORG_ADMIN, is_active=True
        ).exists():
            raise PermissionDenied(_("只能向本组织准备、当事人尚未确认的申请上传材料；确认后请由当事人本人补充。"))
        if draft.case_id is None:
            return
    if draft.owner_id != actor.pk:
        raise PermissionDenied(_("只能向自己的申请上传材料。"))
    if draft.case_id is not None:
        raise InvalidInput(_("申请已提交，请在案件页面补充材料。"))


def _may_upload_to_case(actor: User, case: Case) -> None:
    if not case_roles(actor, case) & UPLOAD_ROLES:
        raise PermissionDenied(_("您无权向本案上传材料。"))


def evidence_upload(
    *,
    actor: User,
    file: File[Any],
    title: str,
    kind: str = EvidenceKind.EVIDENCE,
    draft: ApplicationDraft | None = None,
    case: Case | None = None,
) -> Evidence:
    """Store one uploaded file as evidence of ``draft`` (its owner only) or ``case`` (a party, its
    mediator or the court's clerk). The type is decided by the file's bytes; a name or declared type that
    says otherwise is refused, as is anything over ``settings.EVIDENCE_MAX_BYTES``."""
    if (draft is None) == (case is None):
        raise ValueError("evidence_upload needs exactly one of draft or case")
    if draft is not None:
        _may_upload_to_draft(actor, draft)
    if case is not None:
        _may_upload_to_case(actor, case)
    title = clean_single_line(title)
    if not title:
        raise InvalidInput(_("请填写材料名称，例如“劳动合同”。"))
    if len(title) > 120:
        raise InvalidInput(_("材料名称不能超过120个字。"))
    if kind not in EvidenceKind.values:
        raise InvalidInput(_("请选择材料类别。"))
    limit = settings.EVIDENCE_MAX_BYTES
    name = _clean_name(getattr(file, "name", "") or "")
    declared_size = getattr(file, "size", None)
    if declared_size is not None and declared_size > limit:
        raise InvalidInput(
            _("文件过大：“%(name)s”有 %(size)s MB，单个文件不能超过 %(max)s MB。")
            % {"name": name, "size": _megabytes(declared_size, up=True), "max": _megabytes(limit)}
        )
    head = _read_head(file)
    if not head:
        raise InvalidInput(_("文件“%(name)s”是空的，请重新选择。") % {"name": name})
    file_type = _check_type(head=head, name=name, declared=getattr(file, "content_type", "") or "")
    sha256, size = _hash_stream(file, limit)

    with transaction.atomic():
        if draft is not None:
            # Under the draft's lock (application_submit takes it too): an upload racing the submission either
            # lands before it and moves to the case, or sees the draft submitted and is refused.
            draft = ApplicationDraft.objects.select_for_update().get(pk=draft.pk)
            _may_upload_to_draft(actor, draft)
        evidence = Evidence(
            case=case, draft=draft, uploaded_by=actor, kind=kind, title=title, original_name=name,
            content_type=file_type.content_type, size=size, sha256=sha256,
        )
        stored_name = evidence_path(evidence, name)
        if default_storage.exists(stored_name):
            evidence.file.name = stored_name  # the same bytes are already stored
        else:
            file.seek(0)
            evidence.file.save(name, file, save=False)
        evidence.save()
        audit_append(
            kind="evidence.uploaded", actor=actor, case=case,
            stream=None if case is not None else _draft_stream(draft),
            data={"evidence": evidence.pk, "title": title, "kind": kind, "name": name,
                  "content_type": file_type.content_type, "size": size, "sha256": sha256,
                  "draft": draft.pk if draft is not None else None},
        )
    return evidence


def _draft_stream(draft: ApplicationDraft | None) -> str:
    assert draft is not None
    return f"application.{draft.pk}"


def evidence_get_for_user(*, user: User, pk: int) -> Evidence:
    """An evidence file ``user`` may see: the owner of the draft it belongs to, or anyone holding a role on
    its case. Everyone else gets the same answer as for a file that does not exist."""
    evidence = Evidence.objects.select_related("draft", "case").filter(pk=pk).first()
    if evidence is not None and user.is_authenticated and user.is_active:
        if evidence.draft is not None and evidence.draft.owner_id == user.pk:
            return evidence
        if (evidence.case is not None and case_roles(user, evidence.case)
                and room_file_visible(user=user, evidence_id=evidence.pk)):
            return evidence
    raise NotFound(_("材料不存在或您无权查看。"))


def evidence_download(*, actor: User, pk: int) -> Evidence:
    """Check the right to ``pk`` and record the download (§B11 item 12) before the file is handed out."""
    evidence = evidence_get_for_user(user=actor, pk=pk)
    audit_append(
        kind="evidence.downloaded", actor=actor, case=evidence.case,
        stream=None if evidence.case is not None else _draft_stream(evidence.draft),
        data={"evidence": evidence.pk, "title": evidence.title, "sha256": evidence.sha256},
    )
    return evidence


def evidence_discard(*, actor: User, evidence: Evidence) -> None:
    """Take a file back out of an application that has not been submitted yet. Once part of a case,
    evidence stays: it is a record. The stored bytes stay too (another row may share them; content-addressed
    files nobody references are for a clean-up job, not for a request to race against an upload)."""
    if evidence.case_id is not None or evidence.draft is None:
        raise InvalidInput(_("已提交的材料不能删除。"))
    draft = evidence.draft
    if draft.owner_id != actor.pk:
        raise PermissionDenied(_("只能删除自己上传的材料。"))
    if draft.case_id is not None:
        raise InvalidInput(_("已提交的材料不能删除。"))
    with transaction.atomic():
        pk = evidence.pk
        evidence.delete()
        audit_append(
            kind="evidence.discarded", actor=actor, stream=_draft_stream(draft),
            data={"evidence": pk, "title": evidence.title, "sha256": evidence.sha256},
        )
