"""Reads of performance after an agreement (PML 31-33; CPL 250; legal-rules §B3, §B4 T15).

``enforceable_title`` is the one answer to "can a default on this case be enforced by a court?": an agreement
only the parties signed binds them as a contract (PML 31-32) and can be sued on, not enforced; a judicial
confirmation ruling (CPL 206; PML 33) or a court 调解书 (CPL 100) can. Other code adds a kind of title by
appending a finder to ``TITLE_FINDERS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mediation import calendar
from mediation.choices import AgentAuthority, ConfirmationOutcome, ObligationStatus
from mediation.models import AuditEvent, Case, ConfirmationApplication, Obligation, Party, PaymentProof, User

# CPL 250: two years to apply for enforcement.
ENFORCEMENT_LIMIT_YEARS = 2
# Reminders before a due date: this many days ahead, and on the day itself.
REMINDER_DAYS_AHEAD = 3


@dataclass(frozen=True)
class EnforceableTitle:
    """A 执行依据: what a court enforces (CPL 206, 250; Interp 460)."""

    kind: str  # "jc_ruling" or "court_mediation" (民事调解书)
    label: str  # e.g. 民事裁定书（确认调解协议有效）
    number: str  # the court's case number, as the court gave it ("" when not recorded)
    court: str  # the court that issued it: it, or a same-level court where the property is, enforces (Interp 460)
    decided_on: dt.date | None
    effective_on: dt.date | None  # when the title took effect (service of the ruling), if recorded
    rule: str


def _confirmation_ruling(case: Case) -> EnforceableTitle | None:
    """A ruling that the agreement is valid (CPL 206; the case reached JC_CONFIRMED)."""
    application = ConfirmationApplication.objects.filter(case=case, outcome=ConfirmationOutcome.CONFIRMED).first()
    if application is None or application.decided_at is None:
        return None
    served = application.ruling_served_at
    return EnforceableTitle(
        kind="jc_ruling", label=_("民事裁定书（确认调解协议有效）"), number=application.case_number,
        court=case.court.name, decided_on=calendar.local_day(application.decided_at),
        effective_on=calendar.local_day(served) if served else None, rule="CPL 206; PML 33",
    )


def _court_mediation_document(case: Case) -> EnforceableTitle | None:
    """A 民事调解书 every party signed for (CPL 100 para 3; Interp 149): recorded by
    ``services.court_filed.mediation_document_signed_for`` as ``mediation_document.effective``."""
    event = (AuditEvent.objects.filter(case_id=case.pk, kind="mediation_document.effective")
             .order_by("-seq").first())
    if event is None:
        return None
    effective_at = parse_datetime(str(event.data.get("effective_at") or ""))
    served_at = parse_datetime(str(event.data.get("served_at") or ""))
    day = calendar.local_day(effective_at) if effective_at is not None else None
    return EnforceableTitle(
        kind="court_mediation", label=_("民事调解书"), number=str(event.data.get("number") or ""),
        court=str(event.data.get("court") or case.court.name),
        decided_on=calendar.local_day(served_at) if served_at is not None else day, effective_on=day,
        rule="CPL 100; Interp 149",
    )


# Each finder returns the case's title of its kind, or None. The first found wins.
TITLE_FINDERS: list[Callable[[Case], EnforceableTitle | None]] = [_confirmation_ruling, _court_mediation_document]


def enforceable_title(case: Case) -> EnforceableTitle | None:
    """The court title a default on ``case`` can be enforced on, or None: then the agreement binds as a
    contract only (PML 31-33) and the remedy is a suit on it (PML 32)."""
    for finder in TITLE_FINDERS:
        title = finder(case)
        if title is not None:
            return title
    return None


@dataclass(frozen=True)
class EnforcementLimit:
    """CPL 250's two years (T15): counted from the last day of the performance period (for instalments, the
    last instalment's day); with no period stated, from the day the title took effect."""

    start: dt.date | None  # the day the period is counted from (not itself counted, CPL 85)
    last_day: dt.date | None
    basis: str  # which rule of CPL 250 picked the start

    def lapsed(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.last_day is not None and today > self.last_day


def enforcement_limit(case: Case, title: EnforceableTitle | None) -> EnforcementLimit:
    due_dates = [d for d in Obligation.objects.filter(case=case).values_list("due_date", flat=True) if d]
    if due_dates:
        start: dt.date | None = max(due_dates)
        basis = _("自协议约定的最后履行期限（分期履行的，最后一期履行期限）届满之日起计算")
    elif title is not None:
        start = title.effective_on or title.decided_on
        basis = _("协议未约定履行期限，自法律文书生效之日起计算")
    else:
        return EnforcementLimit(start=None, last_day=None, basis="")
    last = calendar.years_period_end(start, ENFORCEMENT_LIMIT_YEARS) if start else None
    return EnforcementLimit(start=start, last_day=last, basis=basis)


# --- Who acts for which side ---------------------------------------------------------------------------------


def parties_acting(*, user: User, case: Case, authorised: bool) -> set[int]:
    """The parties of ``case`` ``user`` acts for: in person, or as an agent (with special authority when
    ``authorised``: confirming receipt or reporting a default disposes of the party's claim, CPL 62)."""
    agent_filter = Q(agents__user=user)
    if authorised:
        agent_filter &= Q(agents__authority=AgentAuthority.SPECIAL)
    return set(Party.objects.filter(case=case).filter(Q(user=user) | agent_filter).values_list("pk", flat=True))


# --- The case page's block -------------------------------------------------------------------------------------


@dataclass
class ObligationRow:
    obligation: Obligation
    overdue: bool
    state_label: str
    state_class: str  # for the badge: open, due, overdue, proof, performed, defaulted
    proofs: list[PaymentProof] = field(default_factory=list)
    may_confirm: bool = False
    may_report_default: bool = False
    may_upload_proof: bool = False


@dataclass
class CasePerformance:
    rows: list[ObligationRow]
    title: EnforceableTitle | None
    limit: EnforcementLimit
    limit_lapsed: bool
    any_default: bool
    performed_all: bool


def obligation_is_overdue(obligation: Obligation, today: dt.date) -> bool:
    return (obligation.status in (ObligationStatus.OPEN, ObligationStatus.PROOF_SUBMITTED)
            and obligation.due_date is not None and today > obligation.due_date)


def case_performance(*, user: User, case: Case) -> CasePerformance | None:
    """The schedule of ``case`` as ``user`` sees it (the caller has checked they may view the case): each
    obligation's state and what this user may do on it. None when the case has no schedule. Four queries."""
    obligations = list(
        Obligation.objects.filter(case=case).select_related("obligor", "obligee", "confirmed_by", "defaulted_by")
        .order_by("number")
    )
    if not obligations:
        return None
    proofs: dict[int, list[PaymentProof]] = {}
    for proof in PaymentProof.objects.filter(obligation__case=case).select_related("evidence").order_by("uploaded_at"):
        proofs.setdefault(proof.obligation_id, []).append(proof)
    acting = parties_acting(user=user, case=case, authorised=False)
    authorised = parties_acting(user=user, case=case, authorised=True)
    today = timezone.localdate()
    rows = []
    for obligation in obligations:
        overdue = obligation_is_overdue(obligation, today)
        open_ = obligation.status in (ObligationStatus.OPEN, ObligationStatus.PROOF_SUBMITTED)
        label: str
        if obligation.status == ObligationStatus.PERFORMED:
            label, css = str(ObligationStatus.PERFORMED.label), "performed"
        elif obligation.status == ObligationStatus.DEFAULTED:
            label, css = str(ObligationStatus.DEFAULTED.label), "defaulted"
        elif overdue:
            label, css = _("已逾期，尚未确认履行"), "overdue"
        elif obligation.status == ObligationStatus.PROOF_SUBMITTED:
            label, css = str(ObligationStatus.PROOF_SUBMITTED.label), "proof"
        elif obligation.due_date is not None and obligation.due_date == today:
            label, css = _("今日到期"), "due"
        else:
            label, css = str(ObligationStatus.OPEN.label), "open"
        rows.append(ObligationRow(
            obligation=obligation, overdue=overdue, state_label=label, state_class=css,
            proofs=proofs.get(obligation.pk, []),
            may_confirm=open_ and obligation.obligee_id in authorised,
            may_report_default=open_ and obligation.obligee_id in authorised
            and (obligation.due_date is None or today > obligation.due_date),
            may_upload_proof=open_ and obligation.obligor_id in acting,
        ))
    title = enforceable_title(case)
    limit = enforcement_limit(case, title)
    return CasePerformance(
        rows=rows, title=title, limit=limit, limit_lapsed=title is not None and limit.lapsed(today),
        any_default=any(o.status == ObligationStatus.DEFAULTED for o in obligations),
        performed_all=all(o.status == ObligationStatus.PERFORMED for o in obligations),
    )
