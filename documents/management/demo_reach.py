"""The issue-18 part of the demo (``demo_mediation --mode reach-everyone``): a party's contact request answered in
time, another that lapses and is escalated to the head who takes it, and a clerk of a second demo court filing for
a walk-in party into the competent court, confirmed by the party on their own phone. Every step through services."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.utils import timezone

from mediation import calendar
from mediation.adapters.sms import outbox as sms_outbox
from mediation.choices import (
    AssistedFilingKind,
    ContactCategory,
    ContactMethod,
    CourtLevel,
    IdType,
    OrganisationKind,
    Role,
    Sector,
)
from mediation.models import AssistedFiling, Case, CaseMediator, ContactRequest, Membership, Organisation, Party, User
from mediation.services.assisted_filing import assisted_filing_confirm, assisted_filing_start, competent_courts
from mediation.services.contact_requests import (
    contact_request_create,
    contact_request_record,
    contact_request_take,
    is_head,
)
from mediation.services.evidence import evidence_upload
from mediation.services.identity import login_code_send, user_login_by_phone
from mediation.services.timer_sweep import timers_sweep

WALK_IN_PHONE = "13800000077"
WALK_IN_ID = "110101199003070038"


def _demo_party_case() -> tuple[Case, Party, User]:
    """A seeded case with a presiding mediator and a party who has an account."""
    for assignment in CaseMediator.objects.filter(is_active=True, presiding=True).select_related("case", "mediator"):
        party = Party.objects.filter(case=assignment.case, user__isnull=False).order_by("role", "pk").first()
        if party is not None:
            return assignment.case, party, assignment.mediator
    raise LookupError("The demo world has no case with a presiding mediator and a signed-up party.")


def play_contact(say: Callable[[str], None]) -> Case:
    case, party, mediator = _demo_party_case()
    assert party.user is not None
    if ContactRequest.objects.filter(case=case).exists():
        say(f"演示案件 {case.reference} 已有联系请求，跳过。")
        return case
    answered = contact_request_create(
        case=case,
        actor=party.user,
        category=ContactCategory.PROGRESS,
        question="请问调解会议什么时候安排？需要我准备哪些材料？",
    )
    contact_request_record(
        request=answered,
        actor=mediator,
        method=ContactMethod.PHONE,
        contacted_at=timezone.now(),
        note="电话联系当事人本人",
        result="调解会议将于三个工作日内安排，请准备劳动合同和工资条。通知会另行发送。",
    )
    say(f"联系请求 #{answered.pk}：{party.name} → {mediator.display_name}，当日联系并反馈结果。")

    # Asked four working days ago and never answered: the sweep escalates it to the head, who takes it over.
    asked = timezone.now()
    for _ in range(4):
        asked -= dt.timedelta(days=1)
        while not calendar.is_working_day(calendar.local_day(asked)):
            asked -= dt.timedelta(days=1)
    lapsed = contact_request_create(
        case=case,
        actor=party.user,
        category=ContactCategory.SCHEDULE,
        question="我下周出差，调解时间能否改到周五下午？",
        at=asked,
    )
    timers_sweep()
    lapsed.refresh_from_db()
    head = next(
        (m.user for m in Membership.objects.filter(is_active=True).select_related("user") if is_head(m.user, lapsed)),
        None,
    )
    say(f"联系请求 #{lapsed.pk}：逾期未联系 → {lapsed.get_status_display()}（{lapsed.escalated_to}）。")
    if head is not None:
        contact_request_take(request=lapsed, actor=head)
        contact_request_record(
            request=lapsed,
            actor=head,
            method=ContactMethod.PHONE,
            contacted_at=timezone.now(),
            result="已督促调解员与您确认，可改至周五下午。",
        )
        say(f"负责人 {head.display_name} 接手并反馈。")
    return case


def _second_court() -> tuple[Organisation, User]:
    """A second basic court of the demo world, with a clerk: where the walk-in party happens to be."""
    parent = Organisation.objects.filter(name="北京市第二中级人民法院").first()
    court, _ = Organisation.objects.update_or_create(
        name="北京市西城区人民法院",
        defaults={
            "kind": OrganisationKind.COURT,
            "short_name": "西城法院",
            "court_level": CourtLevel.BASIC,
            "parent": parent,
            "court_code": "京0102",
            "region_name": "北京市",
            "region_code": "110102",
        },
    )
    clerk, created = User.objects.get_or_create(
        username="clerk_xicheng", defaults={"real_name": "刘书记员", "phone": "13800000071"}
    )
    if created:
        clerk.set_unusable_password()
        clerk.save()
    Membership.objects.get_or_create(user=clerk, organisation=court, role=Role.CLERK)
    return court, clerk


def _code(phone: str) -> str:
    messages = [m for m in sms_outbox if m.phone == phone]
    match = re.search(r"\d{6}", messages[-1].text) if messages else None
    if match is None:
        raise LookupError(f"No one-time code was sent to {phone}.")
    return match.group()


def play_assisted(say: Callable[[str], None]) -> Case | None:
    assisting, clerk = _second_court()
    done = AssistedFiling.objects.filter(assisted_by=clerk, case__isnull=False).first()
    if done is not None:
        say(f"{assisting.name} 的代办已确认（案件 {done.case.reference if done.case else '—'}），跳过。")
        return done.case
    competent = next(c for c in competent_courts(region_code="110101") if c.court_level == CourtLevel.BASIC)
    filing, token = assisted_filing_start(
        actor=clerk,
        kind=AssistedFilingKind.APPLICATION,
        competent_court=competent,
        region_code="110101",
        data={
            "applicant_name": "马大爷",
            "applicant_id_number": WALK_IN_ID,
            "applicant_phone": WALK_IN_PHONE,
            "respondent_name": "北京某物业服务有限公司",
            "respondent_phone": "13800000078",
            "dispute_type": Sector.PROPERTY,
            "claims": "退还多收的物业费 1,200 元",
            "summary": "物业公司按错误面积收取物业费，多次协商未果。",
        },
        identity_document=IdType.RESIDENT_ID,
        identity_number_seen=WALK_IN_ID,
        identity_checked=True,
        e_service=True,
        mediation=True,
    )
    evidence_upload(
        actor=clerk,
        draft=filing.draft,
        title="物业费收据（扫描件）",
        file=ContentFile(b"%PDF-1.4\n% demo scan\n%%EOF\n", name="receipt.pdf"),
    )
    say(f"{assisting.name} {clerk.display_name} 为来院当事人代办，推荐管辖法院：{competent.name}；确认短信已发出。")
    login_code_send(phone=WALK_IN_PHONE)
    party = user_login_by_phone(phone=WALK_IN_PHONE, code=_code(WALK_IN_PHONE))
    filing = assisted_filing_confirm(token=token, actor=party, e_service=True, mediation=True)
    say(f"当事人本人手机确认 → 案件 {filing.case.reference if filing.case else '—'} 进入{competent.name}受理队列。")
    return filing.case
