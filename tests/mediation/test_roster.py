"""The roster: who is listed where (OMR 5, 28), adoption with the mediator's consent (OMR 27),
certificates and suspension, and who may change any of it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from mediation.choices import CourtLevel, MediatorStatus, OrganisationKind, Role, RosterScope, Sector
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import AuditEvent, MediatorProfile, Organisation, RosterEntry, User
from mediation.selectors.roster import (
    adoption_requests_for_mediator,
    mediator_directory,
    mediators_eligible_for_case,
    mediators_on_court_roster,
    normalise_region,
)
from mediation.services.roster import (
    certificate_is_valid,
    mediator_reinstate,
    mediator_suspend,
    roster_adoption_answer,
    roster_adoption_request,
    roster_entry_add,
)
from tests.factories import CourtFactory, OrganisationFactory, UserFactory, add_member, make_mediator

pytestmark = pytest.mark.django_db


def profile(user: User) -> MediatorProfile:
    return MediatorProfile.objects.get(user=user)


def clerk_of(court: Organisation, role: Role = Role.CLERK) -> User:
    user = UserFactory()
    add_member(user, court, role)
    return user


def listed(**filters: object) -> set[int]:
    return set(mediator_directory(**filters).values_list("pk", flat=True))  # type: ignore[arg-type]


def intermediate(world) -> Organisation:
    return world.court.parent


# --- who is listed --------------------------------------------------------------------------------------


def test_the_directory_lists_only_mediators_with_an_active_roster_entry(world):
    assert listed() == set()
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    assert listed() == {profile(world.mediator).pk}


@pytest.mark.parametrize("status", [MediatorStatus.SUSPENDED, MediatorStatus.REMOVED])
def test_suspended_and_removed_mediators_are_not_listed(world, status):
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    MediatorProfile.objects.filter(user=world.mediator).update(status=status)
    assert listed() == set()
    assert not mediators_on_court_roster(court=world.court).exists()


def test_a_mediator_drops_out_of_the_directory_the_day_after_the_certificate_expires(world):
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    MediatorProfile.objects.filter(user=world.mediator).update(certificate_valid_until=dt.date(2026, 6, 30))
    with time_machine.travel(dt.datetime(2026, 6, 30, 23, 0, tzinfo=timezone.get_current_timezone()), tick=False):
        assert listed() == {profile(world.mediator).pk}
        assert certificate_is_valid(profile(world.mediator))
    with time_machine.travel(dt.datetime(2026, 7, 1, 0, 30, tzinfo=timezone.get_current_timezone()), tick=False):
        assert listed() == set()
        assert not certificate_is_valid(profile(world.mediator))
        assert not mediators_on_court_roster(court=world.court).exists()


def test_a_certificate_without_an_expiry_date_counts_as_valid(world):
    assert certificate_is_valid(profile(world.mediator), on=dt.date(2030, 1, 1))


def test_a_courts_roster_has_its_own_entries_and_the_regional_and_national_rosters_above_it(world):
    mid = intermediate(world)
    spc = Organisation.objects.create(name="最高人民法院", kind=OrganisationKind.COURT, court_level=CourtLevel.SUPREME)
    own, regional_mid, regional_high, national, high_court_only, sibling = (
        make_mediator(world.partner) for _ in range(6)
    )
    roster_entry_add(mediator=profile(own), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    roster_entry_add(mediator=profile(regional_mid), court=mid, scope=RosterScope.REGIONAL, actor=clerk_of(mid))
    roster_entry_add(mediator=profile(regional_high), court=world.high_court, scope=RosterScope.REGIONAL,
                     actor=clerk_of(world.high_court))
    roster_entry_add(mediator=profile(national), court=spc, scope=RosterScope.NATIONAL, actor=clerk_of(spc))
    roster_entry_add(mediator=profile(high_court_only), court=world.high_court, scope=RosterScope.COURT,
                     actor=clerk_of(world.high_court))
    roster_entry_add(mediator=profile(sibling), court=world.other_court, scope=RosterScope.COURT,
                     actor=world.other_clerk)

    on_court = listed(court=world.court)
    assert on_court == {profile(u).pk for u in (own, regional_mid, regional_high, national)}
    # The other court shares the regional and national rosters, not this court's own.
    assert listed(court=world.other_court) == {profile(u).pk for u in (sibling, regional_mid, regional_high, national)}
    # A higher court's own roster stays its own until adopted (OMR 27).
    assert profile(high_court_only).pk not in on_court


# --- filters --------------------------------------------------------------------------------------------


@pytest.fixture
def two_listed(world):
    """world.mediator (labour, Mandarin, Dongcheng, labour partner) and world.other_mediator (finance,
    Cantonese, Shenzhen, finance partner), both on the court's roster."""
    MediatorProfile.objects.filter(user=world.mediator).update(regions=["110101"])
    MediatorProfile.objects.filter(user=world.other_mediator).update(languages=["yue", "en"], regions=["440300"])
    for user in (world.mediator, world.other_mediator):
        roster_entry_add(mediator=profile(user), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    return profile(world.mediator).pk, profile(world.other_mediator).pk


def test_the_specialty_filter_narrows_to_that_field(two_listed):
    labour, finance = two_listed
    assert listed(specialty=Sector.LABOUR) == {labour}
    assert listed(specialty=Sector.FINANCE) == {finance}
    assert listed(specialty=Sector.IP) == set()


def test_the_language_filter_narrows_to_speakers(two_listed):
    labour, finance = two_listed
    assert listed(language="zh") == {labour}
    assert listed(language="yue") == {finance}
    assert listed(language="en") == {finance}


def test_the_region_filter_matches_by_code_prefix_both_ways(world, two_listed):
    labour, finance = two_listed
    assert listed(region="11") == {labour}
    assert listed(region="110000") == {labour}  # all of Beijing
    assert listed(region="110101") == {labour}
    assert listed(region="4403") == {finance}
    # A mediator serving all of Beijing serves Dongcheng too.
    MediatorProfile.objects.filter(pk=finance).update(regions=["110000"])
    assert listed(region="110101") == {labour, finance}
    assert listed(region="120000") == set()


def test_the_region_filter_also_matches_the_organisations_location(world, two_listed):
    labour, _finance = two_listed
    MediatorProfile.objects.filter(pk=labour).update(regions=[])
    Organisation.objects.filter(pk=world.partner.pk).update(region_code="110101")
    assert listed(region="1101") == {labour}


def test_a_malformed_region_matches_nobody_rather_than_everybody(two_listed):
    assert listed(region="abc") == set()
    assert normalise_region("110100") == "1101"
    assert normalise_region("1") is None


def test_organisation_kind_and_sector_filters_look_at_the_mediators_organisations(world, two_listed):
    labour, finance = two_listed
    pmc = OrganisationFactory(name="东城区人民调解委员会", kind=OrganisationKind.PEOPLES_MEDIATION_COMMITTEE,
                              sector=Sector.NEIGHBOURHOOD)
    add_member(world.other_mediator, pmc, Role.MEDIATOR)
    assert listed(org_kind=OrganisationKind.PARTNER) == {labour, finance}
    assert listed(org_kind=OrganisationKind.PEOPLES_MEDIATION_COMMITTEE) == {finance}
    assert listed(sector=Sector.LABOUR) == {labour}
    assert listed(sector=Sector.NEIGHBOURHOOD) == {finance}
    # Both conditions on the same organisation: the finance partner is not a people's committee.
    assert listed(org_kind=OrganisationKind.PEOPLES_MEDIATION_COMMITTEE, sector=Sector.FINANCE) == set()


def test_filters_combine(world, two_listed):
    labour, _finance = two_listed
    assert listed(court=world.court, specialty=Sector.LABOUR, language="zh", region="11") == {labour}
    assert listed(court=world.other_court, specialty=Sector.LABOUR) == set()


# --- adding to a roster ----------------------------------------------------------------------------------


def test_a_clerk_adds_a_mediator_to_the_courts_roster_with_an_audit_event(world):
    entry = roster_entry_add(
        mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk
    )
    assert entry.is_active
    event = AuditEvent.objects.get(stream=f"org.{world.court.pk}", kind="roster.entry_added")
    assert event.actor == world.clerk
    assert event.data["mediator"] == profile(world.mediator).pk


def test_a_court_president_and_a_platform_superuser_may_add_too(world):
    president = clerk_of(world.court, Role.COURT_PRESIDENT)
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=president)
    superuser = UserFactory(is_superuser=True)
    roster_entry_add(mediator=profile(world.other_mediator), court=world.court, scope=RosterScope.COURT,
                     actor=superuser)
    assert listed(court=world.court) == {profile(world.mediator).pk, profile(world.other_mediator).pk}


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "judge", "mediator", "org_admin", "applicant"])
def test_only_the_courts_clerk_or_president_may_add_to_its_roster(world, name):
    with pytest.raises(PermissionDenied):
        roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT,
                         actor=getattr(world, name))
    assert not RosterEntry.objects.exists()
    assert not AuditEvent.objects.filter(kind="roster.entry_added").exists()


