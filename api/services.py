"""The API's own writes: clients and their tokens, webhook subscriptions, and the court case number a court
system pushes. Case intake goes through the mediation services unchanged (``case_referral_create``,
``evidence_upload``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, ApiToken, Scope, WebhookSubscription
from api.webhooks import new_secret, webhooks_enqueue
from documents.models import ExternalDocument
from mediation.choices import DocumentKind
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import Case, Evidence, Organisation, User
from mediation.services.audit import audit_append
from mediation.services.evidence import evidence_upload
from mediation.services.intake import case_referral_create

# Files one ``POST /referrals/with-materials`` may carry (each at most EVIDENCE_MAX_BYTES).
MAX_MATERIALS = 10
TOKEN_PREFIX = "yz_"  # noqa: S105 - a public marker, not a secret
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_client_create(*, name: str, organisation: Organisation, acting_user: User, scopes: list[str],
                      actor: User | None) -> ApiClient:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise InvalidInput(_("未知的权限范围：%(s)s。") % {"s": ", ".join(unknown)})
    with transaction.atomic():
        client = ApiClient.objects.create(name=name, organisation=organisation, acting_user=acting_user,
                                          scopes=sorted(set(scopes)))
        audit_append(kind="api.client_created", actor=actor, stream=f"org.{organisation.pk}",
                     data={"client": client.pk, "name": name, "scopes": client.scopes, "acting_user": acting_user.pk})
    return client


def api_token_issue(*, client: ApiClient, actor: User | None) -> tuple[str, ApiToken]:
    """A new token for ``client``: returned once, stored as its hash."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        row = ApiToken.objects.create(client=client, prefix=prefix, token_sha256=token_hash(token))
        audit_append(kind="api.token_issued", actor=actor, stream=f"org.{client.organisation_id}",
                     data={"client": client.pk, "prefix": prefix})
    return token, row


def api_token_authenticate(token: str) -> ApiToken | None:
    """The live token row for a presented token, or None (unknown, revoked, or its client disabled)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (ApiToken.objects.select_related("client", "client__organisation", "client__acting_user")
           .filter(token_sha256=token_hash(token), revoked_at__isnull=True, client__is_active=True).first())
    if row is not None:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row


def require_scope(client: ApiClient, scope: str) -> None:
    if scope not in client.scopes:
        raise PermissionDenied(_("此令牌没有“%(scope)s”权限。") % {"scope": scope})


def webhook_subscribe(*, client: ApiClient, url: str) -> WebhookSubscription:
    """Subscribe ``url`` to the client's status changes. HTTPS only, except loopback addresses when
    ``settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK`` (development and tests)."""
    parts = urlsplit(url)
    loopback_ok = settings.API_WEBHOOK_ALLOW_HTTP_LOOPBACK and parts.scheme == "http" \
        and parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback_ok:
        raise InvalidInput(_("通知地址必须是 https 地址。"))
    if not parts.hostname:
        raise InvalidInput(_("通知地址无效。"))
    if client.webhooks.filter(is_active=True).count() >= 5:
        raise InvalidInput(_("每个客户端最多订阅 5 个通知地址。"))
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(client=client, url=url, secret=new_secret())
        audit_append(kind="api.webhook_subscribed", actor=client.acting_user, stream=f"api.{client.pk}",
                     data={"subscription": subscription.pk, "url": url})
    return subscription


def webhook_unsubscribe(*, client: ApiClient, subscription_id: int) -> None:
    with transaction.atomic():
        changed = WebhookSubscription.objects.filter(pk=subscription_id, client=client, is_active=True).update(
            is_active=False
        )
        if not changed:
            raise PermissionDenied(_("没有这个订阅。"))
        audit_append(kind="api.webhook_unsubscribed", actor=client.acting_user, stream=f"api.{client.pk}",
                     data={"subscription": subscription_id})


def case_court_number_push(*, client: ApiClient, case: Case, court_case_number: str) -> Case:
    """A court system records the case number its case management system gave (the platform never makes one
    up). Only a system of the case's own court; a number already recorded is not overwritten."""
    number = court_case_number.strip()
    if not number or len(number) > 60:
        raise InvalidInput(_("法院案号不能为空，且不能超过60个字符。"))
    if client.organisation_id != case.court_id:
        raise PermissionDenied(_("只有本案管辖法院的系统可以推送法院案号。"))
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if locked.court_case_number and locked.court_case_number != number:
            raise InvalidInput(_("本案已有法院案号“%(n)s”，不能改为其他案号。") % {"n": locked.court_case_number})
        if locked.court_case_number != number:
            locked.court_case_number = number
            locked.save(update_fields=["court_case_number", "updated_at"])
            audit_append(kind="case.court_number_recorded", actor=client.acting_user, case=locked,
                         data={"court_case_number": number, "client": client.pk})
    return locked


class RequestIdReused(InvalidInput):
    """The client's request id already stands for a different push: the answer is 409, nothing is saved."""


PDF_MAGIC = b"%PDF-"
EXTERNAL_DOCUMENT_KINDS = (DocumentKind.RULING, DocumentKind.MEDIATION_DOCUMENT)


