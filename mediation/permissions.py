"""Object-level permission predicates, used by selectors, views, consumers and services alike.

Roles on a case are relative to that case: a judge of another court, a mediator of another case or the
other side's party holds none of the roles that matter here. Platform admins see no case content by
default (legal-rules §B2, §B10).
"""

from __future__ import annotations

from mediation import transitions as tr
from mediation.choices import AgentAuthority, PartyRole, Role
from mediation.models import Agent, Case, CaseMediator, Membership, Party, User


def case_roles(user: User | None, case: Case) -> set[str]:
    """The case-relative roles ``user`` holds on ``case`` (names from ``mediation.transitions``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    roles: set[str] = set()
    for party in Party.objects.filter(case=case, user=user):
        roles |= {tr.PARTY, tr.PARTY_AUTHORISED, _side(party.role)}
    for agent in Agent.objects.filter(party__case=case, user=user).select_related("party"):
        roles |= {tr.PARTY, _side(agent.party.role)}
        if agent.authority == AgentAuthority.SPECIAL:
            roles.add(tr.PARTY_AUTHORISED)
    if CaseMediator.objects.filter(case=case, mediator=user, is_active=True).exists():
        roles.add(tr.MEDIATOR)
    staff_roles = set(
        Membership.objects.filter(user=user, is_active=True, organisation_id=case.court_id).values_list(
            "role", flat=True
        )
    )
    if Role.CLERK in staff_roles:
        roles.add(tr.CLERK)
    if staff_roles & {Role.JUDGE, Role.COURT_PRESIDENT}:
        roles.add(tr.JUDGE)
    if Role.COURT_PRESIDENT in staff_roles:
        roles.add(tr.PRESIDENT)
    if case.mediation_organisation_id and Membership.objects.filter(
        user=user, is_active=True, organisation_id=case.mediation_organisation_id, role=Role.ORG_ADMIN
    ).exists():
        roles.add(tr.ORG_ADMIN)
    return roles


def _side(party_role: str) -> str:
    return tr.APPLICANT if party_role == PartyRole.APPLICANT else tr.RESPONDENT


def can_view_case(user: User | None, case: Case) -> bool:
    return bool(case_roles(user, case))


def can_take_transition(user: User | None, case: Case, transition: tr.Transition) -> bool:
    if user is None:
        return tr.SYSTEM in transition.roles
    return bool(case_roles(user, case) & transition.roles)


def may_take_action(user: User | None, case: Case, action: str) -> bool:
    """Whether ``user`` holds a role that the table's ``action`` rows allow on ``case``, whatever its status
    now: the services and pages ask this first, so the rule is the table's and a refusal says who may."""
    return bool(case_roles(user, case) & tr.roles_for(action))


def case_transitions_for(user: User | None, case: Case) -> list[tr.Transition]:
    """The table rows ``user`` may take on ``case`` from its current status, in the table's order."""
    rows = tr.transitions_from(source=case.status, origin=case.origin)
    if user is None:
        return [row for row in rows if tr.SYSTEM in row.roles]
    roles = case_roles(user, case)
    return [row for row in rows if roles & row.roles]


def can_see_full_id_number(user: User | None, party: Party) -> bool:
    """Only the person the number belongs to sees it in full."""
    return user is not None and user.is_authenticated and party.user_id == user.pk
