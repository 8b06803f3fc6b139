"""Reads for electronic service (电子送达): who may see which service records, which channels a party has
consented to at a stage, and the e-service certificate (电子送达凭证, legal-rules §C7).

A party sees the records served on them (in person or through their agent); the case's mediator, clerk
and judge see every record of the case; anyone else gets the same answer as for a record that does not
exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import transitions as tr
from mediation.choices import AddressSource, CaseStatus, OutboxStatus, ServiceChannel, ServiceRule, ServiceStage
from mediation.exceptions import NotFound
from mediation.models import (
    AuditEvent,
    Case,
    ConfirmationApplication,
    Party,
    ServiceAddress,
    ServiceDelivery,
    ServiceRecord,
    User,
)
from mediation.permissions import case_roles
from mediation.validators import mask_phone

# Who may serve documents and see every service record of a case.
STAFF_ROLES = frozenset({tr.MEDIATOR, tr.CLERK, tr.JUDGE})

S = CaseStatus
# The stage of the proceedings a case status belongs to, for per-stage consent (OLR 4; §C6 "适用阶段").
# Everything not listed (application, mediation, the agreement and its performance) is the mediation stage.
STAGE_OF_STATUS: dict[str, str] = {
    **dict.fromkeys(
        (S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED, S.JC_NOT_ACCEPTED, S.JC_UNDER_REVIEW, S.JC_WITHDRAWN,
         S.JC_CONFIRMED, S.JC_DISMISSED, S.OBJECTION_WINDOW),
        ServiceStage.CONFIRMATION,
    ),
    **dict.fromkeys(
        (S.REFER_TO_FILING, S.COURT_MUST_FILE, S.RESUME_TRIAL, S.FEE_PENDING, S.DEEMED_WITHDRAWN),
        ServiceStage.LITIGATION,
    ),
    S.ENFORCEMENT_ELIGIBLE: ServiceStage.ENFORCEMENT,
}

# What a recipient did with a served document, as the certificate names it.
ACTION_DOWNLOAD = "download"
ACTION_ACKNOWLEDGED = "acknowledged"
ACTION_LABELS = {ACTION_DOWNLOAD: gettext_lazy("下载文书"), ACTION_ACKNOWLEDGED: gettext_lazy("确认收到")}
# The order channels are listed and tried in: the platform first (it arrives at once).
CHANNEL_ORDER = (ServiceChannel.PLATFORM, ServiceChannel.SMS, ServiceChannel.EMAIL, ServiceChannel.IM)
# Documents a recipient may also ask to receive on paper (CPL 90: 判决书、裁定书、调解书).
PAPER_COPY_TITLES = ("判决书", "裁定书", "调解书")


def service_stage_of(case: Case) -> str:
    return STAGE_OF_STATUS.get(case.status, ServiceStage.MEDIATION)


def paper_copy_available(record: ServiceRecord) -> bool:
    return any(word in record.document_title for word in PAPER_COPY_TITLES)


# --- Who may see what --------------------------------------------------------------------------------------


def acts_for_party(user: User | None, party: Party) -> bool:
    """The party in person, or one of their agents."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return party.user_id == user.pk or party.agents.filter(user=user).exists()


def parties_represented(*, case: Case, user: User) -> list[Party]:
    """The parties of ``case`` that ``user`` is, or is an agent of."""
    if not user.is_authenticated or not user.is_active:
        return []
    return list(
        Party.objects.filter(Q(user=user) | Q(agents__user=user), case=case).distinct().order_by("role", "pk")
    )


def service_records_for_case(*, user: User, case: Case) -> QuerySet[ServiceRecord]:
    """The case's service records ``user`` may see, newest first (empty for anyone without a right)."""
    records = ServiceRecord.objects.filter(case=case).select_related("recipient").order_by("-created_at", "-pk")
    roles = case_roles(user, case)
    if roles & STAFF_ROLES:
        return records
    if tr.PARTY in roles:
        return records.filter(Q(recipient__user=user) | Q(recipient__agents__user=user)).distinct()
    return records.none()


def service_record_get_for_user(*, user: User, record_id: int) -> ServiceRecord:
    """One service record ``user`` may see; NotFound otherwise."""
    record = (
        ServiceRecord.objects.select_related("case", "case__court", "recipient", "serving_body", "served_by")
        .filter(pk=record_id)
        .first()
    )
    if record is not None and may_view_record(user, record):
        return record
    raise NotFound(_("送达记录不存在或您无权查看。"))


def may_view_record(user: User | None, record: ServiceRecord) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if case_roles(user, record.case) & STAFF_ROLES:
        return True
    return acts_for_party(user, record.recipient)


