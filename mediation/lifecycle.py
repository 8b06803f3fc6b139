"""What each case status means, in one place beside the transition table (``mediation.transitions``).

The table says which moves exist and who may make them; this module says what the statuses are: the named
groups every other module filters by, the documents a status produces, the legal clocks a status starts,
pauses and stops (legal-rules §B4), and what a move cancels. It is data: ``case_transition`` and the timer
service interpret it inside the transition's transaction; the documents app renders after commit (its
receiver of ``mediation.signals.case_status_changed``). Pure: imports only enumerations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mediation.choices import CaseOrigin, CaseStatus, DocumentKind, EndReason, Procedure, TimerKind, TimerUnit

S = CaseStatus
ALL_ORIGINS = frozenset(CaseOrigin)
PRE_FILING = frozenset({CaseOrigin.PARTY_APPLICATION, CaseOrigin.DELEGATED})
# Court-filed mediation under the 2025 rules (legal-rules §A12, §B13), and every other origin.
COURT_FILED_ORIGINS = frozenset({CaseOrigin.COURT_FILED})
NOT_COURT_FILED = ALL_ORIGINS - COURT_FILED_ORIGINS
# After filing: the agreement goes to the judge (a 民事调解书), not to judicial confirmation (OMR 20; §A12 art. 4).
POST_FILING = frozenset({CaseOrigin.ENTRUSTED, CaseOrigin.COURT_FILED})

# --- Status groups ----------------------------------------------------------------------------------------

# Mediation under way, which may end early (OMR 25). SIGNING is not among them: there only a refusal to sign
# ends it (OMR 25(7)). A tuple: the table generates its rows in this order.
MEDIATING: tuple[CaseStatus, ...] = (
    S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION, S.APPRAISAL_PAUSED, S.SUSPENDED,
    S.AGREEMENT_DRAFT,
)
# The mediation period runs in these: mediation under way, and signing, where the agreement is not yet
# effective (OMR 24-25).
MEDIATION_PERIOD_STATUSES = frozenset(MEDIATING) | {S.SIGNING}
# A mediator's open cases, their load: from designation (OMR 12 acceptance onwards) until the agreement takes
# effect or mediation ends.
OPEN_STATUSES = frozenset({S.ASSIGNED}) | MEDIATION_PERIOD_STATUSES
# Finished with an agreement in force (OMR 19-20); a confirmation dismissed as invalid is not a success.
SETTLED_STATUSES = frozenset(
    {S.AGREEMENT_EFFECTIVE, S.CLOSED_SETTLED, S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED, S.JC_NOT_ACCEPTED,
     S.JC_UNDER_REVIEW, S.JC_WITHDRAWN, S.JC_CONFIRMED, S.OBJECTION_WINDOW, S.PERFORMANCE_TRACKING,
     S.CLOSED_PERFORMED, S.ENFORCEMENT_ELIGIBLE, S.MEDIATION_DOCUMENT_REQUESTED, S.CLOSED_OTHER_MEANS}
)
# An agreement in force whose performance may still be recorded against its schedule of obligations (PML 31):
# from effectiveness until every obligation is performed. Payments and defaults do not wait for the
# confirmation procedure, and a case eligible for enforcement may still receive a late payment.
PERFORMANCE_STATUSES = SETTLED_STATUSES - {S.CLOSED_PERFORMED}
# Finished without one (OMR 21, 25). A withdrawal after the parties settled themselves (OMR 25(2)) is
# neither: it says little about the mediator.
UNSETTLED_STATUSES = frozenset(
    {S.TERMINATED, S.REFER_TO_FILING, S.CLOSED_UNRESOLVED, S.COURT_MUST_FILE, S.RESUME_TRIAL, S.JC_DISMISSED,
     S.FEE_PENDING, S.DEEMED_WITHDRAWN}
)
# No row leaves these.
TERMINAL_STATUSES = frozenset(
    {S.RETURNED, S.JC_NOT_ACCEPTED, S.JC_WITHDRAWN, S.JC_DISMISSED, S.CLOSED_PERFORMED, S.ENFORCEMENT_ELIGIBLE,
     S.REFER_TO_FILING, S.CLOSED_UNRESOLVED, S.COURT_MUST_FILE, S.RESUME_TRIAL, S.WITHDRAWN,
     S.CLOSED_OTHER_MEANS, S.DEEMED_WITHDRAWN}
)
# A court-filed case before the mediator signs for the materials: the parties' consents are asked here
# (legal-rules §A12 art. 2).
COURT_FILED_CONSENT_STATUSES = frozenset({S.SUBMITTED, S.AWAITING_SELECTION, S.ASSIGNED, S.ACCEPTED})
# What a court-filed case waits for from the court (legal-rules §A12 arts. 4-6), for the judge's inbox: a 调解书
# asked for, a failure that needs the fee notice, a fee awaited, and the cases back for trial.
COURT_FILED_JUDGE_STATUSES = frozenset(
    {S.MEDIATION_DOCUMENT_REQUESTED, S.TERMINATED, S.FEE_PENDING, S.RESUME_TRIAL}
)
# Where the court records a court-filed case's settlement "by other means" (§A12 art. 4): while mediation runs,
# once the agreement is in force, or after a party asked for a 调解书.
OTHER_MEANS_STATUSES: tuple[CaseStatus, ...] = (
    S.ACCEPTED, S.SCHEDULING, S.IN_MEDIATION, S.APPRAISAL_PAUSED, S.SUSPENDED, S.AGREEMENT_DRAFT, S.SIGNING,
    S.AGREEMENT_EFFECTIVE, S.MEDIATION_DOCUMENT_REQUESTED,
)
# A case may be handed to an organisation's queue until a mediator holds it.
REFERABLE_STATUSES = frozenset({S.SUBMITTED, S.AWAITING_SELECTION})
# What the court acts on: accept or return (SUBMITTED), designate (AWAITING_SELECTION), and what it waits
# for from the mediator (ASSIGNED, OMR 12).
CLERK_QUEUE_STATUSES = frozenset({S.SUBMITTED, S.AWAITING_SELECTION, S.ASSIGNED})
# A mediator's open work: acceptance (OMR 12), the respondent's willingness (OMR 15), scheduling and mediation.
# ACCEPTED is included: it is where the mediator decides between seeking the respondent and scheduling.
MEDIATOR_DASHBOARD_STATUSES = frozenset({S.ASSIGNED, S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION})
# Sessions may be scheduled (OMR 16-17): the clock stops while an appraisal runs, but the parties may still meet.
SCHEDULABLE_STATUSES = frozenset({S.SCHEDULING, S.IN_MEDIATION, S.APPRAISAL_PAUSED})
# Sessions already scheduled stay valid in these (no new ones while SUSPENDED or drafting/signing, but a
# meeting already set may still be needed), and a room may be opened in them.
SESSIONS_SURVIVE = SCHEDULABLE_STATUSES | {S.SUSPENDED, S.AGREEMENT_DRAFT, S.SIGNING}
# The judge may schedule and hold the joint verification session (Interp 356) while reviewing an accepted
# application; any move out of review (a ruling, a supplement request, a withdrawal) cancels one still scheduled.
VERIFICATION_STATUSES = frozenset({S.JC_UNDER_REVIEW})
# Signing has been opened (OMR 19), or the case has gone on from it along the agreement's path: a room session may
# end with "agreement reached" only here (a confirmation refused or withdrawn is not on that path).
SIGNING_OPENED_STATUSES = frozenset(
    {S.SIGNING, S.AGREEMENT_EFFECTIVE, S.CLOSED_SETTLED, S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED, S.JC_UNDER_REVIEW,
     S.JC_CONFIRMED, S.OBJECTION_WINDOW, S.PERFORMANCE_TRACKING, S.CLOSED_PERFORMED, S.ENFORCEMENT_ELIGIBLE}
)
# The case page links the agreement in these (and a mediator's in IN_MEDIATION, where they draft it).
AGREEMENT_LINK_STATUSES = frozenset({S.AGREEMENT_DRAFT, S.SIGNING, S.AGREEMENT_EFFECTIVE})


# --- What a status change cancels ---------------------------------------------------------------------------


def cancels_sessions(status: str) -> bool:
    """Whether moving into ``status`` cancels the case's scheduled sessions (in the transition's transaction)."""
    return status not in SESSIONS_SURVIVE


# --- Documents a status produces (rendered after commit by the documents app) ------------------------------

# SIGNING → the agreement and the record of the sessions; AGREEMENT_EFFECTIVE → the joint confirmation
# application and the organisation's proof of presiding; TERMINATED → the failure report (OMR 21); each decision
# on a confirmation application → the court's ruling; ENFORCEMENT_ELIGIBLE → the 强制执行申请书 (CPL 250).
STATUS_DOCUMENTS: Mapping[str, tuple[str, ...]] = {
    S.SIGNING: (DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT),
    S.AGREEMENT_EFFECTIVE: (DocumentKind.JC_APPLICATION, DocumentKind.PRESIDING_PROOF),
    S.TERMINATED: (DocumentKind.FAILURE_REPORT,),
    # The court's 民事裁定书 (legal-rules §C4), in the variant of the decision: issued with the deciding judge
    # as its issuer, approved and sealed by the judge, then served (documents.services.signing).
    S.JC_CONFIRMED: (DocumentKind.RULING,),
    S.JC_DISMISSED: (DocumentKind.RULING,),
    S.JC_NOT_ACCEPTED: (DocumentKind.RULING,),
    S.JC_WITHDRAWN: (DocumentKind.RULING,),
    # Entered only on a default reported against an enforceable title (services.performance; CPL 250).
    S.ENFORCEMENT_ELIGIBLE: (DocumentKind.ENFORCEMENT_APPLICATION,),
}
DOCUMENT_STATUSES: frozenset[str] = frozenset(STATUS_DOCUMENTS)


def documents_for_status(*, origin: str, has_organisation: bool, status: str) -> list[str]:
    """The document kinds ``status`` produces for a case of ``origin``: no joint confirmation application for
    委托 cases, which end in a court 调解书 (OMR 20), and no proof of presiding where no organisation presided."""
    kinds = list(STATUS_DOCUMENTS.get(status, ()))
    if origin in POST_FILING and DocumentKind.JC_APPLICATION in kinds:
        kinds.remove(DocumentKind.JC_APPLICATION)
    if not has_organisation and DocumentKind.PRESIDING_PROOF in kinds:
        kinds.remove(DocumentKind.PRESIDING_PROOF)
    return kinds


# --- Legal clocks (legal-rules §B4) -------------------------------------------------------------------------

# The window to apply for judicial confirmation once the agreement is effective (CPL 205; PML 33), in
# calendar days counted by CPL 85: the timer and the application document both read it here.
CONFIRMATION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class TimerRule:
    """One legal clock. ``runs_during`` includes ``starts_on``; entering any other status stops the timer."""

    kind: TimerKind
    unit: TimerUnit
    length: int
    starts_on: CaseStatus
    runs_during: frozenset[CaseStatus]
    source: str
    on_expiry: str  # what expiry means, for people reading the table and the audit trail
    paused_during: frozenset[CaseStatus] = frozenset()
    # 委托 (post-filing) cases: length by Case.procedure, instead of ``length`` (OMR 24; §A12 art. 3).
    entrusted_lengths: Mapping[str, int] = field(default_factory=dict)
    # An agreed extension of exactly this many days (0: any length the parties agree), at most
    # ``max_extensions`` times (None: no limit). §A12 art. 3: one extension of 30 days.
    extension_days: int = 0
    max_extensions: int | None = None
    origins: frozenset[str] = ALL_ORIGINS
    once_per_case: bool = False  # counts from a one-off event, so re-entering ``starts_on`` does not restart it
    starts_at_agreement_effective: bool = False  # anchor on Case.agreement_effective_at, not the transition
    only_one_sided: bool = False  # only for cases the applicant brought alone (Case.one_sided, OMR 15)
    expiry_moves_to: CaseStatus | None = None  # the platform's own transition on expiry (a ``system`` row)
    expiry_reason: str = ""  # the reason code that transition records (an OMR 25 end reason)
    # The length is the court's order (a supplement deadline, T11): the service that gives the order starts
    # the clock with it, so entering ``starts_on`` does not.
    length_set_by_court: bool = False
    # Started by a service for one ledger entry, not by a status (a contact request, issue 18); it runs
    # whatever the case's status does, and several may be open on one case.
    started_by_service: bool = False


TIMER_RULES: dict[str, TimerRule] = {
    rule.kind: rule
    for rule in (
        TimerRule(
            kind=TimerKind.SELECTION_WINDOW, unit=TimerUnit.WORKING_DAYS, length=2,
            starts_on=S.AWAITING_SELECTION, runs_during=frozenset({S.AWAITING_SELECTION}),
            source="OMR 10", on_expiry="court designates the mediator (alert: later issue)",
        ),
        TimerRule(
            # OMR 10: "within 3 working days of receiving the application", so from submission (§B4 T2).
            kind=TimerKind.COURT_DESIGNATION, unit=TimerUnit.WORKING_DAYS, length=3,
            starts_on=S.SUBMITTED, runs_during=frozenset({S.SUBMITTED, S.AWAITING_SELECTION}), once_per_case=True,
            source="OMR 10", on_expiry="SLA breach recorded (alert: later issue)",
        ),
        TimerRule(
            kind=TimerKind.MEDIATOR_ACCEPTANCE, unit=TimerUnit.WORKING_DAYS, length=3,
            starts_on=S.ASSIGNED, runs_during=frozenset({S.ASSIGNED}),
            source="OMR 12", on_expiry="acceptance lapses: back to selection",
            expiry_moves_to=S.AWAITING_SELECTION,
        ),
        TimerRule(
            # OMR 15: for an application by one side, the mediator helps reach the respondent within 3
            # working days of accepting it (§B4 T4); it ends when the respondent answers or the case moves on.
            kind=TimerKind.RESPONDENT_CONTACT, unit=TimerUnit.WORKING_DAYS, length=3,
            starts_on=S.ACCEPTED, runs_during=frozenset({S.ACCEPTED, S.RESPONDENT_PENDING}), only_one_sided=True,
            source="OMR 15", on_expiry="escalate (alert: later issue)",
        ),
        TimerRule(
            kind=TimerKind.MEDIATION_PERIOD, unit=TimerUnit.CALENDAR_DAYS, length=30,
            entrusted_lengths={Procedure.ORDINARY: 15, Procedure.SIMPLE: 7},
            starts_on=S.ACCEPTED, runs_during=MEDIATION_PERIOD_STATUSES, paused_during=frozenset({S.APPRAISAL_PAUSED}),
            # Court-filed cases have their own clock below (legal-rules §A12 art. 3).
            origins=NOT_COURT_FILED,
            source="OMR 24, 26", on_expiry="period expired without agreement or agreed extension: terminated",
            expiry_moves_to=S.TERMINATED, expiry_reason=EndReason.PERIOD_EXPIRED,
        ),
        TimerRule(
            # §A12 art. 3 (prevails over OMR 24 for court cases): from the day the mediator signs for the
            # materials the court transferred (``receive_materials`` moves ACCEPTED → SCHEDULING); 15 days
            # ordinary, 7 days summary procedure; one 30-day extension with both parties' consent, not counted
            # in the trial period. No appraisal pause: the 2025 rule names none.
            kind=TimerKind.COURT_FILED_PERIOD, unit=TimerUnit.CALENDAR_DAYS, length=15,
            entrusted_lengths={Procedure.ORDINARY: 15, Procedure.SIMPLE: 7},
            starts_on=S.SCHEDULING, runs_during=MEDIATION_PERIOD_STATUSES, origins=COURT_FILED_ORIGINS,
            extension_days=30, max_extensions=1,
            source="最高人民法院关于严格依法规范民事案件立案与调解工作的意见 第三条、第五条",
            on_expiry="period expired without agreement or both parties' consent to extend: back to trial",
            expiry_moves_to=S.TERMINATED, expiry_reason=EndReason.PERIOD_EXPIRED,
        ),
        TimerRule(
            # §A12 art. 6: the fee notice sets the deadline; unpaid on time, the suit is treated as withdrawn.
            kind=TimerKind.FILING_FEE, unit=TimerUnit.CALENDAR_DAYS, length=0, length_set_by_court=True,
            starts_on=S.FEE_PENDING, runs_during=frozenset({S.FEE_PENDING}), origins=COURT_FILED_ORIGINS,
            source="最高人民法院关于严格依法规范民事案件立案与调解工作的意见 第六条",
            on_expiry="filing fee unpaid by the deadline: the suit is treated as withdrawn",
            expiry_moves_to=S.DEEMED_WITHDRAWN,
        ),
        TimerRule(
            kind=TimerKind.JC_APPLICATION_WINDOW, unit=TimerUnit.CALENDAR_DAYS, length=CONFIRMATION_WINDOW_DAYS,
            starts_on=S.AGREEMENT_EFFECTIVE, runs_during=frozenset({S.AGREEMENT_EFFECTIVE, S.CLOSED_SETTLED}),
            starts_at_agreement_effective=True,
            # 委托 agreements become a court 调解书 instead; judicial confirmation is for the pre-filing paths.
            origins=PRE_FILING,
            source="CPL 205; PML 33",
            on_expiry="window closed: performance tracking (parties may still sue on the agreement)",
            expiry_moves_to=S.PERFORMANCE_TRACKING,
        ),
        # Judicial confirmation at the court (§B4 T10-T13). Supplements ordered before acceptance pause the
        # acceptance decision; the decision clocks start at acceptance (立案).
        TimerRule(
            kind=TimerKind.JC_ACCEPTANCE, unit=TimerUnit.CALENDAR_DAYS, length=3,
            starts_on=S.JC_SUBMITTED, runs_during=frozenset({S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED}),
            paused_during=frozenset({S.JC_SUPPLEMENT_REQUESTED}), once_per_case=True,
            source="JC-2011 4", on_expiry="SLA alert: acceptance not decided",
        ),
        TimerRule(
            kind=TimerKind.JC_SUPPLEMENT, unit=TimerUnit.CALENDAR_DAYS, length=0, length_set_by_court=True,
            starts_on=S.JC_SUPPLEMENT_REQUESTED, runs_during=frozenset({S.JC_SUPPLEMENT_REQUESTED}),
            source="Interp 354, 357",
            # Interp 357: the court *may* treat it as withdrawn, so the judge decides; nothing moves by itself.
            on_expiry="supplements lapsed: the judge may treat the application as withdrawn",
        ),
        TimerRule(
            # +10 days with the president's approval (``confirmation_extension_approve``).
            kind=TimerKind.JC_DECISION, unit=TimerUnit.CALENDAR_DAYS, length=15,
            starts_on=S.JC_UNDER_REVIEW, runs_during=frozenset({S.JC_UNDER_REVIEW}),
            source="JC-2011 5", on_expiry="SLA breach: decision overdue",
        ),
        TimerRule(
            # legal-rules §A11.3: 15 (+10) is the target, 30 from filing the statutory ceiling.
            kind=TimerKind.JC_CEILING, unit=TimerUnit.CALENDAR_DAYS, length=30,
            starts_on=S.JC_UNDER_REVIEW, runs_during=frozenset({S.JC_UNDER_REVIEW}),
            source="CPL 187", on_expiry="statutory limit for special procedure exceeded",
        ),
        # Contact requests (issue 18): one working day for the first contact, two for the result's feedback;
        # each timer belongs to one ContactRequest, which the sweep escalates on expiry.
        TimerRule(
            kind=TimerKind.CONTACT_FIRST, unit=TimerUnit.WORKING_DAYS, length=1, starts_on=S.SUBMITTED,
            runs_during=frozenset(CaseStatus), started_by_service=True,
            source="联系法官工作机制", on_expiry="not contacted in time: the department head is told and may take it",
        ),
        TimerRule(
            kind=TimerKind.CONTACT_FEEDBACK, unit=TimerUnit.WORKING_DAYS, length=2, starts_on=S.SUBMITTED,
            runs_during=frozenset(CaseStatus), started_by_service=True,
            source="联系法官工作机制", on_expiry="result not fed back in time: the department head is told",
        ),
        TimerRule(
            kind=TimerKind.JC_OBJECTION, unit=TimerUnit.CALENDAR_DAYS, length=15,
            starts_on=S.OBJECTION_WINDOW, runs_during=frozenset({S.OBJECTION_WINDOW}),
            source="Interp 372", on_expiry="parties' objection window closed: performance tracking",
            expiry_moves_to=S.PERFORMANCE_TRACKING,
        ),
    )
}

# The decision period's extension a court president may approve (JC-2011 5).
CONFIRMATION_EXTENSION_DAYS = 10


def clocks_started_by(status: str) -> list[TimerRule]:
    """The rules whose clock ``status`` starts (subject to each rule's origin, one-sidedness and once-only)."""
    return [rule for rule in TIMER_RULES.values() if rule.starts_on == status and not rule.started_by_service]
