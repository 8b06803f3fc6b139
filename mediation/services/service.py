"""Electronic service (电子送达, OLR 29-33): serving a document over the channels the recipient consented to,
recording what happened on each channel, the effective service time under OLR 31, and the recipient's
changes of address and withdrawals of consent (OLR 4, 30).

How each moment is recorded:

- platform account: the recipient's designated system is this platform, so the document "arrives" the
  moment it is served (an in-app notice goes out through the outbox as well);
- SMS and e-mail: the notice is written to the outbox in the serving transaction; when the outbox has
  handed it to the provider (``OutboxMessage.sent_at``) that is both the send-success and the arrival
  time, the best evidence available without delivery receipts (with an SMTP relay, acceptance by the
  relay). ``service_record_refresh`` copies it over; it runs after every action on a record and from
  ``service_records_refresh_pending`` (periodic);
- instant messaging: recorded, never sent (no adapter), and said so on the certificate;
- read / acted: the recipient (in person or through an agent) opening, downloading or acknowledging on
  the platform; links in the notices carry ``?via=sms|email`` so the channel followed is credited too.

Paper service is out of scope: a recipient who has not consented for the current stage is refused.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mediation import notification_templates
from mediation import transitions as tr
from mediation.choices import AddressSource, ConsentKind, MessageChannel, OutboxStatus, ServiceChannel, ServiceStage
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import (
    AuditEvent,
    Case,
    NoticeText,
    Organisation,
    OutboxMessage,
    Party,
    ServiceAddress,
    ServiceDelivery,
    ServiceRecord,
    User,
)
from mediation.notices import E_SERVICE_CONSENT, SERVICE_ADDRESS_NOTICE, StandardText
from mediation.permissions import case_roles
from mediation.selectors.service import (
    ACTION_ACKNOWLEDGED,
    ACTION_DOWNLOAD,
    STAFF_ROLES,
    is_recipient,
    mask_service_address,
    paper_copy_available,
    service_address_current,
    service_plan,
    service_record_get_for_user,
    service_stage_of,
)
from mediation.service_rules import DeliveryMoments, effective_service
from mediation.services.audit import audit_append
from mediation.services.consents import consent_record, notice_text_publish
from mediation.services.court_filed import mediation_document_signed_for
from mediation.services.evidence import detect_file_type
from mediation.services.outbox import outbox_enqueue
from mediation.validators import mask_phone, validate_mobile

logger = logging.getLogger(__name__)

_VIA = {"sms": ServiceChannel.SMS, "email": ServiceChannel.EMAIL}
# A document served this way takes effect only when signed for (see ``needs_sign_for``).
SIGN_FOR_TITLE = "调解书"
_OUTBOX_CHANNEL = {
    ServiceChannel.PLATFORM: MessageChannel.IN_APP,
    ServiceChannel.SMS: MessageChannel.SMS,
    ServiceChannel.EMAIL: MessageChannel.EMAIL,
}
_PDF_MAGIC = b"%PDF-"
_POSTCODE_RE = re.compile(r"^\d{6}$")
_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


# --- Serving ---------------------------------------------------------------------------------------------


def document_serve(
    *,
    case: Case,
    recipient: Party,
    document_title: str,
    actor: User,
    document_bytes: bytes | None = None,
    file: Any = None,
    document_number: str = "",
) -> ServiceRecord:
    """Serve one document on ``recipient`` over every channel they consented to for the case's current
    stage. Only the case's mediator, clerk or judge may serve. Give the document as ``document_bytes`` or
    an uploaded ``file``. Returns the record; with a platform account it is effective at once (OLR 31
    para 1), otherwise when the first SMS or e-mail reaches the recipient's system."""
    if not case_roles(actor, case) & STAFF_ROLES:
        raise PermissionDenied(_("只有本案的调解员、书记员或法官可以送达文书。"))
    if recipient.case_id != case.pk:
        raise InvalidInput(_("受送达人不是本案当事人。"))
    title = (document_title or "").strip()
    number = (document_number or "").strip()
    if not title:
        raise InvalidInput(_("请填写文书名称，例如“调解协议书”。"))
    if len(title) > 200:
        raise InvalidInput(_("文书名称不能超过200个字。"))
    if len(number) > 80:
        raise InvalidInput(_("文书编号不能超过80个字。"))
    data = _document_data(document_bytes=document_bytes, file=file)
    sha256 = hashlib.sha256(data).hexdigest()
    pages = count_pdf_pages(data)
    stage = service_stage_of(case)

    with transaction.atomic():
        # Lock the party: an address change or a withdrawal committed meanwhile is either seen here or waits.
        recipient = Party.objects.select_for_update(of=("self",)).select_related("user").get(pk=recipient.pk)
        plan = service_plan(party=recipient, stage=stage)
        if plan.refusal:
            raise InvalidInput(plan.refusal)
        now = timezone.now()
        record = ServiceRecord.objects.create(
            case=case, recipient=recipient, served_by=actor, serving_body=_serving_body(actor=actor, case=case),
            document_title=title, document_number=number, document_sha256=sha256, document_pages=pages,
            document_file=_store(sha256, data), certificate_number=f"tmp-{uuid.uuid4().hex}",
        )
        record.certificate_number = f"YZSD{timezone.localtime(now).year}{record.pk:08d}"
        record.save(update_fields=["certificate_number"])
        for planned in plan.channels:
            delivery = ServiceDelivery(
                record=record, channel=planned.channel, address=planned.address,
                address_source=AddressSource.CONFIRMED,
            )
            if planned.channel == ServiceChannel.PLATFORM:
                delivery.sent_at = delivery.arrived_at = now
            if planned.sendable:
                delivery.message = _enqueue_notice(record=record, channel=planned.channel, address=planned.address)
            delivery.save()
        audit_append(
            kind="service.issued", actor=actor, case=case,
            data={"record": record.pk, "certificate": record.certificate_number, "party": recipient.pk,
                  "stage": stage, "title": title, "document_number": number, "sha256": sha256,
                  "pages": pages, "serving_body": record.serving_body_id,
                  "channels": [{"channel": c.channel, "address": mask_service_address(c.channel, c.address),
                                "sent": c.sendable} for c in plan.channels]},
        )
        record = service_record_refresh(record=record)
    return record


