"""Helpers for court-filed mediation tests (legal-rules §A12, §B13)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from mediation.choices import CaseOrigin, CaseStatus, PartyRole, ServiceStage, TimerKind
from mediation.models import Case, Party, Timer, User
from mediation.services.court_filed import court_filed_consent_record, court_filed_extension_consent_record
from mediation.services.service import service_address_change

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def filed_case(world, *, procedure: str = "ordinary", to: str = CaseStatus.ACCEPTED) -> Case:
    """A court-filed case of the named world (applicant alice, respondent bob with his lawyer), driven to ``to``."""
    case = world.new_case(origin=CaseOrigin.COURT_FILED)
    Case.objects.filter(pk=case.pk).update(procedure=procedure)
    case.refresh_from_db()
    return world.drive(case, to)


def party(case: Case, role: str) -> Party:
    return Party.objects.get(case=case, role=role)


def both_consent(world, case: Case) -> None:
    court_filed_consent_record(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, granted=True)
    # The respondent answers through his lawyer (an agent may answer for the party).
    court_filed_consent_record(case=case, party=party(case, PartyRole.RESPONDENT), actor=world.lawyer, granted=True)


def both_consent_to_extend(world, case: Case) -> None:
    court_filed_extension_consent_record(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant,
                                         granted=True)
    court_filed_extension_consent_record(case=case, party=party(case, PartyRole.RESPONDENT), actor=world.respondent,
                                         granted=True)


def period(case: Case) -> Timer:
    return Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD).latest("pk")


def e_service(case: Case, user: User, role: str = PartyRole.APPLICANT) -> None:
    """The party's 送达地址确认书 with e-service for every stage (the fee notice is served in litigation)."""
    p = party(case, role)
    service_address_change(
        case=case, party=p, actor=user, recipient_name=p.name, postal_address="北京市东城区东直门南大街1号",
        postal_recipient=p.name, postal_phone="13800000000", e_service_consent=True,
        stages=list(ServiceStage.values), mobile="13800000001", email="", platform_account=True,
    )
