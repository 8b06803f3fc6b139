"""The mediation domain's models, one module per area."""

from mediation.models.audit import AuditEvent, AuditHead
from mediation.models.cases import Agent, Case, CaseMediator, Party
from mediation.models.consents import Consent, NoticeAcknowledgement, NoticeText
from mediation.models.organisations import Organisation
from mediation.models.roster import MediatorProfile, RosterEntry
from mediation.models.timers import HolidayOverride, Timer, TimerPause
from mediation.models.users import Membership, User

__all__ = [
    "Agent",
    "AuditEvent",
    "AuditHead",
    "Case",
    "CaseMediator",
    "Consent",
    "HolidayOverride",
    "MediatorProfile",
    "Membership",
    "NoticeAcknowledgement",
    "NoticeText",
    "Organisation",
    "Party",
    "RosterEntry",
    "Timer",
    "TimerPause",
    "User",
]
