"""The mediation domain's models, one module per area."""

from mediation.models.assignment import Complaint, Disclosure, MediatorChoice, RecusalRequest
from mediation.models.audit import AuditEvent, AuditHead
from mediation.models.cases import Agent, Case, CaseMediator, Party
from mediation.models.consents import Consent, NoticeAcknowledgement, NoticeText
from mediation.models.intake import ApplicationDraft, Evidence, IdentityVerification, OneTimeCode, ServiceAddress
from mediation.models.organisations import Organisation
from mediation.models.roster import MediatorProfile, RosterEntry
from mediation.models.timers import HolidayOverride, Timer, TimerPause
from mediation.models.users import Membership, User

__all__ = [
    "Agent",
    "ApplicationDraft",
    "AuditEvent",
    "AuditHead",
    "Case",
    "CaseMediator",
    "Complaint",
    "Consent",
    "Disclosure",
    "Evidence",
    "HolidayOverride",
    "IdentityVerification",
    "MediatorChoice",
    "MediatorProfile",
    "Membership",
    "NoticeAcknowledgement",
    "NoticeText",
    "OneTimeCode",
    "Organisation",
    "Party",
    "RecusalRequest",
    "RosterEntry",
    "ServiceAddress",
    "Timer",
    "TimerPause",
    "User",
]