def is_recipient(user: User | None, record: ServiceRecord) -> bool:
    """The person served, or their agent: their opening, downloading and acknowledging count (OLR 31)."""
    return acts_for_party(user, record.recipient)


# --- Channels a party consented to --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedChannel:
    channel: str
    address: str
    sendable: bool  # False: recorded, but the platform has no way to send over it (instant messaging)

    @property
    def label(self) -> str:
        return str(ServiceChannel(self.channel).label)


@dataclass(frozen=True)
class ServicePlan:
    """How a document would be served on ``party`` at ``stage`` now; ``refusal`` says why not if it can't."""

    party: Party
    stage: str
    address: ServiceAddress | None
    channels: tuple[PlannedChannel, ...] = ()
    refusal: str = ""
    notes: tuple[str, ...] = field(default=())


def service_address_current(*, party: Party) -> ServiceAddress | None:
    """The party's latest 送达地址确认书: a change is a new row, and the latest counts (OLR 30)."""
    return ServiceAddress.objects.filter(party=party).order_by("-confirmed_at", "-pk").first()


def service_plan(*, party: Party, stage: str) -> ServicePlan:
    """The channels ``party`` consented to for ``stage``, from their latest address confirmation, with
    ``address_source`` CONFIRMED for each (OLR 29-31)."""
    address = service_address_current(party=party)
    stage_label = ServiceStage(stage).label
    if address is None:
        return ServicePlan(
            party=party, stage=stage, address=None,
            refusal=_("%(name)s尚未确认送达地址，也未同意电子送达，不能电子送达。请其先在“送达地址”页面确认；"
                      "纸质送达不在本平台办理。") % {"name": party.name},
        )
    if not address.e_service_consent or stage not in (address.stages or []):
        return ServicePlan(
            party=party, stage=stage, address=address,
            refusal=_("%(name)s未同意在“%(stage)s”阶段电子送达（或已撤回同意），不能电子送达。"
                      "纸质送达不在本平台办理。") % {"name": party.name, "stage": stage_label},
        )
    channels: list[PlannedChannel] = []
    notes: list[str] = []
    if address.platform_account:
        if party.user is not None:
            channels.append(PlannedChannel(ServiceChannel.PLATFORM, party.user.username, True))
        else:
            notes.append(_("当事人尚未登录本平台，无法向其平台账户送达。"))
    if address.mobile:
        channels.append(PlannedChannel(ServiceChannel.SMS, address.mobile, True))
    if address.email:
        channels.append(PlannedChannel(ServiceChannel.EMAIL, address.email, True))
    if address.im_account:
        channels.append(PlannedChannel(ServiceChannel.IM, address.im_account, False))
        notes.append(_("本平台暂未接入即时通讯，该渠道仅作记录，不发送。"))
    if not any(c.sendable for c in channels):
        return ServicePlan(
            party=party, stage=stage, address=address, notes=tuple(notes),
            refusal=_("%(name)s确认的电子送达地址中没有本平台可以发送的渠道（平台账户、手机号码或电子邮箱），"
                      "不能电子送达。纸质送达不在本平台办理。") % {"name": party.name},
        )
    return ServicePlan(party=party, stage=stage, address=address, channels=tuple(channels), notes=tuple(notes))


def service_plans_for_case(*, case: Case) -> list[ServicePlan]:
    """A plan for each party of the case, applicant first: what the serve page offers."""
    stage = service_stage_of(case)
    parties = case.parties.select_related("user").order_by("role", "pk")
    return [service_plan(party=p, stage=stage) for p in parties]


# --- The e-service certificate (§C7) ------------------------------------------------------------------------


def mask_service_address(channel: str, address: str) -> str:
    """Enough of an address to recognise it, not to use it."""
    address = address or ""
    if channel == ServiceChannel.SMS:
        return mask_phone(address)
    if channel == ServiceChannel.EMAIL and "@" in address:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) <= 2:
        return "*" * len(address)
    return f"{address[:1]}***{address[-1:]}"


@dataclass(frozen=True)
class CertificateRow:
    channel: str
    channel_label: str
    address: str  # masked
    address_source: str  # an AddressSource code
    sent_at: dt.datetime | None
    arrived_at: dt.datetime | None
    read_at: dt.datetime | None
    acted_at: dt.datetime | None
    action: str  # codes, comma-separated, in the order they happened
    state: str  # "" (arrived or on its way), "pending", "failed" or "not_sent" (no adapter for the channel)

    @property
    def action_label(self) -> str:
        return "、".join(str(ACTION_LABELS.get(a, a)) for a in self.action.split(",") if a)

    @property
    def address_source_label(self) -> str:
        return address_source_label(self.address_source)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, ""))


@dataclass(frozen=True)
class TraceEntry:
    at: dt.datetime
    what: str
    who: str