def test_adding_the_same_mediator_twice_is_refused(world):
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    with pytest.raises(InvalidInput, match="已在本院此名册中"):
        roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT,
                         actor=world.clerk)


def test_regional_and_national_rosters_belong_to_the_right_courts(world):
    with pytest.raises(InvalidInput, match="区域性名册"):
        roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.REGIONAL,
                         actor=world.clerk)
    with pytest.raises(InvalidInput, match="全国性名册"):
        roster_entry_add(mediator=profile(world.mediator), court=world.high_court, scope=RosterScope.NATIONAL,
                         actor=clerk_of(world.high_court))
    assert not RosterEntry.objects.exists()


def test_a_specialty_roster_names_its_field(world):
    with pytest.raises(InvalidInput, match="专业领域"):
        roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.SPECIALTY,
                         actor=world.clerk)
    entry = roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.SPECIALTY,
                             specialty=Sector.LABOUR, actor=world.clerk)
    assert entry.specialty == Sector.LABOUR


def test_a_suspended_mediator_cannot_be_added(world):
    MediatorProfile.objects.filter(user=world.mediator).update(status=MediatorStatus.SUSPENDED)
    with pytest.raises(InvalidInput, match="暂停"):
        roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT,
                         actor=world.clerk)


def test_only_a_court_keeps_a_roster(world):
    with pytest.raises(InvalidInput):
        roster_entry_add(mediator=profile(world.mediator), court=world.partner, scope=RosterScope.COURT,
                         actor=world.org_admin)


