"""Selectors and predicates already filter by permission: each role sees its own cases, and the
outsider, the other court's staff and the other organisation's mediator see nothing."""

from __future__ import annotations

import pytest

from mediation import transitions as tr
from mediation.choices import AgentAuthority, CaseStatus, EndReason
from mediation.exceptions import PermissionDenied
from mediation.models import Agent
from mediation.permissions import can_see_full_id_number, case_roles
from mediation.selectors.cases import case_get_for_user, case_list_for_user
from mediation.services.cases import case_mediator_assign, case_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world):
    return world.drive(world.new_case(), CaseStatus.ACCEPTED)


def test_each_role_is_recognised_on_its_own_case(world, case):
    assert case_roles(world.applicant, case) == {tr.PARTY, tr.PARTY_AUTHORISED, tr.APPLICANT}
    assert case_roles(world.respondent, case) == {tr.PARTY, tr.PARTY_AUTHORISED, tr.RESPONDENT}
    # The respondent's lawyer holds special authority (CPL 62), so may settle for it.
    assert case_roles(world.lawyer, case) == {tr.PARTY, tr.PARTY_AUTHORISED, tr.RESPONDENT}
    assert case_roles(world.mediator, case) == {tr.MEDIATOR}
    assert case_roles(world.clerk, case) == {tr.CLERK}
    assert case_roles(world.judge, case) == {tr.JUDGE}
    assert case_roles(world.org_admin, case) == {tr.ORG_ADMIN}


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "other_judge", "other_mediator"])
def test_people_without_a_role_see_nothing(world, case, name):
    intruder = getattr(world, name)
    assert case_roles(intruder, case) == set()
    assert not case_list_for_user(user=intruder).filter(pk=case.pk).exists()
    with pytest.raises(PermissionDenied):
        case_get_for_user(user=intruder, case_id=case.pk)


def test_a_missing_case_and_a_forbidden_case_look_the_same(world, case):
    with pytest.raises(PermissionDenied) as missing:
        case_get_for_user(user=world.outsider, case_id=case.pk + 10_000)
    with pytest.raises(PermissionDenied) as forbidden:
        case_get_for_user(user=world.outsider, case_id=case.pk)
    assert str(missing.value) == str(forbidden.value)


def test_list_shows_each_case_once_for_someone_with_several_roles(world, case):
    from tests.factories import add_member

    add_member(world.mediator, world.court, "clerk")
    assert list(case_list_for_user(user=world.mediator)) == [case]


def test_inactive_users_lose_access(world, case):
    world.applicant.is_active = False
    world.applicant.save()
    assert case_roles(world.applicant, case) == set()
    assert not case_list_for_user(user=world.applicant).exists()


def test_an_agent_with_general_authority_cannot_settle_for_the_party(world, case):
    case = world.drive(case, CaseStatus.IN_MEDIATION)
    agent = Agent.objects.get(user=world.lawyer)
    agent.authority = AgentAuthority.GENERAL
    agent.save()
    assert case_roles(world.lawyer, case) == {tr.PARTY, tr.RESPONDENT}
    with pytest.raises(PermissionDenied):
        case_transition(case=case, to=CaseStatus.WITHDRAWN, actor=world.lawyer, reason=EndReason.SETTLED_AND_WITHDRAWN)
    agent.authority = AgentAuthority.SPECIAL
    agent.save()
    case_transition(case=case, to=CaseStatus.WITHDRAWN, actor=world.lawyer, reason=EndReason.SETTLED_AND_WITHDRAWN)


def test_the_applicant_cannot_answer_for_the_respondent(world):
    case = world.drive(world.new_case(one_sided=True), CaseStatus.RESPONDENT_PENDING)
    with pytest.raises(PermissionDenied):
        case_transition(case=case, to=CaseStatus.SCHEDULING, actor=world.applicant)
    case_transition(case=case, to=CaseStatus.SCHEDULING, actor=world.respondent)


def test_a_single_party_cannot_make_the_joint_choice_of_mediator(world):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with pytest.raises(PermissionDenied):
        case_mediator_assign(case=case, mediator=world.mediator, actor=world.applicant)
    assert not case.mediator_assignments.exists()


@pytest.mark.parametrize("how", ["decline", "lapse"])
def test_a_mediator_who_declines_or_lets_acceptance_lapse_loses_access(world, how):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    assert tr.MEDIATOR in case_roles(world.mediator, case)
    if how == "decline":
        case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.mediator, note="专业不符")
    else:
        case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=None)
    assert case_roles(world.mediator, case) == set()
    with pytest.raises(PermissionDenied):
        case_get_for_user(user=world.mediator, case_id=case.pk)


def test_a_newly_designated_mediator_replaces_the_old_one(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.clerk, note="当事人申请更换")
    case = case_mediator_assign(case=case, mediator=world.other_mediator, actor=world.clerk)
    assert case_roles(world.mediator, case) == set()
    assert case_roles(world.other_mediator, case) == {tr.MEDIATOR}


def test_only_the_owner_sees_the_full_id_number(world, case):
    applicant_party = case.parties.get(user=world.applicant)
    assert can_see_full_id_number(world.applicant, applicant_party)
    assert not can_see_full_id_number(world.respondent, applicant_party)
    assert not can_see_full_id_number(world.mediator, applicant_party)