def court_case_number(case: Case) -> str:
    """The court's own number for the case: the lawsuit's (民初…), or for a judicial confirmation the number
    the judge gave the application at acceptance (民特…); empty when the court has given none."""
    if case.court_case_number:
        return case.court_case_number
    number = ConfirmationApplication.objects.filter(case=case).values_list("case_number", flat=True).first()
    return number or ""


@dataclass(frozen=True)
class Certificate:
    record: ServiceRecord
    recipient_role: str
    rows: tuple[CertificateRow, ...]
    trace: tuple[TraceEntry, ...]
    generated_at: dt.datetime
    content: dict[str, Any]
    sha256: str


def _iso(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else ""


STATE_LABELS = {
    "pending": gettext_lazy("等待发送"),
    "failed": gettext_lazy("发送失败"),
    "not_sent": gettext_lazy("未发送：本平台暂未接入即时通讯，仅作记录"),
}


def _delivery_state(delivery: ServiceDelivery) -> str:
    message = delivery.message
    if message is None:
        return "not_sent" if delivery.arrived_at is None else ""
    if delivery.arrived_at is not None:
        return ""
    return "failed" if message.status == OutboxStatus.FAILED else "pending"


def service_certificate(*, record: ServiceRecord) -> Certificate:
    """The certificate's fields, and a SHA-256 of its canonical content: JSON with sorted keys, codes
    rather than labels (the digest does not depend on the page's language), times in UTC, each channel's
    full address by its SHA-256 (the page shows it masked), and the generation time left out, so two
    printouts of the same facts carry the same digest."""
    deliveries = sorted(
        record.deliveries.select_related("message"),
        key=lambda d: CHANNEL_ORDER.index(ServiceChannel(d.channel)) if d.channel in ServiceChannel.values else 99,
    )
    rows = tuple(
        CertificateRow(
            channel=d.channel, channel_label=str(d.get_channel_display()),
            address=mask_service_address(d.channel, d.address), address_source=d.address_source,
            sent_at=d.sent_at, arrived_at=d.arrived_at, read_at=d.read_at, acted_at=d.acted_at,
            action=d.action, state=_delivery_state(d),
        )
        for d in deliveries
    )
    events = AuditEvent.objects.filter(
        case=record.case, kind__in=["service.issued", "service.read", "service.downloaded", "service.acknowledged",
                                    "service.paper_copy_requested", "service.effective"],
        data__record=record.pk,
    ).order_by("seq")
    trace_labels = {
        "service.issued": _("发出送达"), "service.read": _("受送达人查阅"), "service.downloaded": _("下载文书"),
        "service.acknowledged": _("受送达人确认收到"), "service.paper_copy_requested": _("申请纸质文书"),
        "service.effective": _("送达生效"),
    }
    trace = tuple(TraceEntry(at=e.created_at, what=str(trace_labels[e.kind]), who=e.actor_label) for e in events)
    recipient = record.recipient
    case = record.case
    content: dict[str, Any] = {
        "certificate_number": record.certificate_number,
        "serving_body": record.serving_body.name,
        "served_by": record.served_by.display_name,
        "case_reference": case.reference,
        "court_case_number": court_case_number(case),
        "document": {
            "title": record.document_title, "number": record.document_number, "sha256": record.document_sha256,
            "pages": record.document_pages,
        },
        "recipient": {"name": recipient.name, "role": recipient.role},
        "issued_at": _iso(record.created_at),
        # The masked address is what the page shows; the digest binds the full address actually used (by
        # its SHA-256, so the canonical content itself never carries it): two services to different numbers
        # that mask alike have different digests.
        "channels": [
            {"channel": r.channel, "address": r.address,
             "address_sha256": hashlib.sha256(d.address.encode("utf-8")).hexdigest(),
             "address_source": r.address_source, "sent_at": _iso(r.sent_at),
             "arrived_at": _iso(r.arrived_at), "read_at": _iso(r.read_at), "acted_at": _iso(r.acted_at),
             "action": r.action, "state": r.state}
            for r, d in zip(rows, deliveries, strict=True)
        ],
        "effective_at": _iso(record.effective_at),
        "effective_channel": record.effective_channel,
        "rule": record.rule,
        "paper_copy_requested_at": _iso(record.paper_copy_requested_at),
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Certificate(
        record=record, recipient_role=str(recipient.get_role_display()), rows=rows, trace=trace,
        generated_at=timezone.now(), content=content, sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def rule_label(rule: str) -> str:
    return str(ServiceRule(rule).label) if rule in ServiceRule.values else ""


def address_source_label(source: str) -> str:
    return str(AddressSource(source).label) if source in AddressSource.values else ""