# --- adoption (OMR 27) ----------------------------------------------------------------------------------


@pytest.fixture
def high_entry(world) -> RosterEntry:
    """A mediator on the high court's own roster."""
    star = make_mediator(world.partner, specialties=[Sector.LABOUR])
    return roster_entry_add(mediator=profile(star), court=world.high_court, scope=RosterScope.COURT,
                            actor=clerk_of(world.high_court))


def test_adoption_waits_for_the_mediators_consent(world, high_entry):
    adopted = roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)
    assert not adopted.is_active and adopted.adopted_from == high_entry
    assert high_entry.mediator.pk not in listed(court=world.court)
    assert list(adoption_requests_for_mediator(user=high_entry.mediator.user)) == [adopted]

    answered = roster_adoption_answer(entry=adopted, accept=True, actor=high_entry.mediator.user)
    assert answered.is_active and answered.mediator_consented_at is not None
    assert high_entry.mediator.pk in listed(court=world.court)
    kinds = list(AuditEvent.objects.filter(stream=f"org.{world.court.pk}").values_list("kind", flat=True))
    assert kinds == ["roster.adoption_requested", "roster.adoption_accepted"]


def test_a_refusal_leaves_the_adoption_inactive_and_is_recorded(world, high_entry):
    adopted = roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)
    refused = roster_adoption_answer(entry=adopted, accept=False, actor=high_entry.mediator.user)
    assert not refused.is_active and refused.mediator_refused_at is not None and refused.mediator_consented_at is None
    assert high_entry.mediator.pk not in listed(court=world.court)
    assert AuditEvent.objects.filter(stream=f"org.{world.court.pk}", kind="roster.adoption_refused").exists()
    assert not adoption_requests_for_mediator(user=high_entry.mediator.user).exists()
    with pytest.raises(StaleState):
        roster_adoption_answer(entry=refused, accept=True, actor=high_entry.mediator.user)
    # The court may ask again; the mediator answers afresh.
    again = roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)
    assert again.pk == adopted.pk and again.mediator_refused_at is None


