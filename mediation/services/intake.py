"""Court intake: accepting or returning an application (OMR 8-10), court referrals 委派 and 委托 (OMR 2;
SIM 1, 11), and handing a case to a partner organisation's queue, where its admin distributes it to one
of its mediators."""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mediation import calendar
from mediation import transitions as tr
from mediation.choices import (
    RETURN_GUIDANCE,
    CaseOrigin,
    CaseStatus,
    IdType,
    PartyKind,
    PartyRole,
    Procedure,
    ReturnReason,
    Role,
    Sector,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.lifecycle import REFERABLE_STATUSES
from mediation.models import Case, CaseMediator, Membership, Organisation, Party, User
from mediation.permissions import case_roles
from mediation.selectors.assignment import mediator_eligibility_problem
from mediation.selectors.intake import mediator_is_assignable_for_organisation, organisation_list_eligible_for_court
from mediation.services.audit import audit_append
from mediation.services.cases import case_create, case_mediator_assign, case_transition
from mediation.validators import (
    mask_phone,
    mask_resident_id,
    validate_first_instance_civil_number,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)

# What a clerk may open for a new case: since 2025-01-01 only court-filed mediation (legal-rules §A12). Cases
# opened earlier as 委派 or 委托 keep their rules.
COURT_REFERRAL_ORIGINS = (CaseOrigin.COURT_FILED,)
RULE_2025 = "《最高人民法院关于严格依法规范民事案件立案与调解工作的意见》"
PARTY_NAME_MAX = 120  # Party.name


# --- Accept or return (OMR 9-10) --------------------------------------------------------------------------


def case_accept_for_mediation(*, case: Case, actor: User) -> Case:
    """The court accepts an application for mediation (OMR 10): selection of the mediator opens. Only a
    clerk of the case's court (the transition table says so)."""
    return case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=actor)


