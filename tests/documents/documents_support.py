"""A case with everything the documents print: full party details, an organisation on the court's roster, an
agreement with clauses, a session room with a record (joint, caucus released and not, a settlement
communication, undisputed facts) and confirmations. Built on the models; statuses through services."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from mediation.choices import (
    AgreementScope,
    AgreementVariant,
    CaseOrigin,
    CaseStatus,
    ClauseKind,
    EvidenceKind,
    ParticipantRole,
    PartyRole,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    RosterScope,
    SessionKind,
    SessionStatus,
)
from mediation.models import (
    Agent,
    Agreement,
    AgreementClause,
    Case,
    Evidence,
    MediationSession,
    Party,
    RecordConfirmation,
    RecordEntry,
    Room,
    RoomMember,
    RosterEntry,
)

SETTLEMENT_TEXT = "被申请人表示如申请人让步可考虑一次性支付八千元"
UNRELEASED_CAUCUS_TEXT = "申请人私下表示最低可接受一万元"
RELEASED_CAUCUS_TEXT = "被申请人同意公开：公司资金周转困难"
UNDISPUTED_TEXT = "申请人于2025年3月1日入职被申请人处任职工程师"
UNCONFIRMED_FACT_TEXT = "双方对加班时长尚未确认"
JOINT_TEXT = "申请人陈述：被申请人拖欠2025年10月至12月工资共计一万二千元"


@dataclass
class Fixture:
    case: Case
    agreement: Agreement
    room: Room
    applicant: Party
    respondent: Party
    agent: Agent


def enrich_world(world) -> None:
    partner = world.partner
    partner.registration_number = "51110000MJ0000001X"
    partner.address = "北京市东城区东长安街10号"
    partner.save()
    profile = world.mediator.mediator_profile
    profile.certificate_number = "京调证2026-0042"
    profile.save()
    RosterEntry.objects.get_or_create(mediator=profile, court=world.court, scope=RosterScope.COURT)


def make_case(world, *, origin: str = CaseOrigin.DELEGATED, variant: str | None = None,
              to: str = CaseStatus.AGREEMENT_DRAFT) -> Fixture:
    enrich_world(world)
    case = world.new_case(origin=origin)
    if origin == CaseOrigin.DELEGATED:
        Case.objects.filter(pk=case.pk).update(referral_number="（2026）京0101民诉前调88号")
        case.refresh_from_db()
    applicant = case.parties.get(role=PartyRole.APPLICANT)
    respondent = case.parties.get(role=PartyRole.RESPONDENT)
    Party.objects.filter(pk=applicant.pk).update(
        ethnicity="汉族", occupation="北京某科技有限公司工程师", address="北京市东城区和平里街道1号",
    )
    Party.objects.filter(pk=respondent.pk).update(
        ethnicity="回族", occupation="北京某餐饮有限公司经理", address="北京市西城区金融街8号",
    )
    applicant.refresh_from_db()
    respondent.refresh_from_db()
    agent = respondent.agents.get()
    Agent.objects.filter(pk=agent.pk).update(firm="北京市某律师事务所", phone="13800000009",
                                             authority_scope="代为调解、签署调解协议、申请司法确认")
    agent.refresh_from_db()
    case = world.drive(case, CaseStatus.IN_MEDIATION)

    now = timezone.now()
    session = MediationSession.objects.create(
        case=case, kind=SessionKind.JOINT_ONLINE, starts_at=now - dt.timedelta(hours=2),
        ends_at=now - dt.timedelta(hours=1), status=SessionStatus.HELD, created_by=world.mediator,
    )
    room = Room.objects.create(session=session, case=case, opened_by=world.mediator, outcome=RoomOutcome.AGREEMENT,
                               ended_at=now - dt.timedelta(minutes=50))
    for user, party, role, side in (
        (world.mediator, None, ParticipantRole.MEDIATOR, ""),
        (world.applicant, applicant, ParticipantRole.PARTY, PartyRole.APPLICANT),
        (world.respondent, respondent, ParticipantRole.PARTY, PartyRole.RESPONDENT),
        (world.lawyer, respondent, ParticipantRole.AGENT, PartyRole.RESPONDENT),
    ):
        RoomMember.objects.create(
            room=room, user=user, party=party, role=role, side=side, display_name=user.real_name,
            state=RoomMemberState.LEFT, identity_checked_at=now - dt.timedelta(hours=2),
            notices_acknowledged_at=now - dt.timedelta(hours=2), admitted_at=now - dt.timedelta(hours=2),
        )

    def entry(text: str, tag: str = "", side: str = "", released: bool = False) -> RecordEntry:
        return RecordEntry.objects.create(
            room=room, case=case, author=world.mediator, text=text, tag=tag, caucus_side=side,
            released_at=now if released else None,
        )

    joint = entry(JOINT_TEXT)
    fact = entry(UNDISPUTED_TEXT, RecordTag.UNDISPUTED_FACT)
    unconfirmed = entry(UNCONFIRMED_FACT_TEXT, RecordTag.UNDISPUTED_FACT)
    settlement = entry(SETTLEMENT_TEXT, RecordTag.SETTLEMENT_COMMUNICATION)
    entry(UNRELEASED_CAUCUS_TEXT, side=PartyRole.APPLICANT)
    released = entry(RELEASED_CAUCUS_TEXT, side=PartyRole.RESPONDENT, released=True)
    confirmed = [joint.pk, fact.pk, settlement.pk, released.pk]
    RecordConfirmation.objects.create(room=room, party=applicant, user=world.applicant, version_sha256="a" * 64,
                                      entry_ids=[*confirmed, unconfirmed.pk])
    RecordConfirmation.objects.create(room=room, party=respondent, user=world.lawyer, version_sha256="a" * 64,
                                      entry_ids=confirmed)
    Evidence.objects.create(case=case, uploaded_by=world.applicant, kind=EvidenceKind.EVIDENCE, title="劳动合同",
                            file="evidence/x.pdf", original_name="合同.pdf", content_type="application/pdf",
                            size=10, sha256="b" * 64)

    if variant is None:
        variant = {CaseOrigin.DELEGATED: AgreementVariant.DELEGATED, CaseOrigin.ENTRUSTED: AgreementVariant.ENTRUSTED,
                   CaseOrigin.PARTY_APPLICATION: AgreementVariant.PEOPLES}[origin]
    case = world.drive(case, CaseStatus.AGREEMENT_DRAFT)
    agreement = Agreement.objects.create(
        case=case, variant=variant, number="（2026）京东调字第17号", created_by=world.mediator, room=room,
        facts="申请人在被申请人处工作，被申请人未按时支付2025年10月至12月工资。",
        disputed_matters="拖欠工资的数额及支付期限。", responsibilities="被申请人未按时支付工资，应承担主要责任。",
        scope=AgreementScope.PARTIAL, unresolved_claims="加班费 3,000 元另行协商。", frozen_at=now,
    )
    AgreementClause.objects.create(
        agreement=agreement, number=1, kind=ClauseKind.PAYMENT, obligor=respondent, obligee=applicant,
        subject="拖欠的工资", amount=Decimal("12000.00"), method="银行转账", place="申请人指定账户",
        deadline=dt.date(2026, 12, 31), instalments="分两期，每期六千元", guarantee="由某担保公司提供连带责任保证",
        breach="逾期未付的，按日万分之五支付违约金",
    )
    AgreementClause.objects.create(
        agreement=agreement, number=2, kind=ClauseKind.COSTS, text="本案调解不收取费用，各方自行承担其他费用。",
    )
    if to != CaseStatus.AGREEMENT_DRAFT:
        case = world.drive(case, to)
    return Fixture(case=case, agreement=agreement, room=room, applicant=applicant, respondent=respondent,
                   agent=agent)


def pdf_text(pdf_path: Path) -> str:
    """The text poppler reads in content-stream order (WeasyPrint draws in document order, so table cells
    stay whole), with all white space removed (CJK lines wrap anywhere)."""
    out = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-raw", str(pdf_path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return "".join(out.split())


def squash(value: str) -> str:
    return "".join(value.split())
