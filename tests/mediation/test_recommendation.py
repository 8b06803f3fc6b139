"""The explained recommendation: jurisdiction first (OMR 9(2)), then a score whose reasons add up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mediation.choices import CaseStatus, MediatorStatus, Role, RosterScope, Sector
from mediation.models import CaseMediator, MediatorProfile, User
from mediation.recommendation import recommend_mediators
from mediation.services.mediator_load import mediator_load_refresh
from mediation.services.roster import roster_entry_add
from tests.factories import OrganisationFactory, UserFactory, add_member, make_mediator

pytestmark = pytest.mark.django_db


def on_court_roster(world, user: User, court=None) -> MediatorProfile:
    court = court or world.court
    clerk = world.clerk if court == world.court else world.other_clerk
    roster_entry_add(mediator=user.mediator_profile, court=court, scope=RosterScope.COURT, actor=clerk)
    return user.mediator_profile


def ranked(case, **kwargs) -> list[User]:
    return [r.mediator.user for r in recommend_mediators(case=case, **kwargs)]


def finish(world, mediator: User, status: str) -> None:
    """A past case of ``mediator`` that ended in ``status``: driven through the services by world.mediator,
    then credited to ``mediator``."""
    case = world.drive(world.new_case(), status)
    CaseMediator.objects.filter(case=case).update(mediator=mediator)
    # A raw re-credit, not a service: the kept figures of both are recomputed as the rebuild command would.
    with transaction.atomic():
        mediator_load_refresh([world.mediator.pk, mediator.pk])


def test_each_recommendation_explains_its_score(world):
    on_court_roster(world, world.mediator)
    (rec,) = recommend_mediators(case=world.new_case())
    labels = [label for label, _points in rec.reasons]
    assert labels[0] == "擅长劳动争议"
    assert labels[1] == "所在调解组织属于劳动争议领域"
    assert any(label.startswith("当前在办 0 件，上限 20 件") for label in labels)
    assert "尚无办结案件，按平均水平计" in labels
    assert rec.score == pytest.approx(sum(points for _label, points in rec.reasons))
    # Specialty 30 + sector 15 + full capacity 30 + the prior's half of 25.
    assert rec.score == pytest.approx(87.5)
    assert 0 <= rec.score <= 100


def test_a_mediator_on_another_courts_roster_never_appears(world):
    on_court_roster(world, world.other_mediator, court=world.other_court)
    labour_elsewhere = make_mediator(world.partner, specialties=[Sector.LABOUR])
    on_court_roster(world, labour_elsewhere, court=world.other_court)
    assert ranked(world.new_case()) == []
    on_court_roster(world, world.mediator)
    assert ranked(world.new_case()) == [world.mediator]


def test_a_mediator_on_no_roster_never_appears(world):
    assert ranked(world.new_case()) == []


def test_a_specialist_ranks_above_a_generalist(world):
    generalist = make_mediator(OrganisationFactory(sector=Sector.OTHER), specialties=[Sector.CONTRACT])
    on_court_roster(world, generalist)
    on_court_roster(world, world.mediator)
    assert ranked(world.new_case()) == [world.mediator, generalist]


def test_a_mediator_at_capacity_is_excluded_and_a_busy_one_ranks_lower(world):
    twin = make_mediator(world.partner, specialties=[Sector.LABOUR], languages=["zh"])
    on_court_roster(world, world.mediator)
    on_court_roster(world, twin)
    MediatorProfile.objects.filter(user=world.mediator).update(capacity=2)
    world.drive(world.new_case(), CaseStatus.ACCEPTED)  # world.mediator now has one open case of two
    case = world.new_case()
    recs = recommend_mediators(case=case)
    assert [r.mediator.user for r in recs] == [twin, world.mediator]
    assert recs[1].load == 1
    assert ("当前在办 1 件，上限 2 件", 15.0) in recs[1].reasons
    world.drive(world.new_case(), CaseStatus.ACCEPTED)  # two of two: full
    assert ranked(case) == [twin]


@pytest.mark.parametrize("status", [MediatorStatus.SUSPENDED, MediatorStatus.REMOVED])
def test_unavailable_mediators_are_excluded(world, status):
    on_court_roster(world, world.mediator)
    MediatorProfile.objects.filter(user=world.mediator).update(status=status)
    assert ranked(world.new_case()) == []


def test_an_expired_certificate_excludes(world):
    on_court_roster(world, world.mediator)
    MediatorProfile.objects.filter(user=world.mediator).update(certificate_valid_until=dt.date(2020, 1, 1))
    assert ranked(world.new_case()) == []


def test_a_good_settlement_record_lifts_a_mediator_and_a_newcomer_is_not_punished(world):
    veteran = make_mediator(world.partner, specialties=[Sector.LABOUR])
    struggling = make_mediator(world.partner, specialties=[Sector.LABOUR])
    newcomer = make_mediator(world.partner, specialties=[Sector.LABOUR])
    for user in (veteran, struggling, newcomer):
        on_court_roster(world, user)
    finish(world, veteran, CaseStatus.CLOSED_SETTLED)
    finish(world, struggling, CaseStatus.TERMINATED)
    recs = {r.mediator.user: r for r in recommend_mediators(case=world.new_case())}
    assert recs[veteran].score > recs[newcomer].score > recs[struggling].score
    assert any(label == "以往调解成功率 100%（办结 1 件，成功 1 件）" for label, _ in recs[veteran].reasons)


def test_a_known_language_counts_and_stays_within_a_hundred(world):
    cantonese = make_mediator(world.partner, specialties=[Sector.LABOUR], languages=["yue"])
    on_court_roster(world, world.mediator)
    on_court_roster(world, cantonese)
    case = world.new_case()
    assert ranked(case)[0] == world.mediator  # tie on points: the older profile first
    recs = recommend_mediators(case=case, language="yue")
    assert recs[0].mediator.user == cantonese
    assert ("会说当事人使用的粤语", 10.0) in recs[0].reasons
    assert ("不会说当事人使用的粤语", 0.0) in recs[1].reasons
    assert all(0 <= r.score <= 100 for r in recs)


def test_a_mediator_already_designated_for_the_case_is_not_offered_again(world):
    on_court_roster(world, world.mediator)
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    world.drive(case, CaseStatus.AWAITING_SELECTION)  # declined
    assert ranked(case) == []


def test_the_regional_roster_above_the_court_counts(world):
    mid = world.court.parent
    clerk = UserFactory()
    add_member(clerk, mid, Role.CLERK)
    roster_entry_add(mediator=world.mediator.mediator_profile, court=mid, scope=RosterScope.REGIONAL, actor=clerk)
    assert ranked(world.new_case()) == [world.mediator]


def test_the_number_of_queries_does_not_grow_with_the_roster(world):
    case = world.new_case()
    on_court_roster(world, world.mediator)
    with CaptureQueriesContext(connection) as few:
        assert len(recommend_mediators(case=case)) == 1
    for index in range(15):
        user = make_mediator(world.partner if index % 2 else world.other_partner,
                             specialties=[Sector.LABOUR] if index % 3 else [Sector.FINANCE])
        on_court_roster(world, user)
    finish(world, world.mediator, CaseStatus.CLOSED_SETTLED)
    case = world.new_case()
    with CaptureQueriesContext(connection) as many:
        assert len(recommend_mediators(case=case)) == 10
    assert len(many) == len(few)
    assert len(many) <= 8


def test_the_limit_is_honoured(world):
    for _ in range(4):
        on_court_roster(world, make_mediator(world.partner, specialties=[Sector.LABOUR]))
    assert len(recommend_mediators(case=world.new_case(), limit=3)) == 3
