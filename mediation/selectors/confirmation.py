"""Reads for the court's side of judicial confirmation (legal-rules §B8): the judge's inbox, one application's
review, and what a party sees of their own application. Each is limited to who may see it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import calendar
from mediation import transitions as tr
from mediation.agreement_rules import AgreementWarning, agreement_warnings
from mediation.agreement_text import clause_text
from mediation.choices import (
    AgreementStatus,
    CaseOrigin,
    CaseStatus,
    DismissalGround,
    GuidanceStatus,
    InquiryKind,
    NotAcceptGround,
    OrganisationKind,
    Role,
    SessionPurpose,
    TimerKind,
)
from mediation.exceptions import NotFound
from mediation.lifecycle import CONFIRMATION_WINDOW_DAYS
from mediation.models import (
    Agreement,
    AgreementClause,
    Case,
    ClauseAssent,
    ConfirmationApplication,
    ConfirmationInquiry,
    Evidence,
    GuidanceRequest,
    MediationSession,
    Membership,
    Party,
    RecordConfirmation,
    RecordEntry,
    Room,
    SupplementRequest,
    Timer,
    User,
)
from mediation.permissions import case_roles
from mediation.selectors.agreements import ClauseRow
from mediation.selectors.intake import CaseRow, Clock, case_rows_page, clock_for, live_timer_q

S = CaseStatus

# What waits on the court, in the order the inbox groups them.
PENDING_STATUSES = (S.JC_SUBMITTED, S.JC_SUPPLEMENT_REQUESTED, S.JC_UNDER_REVIEW)
# Decided, shown on request (a confirmed ruling still to be served, the objection window).
DECIDED_STATUSES = (S.JC_CONFIRMED, S.OBJECTION_WINDOW, S.JC_DISMISSED, S.JC_NOT_ACCEPTED, S.JC_WITHDRAWN)
INBOX_STATUSES = PENDING_STATUSES + DECIDED_STATUSES
# Before the ruling the parties may ask to withdraw and the judge may allow it (Interp 357; JC-2011 5).
WITHDRAWABLE_STATUSES = PENDING_STATUSES
# Interp 372: an interested third party may object within six months of knowing (or when they should have
# known) of the harm (T14). The platform cannot know that day, so it states the rule and runs no clock.
THIRD_PARTY_OBJECTION_MONTHS = 6


def application_window_last_day(case: Case) -> dt.date | None:
    """The last day the parties could apply (CPL 205: 30 days from the agreement's effect, CPL 85)."""
    if case.agreement_effective_at is None:
        return None
    return calendar.calendar_period_end(calendar.local_day(case.agreement_effective_at), CONFIRMATION_WINDOW_DAYS)


def supplement_lapsed(case: Case, *, now: dt.datetime | None = None) -> bool:
    """Whether the latest supplement deadline passed with nothing filed: the judge *may* then treat the
    application as withdrawn (Interp 357). Nothing happens by itself."""
    if case.status != S.JC_SUPPLEMENT_REQUESTED:
        return False
    now = now or timezone.now()
    return SupplementRequest.objects.filter(application__case=case, filed_at__isnull=True, due_at__lte=now).exists()


def _judge_court_ids(user: User) -> set[int]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(
        Membership.objects.filter(
            user=user, is_active=True, role__in=[Role.JUDGE, Role.COURT_PRESIDENT],
            organisation__kind=OrganisationKind.COURT,
        ).values_list("organisation_id", flat=True)
    )


# --- The judge's inbox ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    row: CaseRow
    application: ConfirmationApplication | None
    lapsed: bool  # the supplement deadline passed with nothing filed: deemed withdrawal may be offered

    @property
    def case(self) -> Case:
        return self.row.case

    @property
    def overdue(self) -> bool:
        return self.row.overdue


@dataclass(frozen=True)
class CourtInbox:
    page: object
    rows: list[InboxRow]
    status: str  # "" for every pending application
    counts: list[tuple[str, str, int]]  # (status, label, count) for every inbox status


def court_inbox_for_judge(
    *, user: User, status: str = "", page_number: str | int | None = 1, now: dt.datetime | None = None
) -> CourtInbox:
    """Applications at the user's court(s), overdue first, then due soonest; by default those that wait on
    the court. For judges and presidents; anyone else is refused. A constant number of queries."""
    now = now or timezone.now()
    court_ids = _judge_court_ids(user)
    if not court_ids:
        raise NotFound(_("只有人民法院的法官可以查看司法确认申请。"))
    statuses = [status] if status in INBOX_STATUSES else list(PENDING_STATUSES)
    at_court = Case.objects.filter(court_id__in=court_ids)
    counted = dict(
        at_court.filter(status__in=INBOX_STATUSES).values_list("status").annotate(n=Count("pk")).values_list(
            "status", "n")
    )
    page, rows = case_rows_page(at_court.filter(status__in=statuses), page_number, now=now)
    ids = [row.case.pk for row in rows]
    applications = {a.case_id: a for a in ConfirmationApplication.objects.filter(case_id__in=ids)}
    lapsed = set(
        SupplementRequest.objects.filter(
            application__case_id__in=ids, application__case__status=S.JC_SUPPLEMENT_REQUESTED,
            filed_at__isnull=True, due_at__lte=now,
        ).values_list("application__case_id", flat=True)
    )
    return CourtInbox(
        page=page,
        rows=[InboxRow(row=row, application=applications.get(row.case.pk), lapsed=row.case.pk in lapsed)
              for row in rows],
        status=status if status in INBOX_STATUSES else "",
        counts=[(s, str(CaseStatus(s).label), counted.get(s, 0)) for s in INBOX_STATUSES],
    )


# --- One application under review --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckItem:
    label: str
    present: bool
    rule: str
    detail: str = ""


@dataclass(frozen=True)
class JointRecord:
    room: Room
    entries: list[RecordEntry]
    confirmations: list[RecordConfirmation]

    @property
    def verification(self) -> bool:
        """The court's joint verification session (Interp 356), not a mediation session."""
        return self.room.session.purpose == SessionPurpose.VERIFICATION


@dataclass(frozen=True)
class AgreementForReview:
    """The agreement the parties applied to have confirmed, clause by clause with each party's assent to its
    wording: what the judge reads (the drafting page itself is the parties' and the mediator's only)."""

    agreement: Agreement | None
    rows: list[ClauseRow]
    warnings: list[AgreementWarning]  # about the agreement as a whole


def _agreement_for_review(case: Case, parties: list[Party]) -> AgreementForReview:
    clauses = AgreementClause.objects.select_related("obligor", "obligee").prefetch_related(
        Prefetch("assents", queryset=ClauseAssent.objects.order_by("assented_at"))
    ).order_by("number")
    agreement = (
        Agreement.objects.filter(case=case).exclude(status=AgreementStatus.SUPERSEDED)
        .select_related("case").prefetch_related(Prefetch("clauses", queryset=clauses))
        .order_by("-version").first()
    )
    if agreement is None:
        return AgreementForReview(agreement=None, rows=[], warnings=[])
    listed = list(agreement.clauses.all())
    findings = agreement_warnings(agreement, listed)
    rows = []
    for clause in listed:
        given = {a.party_id for a in clause.assents.all() if a.content_sha256 == clause.content_sha256}
        rows.append(ClauseRow(
            clause=clause, wording=clause_text(clause), warnings=[w for w in findings if w.clause == clause.number],
            cells=[(p, p.pk in given) for p in parties], mine=[],
        ))
    return AgreementForReview(agreement=agreement, rows=rows, warnings=[w for w in findings if w.clause is None])


@dataclass
class ApplicationReview:
    case: Case
    application: ConfirmationApplication | None
    parties: list[Party]
    clocks: list[Clock]
    agreement: AgreementForReview
    checklist: list[CheckItem]
    exclusions: list[AgreementWarning]  # Interp 355 warnings on the agreement
    jurisdiction: list[CheckItem]
    records: list[JointRecord]
    supplements: list[SupplementRequest]
    inquiries: list[ConfirmationInquiry]
    window_last_day: dt.date | None
    late: bool
    lapsed: bool
    is_judge: bool
    is_president: bool
    verifications: list[MediationSession] = field(default_factory=list)  # Interp 356 sessions, newest first
    not_accept_grounds: list[tuple[str, str]] = field(default_factory=list)
    inquiry_kinds: list[tuple[str, str]] = field(default_factory=list)
    dismissal_grounds: list[tuple[str, str]] = field(default_factory=list)

    @property
    def can_accept(self) -> bool:
        return self.is_judge and self.case.status == S.JC_SUBMITTED

    @property
    def can_rule(self) -> bool:
        return self.is_judge and self.case.status == S.JC_UNDER_REVIEW

    @property
    def can_allow_withdrawal(self) -> bool:
        return self.is_judge and self.case.status in WITHDRAWABLE_STATUSES

    @property
    def can_extend(self) -> bool:
        return (
            self.is_president and self.case.status == S.JC_UNDER_REVIEW
            and self.application is not None and not self.application.extension_days
        )


def _exclusions(agreement: AgreementForReview) -> list[AgreementWarning]:
    """The drafting checks that bear on confirmation: Interp 355 exclusions (personal status, ownership of
    property or IP) and Interp 358(5) unclear content, as the mediator saw them."""
    found = list(agreement.warnings) + [w for row in agreement.rows for w in row.warnings]
    return [w for w in found if "355" in w.rule or "358" in w.rule]


def _checklist(case: Case, parties: list[Party], agreement: AgreementForReview,
               application: ConfirmationApplication | None) -> list[CheckItem]:
    """Interp 354 and JC-2011 3: what an application must carry. The documents themselves are listed beside
    it (the documents app renders and verifies them); this says whether each kind of material is there."""
    evidence_count = Evidence.objects.filter(case=case).count()
    ids_ok = all(p.id_number or p.uscc for p in parties)
    contacts_ok = all(p.phone and (p.service_address or p.address) for p in parties)
    agreement_ok = agreement.agreement is not None and case.agreement_effective_at is not None
    return [
        CheckItem(_("司法确认申请书（双方共同签署）"), application is not None and bool(application.document_id),
                  "CPL 205; JC-2011 3"),
        CheckItem(_("调解协议（已生效）"), agreement_ok, "Interp 354"),
        CheckItem(_("调解组织主持调解的证明"), case.mediation_organisation_id is not None, "Interp 354",
                  detail=case.mediation_organisation.name if case.mediation_organisation else ""),
        CheckItem(_("与调解协议相关的财产权利证明"), evidence_count > 0, "Interp 354",
                  detail=_("案件材料%(n)d件，请核对是否包含权属证明。") % {"n": evidence_count}),
        CheckItem(_("双方当事人的身份证明"), ids_ok, "Interp 354"),
        CheckItem(_("双方当事人的住所、联系方式及送达地址"), contacts_ok, "Interp 354; JC-2011 3"),
    ]


def _jurisdiction(case: Case) -> list[CheckItem]:
    """CPL 205: the basic court where the organisation is (or the referring court for a delegated case);
    Interp 352: where several organisations took part, the court first filed. A prompt for the judge."""
    org = case.mediation_organisation
    items = []
    if case.origin == CaseOrigin.DELEGATED:
        items.append(CheckItem(_("委派调解：由委派的人民法院管辖"), True, "CPL 205(1)", detail=case.court.name))
    elif org is not None:
        seat = org.parent if org.parent is not None and org.parent.is_court else None
        items.append(CheckItem(
            _("调解组织所在地基层人民法院管辖"), seat is None or seat.pk == case.court_id, "CPL 205(2)",
            detail=_("调解组织：%(org)s；所属法院：%(court)s") % {
                "org": org.name, "court": seat.name if seat is not None else _("未登记，请核实")},
        ))
    items.append(CheckItem(
        _("多个调解组织参与的，由当事人选择其中一个所在地法院；向两个以上法院申请的，由最先立案的法院管辖"), True,
        "Interp 352", detail=_("请核实当事人是否向其他法院提出过申请。"),
    ))
    return items


def _records(case: Case) -> list[JointRecord]:
    """The joint record of each session and the parties' confirmations of it; caucus entries not released
    by their side stay out (they were never part of the shared record)."""
    rooms = list(Room.objects.filter(case=case).select_related("session").order_by("pk"))
    entries = list(RecordEntry.objects.filter(case=case).order_by("pk"))
    replaced = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    confirmations = list(RecordConfirmation.objects.filter(room__case=case).select_related("party").order_by("pk"))
    return [
        JointRecord(
            room=room,
            entries=[e for e in entries if e.room_id == room.pk and e.pk not in replaced
                     and (not e.caucus_side or e.released_at is not None)],
            confirmations=[c for c in confirmations if c.room_id == room.pk],
        )
        for room in rooms
    ]


def confirmation_review_for_user(*, user: User, case_id: int, now: dt.datetime | None = None) -> ApplicationReview:
    """Everything the review page shows a judge (or president) of the case's court."""
    now = now or timezone.now()
    case = Case.objects.select_related("court", "mediation_organisation__parent").filter(pk=case_id).first()
    roles = case_roles(user, case) if case is not None else set()
    if case is None or tr.JUDGE not in roles or case.status not in INBOX_STATUSES:
        raise NotFound(_("申请不存在或您无权查看。"))
    application = ConfirmationApplication.objects.filter(case=case).select_related(
        "accepted_by", "decided_by", "extension_approved_by").first()
    parties = sorted(Party.objects.filter(case=case).prefetch_related("agents"), key=lambda p: (p.role, p.pk))
    agreement = _agreement_for_review(case, parties)
    overrides = calendar.load_overrides()
    timers = Timer.objects.filter(live_timer_q(), case=case).select_related("case").order_by("due_at", "pk")
    clocks = [clock_for(t, now=now, overrides=overrides) for t in timers]
    last_day = application_window_last_day(case)
    late = bool(application and last_day and calendar.local_day(application.submitted_at) > last_day)
    return ApplicationReview(
        case=case, application=application, parties=parties, clocks=clocks, agreement=agreement,
        checklist=_checklist(case, parties, agreement, application), exclusions=_exclusions(agreement),
        jurisdiction=_jurisdiction(case), records=_records(case),
        supplements=list(SupplementRequest.objects.filter(application__case=case).select_related(
            "requested_by", "filed_by")),
        inquiries=list(ConfirmationInquiry.objects.filter(application__case=case).select_related(
            "asked_by", "answered_by", "organisation", "evidence")),
        window_last_day=last_day, late=late, lapsed=supplement_lapsed(case, now=now),
        is_judge=True, is_president=tr.PRESIDENT in roles,
        verifications=list(MediationSession.objects.filter(case=case, purpose=SessionPurpose.VERIFICATION)
                           .select_related("created_by").order_by("-starts_at", "-pk")),
        not_accept_grounds=[(c.value, str(c.label)) for c in NotAcceptGround],
        dismissal_grounds=[(c.value, str(c.label)) for c in DismissalGround],
        inquiry_kinds=[(c.value, str(c.label)) for c in InquiryKind],
    )


# --- What a party sees -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyApplicationView:
    """What the case page shows a party (or the presiding organisation's administrator, who sees only what
    the court asks of the organisation) about the application."""

    status_label: str
    case_number: str
    open_request: SupplementRequest | None
    may_file: bool
    inquiries: list[ConfirmationInquiry] = field(default_factory=list)  # addressed to this reader
    may_answer: bool = False
    withdrawal_requested_at: dt.datetime | None = None
    may_request_withdrawal: bool = False
    objection_due: dt.date | None = None  # T13, once the confirmation ruling was served
    is_party: bool = True
    window_days: int = CONFIRMATION_WINDOW_DAYS
    third_party_months: int = THIRD_PARTY_OBJECTION_MONTHS


def confirmation_for_party(*, user: User, case: Case) -> PartyApplicationView | None:
    """A party's own application: where it stands, what the court asks of them, the withdrawal request and
    the objection window. For the presiding organisation's administrator: the court's verification requests.
    None for anyone else, or where nothing was applied for."""
    roles = case_roles(user, case)
    is_party, is_org_admin = tr.PARTY in roles, tr.ORG_ADMIN in roles
    if not (is_party or is_org_admin):
        return None
    application = ConfirmationApplication.objects.filter(case=case).first()
    if application is None:
        return None
    kinds = ([InquiryKind.SHAM_EVIDENCE] if is_party else []) + ([InquiryKind.ORG_VERIFY] if is_org_admin else [])
    inquiries = list(application.inquiries.filter(kind__in=kinds).select_related("evidence"))
    may_answer = case.status == S.JC_UNDER_REVIEW and (
        (is_party and tr.PARTY_AUTHORISED in roles) or is_org_admin
    )
    if not is_party:
        return PartyApplicationView(
            status_label=str(CaseStatus(case.status).label), case_number=application.case_number,
            open_request=None, may_file=False, inquiries=inquiries, may_answer=may_answer, is_party=False,
        )
    open_request = None
    if case.status == S.JC_SUPPLEMENT_REQUESTED:
        open_request = application.supplements.filter(filed_at__isnull=True).order_by("-requested_at").first()
    objection = None
    if case.status == S.OBJECTION_WINDOW:
        timer = Timer.objects.filter(live_timer_q(), case=case, kind=TimerKind.JC_OBJECTION).first()
        objection = calendar.last_day(timer.due_at) if timer is not None and timer.due_at is not None else None
    return PartyApplicationView(
        status_label=str(CaseStatus(case.status).label), case_number=application.case_number,
        open_request=open_request, may_file=open_request is not None and tr.PARTY_AUTHORISED in roles,
        inquiries=inquiries, may_answer=may_answer,
        withdrawal_requested_at=application.withdrawal_requested_at,
        may_request_withdrawal=(case.status in WITHDRAWABLE_STATUSES and tr.PARTY_AUTHORISED in roles
                                and application.withdrawal_requested_at is None),
        objection_due=objection,
    )


@dataclass(frozen=True)
class GuidanceRow:
    """A mediator's open request for the court's live guidance, as a judge of that court sees it."""

    request: GuidanceRequest
    case: Case
    session_id: int


def guidance_requests_for_judge(*, user: User) -> list[GuidanceRow]:
    """The open requests for live guidance from mediation sessions of cases at the user's court(s), oldest
    first; empty for anyone who is not a judge. Two queries."""
    court_ids = _judge_court_ids(user)
    if not court_ids:
        return []
    rows = (
        GuidanceRequest.objects.filter(case__court_id__in=court_ids, status=GuidanceStatus.OPEN)
        .select_related("case", "room", "requested_by").order_by("created_at", "pk")
    )
    return [GuidanceRow(request=r, case=r.case, session_id=r.room.session_id) for r in rows]