def _document_data(*, document_bytes: bytes | None, file: Any) -> bytes:
    if (document_bytes is None) == (file is None):
        raise InvalidInput(_("请选择要送达的文书文件。"))
    limit = settings.EVIDENCE_MAX_BYTES
    if file is not None:
        size = getattr(file, "size", None)
        if size is not None and size > limit:
            raise InvalidInput(_("文书文件过大：不能超过 %(max)s MB。") % {"max": limit // (1024 * 1024)})
        file.seek(0)
        document_bytes = bytes(file.read(limit + 1))
    assert document_bytes is not None
    if not document_bytes:
        raise InvalidInput(_("文书文件是空的，请重新选择。"))
    if len(document_bytes) > limit:
        raise InvalidInput(_("文书文件过大：不能超过 %(max)s MB。") % {"max": limit // (1024 * 1024)})
    if detect_file_type(document_bytes[:64]) is None:
        raise InvalidInput(_("文书应为 PDF 文件或 JPEG、PNG 图片。"))
    return document_bytes


def count_pdf_pages(data: bytes) -> int | None:
    """The page count of a PDF (from its page tree), or None for anything else or an unreadable PDF."""
    if not data.startswith(_PDF_MAGIC):
        return None
    # pyHanko is heavy and only needed for PDFs: imported on first use, not by every process loading services.
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        count = PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"]
    except (PdfError, KeyError, TypeError, ValueError):
        return None
    return int(count) if isinstance(count, int) and count > 0 else None


def _store(sha256: str, data: bytes) -> str:
    """Content-addressed under served/<sha256>: serving the same bytes twice stores them once."""
    name = f"served/{sha256}"
    if default_storage.exists(name):
        return name
    return default_storage.save(name, ContentFile(data))


def _serving_body(*, actor: User, case: Case) -> Organisation:
    """The court when its clerk or judge serves; the mediation organisation when its mediator does."""
    roles = case_roles(actor, case)
    if roles & {tr.CLERK, tr.JUDGE} or case.mediation_organisation is None:
        return case.court
    return case.mediation_organisation


def record_url(record: ServiceRecord, *, via: str = "") -> str:
    """The absolute address of a record's page, in the default language (a notice has no session)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("service_record", args=[record.pk])
    return (settings.SITE_URL or "").rstrip("/") + path + (f"?via={via}" if via else "")


def _enqueue_notice(*, record: ServiceRecord, channel: str, address: str) -> OutboxMessage:
    via = {ServiceChannel.SMS: "sms", ServiceChannel.EMAIL: "email"}.get(ServiceChannel(channel), "")
    case = record.case
    return outbox_enqueue(
        channel=_OUTBOX_CHANNEL[ServiceChannel(channel)],
        address="" if channel == ServiceChannel.PLATFORM else address,
        template=(notification_templates.SERVICE_SIGN_FOR_NOTICE if needs_sign_for(record)
                  else notification_templates.SERVICE_NOTICE),
        context={"serving_body": record.serving_body.name, "reference": case.reference,
                 "document_title": record.document_title, "document_number": record.document_number,
                 "link": record_url(record, via=via)},
        idempotency_key=f"service:{record.pk}:{channel}",
        recipient=record.recipient.user, case=case,
    )


# --- Keeping the effective time current ------------------------------------------------------------------


def service_record_refresh(*, record: ServiceRecord) -> ServiceRecord:
    """Copy what the outbox learnt onto the deliveries (send success = arrival; an in-app notice opened =
    read) and recompute the effective time (OLR 31). A change is audited as ``service.effective``."""
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().select_related("case").get(pk=record.pk)
        deliveries = list(record.deliveries.select_related("message").order_by("pk"))
        for delivery in deliveries:
            message = delivery.message
            if message is None:
                continue
            changed: list[str] = []
            if message.status == OutboxStatus.SENT and message.sent_at is not None:
                if delivery.sent_at is None:
                    delivery.sent_at = message.sent_at
                    changed.append("sent_at")
                if delivery.arrived_at is None:
                    delivery.arrived_at = message.sent_at
                    changed.append("arrived_at")
            if delivery.channel == ServiceChannel.PLATFORM and message.read_at is not None and delivery.read_at is None:
                delivery.read_at = message.read_at
                changed.append("read_at")
            if changed:
                delivery.save(update_fields=changed)
        sign_for = needs_sign_for(record)
        effective = effective_service(_moments(deliveries, record=record if sign_for else None), sign_for=sign_for)
        new = (
            (effective.at, effective.channel, effective.rule) if effective is not None else (None, "", "")
        )
        if new != (record.effective_at, record.effective_channel, record.rule):
            record.effective_at, record.effective_channel, record.rule = new
            record.save(update_fields=["effective_at", "effective_channel", "rule"])
            audit_append(
                kind="service.effective", actor=None, case=record.case,
                data={"record": record.pk, "certificate": record.certificate_number, "title": record.document_title,
                      "effective_at": record.effective_at, "channel": record.effective_channel, "rule": record.rule},
            )
    return record


def needs_sign_for(record: ServiceRecord) -> bool:
    """A 调解书 takes effect only when the recipient signs for it (CPL 100; Interp 133, 149), so electronic
    service of one is effective on the recipient's explicit acknowledgement alone, not on arrival or read
    (D17). Recognised by its title until documents carry a kind of their own (the documents issue)."""
    return SIGN_FOR_TITLE in record.document_title


def _moments(deliveries: Iterable[ServiceDelivery], *, record: ServiceRecord | None = None) -> list[DeliveryMoments]:
    """Each delivery's recorded moments; with ``record`` (a sign-for document) also when the recipient
    acknowledged it: the first ``service.acknowledged`` event, on the channels that carry the action."""
    acknowledged_at = None
    if record is not None:
        acknowledged_at = (
            AuditEvent.objects.filter(case_id=record.case_id, kind="service.acknowledged", data__record=record.pk)
            .order_by("seq").values_list("created_at", flat=True).first()
        )
    return [
        DeliveryMoments(channel=d.channel, address_source=d.address_source, sent_at=d.sent_at,
                        arrived_at=d.arrived_at, read_at=d.read_at, acted_at=d.acted_at,
                        acknowledged_at=acknowledged_at if ACTION_ACKNOWLEDGED in d.action.split(",") else None)
        for d in deliveries
    ]


def on_outbox_drained(**_: Any) -> None:
    """After every outbox drain: SMS and e-mail notices of electronic service "arrive" when handed over, so
    recompute the effective service times (OLR 31)."""
    try:
        service_records_refresh_pending()
    except Exception:
        # The messages are sent and recorded; a failed refresh must not make the drain look failed and retried.
        logger.exception("Refreshing pending electronic service records failed; the next drain retries")


def service_records_refresh_pending(*, limit: int = 500) -> int:
    """Refresh the records with a notice the outbox has sent (or an in-app notice read) that the delivery
    does not show yet; return how many. For the periodic run after the outbox worker."""
    ids = list(
        ServiceDelivery.objects.filter(
            message__isnull=False, arrived_at__isnull=True, message__status=OutboxStatus.SENT
        ).values_list("record_id", flat=True).distinct()[:limit]
    )
    ids += list(
        ServiceDelivery.objects.filter(
            channel=ServiceChannel.PLATFORM, read_at__isnull=True, message__read_at__isnull=False
        ).exclude(record_id__in=ids).values_list("record_id", flat=True).distinct()[:limit]
    )
    for record in ServiceRecord.objects.filter(pk__in=ids):
        service_record_refresh(record=record)
    return len(ids)


# --- What the recipient does -----------------------------------------------------------------------------


def service_record_open(*, actor: User, record_id: int) -> ServiceRecord:
    """A record for its page, to anyone who may see it, refreshed; recording nothing of the recipient. A GET
    (a link prefetcher, a scanner following the SMS link) must not make a receipt: the page records the read
    with ``service_record_view`` once it is shown to a person (docs/decisions.md)."""
    return service_record_refresh(record=service_record_get_for_user(user=actor, record_id=record_id))


def service_record_view(*, actor: User, record_id: int, via: str = "") -> ServiceRecord:
    """The record's page was shown. Anyone who may see it gets it (refreshed); when the recipient (or their agent)
    opens it, that is the read (OLR 31 para 2 item 2) on the platform and on the channel they came from."""
    record = service_record_get_for_user(user=actor, record_id=record_id)
    if is_recipient(actor, record):
        return _recipient_act(record=record, actor=actor, via=via, read=True, action="", kind="service.read")
    return service_record_refresh(record=record)


def service_record_download(*, actor: User, record_id: int, via: str = "") -> ServiceRecord:
    """Hand out the served document. The recipient downloading it is an act on it (OLR 31 para 2 item 1);
    anyone else downloading it is logged too (§B11 item 12)."""
    record = service_record_get_for_user(user=actor, record_id=record_id)
    if is_recipient(actor, record):
        return _recipient_act(
            record=record, actor=actor, via=via, read=True, action=ACTION_DOWNLOAD, kind="service.downloaded"
        )
    audit_append(
        kind="service.downloaded", actor=actor, case=record.case,
        data={"record": record.pk, "title": record.document_title, "sha256": record.document_sha256,
              "by_recipient": False},
    )
    return record


def service_record_acknowledge(*, actor: User, record: ServiceRecord, via: str = "") -> ServiceRecord:
    """The recipient's explicit "确认收到": a reply in the sense of OLR 31 para 2 item 1, and for a 调解书 the
    sign-for (签收) that alone makes its service effective (``needs_sign_for``)."""
    if not is_recipient(actor, record):
        raise PermissionDenied(_("只有受送达人本人或其代理人可以确认收到。"))
    if record.deliveries.filter(action__contains=ACTION_ACKNOWLEDGED).exists():
        raise InvalidInput(_("您已确认收到本文书，无需重复确认。"))
    record = _recipient_act(
        record=record, actor=actor, via=via, read=True, action=ACTION_ACKNOWLEDGED, kind="service.acknowledged"
    )
    if needs_sign_for(record) and record.effective_at is not None:
        # A 民事调解书 takes effect when every party has signed for it (CPL 100; Interp 149).
        mediation_document_signed_for(record=record)
    return record


def service_paper_copy_request(*, actor: User, record: ServiceRecord) -> ServiceRecord:
    """The recipient asks for the document on paper as well (CPL 90: judgments, rulings, 调解书)."""
    if not is_recipient(actor, record):
        raise PermissionDenied(_("只有受送达人本人或其代理人可以申请纸质文书。"))
    if not paper_copy_available(record):
        raise InvalidInput(_("可以申请纸质文书的是判决书、裁定书和调解书；本文书不提供纸质文书。"))
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().select_related("case").get(pk=record.pk)
        if record.paper_copy_requested_at is not None:
            raise InvalidInput(_("您已于%(when)s申请纸质文书，无需重复申请。") % {
                "when": timezone.localtime(record.paper_copy_requested_at).strftime("%Y-%m-%d %H:%M")})
        record.paper_copy_requested_at = timezone.now()
        record.save(update_fields=["paper_copy_requested_at"])
        audit_append(
            kind="service.paper_copy_requested", actor=actor, case=record.case,
            data={"record": record.pk, "certificate": record.certificate_number, "title": record.document_title},
        )
    return record


def _recipient_act(
    *, record: ServiceRecord, actor: User, via: str, read: bool, action: str, kind: str
) -> ServiceRecord:
    """Record a read and/or an action on the platform delivery and the channel followed (``via``); when
    the record has neither, on the channels that reached the recipient. Only first moments are kept; the
    audit trail holds every act."""
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().select_related("case").get(pk=record.pk)
        deliveries = list(record.deliveries.order_by("pk"))
        followed = _VIA.get(via)
        targets = [d for d in deliveries if d.channel == ServiceChannel.PLATFORM or d.channel == followed]
        if not targets:
            targets = [d for d in deliveries if d.message_id is not None or d.arrived_at is not None]
        now = timezone.now()
        touched: list[str] = []
        for delivery in targets:
            changed: list[str] = []
            if read and delivery.read_at is None:
                delivery.read_at = now
                changed.append("read_at")
            if action:
                done = [a for a in delivery.action.split(",") if a]
                if action not in done:
                    delivery.action = ",".join([*done, action])
                    changed.append("action")
                if delivery.acted_at is None:
                    delivery.acted_at = now
                    changed.append("acted_at")
            if changed:
                delivery.save(update_fields=changed)
                touched.append(delivery.channel)
        # Every download and acknowledgement is logged; a read only the first time per channel.
        if action or touched:
            audit_append(
                kind=kind, actor=actor, case=record.case,
                data={"record": record.pk, "certificate": record.certificate_number, "title": record.document_title,
                      "channels": touched,
                      "via": followed or "", "by_recipient": True},
            )
        return service_record_refresh(record=record)


# --- Address changes and consent withdrawal (OLR 4, 30) ---------------------------------------------------


class AddressInvalid(InvalidInput):
    """Answers the rules refuse: ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(_("送达地址需要修改：%(details)s") % {"details": "；".join(self.errors.values())})


def _acting_for(*, actor: User, party: Party, case: Case) -> None:
    if party.case_id != case.pk:
        raise InvalidInput(_("当事人不属于本案。"))
    if party.user_id != actor.pk and not party.agents.filter(user=actor).exists():
        raise PermissionDenied(_("只能由当事人本人或其代理人确认或变更送达地址。"))


def _current(text: StandardText, shown_id: int | None) -> NoticeText:
    current = notice_text_publish(code=text.code, title=text.title, body=text.body, actor=None)
    if shown_id is not None and shown_id != current.pk:
        raise InvalidInput(_("《%(title)s》已更新，请重新阅读后再提交。") % {"title": current.title})
    return current


def service_address_change(
    *,
    case: Case,
    party: Party,
    actor: User,
    recipient_name: str,
    postal_address: str,
    postal_recipient: str,
    postal_phone: str,
    e_service_consent: bool,
    stages: list[str],
    mobile: str = "",
    email: str = "",
    im_account: str = "",
    platform_account: bool = True,
    postal_code: str = "",
    agent_recipient: str = "",
    agent_relationship: str = "",
    agent_phone: str = "",
    confidential: bool = False,
    address_text_id: int | None = None,
    consent_text_id: int | None = None,
    ip_address: str | None = None,
) -> ServiceAddress:
    """Confirm a new 送达地址确认书 for ``party`` (a new row; the latest counts for every later service,
    OLR 30), and record the party's answer to e-service consent against the text shown."""
    _acting_for(actor=actor, party=party, case=case)
    values = {
        "recipient_name": recipient_name, "postal_address": postal_address, "postal_recipient": postal_recipient,
        "postal_phone": postal_phone, "mobile": mobile, "email": email, "im_account": im_account,
        "postal_code": postal_code, "agent_recipient": agent_recipient, "agent_relationship": agent_relationship,
        "agent_phone": agent_phone,
    }
    values = {k: (v or "").strip() for k, v in values.items()}
    errors = _address_errors(values, e_service=e_service_consent)
    chosen = [s for s in ServiceStage.values if s in (stages or [])]
    if not chosen or any(s not in ServiceStage.values for s in stages or []):
        errors["stages"] = _("请选择该地址适用的阶段。")
    if errors:
        raise AddressInvalid(errors)
    if not e_service_consent:
        values["mobile"] = values["email"] = values["im_account"] = ""
    with transaction.atomic():
        address_text = _current(SERVICE_ADDRESS_NOTICE, address_text_id)
        consent_text = _current(E_SERVICE_CONSENT, consent_text_id)
        party = Party.objects.select_for_update().get(pk=party.pk)
        previous = service_address_current(party=party)
        address = ServiceAddress.objects.create(
            case=case, party=party, confirmed_by=actor, recipient_id_masked=party.id_number_masked or party.uscc,
            e_service_consent=e_service_consent, platform_account=e_service_consent and platform_account,
            stages=chosen, confidential=confidential, text=address_text, confirmed_at=timezone.now(), **values,
        )
        audit_append(
            kind="service_address.confirmed" if previous is None else "service_address.changed",
            actor=actor, case=case,
            data={"service_address": address.pk, "previous": previous.pk if previous else None, "party": party.pk,
                  "e_service": e_service_consent, "stages": chosen, "confidential": confidential,
                  "mobile": mask_phone(address.mobile), "email": mask_service_address("email", address.email),
                  "text": address_text.code, "version": address_text.version},
        )
        consent_record(
            case=case, party=party, actor=actor, kind=ConsentKind.E_SERVICE, granted=e_service_consent,
            text=consent_text, ip_address=ip_address,
        )
    return address


def _address_errors(values: dict[str, str], *, e_service: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    required = {
        "recipient_name": _("请填写受送达人。"), "postal_address": _("请填写能收到邮件的详细地址。"),
        "postal_recipient": _("请填写收件人。"), "postal_phone": _("请填写收件人电话。"),
    }
    for name, message in required.items():
        if not values[name]:
            errors[name] = message
    if values["postal_phone"] and not _PHONE_RE.match(values["postal_phone"]):
        errors["postal_phone"] = _("电话号码应为11位手机号码，或带区号的固定电话（如 010-12345678）。")
    if values["postal_code"] and not _POSTCODE_RE.match(values["postal_code"]):
        errors["postal_code"] = _("邮政编码应为6位数字。")
    if values["agent_recipient"]:
        if not values["agent_relationship"]:
            errors["agent_relationship"] = _("请填写代收人与您的关系。")
        if not _PHONE_RE.match(values["agent_phone"]):
            errors["agent_phone"] = _("请填写代收人的电话（11位手机号码或带区号的固定电话）。")
    else:
        values["agent_relationship"] = values["agent_phone"] = ""
    if e_service:
        if not values["mobile"]:
            errors["mobile"] = _("同意电子送达的，请填写接收短信的手机号码。")
        else:
            try:
                validate_mobile(values["mobile"])
            except ValidationError as exc:
                errors["mobile"] = exc.messages[0]
        if values["email"]:
            try:
                validate_email(values["email"])
            except ValidationError:
                errors["email"] = _("电子邮箱格式不正确，例如 zhangsan@example.com。")
    for name, limit in (("recipient_name", 120), ("agent_recipient", 60), ("agent_relationship", 30),
                        ("postal_address", 200), ("postal_recipient", 60), ("email", 254), ("im_account", 60)):
        if len(values[name]) > limit:
            errors[name] = _("不能超过%(n)d个字。") % {"n": limit}
    return errors


def e_service_withdraw(
    *, case: Case, party: Party, actor: User, stage: str, consent_text_id: int | None = None,
    ip_address: str | None = None,
) -> ServiceAddress:
    """Withdraw e-service consent for one stage (OLR 4: consent is per stage; OLR 5): a new address row
    without that stage, and the refusal recorded against the consent text. Services already made stand;
    later ones no longer use e-service at that stage."""
    _acting_for(actor=actor, party=party, case=case)
    if stage not in ServiceStage.values:
        raise InvalidInput(_("请选择要撤回电子送达同意的阶段。"))
    stage_label = ServiceStage(stage).label
    with transaction.atomic():
        consent_text = _current(E_SERVICE_CONSENT, consent_text_id)
        party = Party.objects.select_for_update().get(pk=party.pk)
        previous = service_address_current(party=party)
        if previous is None or not previous.e_service_consent or stage not in (previous.stages or []):
            raise InvalidInput(_("您在“%(stage)s”阶段未同意电子送达，无需撤回。") % {"stage": stage_label})
        remaining = [s for s in previous.stages if s != stage]
        address = ServiceAddress.objects.get(pk=previous.pk)
        address.pk = None
        address._state.adding = True
        address.confirmed_by = actor
        address.confirmed_at = timezone.now()
        address.stages = remaining
        if not remaining:
            address.e_service_consent = False
            address.platform_account = False
        address.save()
        audit_append(
            kind="e_service.withdrawn", actor=actor, case=case,
            data={"service_address": address.pk, "previous": previous.pk, "party": party.pk, "stage": stage,
                  "remaining_stages": remaining},
        )
        consent_record(
            case=case, party=party, actor=actor, kind=ConsentKind.E_SERVICE, granted=False, text=consent_text,
            ip_address=ip_address,
        )
    return address
