"""Complaints against a mediator (OMR 29; SIM 28): who may file, who may decide, and what a decision does."""

from __future__ import annotations

import pytest

from mediation.choices import (
    CaseStatus,
    ComplaintGround,
    ComplaintOutcome,
    ComplaintStatus,
    MediatorStatus,
    Role,
    RosterScope,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import AuditEvent, Complaint, MediatorProfile, RosterEntry
from mediation.recommendation import recommend_mediators
from mediation.selectors.roster import mediator_directory
from mediation.services.complaints import complaint_decide, complaint_file
from mediation.services.roster import roster_entry_add
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def mediated(world):
    """A case world.mediator (on the court's roster) has mediated."""
    roster_entry_add(mediator=world.mediator.mediator_profile, court=world.court, scope=RosterScope.COURT,
                     actor=world.clerk)
    return world.drive(world.new_case(), CaseStatus.ACCEPTED)


def file(world, case, complainant, **overrides):
    kwargs = {"mediator": world.mediator.mediator_profile, "complainant": complainant,
              "ground": ComplaintGround.COERCION, "description": "调解员多次催促我签字，称不签就会败诉。", "case": case}
    return complaint_file(**{**kwargs, **overrides})


@pytest.mark.parametrize("name", ["applicant", "respondent", "lawyer"])
def test_a_party_or_their_agent_files_a_complaint_about_their_case(world, mediated, name):
    complaint = file(world, mediated, getattr(world, name))
    assert complaint.court == world.court
    assert complaint.status == ComplaintStatus.FILED
    event = AuditEvent.objects.get(kind="complaint.filed")
    assert event.stream == f"org.{world.court.pk}"
    # Not on the case's timeline, which the mediator reads.
    assert event.case_id is None


@pytest.mark.parametrize("name", ["outsider", "other_mediator", "other_clerk", "clerk", "org_admin", "mediator"])
def test_only_a_party_may_complain_about_a_case(world, mediated, name):
    with pytest.raises(PermissionDenied):
        file(world, mediated, getattr(world, name))
    assert not Complaint.objects.exists()
    assert not AuditEvent.objects.filter(kind="complaint.filed").exists()


def test_a_complaint_about_a_case_must_concern_its_mediator(world, mediated):
    roster_entry_add(mediator=world.other_mediator.mediator_profile, court=world.court, scope=RosterScope.COURT,
                     actor=world.clerk)
    with pytest.raises(InvalidInput, match="没有参与本案"):
        file(world, mediated, world.applicant, mediator=world.other_mediator.mediator_profile)
    assert not Complaint.objects.exists()


def test_without_a_case_any_signed_in_user_complains_to_the_inviting_court(world, mediated):
    complaint = file(world, None, world.outsider)
    assert complaint.court == world.court and complaint.case is None


def test_a_complaint_without_a_case_needs_a_court_that_listed_the_mediator(world):
    with pytest.raises(InvalidInput, match="不在任何人民法院的名册中"):
        file(world, None, world.outsider, mediator=world.other_mediator.mediator_profile)


def test_an_anonymous_visitor_cannot_complain(world, mediated):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        file(world, None, AnonymousUser())
    with pytest.raises(PermissionDenied):
        file(world, None, None)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"description": "   "}, "具体情况"),
    ({"ground": "rude"}, "投诉事由"),
    ({"description": "长" * 5001}, "5000"),
])
def test_bad_input_is_refused_with_nothing_saved(world, mediated, overrides, message):
    with pytest.raises(InvalidInput, match=message):
        file(world, mediated, world.applicant, **overrides)
    assert not Complaint.objects.exists()


# --- deciding ---------------------------------------------------------------------------------------------


@pytest.fixture
def complaint(world, mediated):
    return file(world, mediated, world.applicant)


def decide(complaint, actor, status=ComplaintStatus.UPHELD, outcome=ComplaintOutcome.WARNING, note="经核实属实"):
    return complaint_decide(complaint=complaint, status=status, outcome=outcome, note=note, actor=actor)


@pytest.mark.parametrize("role", [Role.CLERK, Role.COURT_PRESIDENT, Role.COMPLAINT_HANDLER])
def test_the_complaint_courts_staff_decide(world, complaint, role):
    handler = UserFactory()
    add_member(handler, world.court, role)
    decided = decide(complaint, handler)
    assert decided.status == ComplaintStatus.UPHELD and decided.outcome == ComplaintOutcome.WARNING
    assert decided.decided_by == handler and decided.decided_at is not None
    assert AuditEvent.objects.filter(stream=f"org.{world.court.pk}", kind="complaint.decided").exists()


@pytest.mark.parametrize("name", ["other_clerk", "other_judge", "judge", "outsider", "mediator", "org_admin",
                                  "applicant"])
def test_nobody_else_decides(world, complaint, name):
    with pytest.raises(PermissionDenied):
        decide(complaint, getattr(world, name))
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.FILED


def test_a_complaint_is_decided_once(world, complaint):
    decide(complaint, world.clerk)
    with pytest.raises(StaleState):
        decide(Complaint.objects.get(pk=complaint.pk), world.clerk, status=ComplaintStatus.DISMISSED,
               outcome=ComplaintOutcome.NONE)


@pytest.mark.parametrize(("status", "outcome", "note", "message"), [
    (ComplaintStatus.DISMISSED, ComplaintOutcome.SUSPENSION, "不实", "查证不实"),
    (ComplaintStatus.UPHELD, ComplaintOutcome.NONE, "属实", "处理结果"),
    (ComplaintStatus.FILED, ComplaintOutcome.NONE, "属实", "查证属实"),
    (ComplaintStatus.UPHELD, ComplaintOutcome.WARNING, " ", "处理意见"),
])
def test_an_inconsistent_decision_is_refused(world, complaint, status, outcome, note, message):
    with pytest.raises(InvalidInput, match=message):
        decide(complaint, world.clerk, status=status, outcome=outcome, note=note)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.FILED


def test_a_suspension_takes_the_mediator_out_of_the_directory_and_the_recommendations(world, complaint):
    case = world.new_case()
    assert [r.mediator.user for r in recommend_mediators(case=case)] == [world.mediator]
    decide(complaint, world.clerk, outcome=ComplaintOutcome.SUSPENSION)
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.SUSPENDED
    assert not mediator_directory().exists()
    assert recommend_mediators(case=case) == []
    assert AuditEvent.objects.filter(stream=f"org.{world.court.pk}", kind="mediator.suspended",
                                     data__complaint=complaint.pk).exists()


def test_a_removal_ends_every_roster_entry(world, complaint):
    decide(complaint, world.clerk, outcome=ComplaintOutcome.REMOVAL)
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.REMOVED
    assert not RosterEntry.objects.filter(mediator__user=world.mediator, is_active=True).exists()
    assert AuditEvent.objects.filter(kind="mediator.removed").exists()


def test_a_dismissed_complaint_changes_nothing_for_the_mediator(world, complaint):
    decide(complaint, world.clerk, status=ComplaintStatus.DISMISSED, outcome=ComplaintOutcome.NONE, note="查证不实")
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.ACTIVE
    assert mediator_directory().exists()