@dataclass(frozen=True)
class ExternalDocumentIn:
    kind: str
    title: str
    number: str
    issued_on: dt.date
    request_id: str


def external_document_receive(
    *, client: ApiClient, case: Case, document: ExternalDocumentIn, file: Any,
) -> tuple[ExternalDocument, bool]:
    """A ruling on judicial confirmation or a 民事调解书 the case's own court issued in its own system: stored as
    received (a PDF, at most ``EVIDENCE_MAX_BYTES``, its SHA-256 recorded), marked as the court system's, audited
    and announced to webhook subscribers, all in one transaction. Idempotent on the client's ``request_id``: the
    same push again answers the stored document (``False``: nothing new); the id reused for a different push is
    refused. Returns the document and whether it was created now."""
    if client.organisation_id != case.court_id:
        raise PermissionDenied(_("只有本案管辖法院的系统可以推送本案的裁定书或调解书。"))
    if document.kind not in EXTERNAL_DOCUMENT_KINDS:
        raise InvalidInput(_("只能推送司法确认裁定书或民事调解书。"))
    if not document.title.strip() or not document.number.strip():
        raise InvalidInput(_("文书名称和法院文书编号不能为空。"))
    limit = settings.EVIDENCE_MAX_BYTES
    content = file.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(_("文件过大：单个文件不能超过 %(max)d MB。") % {"max": limit // (1024 * 1024)})
    if not content.startswith(PDF_MAGIC) or b"%%EOF" not in content[-2048:]:
        raise InvalidInput(_("文书文件必须是完整的 PDF 文件。"))
    sha256 = hashlib.sha256(content).hexdigest()
    existing = ExternalDocument.objects.filter(api_client_id=client.pk, request_id=document.request_id).first()
    if existing is not None:
        return _same_push(existing, case, document, sha256), False
    try:
        with transaction.atomic():
            name = default_storage.save(f"documents/external/{sha256}.pdf", ContentFile(content))
            row = ExternalDocument.objects.create(
                case=case, kind=document.kind, title=document.title, number=document.number,
                issuing_court=client.organisation, issued_on=document.issued_on, issuer_system=client.name,
                api_client_id=client.pk, request_id=document.request_id, file=name,
                original_name=(getattr(file, "name", "") or "")[:200], size=len(content), sha256=sha256,
                received_by=client.acting_user, received_at=timezone.now(),
            )
            audit_append(kind="document.external_received", actor=client.acting_user, case=case,
                         data={"document": row.pk, "title": document.title, "kind": document.kind,
                               "number": document.number, "sha256": sha256, "size": len(content),
                               "issued_by": "court_system", "client": client.pk, "request_id": document.request_id})
            webhooks_enqueue(case=case, event_type="case.document_received", data={
                "case": case.reference, "kind": document.kind, "title": document.title, "number": document.number,
                "issued_by": "court_system", "sha256": sha256,
            })
    except IntegrityError:
        # The same request id arrived twice at once: the other call saved it.
        existing = ExternalDocument.objects.filter(api_client_id=client.pk, request_id=document.request_id).first()
        if existing is None:
            raise
        return _same_push(existing, case, document, sha256), False
    return row, True


def _same_push(existing: ExternalDocument, case: Case, document: ExternalDocumentIn, sha256: str) -> ExternalDocument:
    if (existing.case_id, existing.kind, existing.number, existing.sha256) != (case.pk, document.kind, document.number,
                                                                               sha256):
        raise RequestIdReused(_("推送请求编号“%(id)s”已用于另一份文书，请为每次推送使用新的编号。")
                              % {"id": document.request_id})
    return existing


def api_call_audit(*, client: ApiClient | None, method: str, path: str, status: int, ip: str | None,
                   token_prefix: str = "") -> None:
    """Every call leaves a row in its client's stream (``api.<client>``); calls without a valid token in one
    stream of their own, so a probing run is visible too."""
    stream = f"api.{client.pk}" if client is not None else "api.unauthenticated"
    audit_append(kind="api.call", actor=client.acting_user if client else None, stream=stream,
                 actor_label=client.name if client else "anonymous",
                 data={"method": method, "path": path[:200], "status": status, "ip": ip or "",
                       "token": token_prefix})


def referral_with_materials_create(
    *, actor: User, court: Organisation, referral: dict[str, Any], materials: list[tuple[Any, str, str]],
) -> tuple[Case, list[Evidence]]:
    """A court system's referral (``case_referral_create``) and its materials (``evidence_upload`` each, typed
    by their bytes) in one transaction: a refused file or party leaves neither the case nor any material (nor
    their audit events) behind. A stored file of a refused call stays in storage unreferenced (files are named
    by their content, so a retry reuses it)."""
    if not materials:
        raise InvalidInput(_("请至少上传一份材料。"))
    if len(materials) > MAX_MATERIALS:
        raise InvalidInput(_("一次最多上传 %(n)d 份材料。") % {"n": MAX_MATERIALS})
    with transaction.atomic():
        case = case_referral_create(actor=actor, court=court, **referral)
        evidences = [evidence_upload(actor=actor, file=file, title=title, kind=kind, case=case)
                     for file, title, kind in materials]
    return case, evidences