def return_guidance_text(reason: str) -> str:
    """The guidance OMR 9 requires with ``reason``, in the platform's official language (Chinese): it is
    what the court tells the party, kept word for word in the audit trail."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(RETURN_GUIDANCE[ReturnReason(reason)])


def case_return(*, case: Case, actor: User, reason: str, note: str = "") -> Case:
    """Return a pre-filing application on one of OMR 9's three grounds, with the guidance that ground
    requires (other channels; a mediator of a competent court; the service hall). The guidance is stored in
    the ``case.return`` event's data, which is what the party's case page shows."""
    if reason not in ReturnReason.values:
        raise InvalidInput(
            _("请选择退回事由：不属于人民法院受案范围、所选调解员的邀请法院无管辖权或不适宜在线调解（OMR 9）。")
        )
    return case_transition(
        case=case, to=CaseStatus.RETURNED, actor=actor, reason=reason, note=note.strip(),
        data={"guidance": return_guidance_text(reason)},
    )


# --- Court referrals (委派 / 委托) -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralParty:
    """A party as the clerk types it in from the court's file. ``id_number`` is a resident ID number for a
    natural person or the unified social credit code for an entity; optional."""

    role: str
    name: str
    phone: str
    id_number: str = ""
    kind: str = PartyKind.NATURAL


def _who(index: int, party: ReferralParty) -> str:
    role = PartyRole(party.role).label if party.role in PartyRole.values else _("当事人")
    name = party.name.strip()
    if name:
        return _("%(role)s“%(name)s”") % {"role": role, "name": name}
    return _("第%(n)d位当事人（%(role)s）") % {"n": index, "role": role}


def _clean_parties(parties: Sequence[ReferralParty]) -> list[ReferralParty]:
    cleaned = []
    for index, party in enumerate(parties, start=1):
        if party.role not in PartyRole.values:
            raise InvalidInput(_("第%(n)d位当事人的诉讼地位无效。") % {"n": index})
        if party.kind not in PartyKind.values:
            raise InvalidInput(_("%(who)s的主体类型无效。") % {"who": _who(index, party)})
        who = _who(index, party)
        name = party.name.strip()
        if not name:
            raise InvalidInput(_("请填写%(who)s的姓名或名称。") % {"who": who})
        if len(name) > PARTY_NAME_MAX:
            raise InvalidInput(_("%(who)s的姓名或名称过长。") % {"who": who})
        phone = party.phone.strip().replace(" ", "").replace("-", "")
        try:
            validate_mobile(phone)
        except ValidationError as exc:
            raise InvalidInput(
                _("%(who)s的联系电话“%(value)s”有误：%(error)s")
                % {"who": who, "value": party.phone.strip(), "error": exc.messages[0]}
            ) from exc
        id_number = party.id_number.strip().upper()
        if id_number:
            validator = validate_resident_id if party.kind == PartyKind.NATURAL else validate_uscc
            label = _("身份证号码") if party.kind == PartyKind.NATURAL else _("统一社会信用代码")
            try:
                validator(id_number)
            except ValidationError as exc:
                raise InvalidInput(
                    _("%(who)s的%(label)s有误：%(error)s") % {"who": who, "label": label, "error": exc.messages[0]}
                ) from exc
        cleaned.append(ReferralParty(role=party.role, name=name, phone=phone, id_number=id_number, kind=party.kind))
    roles = {party.role for party in cleaned}
    if PartyRole.APPLICANT not in roles or PartyRole.RESPONDENT not in roles:
        raise InvalidInput(_("委托调解须至少有一名申请人（原告）和一名被申请人（被告）。"))
    return cleaned


def _clean_amount(amount: Any) -> decimal.Decimal | None:
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        return None
    try:
        value = decimal.Decimal(str(amount).replace(",", "").strip())
    except decimal.InvalidOperation:
        raise InvalidInput(_("标的额“%(value)s”不是有效的金额。") % {"value": amount}) from None
    if not value.is_finite() or value < 0 or value != value.quantize(decimal.Decimal("0.01")) or value >= 10**12:
        raise InvalidInput(_("标的额应为不小于0的金额（元），最多两位小数。"))
    return value


def _require_clerk_of(actor: User, court: Organisation) -> None:
    if not (
        actor.is_authenticated
        and actor.is_active
        and Membership.objects.filter(user=actor, organisation=court, role=Role.CLERK, is_active=True).exists()
    ):
        raise PermissionDenied(_("只有本院立案/诉讼服务人员可以登记委托调解案件。"))


def _require_eligible_organisation(*, organisation: Organisation, court: Organisation | int) -> None:
    if organisation.is_court:
        raise InvalidInput(_("“%(name)s”是人民法院，不是调解组织。") % {"name": organisation.name})
    if not organisation_list_eligible_for_court(court=court).filter(pk=organisation.pk).exists():
        raise InvalidInput(
            _("“%(name)s”不是本院可以委派案件的调解组织：它须由本院设立或指导，或有调解员在本院名册上。")
            % {"name": organisation.name}
        )


def case_referral_create(
    *,
    actor: User,
    origin: str,
    court: Organisation,
    dispute_type: str,
    title: str,
    claims: str,
    amount: Any,
    parties: Sequence[ReferralParty],
    court_case_number: str = "",
    referral_number: str = "",
    procedure: str = "",
    organisation: Organisation | None = None,
) -> Case:
    """A clerk entrusts a filed lawsuit to mediation (``COURT_FILED``, legal-rules §A12, §B13): the court's
    民初 case number, typed in from the court's system (checked for shape, never generated here), and the
    procedure, which sets the 15- or 7-day period.

    Court 委派 of a lawsuit before filing, and the older 委托 whose period ran from the mediator's acceptance,
    are refused for new cases: since 2025-01-01 a court files first and then mediates (§A12 arts. 1-3). Cases
    opened earlier keep their rules.

    Each party consents on their own phone (``services.court_filed.court_filed_consent_record``); the
    mediator cannot sign for the materials, which starts the clock, until every party has. The parties are
    not linked to accounts: a party links their account by proving the phone on record.
    Everything is checked before anything is written; then the case is created, submitted and accepted
    for mediation in one transaction, so a refusal at any step leaves nothing behind.
    """
    if not court.is_court:
        raise InvalidInput(_("管辖法院必须是人民法院。"))
    _require_clerk_of(actor, court)
    if origin == CaseOrigin.DELEGATED:
        raise InvalidInput(
            _("自2025年1月1日起，人民法院不得对未经立案的民事起诉先行委派调解（%(rule)s第一条）。"
              "请先登记立案，取得民初案号后选择“立案后委托调解”。") % {"rule": RULE_2025}
        )
    if origin == CaseOrigin.ENTRUSTED:
        raise InvalidInput(
            _("自2025年1月1日起，立案后委托调解的期限自调解员签收移送材料之日起算（%(rule)s第三条）。"
              "请选择“立案后委托调解”。") % {"rule": RULE_2025}
        )
    if origin not in COURT_REFERRAL_ORIGINS:
        raise InvalidInput(_("请选择“立案后委托调解”。"))
    court_case_number = court_case_number.strip()
    referral_number = referral_number.strip()
    if not court_case_number:
        raise InvalidInput(_("立案后委托调解须录入法院案号（由法院案件管理系统给出，平台不生成）。"))
    try:
        validate_first_instance_civil_number(court_case_number)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0]) from exc
    if procedure not in (Procedure.ORDINARY, Procedure.SIMPLE):
        raise InvalidInput(_("立案后委托调解须选择审理程序（普通程序或简易程序），它决定调解期限（15日或7日）。"))
    if len(court_case_number) > 60 or len(referral_number) > 60:
        raise InvalidInput(_("法院案号和委派/委托编号不能超过60个字符。"))
    if dispute_type not in Sector.values:
        raise InvalidInput(_("请选择纠纷类型。"))
    title = title.strip()
    if not title:
        raise InvalidInput(_("请填写案由。"))
    if len(title) > 200:
        raise InvalidInput(_("案由不能超过200个字符。"))
    claims = claims.strip()
    if not claims:
        raise InvalidInput(_("请填写请求事项。"))
    value = _clean_amount(amount)
    cleaned = _clean_parties(parties)
    if organisation is not None:
        _require_eligible_organisation(organisation=organisation, court=court)

    with transaction.atomic():
        case = case_create(
            actor=actor, origin=origin, court=court, dispute_type=dispute_type, title=title, claims=claims,
            amount=value, mediation_organisation=organisation, procedure=procedure,
            court_case_number=court_case_number, referral_number=referral_number,
        )
        for party in cleaned:
            natural = party.kind == PartyKind.NATURAL
            Party.objects.create(
                case=case, role=party.role, kind=party.kind, name=party.name, phone=party.phone,
                id_type=IdType.RESIDENT_ID if natural and party.id_number else "",
                id_number=party.id_number if natural else "",
                uscc=party.id_number if not natural else "",
            )
        audit_append(
            kind="referral.created", actor=actor, case=case,
            data={
                "origin": origin, "court_case_number": court_case_number, "referral_number": referral_number,
                "procedure": procedure, "organisation": organisation.pk if organisation else None,
                "parties": [
                    {
                        "role": p.role, "name": p.name, "phone": mask_phone(p.phone),
                        "id_number": mask_resident_id(p.id_number) if p.kind == PartyKind.NATURAL else p.id_number,
                    }
                    for p in cleaned
                ],
            },
        )
        case = case_transition(case=case, to=CaseStatus.SUBMITTED, actor=actor)
        case = case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=actor)
    return case


# --- A partner organisation's queue -----------------------------------------------------------------------


def case_refer_to_organisation(*, case: Case, organisation: Organisation, actor: User) -> Case:
    """A clerk of the case's court hands the case to a mediation organisation's queue, where its admin
    distributes it to one of its mediators. The organisation must be eligible for the court (set up under
    it, or with mediators on its roster). Possible until a mediator holds the case."""
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("court").get(pk=case.pk)
        if tr.CLERK not in case_roles(actor, locked):
            raise PermissionDenied(_("只有本案管辖法院的立案/诉讼服务人员可以将案件转交调解组织。"))
        if locked.status not in REFERABLE_STATUSES:
            raise StaleState(
                _("案件当前状态为“%(status)s”，只有待受理或待选定调解员的案件可以转交调解组织。")
                % {"status": CaseStatus(locked.status).label}
            )
        if CaseMediator.objects.filter(case=locked, is_active=True).exists():
            raise StaleState(_("本案已有调解员，不能再转交调解组织。"))
        _require_eligible_organisation(organisation=organisation, court=locked.court_id)
        previous = locked.mediation_organisation_id
        if previous == organisation.pk:
            raise InvalidInput(_("本案已在“%(name)s”的待分配队列中。") % {"name": organisation.name})
        locked.mediation_organisation = organisation
        # Not a lifecycle field: a plain save of this one column (Case.save drops lifecycle fields anyway).
        locked.save(update_fields=["mediation_organisation", "updated_at"])
        audit_append(
            kind="case.referred_to_organisation", actor=actor, case=locked,
            data={"organisation": organisation.pk, "organisation_name": organisation.name, "previous": previous},
        )
    case.mediation_organisation = organisation
    case.updated_at = locked.updated_at
    return case


def case_distribute_to_mediator(*, case: Case, mediator: User, actor: User) -> Case:
    """The organisation's admin gives a case in its queue to one of its mediators: an active member whose
    roster status is active and whose certificate is valid today. The case moves to ASSIGNED and the
    mediator's 3-working-day acceptance clock starts (OMR 12).

    The case row is locked and read afresh first, so a clerk handing the case to another organisation at
    the same moment cannot leave it assigned by the previous organisation's admin."""
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("court", "mediation_organisation").get(
            pk=case.pk
        )
        if tr.ORG_ADMIN not in case_roles(actor, locked):
            raise PermissionDenied(_("只有本案所转交调解组织的管理员可以分配调解员。"))
        organisation = locked.mediation_organisation
        assert organisation is not None  # ORG_ADMIN on a case implies it has an organisation
        if not mediator_is_assignable_for_organisation(
            mediator=mediator, organisation=organisation, today=calendar.local_day(timezone.now())
        ):
            raise InvalidInput(
                _("%(name)s不是“%(org)s”在册且资格有效的调解员，不能分配。")
                % {"name": mediator.display_name, "org": organisation.name}
            )
        # The organisation's own rule is not enough: the court's roster, recusal, an earlier release from
        # this case and the mediator's capacity bind a distribution exactly as they bind a designation.
        problem = mediator_eligibility_problem(case=locked, mediator=mediator)
        if problem:
            raise InvalidInput(problem)
        return case_mediator_assign(case=locked, mediator=mediator, actor=actor)
