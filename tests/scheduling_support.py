"""Helpers shared by the scheduling tests: a fixed clock, Beijing times, and cases with people of their own."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from mediation.choices import (
    AgentAuthority,
    AgentKind,
    CaseOrigin,
    CaseStatus,
    ConsentKind,
    PartyRole,
    Sector,
)
from mediation.models import Agent, Case, CaseMediator, Party, User, Venue, WorkingHours
from mediation.services.cases import case_create, case_transition
from mediation.services.consents import consent_record, notice_text_publish
from tests.factories import UserFactory, make_mediator, make_resident_id

BEIJING = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 09:00 in Beijing: a working day with the rest of the week ahead.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)


def at(day: int, hour: int, minute: int = 0, *, month: int = 3, tz: ZoneInfo = BEIJING) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=tz)


def fresh_case(world, *, mediator: User | None = None, lawyer: User | None = None, title: str = "买卖合同纠纷") -> Case:
    """A case of world.court in SCHEDULING with parties of its own (so its people clash with nobody) and
    its own mediator unless one is given; ``lawyer`` acts for its respondent."""
    mediator = mediator or make_mediator(world.partner)
    applicant, respondent = UserFactory(real_name="甲方"), UserFactory(real_name="乙方")
    case = case_create(
        actor=applicant, origin=CaseOrigin.PARTY_APPLICATION, court=world.court, dispute_type=Sector.CONTRACT,
        title=title, claims="支付货款", amount="5000.00", mediation_organisation=world.partner,
    )
    Party.objects.create(case=case, user=applicant, role=PartyRole.APPLICANT, name=applicant.real_name,
                         id_type="resident_id", id_number=make_resident_id(7), phone=applicant.phone)
    other = Party.objects.create(case=case, user=respondent, role=PartyRole.RESPONDENT, name=respondent.real_name,
                                 id_type="resident_id", id_number=make_resident_id(8), phone=respondent.phone)
    if lawyer is not None:
        Agent.objects.create(party=other, user=lawyer, name=lawyer.real_name, kind=AgentKind.LAWYER,
                             authority=AgentAuthority.GENERAL)
    case = case_transition(case=case, to=CaseStatus.SUBMITTED, actor=world.clerk)
    case = case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.clerk)
    CaseMediator.objects.create(case=case, mediator=mediator)
    case = case_transition(case=case, to=CaseStatus.ASSIGNED, actor=world.clerk)
    case = case_transition(case=case, to=CaseStatus.ACCEPTED, actor=mediator)
    return case_transition(case=case, to=CaseStatus.SCHEDULING, actor=mediator)


def venue(world, name: str = "东城法院诉讼服务中心调解室一") -> Venue:
    return Venue.objects.create(organisation=world.court, name=name, address="北京市东城区东四北大街1号")


def hours(user: User, *, days=range(5), start: dt.time = dt.time(9), end: dt.time = dt.time(18),
          time_zone: str = "Asia/Shanghai") -> None:
    WorkingHours.objects.bulk_create(
        [WorkingHours(user=user, weekday=d, start=start, end=end, time_zone=time_zone) for d in days]
    )


def consent_separate(case: Case, *, parties: list[Party] | None = None, granted: bool = True) -> None:
    """Each party (or those given) answers the OMR 16 separate-sessions question."""
    text = notice_text_publish(code="separate_sessions", title="分别调解同意书", body="我同意分别指定时间进行调解。",
                               actor=None)
    for party in parties if parties is not None else list(case.parties.all()):
        consent_record(case=case, party=party, actor=party.user, kind=ConsentKind.SEPARATE_SESSIONS,
                       granted=granted, text=text)
