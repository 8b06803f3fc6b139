"""Selectors and predicates already filter by permission: each role sees its own cases, and the
outsider, the other court's staff and the other organisation's mediator see nothing."""

from __future__ import annotations

import pytest

from mediation import transitions as tr
from mediation.choices import CaseStatus
from mediation.exceptions import PermissionDenied
from mediation.permissions import can_see_full_id_number, case_roles
from mediation.selectors import case_get_for_user, case_list_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world):
    return world.drive(world.new_case(), CaseStatus.ACCEPTED)


def test_each_role_is_recognised_on_its_own_case(world, case):
    assert case_roles(world.applicant, case) == {tr.PARTY}
    assert case_roles(world.lawyer, case) == {tr.PARTY}
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


def test_a_replaced_mediator_loses_access(world, case):
    case.mediator_assignments.update(is_active=False)
    assert case_roles(world.mediator, case) == set()


def test_only_the_owner_sees_the_full_id_number(world, case):
    applicant_party = case.parties.get(user=world.applicant)
    assert can_see_full_id_number(world.applicant, applicant_party)
    assert not can_see_full_id_number(world.respondent, applicant_party)
    assert not can_see_full_id_number(world.mediator, applicant_party)