@pytest.mark.parametrize("scope", [RosterScope.COURT, RosterScope.SPECIALTY])
def test_a_mediator_on_a_higher_courts_roster_joins_a_lower_one_only_through_adoption(world, high_entry, scope):
    specialty = Sector.LABOUR if scope == RosterScope.SPECIALTY else ""
    if scope == RosterScope.SPECIALTY:
        high_entry.is_active = False
        high_entry.save(update_fields=["is_active"])
        roster_entry_add(mediator=high_entry.mediator, court=intermediate(world), scope=scope, specialty=specialty,
                         actor=clerk_of(intermediate(world)))
    with pytest.raises(InvalidInput, match=r"采用请求.*第二十七条"):
        roster_entry_add(mediator=high_entry.mediator, court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    assert not RosterEntry.objects.filter(court=world.court).exists()
    assert high_entry.mediator.pk not in listed(court=world.court)


def test_a_higher_courts_regional_listing_does_not_stop_a_direct_listing(world):
    mediator = profile(world.mediator)
    roster_entry_add(mediator=mediator, court=intermediate(world), scope=RosterScope.REGIONAL,
                     actor=clerk_of(intermediate(world)))
    entry = roster_entry_add(mediator=mediator, court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    assert entry.is_active


@pytest.mark.parametrize("name", ["clerk", "mediator", "outsider", "other_clerk"])
def test_only_the_mediator_themself_answers_an_adoption_request(world, high_entry, name):
    adopted = roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)
    with pytest.raises(PermissionDenied):
        roster_adoption_answer(entry=adopted, accept=True, actor=getattr(world, name))
    adopted.refresh_from_db()
    assert not adopted.is_active and adopted.mediator_consented_at is None


def test_a_court_adopts_only_from_a_court_above_it(world):
    sibling_entry = roster_entry_add(mediator=profile(world.other_mediator), court=world.other_court,
                                     scope=RosterScope.COURT, actor=world.other_clerk)
    with pytest.raises(InvalidInput, match="上级人民法院"):
        roster_adoption_request(entry=sibling_entry, court=world.court, actor=world.clerk)
    lower_entry = roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT,
                                   actor=world.clerk)
    high_clerk = clerk_of(world.high_court)
    with pytest.raises(InvalidInput, match="上级人民法院"):
        roster_adoption_request(entry=lower_entry, court=world.high_court, actor=high_clerk)
    assert not RosterEntry.objects.filter(adopted_from__isnull=False).exists()


@pytest.mark.parametrize("name", ["other_clerk", "judge", "outsider", "mediator"])
def test_only_the_adopting_courts_clerk_may_ask(world, high_entry, name):
    with pytest.raises(PermissionDenied):
        roster_adoption_request(entry=high_entry, court=world.court, actor=getattr(world, name))
    assert not RosterEntry.objects.filter(adopted_from__isnull=False).exists()


def test_a_pending_adoption_is_not_asked_twice(world, high_entry):
    roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)
    with pytest.raises(InvalidInput, match="等待其答复"):
        roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)


