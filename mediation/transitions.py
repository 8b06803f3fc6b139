"""The case state machine as data (legal-rules §B3). ``case_transition`` is its only interpreter; what each
status means (groups, clocks, documents, what a move cancels) is in ``mediation.lifecycle`` beside it.

Each row names the action, the source and target statuses, who may take it, and what it needs:
``reasons`` restricts a required reason code to a fixed list (OMR 25 end reasons, OMR 9 return
reasons); ``needs_note`` requires a written reason (a mediator declining, OMR 12); ``origins``
limits a row to cases of some origins (the failure path differs by origin, OMR 21).
Roles are case-relative: see ``mediation.permissions.case_roles``. ``system`` is the platform itself
(timer sweeps), acting with no user.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from mediation.choices import CaseOrigin, CaseStatus, EndReason, OtherMeansClosure, ReturnReason
from mediation.lifecycle import (
    ALL_ORIGINS,
    COURT_FILED_ORIGINS,
    MEDIATING,
    NOT_COURT_FILED,
    OTHER_MEANS_STATUSES,
    PRE_FILING,
)

S = CaseStatus

# Roles (see permissions.case_roles)
PARTY = "party"  # a party to the case or any of its agents
PARTY_AUTHORISED = "party_authorised"  # a party in person, or an agent with special authority (CPL 62)
APPLICANT = "applicant"  # the applicant side: an applicant in person or its agent
RESPONDENT = "respondent"  # the respondent side: a respondent in person or its agent
MEDIATOR = "mediator"  # an active mediator assigned to the case
ORG_ADMIN = "org_admin"  # admin of the case's mediation organisation
CLERK = "clerk"  # intake staff of the case's court
JUDGE = "judge"  # a judge of the case's court
PRESIDENT = "president"  # the president of the case's court: approves extensions (JC-2011 5; CPL 187)
SYSTEM = "system"  # the platform (timer sweeps), no user

# Services that alone take their rows (``Transition.via``), and where a person does it.
CONFIRMATION = "confirmation"
VIA_PLACES = {CONFIRMATION: _("法官的司法确认工作台")}


@dataclass(frozen=True)
class Transition:
    action: str
    source: CaseStatus
    target: CaseStatus
    roles: frozenset[str]
    reasons: frozenset[str] | None = None
    needs_note: bool = False
    origins: frozenset[str] = ALL_ORIGINS
    source_rule: str = ""
    # Leaving through this row ends the current mediators' assignment (decline, lapse, change, recusal):
    # they lose access to the case (legal-rules §B2, §B10).
    releases_mediators: bool = False
    # Taken only when the caller names the action (case_transition(action=...)): for an act that shares a
    # status pair and a role with another row, such as a recusal granted before the mediator accepts.
    explicit: bool = False
    # The one service that takes this row (its page is that service's workspace, e.g. the judge's for
    # judicial confirmation): ``case_transition`` refuses the row to any other caller, and the generic status
    # form (the admin, the case page's bar) never offers it. Empty: any caller with the role.
    via: str = ""

    @property
    def audit_kind(self) -> str:
        return f"case.{self.action}"


def _t(
    action: str,
    source: CaseStatus,
    target: CaseStatus,
    roles: set[str],
    *,
    reasons: set[EndReason] | set[ReturnReason] | set[OtherMeansClosure] | set[str] | None = None,
    needs_note: bool = False,
    origins: frozenset[str] = ALL_ORIGINS,
    rule: str = "",
    releases_mediators: bool = False,
    explicit: bool = False,
    via: str = "",
) -> Transition:
    return Transition(
        action, source, target, frozenset(roles),
        frozenset(reasons) if reasons is not None else None, needs_note, origins, rule, releases_mediators, explicit,
        via,
    )


# OMR 25 grounds (3)-(6), (8) end mediation as a failure; (7) only from signing; (2) is a withdrawal.
_FAILURE_REASONS = {
    EndReason.UNREACHABLE, EndReason.REFUSED_TO_CONTINUE, EndReason.POSITIONS_TOO_FAR,
    EndReason.PERIOD_EXPIRED, EndReason.OTHER,
}

TRANSITIONS: tuple[Transition, ...] = (
    # Intake (OMR 8-9)
    _t("submit", S.DRAFT, S.SUBMITTED, {APPLICANT, CLERK}, rule="OMR 8"),
    _t("return", S.SUBMITTED, S.RETURNED, {CLERK}, reasons=set(ReturnReason), origins=PRE_FILING, rule="OMR 9"),
    _t("accept_for_mediation", S.SUBMITTED, S.AWAITING_SELECTION, {CLERK}, rule="OMR 10"),
    # Selection and acceptance (OMR 10-12)
    # The parties' choice is joint (OMR 10): a service records each party's pick and then assigns as the
    # platform; a single party cannot.
    _t("assign", S.AWAITING_SELECTION, S.ASSIGNED, {CLERK, ORG_ADMIN, SYSTEM}, rule="OMR 10"),
    # Only the designated mediator accepts: acceptance comes with their own disclosure (OMR 13) and starts their
    # mediation period (OMR 24); the organisation acts by designating and may decline (decisions D25).
    _t("mediator_accept", S.ASSIGNED, S.ACCEPTED, {MEDIATOR}, rule="OMR 12, 13, 24"),
    _t("mediator_decline", S.ASSIGNED, S.AWAITING_SELECTION, {MEDIATOR, ORG_ADMIN}, needs_note=True, rule="OMR 12",
       releases_mediators=True),
    _t("acceptance_lapsed", S.ASSIGNED, S.AWAITING_SELECTION, {SYSTEM, CLERK}, rule="OMR 12",
       releases_mediators=True),
    # Respondent's willingness (OMR 15)
    # A court-filed case has a filed lawsuit and the parties' recorded consents: no respondent to seek, and
    # mediation begins when the mediator signs for the court's materials (§A12 arts. 2-3, below).
    _t("seek_respondent", S.ACCEPTED, S.RESPONDENT_PENDING, {MEDIATOR}, origins=NOT_COURT_FILED, rule="OMR 15"),
    _t("respondent_consented", S.RESPONDENT_PENDING, S.SCHEDULING, {MEDIATOR, RESPONDENT}, rule="OMR 15"),
    _t("respondent_declined", S.RESPONDENT_PENDING, S.TERMINATED, {MEDIATOR, SYSTEM},
       reasons={EndReason.REFUSED_TO_CONTINUE, EndReason.UNREACHABLE, EndReason.PERIOD_EXPIRED}, rule="OMR 15, 25"),
    _t("schedule", S.ACCEPTED, S.SCHEDULING, {MEDIATOR}, origins=NOT_COURT_FILED, rule="OMR 16"),
    # The mediator's signed receipt of the transferred materials starts the 15/7-day clock (§A12 art. 3). Only
    # ``services.court_filed.court_filed_materials_receive`` takes it, after checking every party's consent.
    _t("receive_materials", S.ACCEPTED, S.SCHEDULING, {MEDIATOR}, origins=COURT_FILED_ORIGINS,
       rule="§A12 art. 2-3", explicit=True),
    _t("start_mediation", S.SCHEDULING, S.IN_MEDIATION, {MEDIATOR}, rule="OMR 16-17"),
    # Inside mediation
    _t("pause_for_appraisal", S.IN_MEDIATION, S.APPRAISAL_PAUSED, {MEDIATOR}, rule="OMR 26"),
    _t("resume_after_appraisal", S.APPRAISAL_PAUSED, S.IN_MEDIATION, {MEDIATOR}, rule="OMR 26"),
    _t("suspend_sham_suspected", S.IN_MEDIATION, S.SUSPENDED, {MEDIATOR}, needs_note=True, rule="SIM 18"),
    _t("resume_from_suspension", S.SUSPENDED, S.IN_MEDIATION, {MEDIATOR, CLERK}, rule="SIM 18"),
    *(
        _t("change_mediator", source, S.AWAITING_SELECTION, {PARTY, CLERK, ORG_ADMIN}, needs_note=True,
           rule="OMR 13-14; SIM 15", releases_mediators=True)
        for source in (S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION)
    ),
    # OMR 13: a party does not consent to the mediator continuing after a disclosure. The mediator or the
    # organisation then changes the mediator or ends mediation (``assignment.disclosure_objection_resolve``).
    *(
        _t("disclosure_objection_change", source, S.AWAITING_SELECTION, {MEDIATOR, ORG_ADMIN, CLERK},
           needs_note=True, rule="OMR 13", releases_mediators=True, explicit=True)
        for source in (S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION)
    ),
    *(
        _t("disclosure_objection_terminate", source, S.TERMINATED, {MEDIATOR, ORG_ADMIN},
           reasons={EndReason.OTHER}, needs_note=True, rule="OMR 13, 25(8)", explicit=True)
        for source in (S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION)
    ),
    # OMR 14: a party who still objects after the mediator was changed, and will not choose, is deemed to refuse
    # mediation; the court or the organisation records it (``assignment.mediator_change_refused``), which checks
    # that a change happened: so the row is taken only by name.
    *(
        _t("deemed_refusal", source, S.TERMINATED, {CLERK, ORG_ADMIN}, reasons={EndReason.REFUSED_TO_CONTINUE},
           needs_note=True, rule="OMR 14, 25(4)", explicit=True)
        for source in (S.AWAITING_SELECTION, S.ASSIGNED, S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING,
                       S.IN_MEDIATION)
    ),
    # Before acceptance the pair ASSIGNED → AWAITING_SELECTION already means a decline or a lapse; a granted
    # recusal is its own event, so it is taken only by name.
    _t("recuse_mediator", S.ASSIGNED, S.AWAITING_SELECTION, {CLERK, ORG_ADMIN}, needs_note=True,
       rule="OMR 13; SIM 15", releases_mediators=True, explicit=True),
    _t("draft_agreement", S.IN_MEDIATION, S.AGREEMENT_DRAFT, {MEDIATOR}, rule="OMR 19"),
    _t("reopen_mediation", S.AGREEMENT_DRAFT, S.IN_MEDIATION, {MEDIATOR}, rule="OMR 19"),
    _t("open_signing", S.AGREEMENT_DRAFT, S.SIGNING, {MEDIATOR}, rule="OMR 19"),
    # A correction found during signing: a new version of the agreement and a new signing round (§B7).
    _t("revise_agreement", S.SIGNING, S.AGREEMENT_DRAFT, {MEDIATOR}, rule="OMR 19"),
    _t("refused_to_sign", S.SIGNING, S.TERMINATED, {MEDIATOR}, reasons={EndReason.REFUSED_TO_SIGN},
       rule="OMR 25(7)"),
    # OMR 25(6): the period runs through signing (OMR 24); if it ends before the agreement took effect (the case
    # would have left SIGNING), mediation terminates. Only the platform's sweep takes this row.
    _t("period_expired_in_signing", S.SIGNING, S.TERMINATED, {SYSTEM}, reasons={EndReason.PERIOD_EXPIRED},
       rule="OMR 25(6)"),
    # Only the signing service, once every required signature is on the document.
    _t("agreement_signed", S.SIGNING, S.AGREEMENT_EFFECTIVE, {SYSTEM}, rule="OMR 19; PML 29"),
    _t("close_settled", S.AGREEMENT_EFFECTIVE, S.CLOSED_SETTLED, {MEDIATOR, SYSTEM},
       reasons={EndReason.AGREEMENT_REACHED}, origins=NOT_COURT_FILED, rule="OMR 20, 25(1)"),
    # Ending without agreement (OMR 25)
    *(
        _t("terminate", source, S.TERMINATED, {MEDIATOR, SYSTEM}, reasons=_FAILURE_REASONS, rule="OMR 25")
        for source in MEDIATING
        if source != S.RESPONDENT_PENDING  # there the respondent_declined row applies (OMR 15)
    ),
    *(
        _t("withdraw", source, S.WITHDRAWN, {PARTY_AUTHORISED, MEDIATOR}, reasons={EndReason.SETTLED_AND_WITHDRAWN},
           origins=NOT_COURT_FILED, rule="OMR 25(2)")
        for source in MEDIATING
    ),
    # Court-filed outcomes (§A12 arts. 4-6). Settled without a court document: the court records the
    # plaintiff's withdrawal or the immediate performance and closes the case "by other means".
    *(
        _t("close_other_means", source, S.CLOSED_OTHER_MEANS, {CLERK, JUDGE}, reasons=set(OtherMeansClosure),
           origins=COURT_FILED_ORIGINS, rule="§A12 art. 4")
        for source in OTHER_MEANS_STATUSES
    ),
    # A party expressly asks for a legal document: the agreement goes to the judge for a 民事调解书 (§C5).
    _t("request_mediation_document", S.AGREEMENT_EFFECTIVE, S.MEDIATION_DOCUMENT_REQUESTED, {PARTY_AUTHORISED},
       origins=COURT_FILED_ORIGINS, rule="§A12 art. 4; OMR 20; SIM 20"),
    # The 民事调解书 takes effect when every party has signed for it (CPL 100; Interp 149): the platform moves
    # the case on once the last sign-for is recorded (``services.court_filed.mediation_document_signed_for``);
    # the obligations were scheduled when the agreement took effect.
    _t("mediation_document_effective", S.MEDIATION_DOCUMENT_REQUESTED, S.PERFORMANCE_TRACKING, {SYSTEM},
       origins=COURT_FILED_ORIGINS, rule="CPL 100; Interp 149"),
    # Failure: before trial the court serves the filing-fee notice with its deadline (only
    # ``documents.services.fee_notice.fee_notice_issue`` takes it, with the notice served); paid → trial
    # resumes; unpaid at the deadline → treated as withdrawn (§A12 arts. 5-6).
    _t("issue_fee_notice", S.TERMINATED, S.FEE_PENDING, {CLERK}, origins=COURT_FILED_ORIGINS,
       rule="§A12 art. 5-6", explicit=True),
    _t("fee_paid", S.FEE_PENDING, S.RESUME_TRIAL, {CLERK, JUDGE}, origins=COURT_FILED_ORIGINS,
       rule="§A12 art. 5-6; OMR 21(3)"),
    _t("fee_unpaid", S.FEE_PENDING, S.DEEMED_WITHDRAWN, {SYSTEM}, origins=COURT_FILED_ORIGINS, rule="§A12 art. 6"),
    # After failure: routed by origin (OMR 21), each through ``services/filing.py`` (the rows name who may):
    # a party who chooses online filing has the materials handed to the court's filing queue (OMR 21(1));
    # otherwise the mediator or the court closes the party's application as unresolved.
    _t("refer_to_filing", S.TERMINATED, S.REFER_TO_FILING, {PARTY},
       origins=frozenset({CaseOrigin.PARTY_APPLICATION}), rule="OMR 21(1)"),
    _t("close_unresolved", S.TERMINATED, S.CLOSED_UNRESOLVED, {MEDIATOR, CLERK},
       origins=frozenset({CaseOrigin.PARTY_APPLICATION}), rule="OMR 21(1)"),
    # 委派: the court must file; the platform hands the materials to its filing queue once mediation ends.
    _t("court_must_file", S.TERMINATED, S.COURT_MUST_FILE, {SYSTEM},
       origins=frozenset({CaseOrigin.DELEGATED}), rule="OMR 21(2); SIM 21"),
    # 委托: the court resumes the trial (its clerk or judge, on the case's failure page).
    _t("resume_trial", S.TERMINATED, S.RESUME_TRIAL, {CLERK, JUDGE},
       origins=frozenset({CaseOrigin.ENTRUSTED}), rule="OMR 21(3)"),
    # Judicial confirmation (CPL 205-206; Interp 351-358)
    # Joint (CPL 205; Interp 351): the application service submits once both parties have signed it.
    # Every row is taken by ``services/confirmation.py`` alone (``via``): each act there writes the application's
    # own rows and notices beside the status, so a bare status change (the admin's form) would half-do it.
    _t("apply_for_confirmation", S.CLOSED_SETTLED, S.JC_SUBMITTED, {SYSTEM}, origins=PRE_FILING, rule="CPL 205",
       via=CONFIRMATION),
    _t("request_supplement", S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED, {JUDGE}, needs_note=True,
       rule="Interp 354", via=CONFIRMATION),
    _t("supplement_filed", S.JC_SUPPLEMENT_REQUESTED, S.JC_SUBMITTED, {PARTY_AUTHORISED}, rule="Interp 354",
       via=CONFIRMATION),
    _t("supplement_lapsed", S.JC_SUPPLEMENT_REQUESTED, S.JC_WITHDRAWN, {JUDGE}, rule="Interp 357",
       via=CONFIRMATION),
    _t("not_accept", S.JC_SUBMITTED, S.JC_NOT_ACCEPTED, {JUDGE}, needs_note=True, rule="Interp 355",
       via=CONFIRMATION),
    _t("accept_confirmation", S.JC_SUBMITTED, S.JC_UNDER_REVIEW, {JUDGE}, rule="CPL 205", via=CONFIRMATION),
    # The parties ask (``confirmation_withdrawal_request``); the judge allows, before or after acceptance
    # (Interp 357; JC-2011 5). Explicit: from JC_SUPPLEMENT_REQUESTED it shares its pair with the lapse.
    *(_t("withdraw_confirmation", source, S.JC_WITHDRAWN, {JUDGE}, rule="Interp 357", via=CONFIRMATION,
         explicit=True) for source in (S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED, S.JC_UNDER_REVIEW)),
    _t("rule_valid", S.JC_UNDER_REVIEW, S.JC_CONFIRMED, {JUDGE}, rule="CPL 206", via=CONFIRMATION),
    _t("rule_dismissed", S.JC_UNDER_REVIEW, S.JC_DISMISSED, {JUDGE}, needs_note=True, rule="CPL 206; Interp 358",
       via=CONFIRMATION),
    _t("serve_ruling", S.JC_CONFIRMED, S.OBJECTION_WINDOW, {CLERK, SYSTEM}, rule="Interp 372", via=CONFIRMATION),
    _t("objection_window_closed", S.OBJECTION_WINDOW, S.PERFORMANCE_TRACKING, {SYSTEM, CLERK}, rule="Interp 372"),
    # Without a confirmation application, tracking starts when the 30-day window closes (the JC-window
    # timer's expiry), so nobody can cut the parties' CPL 205 right short.
    _t("track_performance", S.CLOSED_SETTLED, S.PERFORMANCE_TRACKING, {SYSTEM}, origins=PRE_FILING, rule="PML 31"),
    # The platform closes the case itself once the obligee has confirmed every obligation
    # (services.performance); the people on the case may still record it by hand.
    _t("performed", S.PERFORMANCE_TRACKING, S.CLOSED_PERFORMED, {MEDIATOR, PARTY_AUTHORISED, CLERK, SYSTEM},
       rule="PML 31"),
    # Only the performance service, after the obligee reported a default AND the case holds an enforceable
    # title (a confirmation ruling, CPL 206; a court 调解书) within CPL 250's two years: an agreement nobody
    # confirmed binds as a contract and is sued on, not enforced (PML 32-33). See
    # selectors.performance.enforceable_title.
    _t("not_performed", S.PERFORMANCE_TRACKING, S.ENFORCEMENT_ELIGIBLE, {SYSTEM}, rule="CPL 250; PML 33"),
)

def find_transitions(*, source: str, target: str, origin: str, action: str | None = None) -> list[Transition]:
    """The table rows that lead from ``source`` to ``target`` for a case of ``origin``.

    A pair may have several rows with disjoint roles (a mediator declines, the platform records a
    lapse): the actor's role picks the row. Explicit rows are found only when ``action`` names them.
    """
    return [
        row for row in TRANSITIONS
        if row.source == source and row.target == target and origin in row.origins
        and (row.action == action if action is not None else not row.explicit)
    ]


def transitions_from(*, source: str, origin: str) -> list[Transition]:
    return [row for row in TRANSITIONS if row.source == source and origin in row.origins]


def roles_for(action: str) -> frozenset[str]:
    """Every role that may take ``action`` from some status: the one answer to "who may do this" for services
    and pages that check the actor before the case's status (``permissions.may_take_action``)."""
    roles = frozenset(role for row in TRANSITIONS if row.action == action for role in row.roles)
    if not roles:
        raise KeyError(action)
    return roles
