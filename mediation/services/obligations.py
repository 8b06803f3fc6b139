"""The schedule of obligations, made when the agreement takes effect (PML 31; legal-rules §B3, §B7).

Called by ``case_transition`` inside the transaction that moves a case to AGREEMENT_EFFECTIVE, so a case with
an effective agreement always has its schedule. Below ``cases`` (imports no service that moves a case): what
the parties report against the schedule is ``mediation.services.performance``.
"""

from __future__ import annotations

from mediation.choices import AgreementStatus, ClauseKind
from mediation.models import Agreement, Case, Obligation, User
from mediation.services.audit import audit_append

# Clauses that bind someone to do something. A waiver or a closing statement ("no further claims") binds no one
# to act, so it is not tracked; any other clause that names an obligor (costs, a guarantee) is.
OBLIGATION_KINDS = frozenset({ClauseKind.PAYMENT, ClauseKind.PERFORMANCE})


def effective_agreement(case: Case) -> Agreement | None:
    """The frozen agreement in force: the newest frozen version nothing superseded."""
    return (
        Agreement.objects.filter(case=case, status=AgreementStatus.FROZEN, superseded_by__isnull=True)
        .order_by("-version").first()
    )


def obligations_schedule(*, case: Case, actor: User | None) -> list[Obligation]:
    """Copy each obligation-bearing clause of the effective agreement into an ``Obligation``: amount, due date,
    instalment wording, obligor and obligee exactly as the clause states them (a clause without a deadline
    gives an obligation without a due date; instalment wording is kept verbatim, not split into dates the
    parties never wrote). Idempotent: a clause already scheduled is skipped. Runs in the caller's transaction.
    """
    agreement = effective_agreement(case)
    if agreement is None:
        return []
    scheduled = set(Obligation.objects.filter(case=case).values_list("clause_id", flat=True))
    created: list[Obligation] = []
    for clause in agreement.clauses.order_by("number"):
        if clause.pk in scheduled:
            continue
        if clause.kind not in OBLIGATION_KINDS and clause.obligor_id is None:
            continue
        created.append(Obligation.objects.create(
            case=case, agreement=agreement, clause=clause, number=clause.number, kind=clause.kind,
            obligor_id=clause.obligor_id, obligee_id=clause.obligee_id, subject=clause.subject or clause.text,
            amount=clause.amount, due_date=clause.deadline, instalments=clause.instalments,
        ))
    if created:
        audit_append(
            kind="performance.scheduled", actor=actor, case=case,
            data={"agreement": agreement.pk, "obligations": [
                {"obligation": o.pk, "clause": o.number, "amount": str(o.amount) if o.amount is not None else None,
                 "due_date": o.due_date.isoformat() if o.due_date else None} for o in created
            ], "rule": "PML 31"},
        )
    return created
