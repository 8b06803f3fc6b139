"""The API's own writes: clients and their tokens, webhook subscriptions, and the court case number a court
system pushes. Case intake goes through the mediation services unchanged (``case_referral_create``,
``evidence_upload``)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, ApiToken, Scope, WebhookSubscription
from api.webhooks import new_secret
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
