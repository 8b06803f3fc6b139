"""The mediation domain's models, one module per area."""

from mediation.models.agreements import Agreement, AgreementClause, ClauseAssent
from mediation.models.assignment import Complaint, Disclosure, MediatorChoice, RecusalRequest
from mediation.models.assisted import AssistedFiling
from mediation.models.audit import AuditEvent, AuditHead
from mediation.models.cases import Agent, Case, CaseHelper, CaseMediator, MediatorCaseLoad, Party
from mediation.models.confirmation import ConfirmationApplication, ConfirmationInquiry, SupplementRequest
from mediation.models.consents import Consent, NoticeAcknowledgement, NoticeText
from mediation.models.contact import ContactRequest
from mediation.models.filing import CourtFiling
from mediation.models.intake import ApplicationDraft, Evidence, IdentityVerification, OneTimeCode, ServiceAddress
from mediation.models.notifications import OutboxMessage
from mediation.models.organisations import Organisation
from mediation.models.performance import Obligation, PaymentProof
from mediation.models.recording import Recording, RecordingFile
from mediation.models.rooms import (
    GuidanceRequest,
    RecordConfirmation,
    RecordEntry,
    Room,
    RoomEvent,
    RoomJoinToken,
    RoomMember,
)
from mediation.models.roster import MediatorProfile, RosterEntry
from mediation.models.scheduling import CalendarFeedToken, MediationSession, SessionParticipant, Venue, WorkingHours
from mediation.models.selftest import SelfTest
from mediation.models.service import ServiceDelivery, ServiceRecord
from mediation.models.statistics import StatisticsCounter, StatisticsCounterState
from mediation.models.timers import HolidayOverride, Timer, TimerPause
from mediation.models.users import Membership, User

__all__ = [
    "Agent",
    "Agreement",
    "AgreementClause",
    "ApplicationDraft",
    "AssistedFiling",
    "AuditEvent",
    "AuditHead",
    "CalendarFeedToken",
    "Case",
    "CaseHelper",
    "CaseMediator",
    "ClauseAssent",
    "Complaint",
    "ConfirmationApplication",
    "ConfirmationInquiry",
    "Consent",
    "ContactRequest",
    "CourtFiling",
    "Disclosure",
    "Evidence",
    "GuidanceRequest",
    "HolidayOverride",
    "IdentityVerification",
    "MediationSession",
    "MediatorCaseLoad",
    "MediatorChoice",
    "MediatorProfile",
    "Membership",
    "NoticeAcknowledgement",
    "NoticeText",
    "Obligation",
    "OneTimeCode",
    "Organisation",
    "OutboxMessage",
    "Party",
    "PaymentProof",
    "RecordConfirmation",
    "RecordEntry",
    "Recording",
    "RecordingFile",
    "RecusalRequest",
    "Room",
    "RoomEvent",
    "RoomJoinToken",
    "RoomMember",
    "RosterEntry",
    "SelfTest",
    "ServiceAddress",
    "ServiceDelivery",
    "ServiceRecord",
    "SessionParticipant",
    "StatisticsCounter",
    "StatisticsCounterState",
    "SupplementRequest",
    "Timer",
    "TimerPause",
    "User",
    "Venue",
    "WorkingHours",
]
