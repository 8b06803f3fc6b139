"""Assisted filing at the nearest court (全域通办, issue 18 item 2).

A clerk of any court files an application (or a lawsuit, mediated first) for a walk-in party into the competent
court's queue. The competent court is suggested from the jurisdiction rule, never typed: the basic court of the
respondent's (defendant's) domicile, CPL 22 (``competent_courts``). The clerk records the identity check made in
person, scans the materials through the ordinary evidence upload (into a draft of the filing's own), and asks the
e-service and mediation consents in the same form. Nothing goes to the competent court until the party confirms
both consents on their own phone: an SMS link to a page that needs a sign-in with the phone number the clerk
registered. Only then is the case created in the competent court (status SUBMITTED, its intake queue), with the
audit trail naming the assisting clerk and court.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import notification_templates as nt
from mediation.choices import (
    AssistedFilingKind,
    AssistedFilingStatus,
    CaseOrigin,
    CaseStatus,
    ConsentKind,
    IdType,
    MessageChannel,
    OrganisationKind,
    PartyKind,
    PartyRole,
    Sector,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import ApplicationDraft, AssistedFiling, Case, Evidence, Membership, Organisation, Party, User
from mediation.notices import E_SERVICE_CONSENT, ONLINE_MEDIATION_CONSENT, ONLINE_MEDIATION_NOTICE
from mediation.selectors.assisted import ASSISTING_ROLES, assisted_filing_by_token, token_hash
from mediation.services.applications import APPLICATION_COURT_LEVELS, ASSISTED_STEP, case_title
from mediation.services.audit import audit_append
from mediation.services.cases import case_create, case_transition
from mediation.services.consents import consent_record, notice_acknowledge
from mediation.services.outbox import outbox_enqueue
from mediation.services.respondent import phone_proven, publish_standard
from mediation.validators import mask_phone, mask_resident_id, validate_mobile, validate_resident_id

CONFIRMATION_VALID = dt.timedelta(days=3)
JURISDICTION_BASIS = "被申请人（被告）住所地基层人民法院管辖（民事诉讼法第二十二条）"


def stream(filing: AssistedFiling) -> str:
    return f"assisted_filing.{filing.pk}"


def competent_courts(*, region_code: str) -> list[Organisation]:
    """The basic courts (and tribunals) registered for the respondent's domicile: CPL 22's general rule."""
    region_code = (region_code or "").strip()
    if len(region_code) != 6 or not region_code.isdigit():
        raise InvalidInput(_("请填写被申请人住所地的6位行政区划代码。"))
    return list(
        Organisation.objects.filter(
            kind=OrganisationKind.COURT,
            court_level__in=APPLICATION_COURT_LEVELS,
            is_active=True,
            region_code=region_code,
        ).order_by("name")
    )


def assisting_court_of(actor: User | None) -> Organisation:
    """The court whose clerk ``actor`` is (the first, for someone who clerks at several)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("只有人民法院的立案/诉讼服务人员可以代办立案。"))
    membership = (
        Membership.objects.filter(user=actor, role__in=ASSISTING_ROLES, is_active=True, organisation__kind="court")
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("只有人民法院的立案/诉讼服务人员可以代办立案。"))
    return membership.organisation


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    def text(name: str, limit: int) -> str:
        value = str(data.get(name) or "").strip()
        if len(value) > limit:
            raise InvalidInput(_("填写的内容过长，请精简。"))
        return value

    cleaned = {
        "applicant_name": text("applicant_name", 120),
        "applicant_id_number": text("applicant_id_number", 32).upper(),
        "applicant_phone": text("applicant_phone", 20),
        "respondent_name": text("respondent_name", 120),
        "respondent_phone": text("respondent_phone", 20),
        "claims": text("claims", 5000),
        "summary": text("summary", 5000),
        "dispute_type": text("dispute_type", 20),
    }
    for name, message in (
        ("applicant_name", _("请填写申请人姓名。")),
        ("respondent_name", _("请填写被申请人姓名或名称。")),
        ("claims", _("请填写请求事项。")),
        ("applicant_phone", _("请填写申请人本人的手机号码，用于本人确认。")),
    ):
        if not cleaned[name]:
            raise InvalidInput(message)
    if cleaned["dispute_type"] not in Sector.values:
        raise InvalidInput(_("请选择纠纷类型。"))
    try:
        validate_mobile(cleaned["applicant_phone"])
        validate_resident_id(cleaned["applicant_id_number"])
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from None
    return cleaned


