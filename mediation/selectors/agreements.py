"""Reading a case's agreement: only its parties, their agents and its mediators see the draft (the content of
mediation is not public, Interp 146), with clauses, assents and the drafting checks in a constant number of
queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.agreement_rules import AgreementWarning, agreement_warnings
from mediation.agreement_text import clause_text
from mediation.choices import AgreementStatus, CaseStatus
from mediation.exceptions import PermissionDenied
from mediation.models import Agreement, AgreementClause, Case, CaseMediator, ClauseAssent, Party, User
from mediation.permissions import case_roles
from mediation.selectors.cases import case_get_for_user
from mediation.services.agreements import acting_parties, missing_assent_messages

READERS = frozenset({tr.PARTY, tr.MEDIATOR})


def agreement_current_for_user(*, user: User, case_id: int) -> tuple[Case, Agreement | None]:
    """The case and its current agreement version (None before drafting starts), clauses in order with their
    parties and assents prefetched. Outsiders and people with no role on the case get the same refusal as for
    an absent case; clerks, judges and organisation staff see the signed document, not the draft."""
    case = case_get_for_user(user=user, case_id=case_id)
    if not case_roles(user, case) & READERS:
        raise PermissionDenied(_("只有本案当事人、代理人和调解员可以查看调解协议草稿。"), case=case)
    clauses = AgreementClause.objects.select_related("obligor", "obligee").prefetch_related(
        Prefetch("assents", queryset=ClauseAssent.objects.order_by("assented_at"))
    ).order_by("number")
    agreement = (
        Agreement.objects.filter(case=case)
        .exclude(status=AgreementStatus.SUPERSEDED)
        .select_related("case", "case__court", "case__mediation_organisation")
        .prefetch_related(Prefetch("clauses", queryset=clauses))
        .order_by("-version")
        .first()
    )
    return case, agreement


@dataclass
class ClauseRow:
    clause: AgreementClause
    wording: str
    warnings: list[AgreementWarning]
    # (party, assented to the current wording) for every party of the case
    cells: list[tuple[Party, bool]]
    # (party, may assent for it, assented) for the parties the viewer acts for
    mine: list[tuple[Party, bool, bool]]


@dataclass
class AgreementView:
    case: Case
    agreement: Agreement | None
    parties: list[Party]
    is_mediator: bool
    is_presiding: bool
    acting: list[tuple[Party, bool]]
    rows: list[ClauseRow] = field(default_factory=list)
    warnings: list[AgreementWarning] = field(default_factory=list)  # about the agreement as a whole
    errors: list[AgreementWarning] = field(default_factory=list)  # every error, clause ones included
    blockers: list[str] = field(default_factory=list)
    progress: list[tuple[Party, int, int]] = field(default_factory=list)  # (party, assented, clauses)

    @property
    def editable(self) -> bool:
        return (
            self.is_mediator and self.agreement is not None and self.agreement.status == AgreementStatus.DRAFTING
            and self.case.status == CaseStatus.AGREEMENT_DRAFT
        )

    @property
    def can_start(self) -> bool:
        drafting = self.agreement is not None and self.agreement.status == AgreementStatus.DRAFTING
        return self.is_presiding and (
            self.case.status == CaseStatus.IN_MEDIATION
            or (self.case.status == CaseStatus.AGREEMENT_DRAFT and not drafting)
        )

    @property
    def assenting_open(self) -> bool:
        return (
            self.agreement is not None and self.agreement.status == AgreementStatus.DRAFTING
            and self.case.status == CaseStatus.AGREEMENT_DRAFT
        )

    @property
    def can_revise(self) -> bool:
        return self.is_presiding and self.agreement is not None and self.agreement.status == AgreementStatus.FROZEN


def agreement_view_for_user(*, user: User, case_id: int) -> AgreementView:
    """Everything the agreement page and the room's panel show to ``user``: the clauses with their wording,
    who assented to which, the drafting checks and what still blocks signing."""
    case, agreement = agreement_current_for_user(user=user, case_id=case_id)
    roles = case_roles(user, case)
    is_mediator = tr.MEDIATOR in roles
    view = AgreementView(
        case=case, agreement=agreement,
        parties=sorted(Party.objects.filter(case=case), key=lambda p: (p.role, p.pk)),
        is_mediator=is_mediator,
        is_presiding=is_mediator and CaseMediator.objects.filter(
            case=case, mediator=user, is_active=True, presiding=True
        ).exists(),
        acting=acting_parties(case=case, user=user),
    )
    if agreement is None:
        return view
    clauses = list(agreement.clauses.all())
    findings = agreement_warnings(agreement, clauses)
    view.warnings = [w for w in findings if w.clause is None]
    view.errors = [w for w in findings if w.is_error]
    counts = {p.pk: 0 for p in view.parties}
    for clause in clauses:
        given = {a.party_id for a in clause.assents.all() if a.content_sha256 == clause.content_sha256}
        for party_id in given & counts.keys():
            counts[party_id] += 1
        view.rows.append(ClauseRow(
            clause=clause, wording=clause_text(clause),
            warnings=[w for w in findings if w.clause == clause.number],
            cells=[(p, p.pk in given) for p in view.parties],
            mine=[(p, may, p.pk in given) for p, may in view.acting],
        ))
    view.progress = [(p, counts[p.pk], len(clauses)) for p in view.parties]
    waiting = {row.clause.number: [p.name for p, ok in row.cells if not ok] for row in view.rows}
    view.blockers = [w.message for w in view.errors] + missing_assent_messages(
        {number: names for number, names in waiting.items() if names}
    )
    return view