def test_the_database_refuses_an_active_adoption_without_consent(world, high_entry):
    from django.db import IntegrityError, transaction

    adopted = roster_adoption_request(entry=high_entry, court=world.court, actor=world.clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        RosterEntry.objects.filter(pk=adopted.pk).update(is_active=True)


# --- suspension -------------------------------------------------------------------------------------------


@pytest.fixture
def on_roster(world) -> MediatorProfile:
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    return profile(world.mediator)


def test_a_clerk_suspends_and_reinstates_a_mediator_on_the_courts_roster(world, on_roster):
    mediator_suspend(profile=on_roster, reason="多次无正当理由拒绝委派", actor=world.clerk)
    assert profile(world.mediator).status == MediatorStatus.SUSPENDED
    assert listed() == set()
    mediator_reinstate(profile=on_roster, actor=world.clerk)
    assert profile(world.mediator).status == MediatorStatus.ACTIVE
    assert listed() == {on_roster.pk}
    kinds = list(AuditEvent.objects.filter(stream=f"org.{world.court.pk}").values_list("kind", flat=True))
    assert kinds[-2:] == ["mediator.suspended", "mediator.reinstated"]


@pytest.mark.parametrize("name", ["other_clerk", "outsider", "judge", "org_admin", "mediator", "applicant"])
def test_only_a_clerk_of_a_court_listing_the_mediator_may_suspend(world, on_roster, name):
    with pytest.raises(PermissionDenied):
        mediator_suspend(profile=on_roster, reason="理由", actor=getattr(world, name))
    assert profile(world.mediator).status == MediatorStatus.ACTIVE


def test_only_the_suspending_court_reinstates_a_mediator(world, on_roster):
    roster_entry_add(mediator=on_roster, court=world.other_court, scope=RosterScope.COURT, actor=world.other_clerk)
    mediator_suspend(profile=on_roster, reason="多次无正当理由拒绝委派", actor=world.clerk)
    with pytest.raises(PermissionDenied, match="北京市东城区人民法院"):
        mediator_reinstate(profile=on_roster, actor=world.other_clerk)
    assert profile(world.mediator).status == MediatorStatus.SUSPENDED
    president = clerk_of(world.court, Role.COURT_PRESIDENT)
    mediator_reinstate(profile=on_roster, actor=president)
    assert profile(world.mediator).status == MediatorStatus.ACTIVE


@pytest.mark.parametrize("name", ["outsider", "judge", "org_admin", "mediator", "applicant"])
def test_others_cannot_reinstate_a_suspended_mediator(world, on_roster, name):
    mediator_suspend(profile=on_roster, reason="理由", actor=world.clerk)
    with pytest.raises(PermissionDenied):
        mediator_reinstate(profile=on_roster, actor=getattr(world, name))
    assert profile(world.mediator).status == MediatorStatus.SUSPENDED


def test_a_suspension_needs_a_reason(world, on_roster):
    with pytest.raises(InvalidInput, match="理由"):
        mediator_suspend(profile=on_roster, reason="  ", actor=world.clerk)
    assert profile(world.mediator).status == MediatorStatus.ACTIVE


def test_only_a_suspended_mediator_is_reinstated_and_only_an_active_one_suspended(world, on_roster):
    with pytest.raises(TransitionNotAllowed):
        mediator_reinstate(profile=on_roster, actor=world.clerk)
    mediator_suspend(profile=on_roster, reason="理由", actor=world.clerk)
    with pytest.raises(TransitionNotAllowed):
        mediator_suspend(profile=on_roster, reason="理由", actor=world.clerk)


# --- eligibility for a case ----------------------------------------------------------------------------


def test_a_mediator_at_capacity_is_not_eligible_for_another_case(world, on_roster):
    case = world.new_case()
    assert list(mediators_eligible_for_case(case=case)) == [on_roster]
    MediatorProfile.objects.filter(pk=on_roster.pk).update(capacity=1)
    world.drive(world.new_case(), "assigned")  # world.drive assigns world.mediator
    assert not mediators_eligible_for_case(case=case).exists()


def test_a_mediator_of_another_courts_roster_is_not_eligible(world):
    roster_entry_add(mediator=profile(world.other_mediator), court=world.other_court, scope=RosterScope.COURT,
                     actor=world.other_clerk)
    assert not mediators_eligible_for_case(case=world.new_case()).exists()


def test_courts_of_another_hierarchy_share_only_the_national_roster(world):
    far = CourtFactory(name="上海市黄浦区人民法院")
    roster_entry_add(mediator=profile(world.mediator), court=world.court, scope=RosterScope.COURT, actor=world.clerk)
    assert listed(court=far) == set()
