"""Object-level permission predicates and access helpers, used by selectors, views, consumers and services alike.

Roles on a case are relative to that case: a judge of another court, a mediator of another case or the
other side's party holds none of the roles that matter here. Platform admins see no case content by
default (legal-rules §B2, §B10). An access helper (``access_session_place``) fetches something *for a user*
and raises one ``NotFound`` for "absent" and "not yours" alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import AgentAuthority, GuidanceStatus, ParticipantRole, PartyRole, Role, SessionPurpose
from mediation.exceptions import NotFound
from mediation.models import (
    Agent,
    Case,
    CaseHelper,
    CaseMediator,
    GuidanceRequest,
    MediationSession,
    Membership,
    Party,
    SessionParticipant,
    User,
)

# People a session invites besides the case's own: they need every party's consent (PML 20).
INVITED_ROLES = frozenset({ParticipantRole.INTERPRETER, ParticipantRole.HELPER})
# A party in person or through its agent: who may consent, confirm the record or release caucus entries.
PARTY_ROLES = frozenset({ParticipantRole.PARTY, ParticipantRole.AGENT})


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


# --- places in a mediation session --------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    role: str
    side: str
    party: Party | None
    name: str


def session_place(*, session: MediationSession, user: User | None) -> Place | None:
    """The place ``user`` holds in ``session``: an active mediator of the case, a party, an agent, or an
    interpreter/helper invited to this very session. In a verification session (Interp 356) a judge of the
    case's court presides and the mediator has no place. In a mediation session a judge of the case's court
    has a place as 法官（指导） only while the mediator's request for guidance is open. None for everyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    case_id = session.case_id
    verification = session.purpose == SessionPurpose.VERIFICATION
    if verification:
        if _is_court_judge(user, session.case_id):
            return Place(ParticipantRole.JUDGE, "", None, user.display_name)
    elif CaseMediator.objects.filter(case_id=case_id, mediator=user, is_active=True).exists():
        return Place(ParticipantRole.MEDIATOR, "", None, user.display_name)
    party = Party.objects.filter(case_id=case_id, user=user).order_by("pk").first()
    if party is not None:
        return Place(ParticipantRole.PARTY, party.role, party, party.name or user.display_name)
    agent = Agent.objects.filter(party__case_id=case_id, user=user).select_related("party").order_by("pk").first()
    if agent is not None:
        return Place(ParticipantRole.AGENT, agent.party.role, agent.party, agent.name or user.display_name)
    helper = helper_of(user, case_id)
    if helper is not None:
        return Place(helper.role, helper.assists.role, helper.assists, helper.name or user.display_name)
    invited = (
        SessionParticipant.objects.filter(session=session, user=user, role__in=INVITED_ROLES)
        .select_related("party").order_by("pk").first()
    )
    if invited is not None:
        side = invited.party.role if invited.party is not None else ""
        return Place(invited.role, side, invited.party, user.display_name)
    if (
        not verification
        and GuidanceRequest.objects.filter(room__session=session, status=GuidanceStatus.OPEN).exists()
        and _is_court_judge(user, case_id)
    ):
        return Place(ParticipantRole.JUDGE_GUIDE, "", None, user.display_name)
    return None


def helper_of(user: User | None, case: Case | int) -> CaseHelper | None:
    """``user``'s active place as an interpreter or helper on ``case`` (a ``CaseHelper`` linked to the party
    they assist), or None. A helper holds no case role: they follow their party in the room and never act
    for it (no assent, no signature)."""
    if user is None or not user.is_authenticated:
        return None
    case_id = case.pk if isinstance(case, Case) else case
    return (
        CaseHelper.objects.filter(case_id=case_id, user=user, is_active=True)
        .select_related("assists").order_by("pk").first()
    )


def helper_refusal(user: User | None, case: Case | int) -> str | None:
    """The sentence that refuses a helper an act only a party (or its specially authorised agent) may take:
    assenting to the agreement or signing it. None when ``user`` is not a helper on ``case``."""
    helper = helper_of(user, case)
    if helper is None:
        return None
    return _(
        "您是本案的%(role)s（%(service)s），不能代表当事人对调解协议表示同意或签名："
        "只有当事人本人或其特别授权的代理人可以。请由当事人本人确认。"
    ) % {"role": ParticipantRole(helper.role).label, "service": helper.service_label}


def _is_court_judge(user: User, case_id: int) -> bool:
    """A judge (or the president) of the case's court: the JUDGE role of ``case_roles``, read for one case."""
    court_id = Case.objects.filter(pk=case_id).values_list("court_id", flat=True).first()
    return court_id is not None and Membership.objects.filter(
        user=user, is_active=True, organisation_id=court_id, role__in=(Role.JUDGE, Role.COURT_PRESIDENT)
    ).exists()


def access_session_place(*, session: MediationSession | None, user: User | None) -> Place:
    """``user``'s place in ``session``; ``NotFound`` when there is no such session or no place in it."""
    place = session_place(session=session, user=user) if session is not None else None
    if place is None:
        raise NotFound(_("调解活动不存在或您无权参加。"))
    return place


def place_key(place: Place) -> tuple[str, str, int | None]:
    """What decides what a person may see in a room: their role, side and party."""
    return place.role, place.side, place.party.pk if place.party is not None else None
