"""A party's online application for mediation (OMR 7-8, 15, 17; legal-rules §B5, §C6): a draft saved step
by step on the server, then submitted in one transaction as a one-sided case with its parties, evidence,
service-address confirmation, consents and notice acknowledgements.

Each step's answers are checked here, by the same rules when a step is saved and again at submission
(a draft may be old, or edited by hand), so a form can never be the only guard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from mediation import notification_templates as nt
from mediation.choices import (
    CaseOrigin,
    CaseStatus,
    ConsentKind,
    CourtLevel,
    IdType,
    MessageChannel,
    OrganisationKind,
    PartyKind,
    PartyRole,
    Sector,
    ServiceStage,
)
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied
from mediation.models import (
    ApplicationDraft,
    Case,
    Evidence,
    IdentityVerification,
    NoticeText,
    Organisation,
    Party,
    ServiceAddress,
    User,
)
from mediation.notices import (
    E_SERVICE_CONSENT,
    ONLINE_MEDIATION_CONSENT,
    ONLINE_MEDIATION_NOTICE,
    SERVICE_ADDRESS_NOTICE,
    StandardText,
)
from mediation.services.audit import audit_append
from mediation.services.cases import case_create, case_transition
from mediation.services.consents import consent_record, notice_acknowledge, notice_text_current
from mediation.services.identity import identity_is_verified
from mediation.services.outbox import outbox_enqueue
from mediation.validators import (
    clean_single_line,
    mask_resident_id,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)

# The texts a party reads while applying, and the names under which the draft keeps the version shown.
NOTICE_FIELDS: dict[str, StandardText] = {
    "notice_text": ONLINE_MEDIATION_NOTICE,
    "consent_text": ONLINE_MEDIATION_CONSENT,
    "e_service_text": E_SERVICE_CONSENT,
}
ADDRESS_FIELDS: dict[str, StandardText] = {"text": SERVICE_ADDRESS_NOTICE}

STEPS = ("dispute", "parties", "claims", "evidence", "notices", "address", "review")
STEP_TITLES = {
    "dispute": gettext_lazy("纠纷类型与法院"),
    "parties": gettext_lazy("当事人"),
    "claims": gettext_lazy("请求事项"),
    "evidence": gettext_lazy("证据材料"),
    "notices": gettext_lazy("告知与同意"),
    "address": gettext_lazy("送达地址确认"),
    "review": gettext_lazy("核对并提交"),
}
APPLICATION_COURT_LEVELS = (CourtLevel.BASIC, CourtLevel.TRIBUNAL)
ASSISTED_STEP = "assisted"  # ApplicationDraft.step of an assisted filing's materials (services/assisted_filing)
MAX_AMOUNT = Decimal("999999999999.99")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_POSTCODE_RE = re.compile(r"^\d{6}$")


class StepInvalid(InvalidInput):
    """Answers to one step that the rules refuse: ``errors`` maps each field to what is wrong with it."""

    def __init__(self, step: str, errors: Mapping[str, str]) -> None:
        self.step = step
        self.errors = dict(errors)
        details = pgettext("list separator", "；").join(self.errors.values())
        super().__init__(
            _("第%(n)d步“%(title)s”需要修改：%(details)s")
            % {"n": STEPS.index(step) + 1, "title": STEP_TITLES[step], "details": details}
        )


# --- Reads ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedIdentity:
    name: str
    id_number: str
    phone: str

    @property
    def id_number_masked(self) -> str:
        return mask_resident_id(self.id_number)


def application_identity(*, user: User | None) -> VerifiedIdentity | None:
    """The real-name identity an applicant in person applies under, or None when not verified (OLR 7) or when
    there is nobody (a prepared draft not yet claimed)."""
    if user is None or not user.is_authenticated or not identity_is_verified(user):
        return None
    check = IdentityVerification.objects.filter(user=user, succeeded=True).order_by("-checked_at", "-pk").first()
    name = user.real_name or (check.real_name if check else "")
    phone = user.phone or (check.phone if check else "")
    return VerifiedIdentity(name=name, id_number=user.id_number, phone=phone)


def application_courts() -> list[Organisation]:
    """The courts a party may apply to: basic courts and tribunals (a higher court's intake is not the
    first stop of a pre-filing application)."""
    return list(
        Organisation.objects.filter(
            kind=OrganisationKind.COURT, court_level__in=APPLICATION_COURT_LEVELS, is_active=True
        ).order_by("region_name", "name")
    )


def application_texts(fields: Mapping[str, StandardText]) -> dict[str, NoticeText]:
    """The current published version of each text, by draft field name. A text never published is
    published from its standard wording first; a newer version someone published is never overridden."""
    return {field: notice_text_current(std) for field, std in fields.items()}


def application_draft_current(*, user: User) -> ApplicationDraft | None:
    """The user's latest unsubmitted draft, if any."""
    # A clerk's assisted filing keeps its scanned materials in a draft of its own (step "assisted").
    return (
        ApplicationDraft.objects.filter(owner=user, case__isnull=True).exclude(step=ASSISTED_STEP)
        .order_by("-updated_at", "-pk").first()
    )