def assisted_filing_start(
    *,
    actor: User | None,
    kind: str,
    competent_court: Organisation | None,
    region_code: str,
    data: dict[str, Any],
    identity_document: str,
    identity_number_seen: str,
    identity_checked: bool,
    e_service: bool,
    mediation: bool,
) -> tuple[AssistedFiling, str]:
    """Register the walk-in party's filing and send them the confirmation link; returns the filing and the
    token (for the SMS only). Refused unless the clerk checked the identity document in person and the court
    chosen is one the jurisdiction rule suggests."""
    assisting = assisting_court_of(actor)
    assert actor is not None
    if kind not in AssistedFilingKind.values:
        raise InvalidInput(_("请选择代办事项。"))
    cleaned = _clean(data)
    suggested = competent_courts(region_code=region_code)
    if not suggested:
        raise InvalidInput(_("没有登记该地区的基层人民法院，无法确定管辖法院，请核实被申请人住所地。"))
    if competent_court is None or competent_court.pk not in {court.pk for court in suggested}:
        raise InvalidInput(_("管辖法院须从依管辖规则推荐的法院中选择。"))
    if identity_document != IdType.RESIDENT_ID:
        raise InvalidInput(_("当场核验的证件须为居民身份证。"))
    if not identity_checked or identity_number_seen.strip().upper() != cleaned["applicant_id_number"]:
        raise InvalidInput(_("请当场核验当事人的身份证件原件，并确认证件号码与登记的一致。"))
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        draft = ApplicationDraft.objects.create(owner=actor, step=ASSISTED_STEP, data={"assisted": True})
        filing = AssistedFiling.objects.create(
            kind=kind,
            assisting_court=assisting,
            assisted_by=actor,
            competent_court=competent_court,
            jurisdiction_basis=JURISDICTION_BASIS,
            applicant_id_type=IdType.RESIDENT_ID,
            respondent_region_code=region_code,
            identity_document=identity_document,
            identity_checked_at=now,
            e_service_asked=e_service,
            mediation_asked=mediation,
            draft=draft,
            token_hash=token_hash(token),
            token_expires_at=now + CONFIRMATION_VALID,
            **cleaned,
        )
        audit_append(
            kind="assisted_filing.started",
            actor=actor,
            stream=stream(filing),
            data={
                "filing": filing.pk,
                "kind": kind,
                "assisting_court": assisting.pk,
                "assisted_by": actor.pk,
                "competent_court": competent_court.pk,
                "suggested": [c.pk for c in suggested],
                "basis": JURISDICTION_BASIS,
                "identity": {
                    "document": identity_document,
                    "checked_in_person": True,
                    "number": mask_resident_id(cleaned["applicant_id_number"]),
                },
                "phone": mask_phone(cleaned["applicant_phone"]),
                "e_service": e_service,
                "mediation": mediation,
            },
        )
        link = nt.site_url("assisted_confirm", args=(token,))
        outbox_enqueue(
            channel=MessageChannel.SMS,
            address=cleaned["applicant_phone"],
            template=nt.GENERIC,
            idempotency_key=f"assisted:{filing.pk}:confirm:sms",
            context={
                "subject": _("请本人确认代办立案"),
                "link": link,
                "text": _(
                    "%(court)s已为您代办向%(competent)s提交%(kind)s。请在3日内用本手机号码登录，确认是否同意调解和电子送达；"
                    "您确认后材料才会转交管辖法院。"
                )
                % {"court": assisting.name, "competent": competent_court.name, "kind": AssistedFilingKind(kind).label},
            },
        )
    return filing, token


def _require_party_phone(actor: User | None, filing: AssistedFiling) -> User:
    if actor is None or not actor.is_authenticated or not phone_proven(actor, filing.applicant_phone):
        raise PermissionDenied(_("请使用代办时登记的手机号码登录后，由本人确认。"))
    return actor


