"""The API's operations (OpenAPI 3 at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``): thin wrappers that
check the token's scope, call a selector or a service, and shape the answer. docs/api.md explains each."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from api.models import ApiClient, ApiToken, Scope, WebhookDelivery, WebhookSubscription
from api.selectors import case_get_for_client, prepared_get_for_client
from api.services import (
    MAX_MATERIALS,
    ExternalDocumentIn,
    RequestIdReused,
    api_token_authenticate,
    case_court_number_push,
    external_document_receive,
    require_scope,
    webhook_subscribe,
)
from api.services import referral_with_materials_create as referral_with_materials_create_service
from api.services import webhook_unsubscribe as _unsubscribe
from documents.selectors import documents_for_case, external_documents_for_case
from mediation.choices import CaseOrigin, CaseStatus, PartyRole, Sector
from mediation.exceptions import DomainError, InvalidInput, PermissionDenied
from mediation.models import ApplicationDraft, Case, Organisation
from mediation.selectors import statistics as st
from mediation.services.applications import PreparedStatus, prepared_status
from mediation.services.applications import application_prepare as application_prepare_service
from mediation.services.evidence import evidence_upload
from mediation.services.intake import ReferralParty, case_referral_create


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        row = api_token_authenticate(token)
        if row is not None:
            request.api_client = row.client  # type: ignore[attr-defined]  # read by the audit middleware
            request.api_token_prefix = row.prefix  # type: ignore[attr-defined]
        return row


class ClientThrottle(AuthRateThrottle):
    """One budget per client (``ApiToken.__str__``), at ``settings.API_RATE_LIMIT`` read per request."""

    def __init__(self) -> None:
        self.rate = None
        self.num_requests, self.duration = None, None

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


api = NinjaAPI(
    title="Yizhan 一站 API", version="1.0.0", urls_namespace="api-v1", auth=TokenAuth(), throttle=[ClientThrottle()],
    description="For partner organisations and court systems: referrals, case status and documents, court case "
                "numbers, status-change webhooks. Authenticate with `Authorization: Bearer <token>`; see docs/api.md.",
)


def _client(request: HttpRequest, scope: str) -> ApiClient:
    client: ApiClient = request.auth.client  # type: ignore[attr-defined]
    require_scope(client, scope)
    return client


class Error(Schema):
    detail: str


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = 403 if isinstance(exc, PermissionDenied) else 400
    return api.create_response(request, {"detail": str(exc)}, status=status)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("令牌无效、已吊销或缺失。")}, status=401)


class InvalidBody(Schema):
    detail: list[dict[str, Any]] = Field(description="What pydantic found wrong, one entry per field.")


ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 422: InvalidBody, 429: Error}


def _case(client: ApiClient, reference: str) -> Case:
    try:
        return case_get_for_client(client=client, reference=reference)
    except PermissionDenied:
        raise HttpError(404, _("案件不存在或您无权查看。")) from None


# --- Cases -------------------------------------------------------------------------------------------------


class CaseOut(Schema):
    reference: str
    status: str
    status_label: str
    origin: str
    dispute_type: str
    court: str
    court_case_number: str
    referral_number: str
    status_changed_at: dt.datetime | None
    end_reason: str

    @staticmethod
    def of(case: Case) -> CaseOut:
        return CaseOut(
            reference=case.reference, status=case.status, status_label=str(CaseStatus(case.status).label),
            origin=case.origin, dispute_type=case.dispute_type, court=case.court.name,
            court_case_number=case.court_case_number, referral_number=case.referral_number,
            status_changed_at=case.status_changed_at, end_reason=case.end_reason,
        )


@api.get("/cases/{reference}", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="A case's status")
def case_status(request: HttpRequest, reference: str) -> CaseOut:
    return CaseOut.of(_case(_client(request, Scope.CASES_READ), reference))


class DocumentOut(Schema):
    kind: str
    title: str
    number: str
    version: int
    sha256: str
    pages: int
    issued_at: dt.datetime
    effective_at: dt.datetime | None
    verify_code: str


@api.get("/cases/{reference}/documents", response={200: list[DocumentOut], **ERRORS}, tags=["cases"],
         summary="The case's documents the caller may see")
def case_documents(request: HttpRequest, reference: str) -> list[DocumentOut]:
    client = _client(request, Scope.CASES_READ)
    case = _case(client, reference)
    try:
        documents = list(documents_for_case(user=client.acting_user, case=case))
    except PermissionDenied:
        raise HttpError(404, _("案件不存在或您无权查看。")) from None
    return [DocumentOut(kind=d.kind, title=d.title, number=d.number, version=d.version, sha256=d.sha256,
                        pages=d.pages, issued_at=d.issued_at, effective_at=d.effective_at, verify_code=d.code)
            for d in documents]


# --- Referrals and materials (court systems) ---------------------------------------------------------------


class PartyIn(Schema):
    role: Literal["applicant", "respondent"]
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(max_length=20)
    id_number: str = Field("", max_length=18)
    kind: Literal["natural", "entity"] = "natural"


class ReferralIn(Schema):
    # Since 2025-01-01 only "court_filed" opens a case (legal-rules §A12); the other two are kept so a court
    # system still sending them gets the refusal citing the rule, not a schema error.
    origin: Literal["court_filed", "delegated", "entrusted"]
    dispute_type: Literal[tuple(Sector.values)]  # type: ignore[valid-type]
    title: str = Field(min_length=1, max_length=200)
    claims: str = Field(min_length=1, max_length=5000)
    amount: str | None = Field(None, pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$", description="Yuan, e.g. \"12000.00\".")
    court_case_number: str = Field("", max_length=60)
    referral_number: str = Field("", max_length=60)
    procedure: Literal["", "ordinary", "simple"] = ""
    organisation: int | None = Field(None, description="The mediation organisation to hand the case to.")
    parties: list[PartyIn] = Field(min_length=2, max_length=20)


@api.post("/referrals", response={201: CaseOut, **ERRORS}, tags=["referrals"],
          summary="Entrust a filed lawsuit to mediation (立案后委托调解, 2025 rules)")
def referral_create(request: HttpRequest, payload: ReferralIn) -> Status[CaseOut]:
    client = _client(request, Scope.REFERRALS_WRITE)
    if not client.organisation.is_court:
        raise HttpError(403, _("只有法院系统可以委派或委托调解。"))
    case = case_referral_create(actor=client.acting_user, court=client.organisation, **_referral_kwargs(payload))
    return Status(201, CaseOut.of(case))


def _referral_kwargs(payload: ReferralIn) -> dict[str, Any]:
    organisation = None
    if payload.organisation is not None:
        organisation = Organisation.objects.filter(pk=payload.organisation).first()
        if organisation is None:
            raise InvalidInput(_("没有这个调解组织。"))
    return {
        "origin": CaseOrigin(payload.origin), "dispute_type": payload.dispute_type, "title": payload.title,
        "claims": payload.claims, "amount": payload.amount,
        "parties": [ReferralParty(role=PartyRole(p.role), name=p.name, phone=p.phone, id_number=p.id_number,
                                  kind=p.kind) for p in payload.parties],
        "court_case_number": payload.court_case_number, "referral_number": payload.referral_number,
        "procedure": payload.procedure, "organisation": organisation,
    }


class MaterialOut(Schema):
    id: int
    title: str
    kind: str
    size: int
    sha256: str
    content_type: str


def _refuse_oversized(file: UploadedFile) -> None:
    """413 before anything is read or saved (``evidence_upload`` checks the size again as it hashes)."""
    limit = settings.EVIDENCE_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise HttpError(413, _("文件过大：“%(name)s”超过 %(max)d MB，单个文件不能超过此大小。")
                        % {"name": file.name or "", "max": limit // (1024 * 1024)})


@api.post("/cases/{reference}/materials", response={201: MaterialOut, 413: Error, **ERRORS}, tags=["referrals"],
          summary="Add one material (PDF, image) to a case")
def material_upload(
    request: HttpRequest, reference: str, title: Form[str], file: File[UploadedFile],
    kind: Form[Literal["evidence", "complaint", "identity", "authority", "other"]] = "evidence",
) -> Status[MaterialOut]:
    client = _client(request, Scope.REFERRALS_WRITE)
    case = _case(client, reference)
    _refuse_oversized(file)
    evidence = evidence_upload(actor=client.acting_user, file=file, title=title, kind=kind, case=case)
    return Status(201, _material_out(evidence))


class MaterialIn(Schema):
    title: str = Field(min_length=1, max_length=120)
    kind: Literal["evidence", "complaint", "identity", "authority", "other"] = "evidence"


class ReferralWithMaterialsIn(ReferralIn):
    materials: list[MaterialIn] = Field(min_length=1, max_length=MAX_MATERIALS,
                                        description="One entry per uploaded file, in the order of the files.")


class ReferralWithMaterialsOut(Schema):
    case: CaseOut
    materials: list[MaterialOut]


def _material_out(evidence: Any) -> MaterialOut:
    return MaterialOut(id=evidence.pk, title=evidence.title, kind=evidence.kind, size=evidence.size,
                       sha256=evidence.sha256, content_type=evidence.content_type)


@api.post("/referrals/with-materials", response={201: ReferralWithMaterialsOut, 413: Error, **ERRORS},
          tags=["referrals"], summary="Refer a dispute with its materials in one call (all or nothing)")
def referral_with_materials_create(
    request: HttpRequest, referral: Form[str], files: File[list[UploadedFile]],
) -> Status[ReferralWithMaterialsOut]:
    """``referral``: the JSON of ``POST /referrals`` plus ``materials`` (title and kind of each file, in the
    order of ``files``). The case and every material are saved in one transaction: one refused file leaves
    no case behind."""
    client = _client(request, Scope.REFERRALS_WRITE)
    if not client.organisation.is_court:
        raise HttpError(403, _("只有法院系统可以委派或委托调解。"))
    try:
        payload = ReferralWithMaterialsIn.model_validate_json(referral)
    except PydanticValidationError as exc:
        raise NinjaValidationError(json.loads(exc.json(include_url=False))) from None
    if len(files) != len(payload.materials):
        raise InvalidInput(_("材料说明有 %(m)d 项，上传的文件有 %(f)d 个：请为每个文件写一项说明。")
                           % {"m": len(payload.materials), "f": len(files)})
    for file in files:
        _refuse_oversized(file)
    case, evidences = referral_with_materials_create_service(
        actor=client.acting_user, court=client.organisation,
        referral=_referral_kwargs(payload),
        materials=[(file, m.title, m.kind) for file, m in zip(files, payload.materials, strict=True)],
    )
    return Status(201, ReferralWithMaterialsOut(case=CaseOut.of(case),
                                                materials=[_material_out(e) for e in evidences]))


# --- Applications prepared for a party (partner organisations, D39) ----------------------------------------


class PreparedDispute(Schema):
    dispute_type: Literal[tuple(Sector.values)]  # type: ignore[valid-type]
    court: int = Field(description="The basic court or tribunal the party applies to (its id).")


class PreparedParties(Schema):
    respondent_kind: Literal["natural", "entity"] = "natural"
    respondent_name: str = Field(min_length=1, max_length=120)
    respondent_phone: str = Field(max_length=20)
    respondent_id_number: str = Field("", max_length=18)
    respondent_uscc: str = Field("", max_length=18)
    respondent_address: str = Field("", max_length=200)


class PreparedClaims(Schema):
    claims: str = Field(min_length=1, max_length=2000)
    summary: str = Field(min_length=1, max_length=4000)
    amount: str = Field("", pattern=r"^([0-9]{1,12}(\.[0-9]{1,2})?)?$", description="Yuan, e.g. \"12000.00\".")


class ApplicationIn(Schema):
    name: str = Field(min_length=1, max_length=60, description="The applicant's name as on their identity card.")
    phone: str = Field(max_length=20, description="The applicant's own mobile number: the SMS link goes there.")
    dispute: PreparedDispute
    parties: PreparedParties
    claims: PreparedClaims


class ApplicationOut(Schema):
    id: int
    status: PreparedStatus
    claim_expires_at: dt.datetime | None
    case: str | None = Field(description="The case's reference once the party submitted it.")

    @staticmethod
    def of(draft: ApplicationDraft) -> ApplicationOut:
        return ApplicationOut(id=draft.pk, status=prepared_status(draft), claim_expires_at=draft.claim_expires_at,
                              case=draft.case.reference if draft.case is not None else None)


def _prepared(client: ApiClient, draft_id: int) -> ApplicationDraft:
    try:
        return prepared_get_for_client(client=client, draft_id=draft_id)
    except PermissionDenied:
        raise HttpError(404, _("申请不存在或您无权查看。")) from None


@api.post("/applications", response={201: ApplicationOut, **ERRORS}, tags=["applications"],
          summary="Prepare a party's application; the party claims and submits it on their phone")
def application_prepare(request: HttpRequest, payload: ApplicationIn) -> Status[ApplicationOut]:
    """A partner organisation fills in the first three steps for a party who came to it. The party gets an
    SMS link, verifies their identity as the named person, checks and completes the application and submits it
    themselves (OMR 8); until then nothing reaches a court. Follow it with ``GET /applications/{id}`` or a
    webhook: the submitted case is visible to the preparing organisation."""
    client = _client(request, Scope.APPLICATIONS_WRITE)
    prepared = application_prepare_service(
        actor=client.acting_user, organisation=client.organisation, name=payload.name, phone=payload.phone,
        data={"dispute": payload.dispute.model_dump(), "claims": payload.claims.model_dump(),
              "parties": {"applicant_kind": "natural", **payload.parties.model_dump()}},
    )
    return Status(201, ApplicationOut.of(prepared.draft))


@api.get("/applications/{application_id}", response={200: ApplicationOut, **ERRORS}, tags=["applications"],
         summary="Where a prepared application stands")
def application_get(request: HttpRequest, application_id: int) -> ApplicationOut:
    return ApplicationOut.of(_prepared(_client(request, Scope.APPLICATIONS_WRITE), application_id))


@api.post("/applications/{application_id}/materials", response={201: MaterialOut, 413: Error, **ERRORS},
          tags=["applications"], summary="Add one material to an application not yet claimed by its party")
def application_material_upload(
    request: HttpRequest, application_id: int, title: Form[str], file: File[UploadedFile],
    kind: Form[Literal["evidence", "complaint", "identity", "authority", "other"]] = "evidence",
) -> Status[MaterialOut]:
    client = _client(request, Scope.APPLICATIONS_WRITE)
    draft = _prepared(client, application_id)
    _refuse_oversized(file)
    evidence = evidence_upload(actor=client.acting_user, file=file, title=title, kind=kind, draft=draft)
    return Status(201, _material_out(evidence))


class CourtNumberIn(Schema):
    court_case_number: str = Field(min_length=1, max_length=60)


@api.put("/cases/{reference}/court-case-number", response={200: CaseOut, **ERRORS}, tags=["court"],
         summary="Record the case number the court's system gave")
def court_number_push(request: HttpRequest, reference: str, payload: CourtNumberIn) -> CaseOut:
    client = _client(request, Scope.COURT_WRITE)
    return CaseOut.of(case_court_number_push(client=client, case=_case(client, reference),
                                             court_case_number=payload.court_case_number))


class CourtDocumentOut(Schema):
    id: int
    kind: Literal["ruling", "mediation_document"]
    title: str
    number: str
    issued_on: dt.date
    issued_by: Literal["court_system"] = Field(
        description="Always \"court_system\": the court issued it in its own system; the platform only stores it.")
    issuing_court: str
    issuer_system: str
    sha256: str
    size: int
    received_at: dt.datetime
    request_id: str

    @staticmethod
    def of(row: Any) -> CourtDocumentOut:
        return CourtDocumentOut(id=row.pk, kind=row.kind, title=row.title, number=row.number, issued_on=row.issued_on,
                                issued_by="court_system", issuing_court=row.issuing_court.name,
                                issuer_system=row.issuer_system, sha256=row.sha256, size=row.size,
                                received_at=row.received_at, request_id=row.request_id)


@api.post("/cases/{reference}/court-documents",
          response={200: CourtDocumentOut, 201: CourtDocumentOut, 409: Error, 413: Error, **ERRORS}, tags=["court"],
          summary="Push a ruling (司法确认裁定书) or a 民事调解书 the court issued in its own system")
def court_document_push(
    request: HttpRequest, reference: str, file: File[UploadedFile],
    kind: Form[Literal["ruling", "mediation_document"]],
    issued_on: Form[dt.date],
    title: str = Form(..., min_length=1, max_length=120),
    number: str = Form(..., min_length=1, max_length=80),
    request_id: str = Form(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$"),
) -> Status[CourtDocumentOut]:
    """Multipart: the PDF in ``file``; ``request_id`` is the court system's own id for this push. Only the
    system of the case's own court; the PDF at most ``EVIDENCE_MAX_BYTES`` (413 above). 201 when stored, 200
    when the same push (same ``request_id``, case, kind, number and file) arrives again, 409 when the
    ``request_id`` was used for a different push. Subscribers get ``case.document_received``."""
    client = _client(request, Scope.COURT_DOCUMENTS_WRITE)
    case = _case(client, reference)
    _refuse_oversized(file)
    try:
        row, created = external_document_receive(
            client=client, case=case, file=file,
            document=ExternalDocumentIn(kind=kind, title=title.strip(), number=number.strip(), issued_on=issued_on,
                                        request_id=request_id),
        )
    except RequestIdReused as exc:
        raise HttpError(409, str(exc)) from None
    return Status(201 if created else 200, CourtDocumentOut.of(row))


@api.get("/cases/{reference}/court-documents", response={200: list[CourtDocumentOut], **ERRORS}, tags=["cases"],
         summary="The rulings and 调解书 the court's own system pushed for the case")
def court_documents(request: HttpRequest, reference: str) -> list[CourtDocumentOut]:
    client = _client(request, Scope.CASES_READ)
    case = _case(client, reference)
    try:
        rows = list(external_documents_for_case(user=client.acting_user, case=case))
    except DomainError:
        raise HttpError(404, _("案件不存在或您无权查看。")) from None
    return [CourtDocumentOut.of(row) for row in rows]


# --- Statistics -------------------------------------------------------------------------------------------


class FigureOut(Schema):
    code: str
    label: str
    definition: str
    unit: str
    value: float | None
    numerator: float
    denominator: float


class StatisticsRowOut(Schema):
    key: str
    label: str
    figures: list[FigureOut]


class StatisticsOut(Schema):
    scope: str
    dimension: str
    start: dt.date | None
    end: dt.date | None
    rows: list[StatisticsRowOut]
    total: StatisticsRowOut


def _row_out(row: st.ReportRow) -> StatisticsRowOut:
    return StatisticsRowOut(key=row.key, label=row.label, figures=[
        FigureOut(code=v.figure.code, label=str(v.figure.label), definition=str(v.figure.definition),
                  unit=v.figure.unit, value=v.value, numerator=v.numerator, denominator=v.denominator)
        for v in row.values()
    ])


def _local_midnight(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


@api.get("/statistics", response={200: StatisticsOut, **ERRORS}, tags=["statistics"],
         summary="Every figure of the caller's court (and the courts below) or organisation, with definitions")
def statistics(
    request: HttpRequest, dimension: Literal["total", "court", "organisation", "sector", "mediator",
                                             "dispute_type", "month"] = "total",
    start: dt.date | None = None, end: dt.date | None = None,
) -> StatisticsOut:
    """The dashboard's figures (docs/statistics.md) for the client's own organisation, by one slice, between
    ``start`` (inclusive) and ``end`` (exclusive), local dates. Each figure carries its definition and the raw
    numerator and denominator."""
    client = _client(request, Scope.STATISTICS_READ)
    if any(day is not None and not 2000 <= day.year <= 2100 for day in (start, end)):
        raise InvalidInput(_("日期须在 2000 年至 2100 年之间。"))
    if start is not None and end is not None and end <= start:
        raise InvalidInput(_("结束日期须晚于开始日期。"))
    scope = st.statistics_scope_for_organisation(organisation=client.organisation)
    report = st.statistics_report(scope=scope, dimension=dimension, start=_local_midnight(start),
                                  end=_local_midnight(end))
    return StatisticsOut(scope=scope.key, dimension=dimension, start=start, end=end,
                         rows=[_row_out(r) for r in report.rows], total=_row_out(report.total))


# --- Webhooks ----------------------------------------------------------------------------------------------


class SubscriptionIn(Schema):
    url: str = Field(min_length=8, max_length=500)


class SubscriptionOut(Schema):
    id: int
    url: str
    is_active: bool
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Shown once: sign-check every delivery with it (docs/api.md).")


def _subscription_out(s: WebhookSubscription) -> dict[str, Any]:
    return {"id": s.pk, "url": s.url, "is_active": s.is_active, "created_at": s.created_at}


@api.post("/webhooks", response={201: SubscriptionCreated, **ERRORS}, tags=["webhooks"],
          summary="Subscribe a URL to status changes of the cases the client sees")
def webhook_create(request: HttpRequest, payload: SubscriptionIn) -> Status[dict[str, Any]]:
    subscription = webhook_subscribe(client=_client(request, Scope.WEBHOOKS), url=payload.url)
    return Status(201, {**_subscription_out(subscription), "secret": subscription.secret})


@api.get("/webhooks", response={200: list[SubscriptionOut], **ERRORS}, tags=["webhooks"])
def webhook_list(request: HttpRequest) -> list[dict[str, Any]]:
    client = _client(request, Scope.WEBHOOKS)
    return [_subscription_out(s) for s in client.webhooks.order_by("pk")]


@api.delete("/webhooks/{subscription_id}", response={204: None, **ERRORS}, tags=["webhooks"])
def webhook_delete(request: HttpRequest, subscription_id: int) -> Status[None]:
    try:
        _unsubscribe(client=_client(request, Scope.WEBHOOKS), subscription_id=subscription_id)
    except PermissionDenied as exc:
        if "权限" in str(exc):
            raise
        raise HttpError(404, str(exc)) from None
    return Status(204, None)


class AttemptOut(Schema):
    number: int
    at: dt.datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    event_id: str
    event_type: str
    case: str | None
    status: str
    attempts: list[AttemptOut]
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


@api.get("/webhooks/{subscription_id}/deliveries", response={200: list[DeliveryOut], **ERRORS},
         tags=["webhooks"], summary="The delivery log: every event and each attempt, newest first")
def webhook_deliveries(request: HttpRequest, subscription_id: int, limit: int = 50) -> list[DeliveryOut]:
    client = _client(request, Scope.WEBHOOKS)
    if not WebhookSubscription.objects.filter(pk=subscription_id, client=client).exists():
        raise HttpError(404, _("没有这个订阅。"))
    deliveries = (WebhookDelivery.objects.filter(subscription_id=subscription_id)
                  .select_related("message", "case").prefetch_related("attempts")
                  .order_by("-created_at", "-pk")[: max(1, min(limit, 200))])
    return [
        DeliveryOut(
            event_id=d.event_id, event_type=d.event_type, case=d.case.reference if d.case else None,
            status=d.message.status,
            attempts=[AttemptOut(number=a.number, at=a.at, status_code=a.status_code, error=a.error,
                                 duration_ms=a.duration_ms) for a in d.attempts.all()],
            next_attempt_at=d.message.next_attempt_at if d.message.status == "pending" else None,
            delivered_at=d.message.sent_at, created_at=d.created_at,
        )
        for d in deliveries
    ]