def application_progress(*, draft: ApplicationDraft) -> str:
    """The first step whose saved answers are missing or no longer valid (a notice text changed since it
    was read, a court closed): where a returning party resumes. ``review`` when everything is in."""
    data = draft.data or {}
    for step in STEPS[:-1]:
        try:
            _clean_step(step, data.get(step), data)
        except InvalidInput:
            return step
    return "review"


# --- The rules for each step ------------------------------------------------------------------------------


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _flag(raw: Mapping[str, Any], name: str) -> bool:
    return raw.get(name) is True


def _validator_message(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _check(errors: dict[str, str], field: str, validator: Callable[[str], None], value: str) -> None:
    try:
        validator(value)
    except ValidationError as exc:
        errors[field] = _validator_message(exc)


def _check_length(errors: dict[str, str], field: str, value: str, limit: int) -> None:
    if len(value) > limit and field not in errors:
        errors[field] = _("不能超过%(n)d个字。") % {"n": limit}


def _validate_phone_or_landline(value: str) -> None:
    if not (_LANDLINE_RE.match(value) or re.match(r"^1[3-9]\d{9}$", value)):
        raise ValidationError(_("电话号码应为11位手机号码，或带区号的固定电话（如 010-12345678）。"))


def _clean_dispute(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    dispute_type = _text(raw, "dispute_type")
    if dispute_type not in Sector.values:
        errors["dispute_type"] = _("请选择纠纷类型。")
    court_id = raw.get("court")
    court = None
    if isinstance(court_id, int) or (isinstance(court_id, str) and court_id.isdigit()):
        court = Organisation.objects.filter(
            pk=int(court_id), kind=OrganisationKind.COURT, court_level__in=APPLICATION_COURT_LEVELS, is_active=True
        ).first()
    if court is None:
        errors["court"] = _("请从列表中选择基层人民法院或人民法庭。")
    if errors:
        raise StepInvalid("dispute", errors)
    assert court is not None
    return {"dispute_type": dispute_type, "court": court.pk}


def _clean_parties(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    applicant_kind = _text(raw, "applicant_kind") or PartyKind.NATURAL
    if applicant_kind not in PartyKind.values:
        errors["applicant_kind"] = _("请选择申请人类型。")
    cleaned: dict[str, Any] = {"applicant_kind": applicant_kind}
    if applicant_kind == PartyKind.ENTITY:
        name, uscc = _text(raw, "applicant_name"), _text(raw, "applicant_uscc").upper()
        rep = _text(raw, "legal_representative")
        if not name:
            errors["applicant_name"] = _("请填写单位名称。")
        _check_length(errors, "applicant_name", name, 120)
        _check(errors, "applicant_uscc", validate_uscc, uscc)
        if not rep:
            errors["legal_representative"] = _("请填写法定代表人或负责人。")
        _check_length(errors, "legal_representative", rep, 60)
        cleaned |= {"applicant_name": name, "applicant_uscc": uscc, "legal_representative": rep}

    respondent_kind = _text(raw, "respondent_kind") or PartyKind.NATURAL
    if respondent_kind not in PartyKind.values:
        errors["respondent_kind"] = _("请选择被申请人类型。")
    name = _text(raw, "respondent_name")
    if not name:
        errors["respondent_name"] = _("请填写被申请人的姓名或名称。")
    _check_length(errors, "respondent_name", name, 120)
    phone = _text(raw, "respondent_phone")
    if not phone:
        errors["respondent_phone"] = _("请填写被申请人的手机号码，法院和调解员需要联系对方。")
    else:
        _check(errors, "respondent_phone", validate_mobile, phone)
    id_number = _text(raw, "respondent_id_number").upper()
    uscc = _text(raw, "respondent_uscc").upper()
    if respondent_kind == PartyKind.NATURAL:
        uscc = ""
        if id_number:
            _check(errors, "respondent_id_number", validate_resident_id, id_number)
    else:
        id_number = ""
        if uscc:
            _check(errors, "respondent_uscc", validate_uscc, uscc)
    address = _text(raw, "respondent_address")
    _check_length(errors, "respondent_address", address, 200)
    if errors:
        raise StepInvalid("parties", errors)
    return cleaned | {
        "respondent_kind": respondent_kind, "respondent_name": name, "respondent_phone": phone,
        "respondent_id_number": id_number, "respondent_uscc": uscc, "respondent_address": address,
    }


def parse_amount(value: object) -> Decimal | None:
    """An amount in yuan: blank for none, otherwise a number ≥ 0 with at most two decimals."""
    text = str(value).strip().replace(",", "").replace("，", "") if value is not None else ""
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(_("金额应为数字，例如 12000 或 12000.50。")) from None
    if not amount.is_finite():
        raise InvalidInput(_("金额应为数字，例如 12000 或 12000.50。"))
    if amount < 0:
        raise InvalidInput(_("金额不能为负数。"))
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidInput(_("金额最多保留两位小数（角、分）。"))
    if amount > MAX_AMOUNT:
        raise InvalidInput(_("金额过大，请核对。"))
    return amount.quantize(Decimal("0.01"))


def _clean_claims(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    claims, summary = _text(raw, "claims"), _text(raw, "summary")
    if not claims:
        errors["claims"] = _("请写明您的请求，例如“支付拖欠工资12000元”。")
    _check_length(errors, "claims", claims, 2000)
    if not summary:
        errors["summary"] = _("请简要说明纠纷经过（OMR 第八条要求填写纠纷简要情况）。")
    _check_length(errors, "summary", summary, 4000)
    amount: Decimal | None = None
    try:
        amount = parse_amount(raw.get("amount"))
    except InvalidInput as exc:
        errors["amount"] = str(exc)
    if errors:
        raise StepInvalid("claims", errors)
    return {"claims": claims, "amount": str(amount) if amount is not None else "", "summary": summary}


def _clean_evidence(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    # Material is optional: some disputes have none to upload, and the court may digitise paper (OMR 8).
    if not _flag(raw, "done"):
        raise StepInvalid("evidence", {"done": _("请上传材料，或直接点击“下一步”。")})
    return {"done": True}


def _clean_texts(step: str, raw: Mapping[str, Any], fields: Mapping[str, StandardText]) -> dict[str, int]:
    """The text versions the party read must still be the current ones: a text published since must be
    read again (§B5: every consent names the version shown)."""
    current = application_texts(fields)
    shown: dict[str, int] = {}
    for field, text in current.items():
        value = raw.get(field)
        if str(value) != str(text.pk):
            raise StepInvalid(step, {"__all__": _("《%(title)s》已更新，请重新阅读后确认。") % {"title": text.title}})
        shown[field] = text.pk
    return shown


def _clean_notices(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not _flag(raw, "ack_notice"):
        errors["ack_notice"] = _("请阅读《在线调解告知书》并确认。")
    if not _flag(raw, "consent_online"):
        errors["consent_online"] = _("申请在线调解须同意通过人民法院调解平台进行在线调解（OMR 第四条）。")
    if raw.get("e_service") not in (True, False):
        errors["e_service"] = _("请选择是否同意电子送达。")
    if errors:
        raise StepInvalid("notices", errors)
    shown = _clean_texts("notices", raw, NOTICE_FIELDS)
    return {"ack_notice": True, "consent_online": True, "e_service": raw["e_service"], **shown}


def _clean_address(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    notices = data.get("notices") if isinstance(data.get("notices"), Mapping) else {}
    e_service = bool(notices and notices.get("e_service") is True)
    values = {
        name: _text(raw, name)
        for name in ("recipient_name", "agent_recipient", "agent_relationship", "agent_phone", "postal_code",
                     "postal_address", "postal_recipient", "postal_phone", "mobile", "email", "im_account")
    }
    if not values["recipient_name"]:
        errors["recipient_name"] = _("请填写受送达人。")
    if values["agent_recipient"]:
        if not values["agent_relationship"]:
            errors["agent_relationship"] = _("请填写代收人与您的关系。")
        if not values["agent_phone"]:
            errors["agent_phone"] = _("请填写代收人的电话。")
        else:
            _check(errors, "agent_phone", _validate_phone_or_landline, values["agent_phone"])
    else:
        values["agent_relationship"] = values["agent_phone"] = ""
    if values["postal_code"] and not _POSTCODE_RE.match(values["postal_code"]):
        errors["postal_code"] = _("邮政编码应为6位数字。")
    if not values["postal_address"]:
        errors["postal_address"] = _("请填写能收到邮件的详细地址。")
    if not values["postal_recipient"]:
        errors["postal_recipient"] = _("请填写收件人。")
    if not values["postal_phone"]:
        errors["postal_phone"] = _("请填写收件人电话。")
    else:
        _check(errors, "postal_phone", _validate_phone_or_landline, values["postal_phone"])
    if e_service:
        if not values["mobile"]:
            errors["mobile"] = _("同意电子送达的，请填写接收短信的手机号码。")
        else:
            _check(errors, "mobile", validate_mobile, values["mobile"])
        if values["email"]:
            _check(errors, "email", validate_email, values["email"])
    else:
        values["mobile"] = values["email"] = values["im_account"] = ""
    for name, limit in (("recipient_name", 120), ("agent_recipient", 60), ("agent_relationship", 30),
                        ("postal_address", 200), ("postal_recipient", 60), ("email", 254), ("im_account", 60)):
        _check_length(errors, name, values[name], limit)
    stages = raw.get("stages")
    if not isinstance(stages, list) or not stages or any(s not in ServiceStage.values for s in stages):
        errors["stages"] = _("请选择该地址适用的阶段。")
        stages = []
    if errors:
        raise StepInvalid("address", errors)
    shown = _clean_texts("address", raw, ADDRESS_FIELDS)
    ordered = [s for s in ServiceStage.values if s in stages]
    return {**values, "stages": ordered, "confidential": _flag(raw, "confidential"), **shown}


_CLEANERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]] = {
    "dispute": _clean_dispute,
    "parties": _clean_parties,
    "claims": _clean_claims,
    "evidence": _clean_evidence,
    "notices": _clean_notices,
    "address": _clean_address,
}


def _clean_step(step: str, raw: object, data: Mapping[str, Any]) -> dict[str, Any]:
    if step not in _CLEANERS:
        raise InvalidInput(_("没有这一步。"))
    if not isinstance(raw, Mapping):
        raise StepInvalid(step, {"__all__": _("这一步还没有填写。")})
    return _CLEANERS[step](raw, data)


# --- Writes -----------------------------------------------------------------------------------------------


def _require_identity(actor: User) -> VerifiedIdentity:
    identity = application_identity(user=actor)
    if identity is None:
        raise PermissionDenied(_("请先完成实名认证（姓名、身份证号码和手机验证码），再申请调解。"))
    return identity


def _locked_draft(draft: ApplicationDraft, actor: User) -> ApplicationDraft:
    locked = ApplicationDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.owner_id != actor.pk:
        raise PermissionDenied(_("只能填写自己的申请。"))
    if locked.case_id is not None:
        raise InvalidInput(_("本申请已经提交，不能再修改或重复提交。"))
    return locked


def application_draft_open(*, actor: User) -> ApplicationDraft:
    """The applicant's draft to continue, or a new one. Drafts are working notes, not records: they are not
    audited; what the party submits is."""
    _require_identity(actor)
    with transaction.atomic():
        draft = application_draft_current(user=actor)
        if draft is None:
            draft = ApplicationDraft.objects.create(owner=actor, data={}, step=STEPS[0])
    return draft


def application_step_save(
    *, draft: ApplicationDraft, actor: User, step: str, data: Mapping[str, Any]
) -> ApplicationDraft:
    """Check and keep one step's answers. Nothing of the step is kept when any answer is refused."""
    if step not in _CLEANERS:
        raise InvalidInput(_("没有这一步。"))
    with transaction.atomic():
        locked = _locked_draft(draft, actor)
        cleaned = _clean_step(step, data, locked.data or {})
        locked.data = {**(locked.data or {}), step: cleaned}
        locked.step = STEPS[STEPS.index(step) + 1]
        locked.save(update_fields=["data", "step", "updated_at"])
    return locked


def case_title(*, applicant: str, respondent: str, dispute_type: str) -> str:
    """E.g. "张三与李四劳动争议". Stored data, so always in Chinese whatever the page language."""
    with translation.override(settings.LANGUAGE_CODE):
        label = str(Sector(dispute_type).label)
    if dispute_type == Sector.OTHER:
        label = "纠纷"
    elif not label.endswith(("争议", "纠纷")):
        label += "纠纷"
    return f"{applicant}与{respondent}{label}"[:200]


def application_submit(*, draft: ApplicationDraft, actor: User, ip_address: str | None = None) -> Case:
    """Turn a complete draft into a submitted case, all in one transaction: a one-sided application by
    the party (OMR 15), its two parties, the evidence, the service-address confirmation (§C6), the consents
    to online mediation and e-service and the acknowledgement of the notices, each against the exact
    version of the text the party read. A text published since it was read refuses the submission: the
    party must read it again. Any refusal leaves nothing behind."""
    with transaction.atomic():
        locked = _locked_draft(draft, actor)
        identity = _require_identity(actor)
        data = locked.data or {}
        cleaned = {step: _clean_step(step, data.get(step), data) for step in STEPS[:-1]}
        dispute, parties, claims = cleaned["dispute"], cleaned["parties"], cleaned["claims"]
        notices, address = cleaned["notices"], cleaned["address"]
        texts = {field: NoticeText.objects.get(pk=notices[field]) for field in NOTICE_FIELDS}
        address_text = NoticeText.objects.get(pk=address["text"])

        natural = parties["applicant_kind"] == PartyKind.NATURAL
        applicant_name = identity.name if natural else parties["applicant_name"]
        if not applicant_name:
            raise InvalidInput(_("实名认证信息中没有姓名，请重新完成实名认证。"))
        court = Organisation.objects.get(pk=dispute["court"])
        case = case_create(
            actor=actor, origin=CaseOrigin.PARTY_APPLICATION, one_sided=True, court=court,
            dispute_type=dispute["dispute_type"],
            title=case_title(applicant=applicant_name, respondent=parties["respondent_name"],
                             dispute_type=dispute["dispute_type"]),
            claims=claims["claims"], summary=claims["summary"],
            amount=Decimal(claims["amount"]) if claims["amount"] else None,
        )
        applicant = Party.objects.create(
            case=case, user=actor, role=PartyRole.APPLICANT, kind=parties["applicant_kind"], name=applicant_name,
            id_type=IdType.RESIDENT_ID if natural and identity.id_number else "",
            id_number=identity.id_number if natural else "",
            uscc="" if natural else parties["applicant_uscc"],
            legal_representative="" if natural else parties["legal_representative"],
            phone=identity.phone, email=address["email"], service_address=address["postal_address"],
        )
        respondent_natural = parties["respondent_kind"] == PartyKind.NATURAL
        Party.objects.create(
            case=case, user=None, role=PartyRole.RESPONDENT, kind=parties["respondent_kind"],
            name=parties["respondent_name"], phone=parties["respondent_phone"],
            id_type=IdType.RESIDENT_ID if respondent_natural and parties["respondent_id_number"] else "",
            id_number=parties["respondent_id_number"], uscc=parties["respondent_uscc"],
            address=parties["respondent_address"],
        )
        evidence = list(Evidence.objects.select_for_update().filter(draft=locked, case__isnull=True).order_by("pk"))
        Evidence.objects.filter(pk__in=[e.pk for e in evidence]).update(case=case)

        now = timezone.now()
        service_address = ServiceAddress.objects.create(
            case=case, party=applicant, confirmed_by=actor, recipient_name=address["recipient_name"],
            recipient_id_masked=mask_resident_id(identity.id_number) if natural else parties["applicant_uscc"],
            agent_recipient=address["agent_recipient"], agent_relationship=address["agent_relationship"],
            agent_phone=address["agent_phone"], postal_code=address["postal_code"],
            postal_address=address["postal_address"], postal_recipient=address["postal_recipient"],
            postal_phone=address["postal_phone"], e_service_consent=notices["e_service"],
            mobile=address["mobile"], email=address["email"], im_account=address["im_account"],
            platform_account=notices["e_service"], stages=address["stages"], confidential=address["confidential"],
            text=address_text, confirmed_at=now,
        )
        audit_append(
            kind="service_address.confirmed", actor=actor, case=case,
            data={"service_address": service_address.pk, "party": applicant.pk, "e_service": notices["e_service"],
                  "stages": address["stages"], "confidential": address["confidential"],
                  "text": address_text.code, "version": address_text.version},
        )
        # Stage "draft": the case's status while the party reads and agrees, before it goes to the court.
        notice_acknowledge(case=case, actor=actor, text=texts["notice_text"])
        notice_acknowledge(case=case, actor=actor, text=address_text)
        consent_record(
            case=case, party=applicant, actor=actor, kind=ConsentKind.ONLINE_MEDIATION, granted=True,
            text=texts["consent_text"], ip_address=ip_address,
        )
        consent_record(
            case=case, party=applicant, actor=actor, kind=ConsentKind.E_SERVICE, granted=notices["e_service"],
            text=texts["e_service_text"], ip_address=ip_address,
        )
        audit_append(
            kind="application.submitted", actor=actor, case=case,
            data={"draft": locked.pk, "one_sided": True, "prepared_by": locked.prepared_by_id,
                  "evidence": [{"id": e.pk, "title": e.title, "sha256": e.sha256} for e in evidence]},
        )
        case = case_transition(case=case, to=CaseStatus.SUBMITTED, actor=actor)
        locked.case = case
        locked.step = "submitted"
        locked.save(update_fields=["case", "step", "updated_at"])
    return case


# --- Prepared by an organisation, claimed and submitted by the party (D39) ----------------------------------

PREPARED_STEPS = ("dispute", "parties", "claims")  # what an organisation may fill in; the rest is the party's


@dataclass(frozen=True)
class PreparedApplication:
    draft: ApplicationDraft
    claim_code: str  # shown once: only its SHA-256 is kept


def _claim_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


PreparedStatus = Literal["prepared", "claimed", "declined", "expired", "submitted"]


def prepared_status(draft: ApplicationDraft) -> PreparedStatus:
    """prepared / claimed / declined / expired / submitted: what the preparing organisation is told."""
    if draft.case_id is not None:
        return "submitted"
    if draft.declined_at is not None:
        return "declined"
    if draft.owner_id is not None:
        return "claimed"
    if draft.claim_expires_at is not None and draft.claim_expires_at <= timezone.now():
        return "expired"
    return "prepared"


def application_prepare(
    *, actor: User, organisation: Organisation, name: str, phone: str, data: Mapping[str, Any]
) -> PreparedApplication:
    """A partner organisation (never a court) prepares a party's application: the first three steps, checked by
    the same rules as the party's own, in a draft nobody owns yet. The party gets an SMS with a link; nothing
    reaches a court until the party has verified their identity, claimed the draft, read the notices, confirmed
    the service address and submitted it themselves (OMR 8)."""
    if organisation.kind == OrganisationKind.COURT:
        raise PermissionDenied(_("法院不通过此途径提交申请，请使用委托调解接口。"))
    errors: dict[str, str] = {}
    name = clean_single_line(name or "")
    if not name:
        errors["name"] = _("请填写当事人姓名。")
    elif len(name) > 60:
        errors["name"] = _("当事人姓名不能超过60个字。")
    phone = (phone or "").strip()
    _check(errors, "phone", validate_mobile, phone)
    if errors:
        raise InvalidInput(pgettext("list separator", "；").join(errors.values()))
    cleaned: dict[str, Any] = {}
    for step in PREPARED_STEPS:
        cleaned[step] = _clean_step(step, data.get(step), cleaned)
    if cleaned["parties"]["applicant_kind"] != PartyKind.NATURAL:
        raise InvalidInput(_("代为准备的申请只适用于自然人申请人；单位请由其工作人员自行申请。"))
    code = secrets.token_urlsafe(18)
    expires = timezone.now() + dt.timedelta(days=settings.PREPARED_APPLICATION_DAYS)
    with transaction.atomic():
        draft = ApplicationDraft.objects.create(
            owner=None, data=cleaned, step="evidence", prepared_by=organisation, prepared_for_name=name,
            prepared_for_phone=phone, claim_code_sha256=_claim_hash(code), claim_expires_at=expires,
        )
        audit_append(
            kind="application.prepared", actor=actor, stream=f"application.{draft.pk}",
            data={"draft": draft.pk, "organisation": organisation.pk, "name": name, "phone": phone,
                  "expires_at": expires.isoformat()},
        )
        outbox_enqueue(
            channel=MessageChannel.SMS, address=phone, template=nt.APPLICATION_PREPARED,
            context={"organisation": organisation.name, "name": name,
                     "respondent": cleaned["parties"]["respondent_name"],
                     "expires": timezone.localtime(expires).strftime("%Y-%m-%d %H:%M"),
                     "link": nt.site_url("apply_prepared", args=(code,))},
            idempotency_key=f"application:{draft.pk}:prepared:sms",
        )
    return PreparedApplication(draft=draft, claim_code=code)


def application_prepared_get(*, code: str) -> ApplicationDraft:
    """The prepared draft a link names, while it can still be claimed; one refusal for every other case."""
    draft = None
    if code and len(code) <= 64:
        draft = (ApplicationDraft.objects.select_related("prepared_by")
                 .filter(claim_code_sha256=_claim_hash(code), prepared_by__isnull=False).first())
    if draft is None:
        raise NotFound(_("链接无效。请核对短信中的链接，或联系为您准备申请的组织。"))
    return draft


def _claimable(draft: ApplicationDraft, actor: User) -> VerifiedIdentity:
    identity = _require_identity(actor)
    status = prepared_status(draft)
    if status == "claimed" and draft.owner_id == actor.pk:
        return identity
    if status != "prepared":
        raise InvalidInput({
            "claimed": _("这份申请已由当事人本人确认，不能再次确认。"),
            "declined": _("这份申请已被当事人拒绝。如需调解，请重新申请。"),
            "expired": _("链接已过期。如仍需调解，请联系为您准备申请的组织重新发送，或自己申请。"),
            "submitted": _("这份申请已经提交。"),
        }[status])
    if identity.name != draft.prepared_for_name or identity.phone != draft.prepared_for_phone:
        raise PermissionDenied(_("这份申请是为%(name)s（手机尾号%(tail)s）准备的，与您实名认证的姓名或手机号码不一致。")
                               % {"name": draft.prepared_for_name, "tail": draft.prepared_for_phone[-4:]})
    return identity


def application_prepared_check(*, draft: ApplicationDraft, actor: User) -> None:
    """Refuses, with the reason, when ``actor`` may not claim or decline ``draft`` (for the page to say so
    before the party reads what is not theirs)."""
    _claimable(draft, actor)


def application_prepared_claim(*, draft: ApplicationDraft, actor: User) -> ApplicationDraft:
    """The named party, after the identity step, makes the prepared draft their own; from here on it is an
    ordinary draft they may change in every step before submitting it."""
    with transaction.atomic():
        locked = ApplicationDraft.objects.select_for_update().get(pk=draft.pk)
        _claimable(locked, actor)
        if locked.owner_id == actor.pk:
            return locked
        locked.owner, locked.claimed_at = actor, timezone.now()
        locked.save(update_fields=["owner", "claimed_at", "updated_at"])
        audit_append(kind="application.prepared_claimed", actor=actor, stream=f"application.{locked.pk}",
                     data={"draft": locked.pk, "organisation": locked.prepared_by_id})
    return locked


def application_prepared_decline(*, draft: ApplicationDraft, actor: User) -> ApplicationDraft:
    """The named party says it is not theirs or not wanted: the draft can no longer be claimed."""
    with transaction.atomic():
        locked = ApplicationDraft.objects.select_for_update().get(pk=draft.pk)
        _claimable(locked, actor)
        if locked.owner_id is not None:
            raise InvalidInput(_("您已确认这份申请；不想继续时不提交即可。"))
        locked.declined_at = timezone.now()
        locked.save(update_fields=["declined_at", "updated_at"])
        audit_append(kind="application.prepared_declined", actor=actor, stream=f"application.{locked.pk}",
                     data={"draft": locked.pk, "organisation": locked.prepared_by_id})
    return locked