def assisted_filing_confirm(
    *, token: str, actor: User | None, e_service: bool, mediation: bool, ip_address: str | None = None
) -> AssistedFiling:
    """The party, signed in on their own phone, confirms (or declines) the consents. Confirmed with mediation,
    the case goes to the competent court's intake queue; without it nothing goes there and the filing closes."""
    with transaction.atomic():
        filing = AssistedFiling.objects.select_for_update().get(pk=assisted_filing_by_token(token=token).pk)
        user = _require_party_phone(actor, filing)
        if filing.status != AssistedFilingStatus.AWAITING_PARTY:
            raise StaleState(_("该代办已确认或已结束。"))
        if timezone.now() > filing.token_expires_at:
            raise StaleState(_("确认链接已过期，请联系代办法院重新发送。"))
        filing.confirmed_by, filing.confirmed_at = user, timezone.now()
        if not mediation:
            filing.status = AssistedFilingStatus.DECLINED
            filing.save(update_fields=["confirmed_by", "confirmed_at", "status"])
            audit_append(
                kind="assisted_filing.declined",
                actor=user,
                stream=stream(filing),
                data={"filing": filing.pk, "e_service": e_service, "mediation": False},
            )
            return filing
        filing.case = _create_case(filing, user=user, e_service=e_service, ip_address=ip_address)
        filing.status = AssistedFilingStatus.CONFIRMED
        filing.save(update_fields=["confirmed_by", "confirmed_at", "status", "case"])
        audit_append(
            kind="assisted_filing.confirmed",
            actor=user,
            stream=stream(filing),
            data={"filing": filing.pk, "case": filing.case.pk, "e_service": e_service, "mediation": True},
        )
        outbox_enqueue(
            channel=MessageChannel.IN_APP,
            address="",
            template=nt.GENERIC,
            recipient=filing.assisted_by,
            idempotency_key=f"assisted:{filing.pk}:confirmed:inapp",
            context={
                "subject": _("当事人已确认代办立案"),
                "link": nt.site_url("assisted_list"),
                "text": _("%(name)s已本人确认，材料已转交%(court)s。")
                % {"name": filing.applicant_name, "court": filing.competent_court.name},
            },
        )
    return filing


def _create_case(filing: AssistedFiling, *, user: User, e_service: bool, ip_address: str | None) -> Case:
    court = filing.competent_court
    case = case_create(
        actor=user,
        origin=CaseOrigin.PARTY_APPLICATION,
        one_sided=True,
        court=court,
        dispute_type=filing.dispute_type,
        claims=filing.claims,
        summary=filing.summary,
        title=case_title(
            applicant=filing.applicant_name, respondent=filing.respondent_name, dispute_type=filing.dispute_type
        ),
    )
    applicant = Party.objects.create(
        case=case,
        user=user,
        role=PartyRole.APPLICANT,
        kind=PartyKind.NATURAL,
        name=filing.applicant_name,
        id_type=filing.applicant_id_type,
        id_number=filing.applicant_id_number,
        phone=filing.applicant_phone,
    )
    Party.objects.create(
        case=case, role=PartyRole.RESPONDENT, name=filing.respondent_name, phone=filing.respondent_phone
    )
    evidence = list(Evidence.objects.select_for_update().filter(draft=filing.draft, case__isnull=True).order_by("pk"))
    Evidence.objects.filter(pk__in=[e.pk for e in evidence]).update(case=case)
    ApplicationDraft.objects.filter(pk=filing.draft_id).update(case=case)
    notice_acknowledge(case=case, actor=user, text=publish_standard(ONLINE_MEDIATION_NOTICE))
    consent_record(
        case=case,
        party=applicant,
        actor=user,
        kind=ConsentKind.ONLINE_MEDIATION,
        granted=True,
        text=publish_standard(ONLINE_MEDIATION_CONSENT),
        ip_address=ip_address,
    )
    consent_record(
        case=case,
        party=applicant,
        actor=user,
        kind=ConsentKind.E_SERVICE,
        granted=e_service,
        text=publish_standard(E_SERVICE_CONSENT),
        ip_address=ip_address,
    )
    audit_append(
        kind="application.assisted",
        actor=user,
        case=case,
        data={
            "filing": filing.pk,
            "kind": filing.kind,
            "assisted_by": filing.assisted_by_id,
            "assisted_by_name": filing.assisted_by.display_name,
            "assisting_court": filing.assisting_court_id,
            "assisting_court_name": filing.assisting_court.name,
            "basis": filing.jurisdiction_basis,
            "identity_checked_at": filing.identity_checked_at.isoformat(),
            "evidence": [{"id": e.pk, "title": e.title, "sha256": e.sha256} for e in evidence],
        },
    )
    return case_transition(case=case, to=CaseStatus.SUBMITTED, actor=user)
