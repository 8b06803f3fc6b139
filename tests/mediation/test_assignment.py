"""Choosing, designating, accepting and declining mediators, disclosure and recusal (OMR 10-14; SIM 12-15)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from mediation import transitions as tr
from mediation.choices import (
    AgentAuthority,
    AgentKind,
    CaseStatus,
    ConsentKind,
    MediatorStatus,
    PartyRole,
    RecusalDecision,
    RosterScope,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import (
    Agent,
    AuditEvent,
    Case,
    CaseMediator,
    Consent,
    Disclosure,
    MediatorChoice,
    NoticeText,
    Party,
    RecusalRequest,
    RosterEntry,
    Timer,
    User,
)
from mediation.permissions import case_roles
from mediation.selectors.assignment import case_mediators_eligible, mediator_eligibility_problem, selection_window
from mediation.services.assignment import (
    DISCLOSURE_TEXT_CODE,
    disclosure_answer,
    mediator_accept,
    mediator_choice_record,
    mediator_decline,
    mediator_designate,
    mediator_disclose,
    recusal_decide,
    recusal_request,
)
from tests.factories import UserFactory, make_mediator

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------------------


def on_roster(mediator: User, court, scope: str = RosterScope.COURT) -> RosterEntry:
    return RosterEntry.objects.create(mediator=mediator.mediator_profile, court=court, scope=scope)


def party(case: Case, role: str) -> Party:
    return Party.objects.get(case=case, role=role)


def kinds(case: Case) -> list[str]:
    return list(AuditEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


@pytest.fixture
def selecting(world) -> Case:
    """A case accepted for mediation, in its 2-working-day choice window, with world.mediator on the
    court's roster."""
    on_roster(world.mediator, world.court)
    return world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)


@pytest.fixture
def second_mediator(world) -> User:
    """Another mediator of the partner organisation, on the court's roster."""
    mediator = make_mediator(world.partner, specialties=["labour"])
    on_roster(mediator, world.court)
    return mediator


def both_pick(world, case: Case, mediator: User) -> None:
    mediator_choice_record(case=case, party=party(case, PartyRole.APPLICANT), mediator=mediator, actor=world.applicant)
    # The respondent's special-authority lawyer picks for the respondent.
    mediator_choice_record(case=case, party=party(case, PartyRole.RESPONDENT), mediator=mediator, actor=world.lawyer)


def both_defer(world, case: Case) -> Case:
    """Every party leaves the choice to the court, so it may designate before the window ends (OMR 10)."""
    mediator_choice_record(case=case, party=party(case, PartyRole.APPLICANT), mediator=None, actor=world.applicant,
                           defer_to_court=True)
    mediator_choice_record(case=case, party=party(case, PartyRole.RESPONDENT), mediator=None, actor=world.lawyer,
                           defer_to_court=True)
    return Case.objects.get(pk=case.pk)


def assigned_case(world) -> Case:
    on_roster(world.mediator, world.court)
    case = both_defer(world, world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION))
    return mediator_designate(case=case, mediator=world.mediator, actor=world.clerk)


# --- Joint choice (OMR 10) ------------------------------------------------------------------------------


def test_parties_picking_the_same_mediator_assigns_them(world, selecting):
    both_pick(world, selecting, world.mediator)
    case = Case.objects.get(pk=selecting.pk)
    assert case.status == CaseStatus.ASSIGNED
    assert CaseMediator.objects.get(case=case, is_active=True).mediator == world.mediator
    trail = [kind for kind in kinds(case) if kind.startswith(("mediator.", "case.assign"))]
    assert trail == ["mediator.chosen", "mediator.chosen", "mediator.jointly_chosen", "case.assign"]
    assign = AuditEvent.objects.get(case=case, kind="case.assign")
    assert assign.actor is None  # the platform assigns, not a party (decisions D11)
    assert tr.MEDIATOR in case_roles(world.mediator, case)


def test_the_first_pick_alone_does_not_assign(world, selecting):
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
    )
    assert Case.objects.get(pk=selecting.pk).status == CaseStatus.AWAITING_SELECTION
    assert not CaseMediator.objects.filter(case=selecting).exists()


def test_disagreeing_choices_do_not_assign(world, selecting, second_mediator):
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
    )
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.RESPONDENT), mediator=second_mediator, actor=world.respondent
    )
    assert Case.objects.get(pk=selecting.pk).status == CaseStatus.AWAITING_SELECTION
    assert not CaseMediator.objects.filter(case=selecting).exists()
    assert "mediator.jointly_chosen" not in kinds(selecting)


def test_a_new_pick_replaces_the_partys_earlier_one_and_can_then_agree(world, selecting, second_mediator):
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
    )
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.RESPONDENT), mediator=second_mediator, actor=world.respondent
    )
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=second_mediator, actor=world.applicant
    )
    assert MediatorChoice.objects.filter(case=selecting).count() == 2
    case = Case.objects.get(pk=selecting.pk)
    assert case.status == CaseStatus.ASSIGNED
    assert CaseMediator.objects.get(case=case).mediator == second_mediator


def test_a_party_deferring_to_the_court_means_no_joint_choice(world, selecting):
    mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
    )
    choice = mediator_choice_record(
        case=selecting, party=party(selecting, PartyRole.RESPONDENT), mediator=None, actor=world.respondent,
        defer_to_court=True,
    )
    assert choice.defer_to_court and choice.mediator is None
    assert Case.objects.get(pk=selecting.pk).status == CaseStatus.AWAITING_SELECTION
    event = AuditEvent.objects.filter(case=selecting, kind="mediator.chosen").latest("seq")
    assert event.data["defer_to_court"] is True


def test_a_pick_without_a_mediator_is_refused(world, selecting):
    with pytest.raises(InvalidInput, match="请选择一名调解员"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=None, actor=world.applicant
        )
    assert not MediatorChoice.objects.exists()


def test_a_mediator_not_on_the_courts_roster_cannot_be_chosen(world, selecting):
    on_roster(world.other_mediator, world.other_court)  # another court's roster does not count (OMR 9(2))
    before = kinds(selecting)
    with pytest.raises(InvalidInput, match="不在本案管辖法院"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.other_mediator,
            actor=world.applicant,
        )
    assert not MediatorChoice.objects.exists()
    assert kinds(selecting) == before


def test_someone_who_is_not_a_mediator_cannot_be_chosen(world, selecting):
    with pytest.raises(InvalidInput, match="不是在册调解员"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.outsider, actor=world.applicant
        )


def test_a_higher_courts_regional_roster_counts_but_its_own_roster_does_not(world, selecting):
    regional = make_mediator(world.other_partner)
    on_roster(regional, world.high_court, RosterScope.REGIONAL)
    own = make_mediator(world.other_partner)
    on_roster(own, world.high_court, RosterScope.COURT)  # needs adoption with consent first (OMR 27)
    assert mediator_eligibility_problem(case=selecting, mediator=regional) == ""
    assert "不在本案管辖法院" in mediator_eligibility_problem(case=selecting, mediator=own)


def test_a_suspended_mediator_cannot_be_chosen(world, selecting):
    world.mediator.mediator_profile.status = MediatorStatus.SUSPENDED
    world.mediator.mediator_profile.save()
    with pytest.raises(InvalidInput, match="暂停"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
        )


def test_a_mediator_with_an_expired_certificate_cannot_be_chosen(world, selecting):
    profile = world.mediator.mediator_profile
    profile.certificate_valid_until = timezone.localdate() - dt.timedelta(days=1)
    profile.save()
    with pytest.raises(InvalidInput, match="证书已于"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
        )


def test_a_mediator_at_capacity_cannot_be_chosen(world, selecting):
    profile = world.mediator.mediator_profile
    profile.capacity = 1
    profile.save()
    busy = world.new_case()
    world.drive(busy, CaseStatus.ASSIGNED)  # world.drive assigns world.mediator
    with pytest.raises(InvalidInput, match="已达上限"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
        )
    assert world.mediator.mediator_profile not in case_mediators_eligible(case=selecting)


def test_the_eligible_list_names_roster_mediators_only(world, selecting, second_mediator):
    on_roster(world.other_mediator, world.other_court)
    listed = [profile.user for profile in case_mediators_eligible(case=selecting)]
    assert set(listed) == {world.mediator, second_mediator}


@pytest.mark.parametrize("name", ["outsider", "mediator", "clerk", "org_admin", "other_clerk", "judge"])
def test_only_a_party_or_its_special_agent_picks(world, selecting, name):
    with pytest.raises(PermissionDenied):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator,
            actor=getattr(world, name),
        )
    assert not MediatorChoice.objects.exists()


def test_the_other_party_cannot_pick_for_the_applicant(world, selecting):
    with pytest.raises(PermissionDenied):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator,
            actor=world.respondent,
        )


def test_an_agent_with_general_authority_cannot_pick(world, selecting):
    general = UserFactory(real_name="一般代理人")
    Agent.objects.create(
        party=party(selecting, PartyRole.APPLICANT), user=general, name="一般代理人", kind=AgentKind.RELATIVE,
        authority=AgentAuthority.GENERAL,
    )
    with pytest.raises(PermissionDenied, match="特别授权"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=general
        )


def test_no_pick_after_the_window_has_lapsed(world, selecting):
    window = Timer.objects.get(case=selecting, kind=TimerKind.SELECTION_WINDOW, status=TimerStatus.RUNNING)
    from mediation.services.timer_sweep import timers_sweep

    timers_sweep(now=window.due_at + dt.timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="期限（2个工作日）已届满"):
        mediator_choice_record(
            case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
        )


def test_no_pick_outside_selection(world):
    on_roster(world.mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    with pytest.raises(TransitionNotAllowed, match="不在选定调解员阶段"):
        mediator_choice_record(
            case=case, party=party(case, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
        )


# --- Designation (OMR 10) -------------------------------------------------------------------------------


def test_the_clerk_designates_a_roster_mediator_once_every_party_defers(world, selecting):
    case = mediator_designate(case=both_defer(world, selecting), mediator=world.mediator, actor=world.clerk)
    assert case.status == CaseStatus.ASSIGNED
    event = AuditEvent.objects.get(case=case, kind="case.mediator_designated")
    assert event.actor == world.clerk


def test_the_organisation_admin_designates_its_own_mediator(world, selecting):
    case = mediator_designate(case=both_defer(world, selecting), mediator=world.mediator, actor=world.org_admin)
    assert case.status == CaseStatus.ASSIGNED


@pytest.mark.parametrize("who", ["clerk", "org_admin"])
def test_no_designation_while_the_parties_may_still_choose(world, selecting, who):
    mediator_choice_record(case=selecting, party=party(selecting, PartyRole.APPLICANT), mediator=None,
                           actor=world.applicant, defer_to_court=True)
    with pytest.raises(InvalidInput, match="尚未届满"):
        mediator_designate(case=selecting, mediator=world.mediator, actor=getattr(world, who))
    assert Case.objects.get(pk=selecting.pk).status == CaseStatus.AWAITING_SELECTION
    assert not CaseMediator.objects.filter(case=selecting).exists()


def test_the_clerk_designates_once_the_window_has_passed(world, selecting):
    window = selection_window(selecting)
    assert window is not None
    with time_machine.travel(window.due_at + dt.timedelta(minutes=1), tick=False):
        case = mediator_designate(case=selecting, mediator=world.mediator, actor=world.clerk)
    assert case.status == CaseStatus.ASSIGNED


def test_the_organisation_admin_cannot_designate_another_organisations_mediator(world, selecting):
    on_roster(world.other_mediator, world.court)
    with pytest.raises(InvalidInput, match="只能指定本组织的调解员"):
        mediator_designate(case=both_defer(world, selecting), mediator=world.other_mediator, actor=world.org_admin)
    assert Case.objects.get(pk=selecting.pk).status == CaseStatus.AWAITING_SELECTION


def test_designating_an_off_roster_mediator_is_refused(world, selecting):
    with pytest.raises(InvalidInput, match="不在本案管辖法院"):
        mediator_designate(case=both_defer(world, selecting), mediator=world.other_mediator, actor=world.clerk)
    assert not CaseMediator.objects.filter(case=selecting).exists()


@pytest.mark.parametrize("name", ["outsider", "applicant", "lawyer", "mediator", "other_mediator", "other_clerk",
                                  "judge"])
def test_others_cannot_designate(world, selecting, name):
    with pytest.raises(PermissionDenied):
        mediator_designate(case=selecting, mediator=world.mediator, actor=getattr(world, name))
    assert Case.objects.get(pk=selecting.pk).status == CaseStatus.AWAITING_SELECTION


# --- Acceptance and disclosure (OMR 12-13) -----------------------------------------------------------------


def test_accepting_needs_a_disclosure_statement(world):
    case = assigned_case(world)
    with pytest.raises(InvalidInput, match="请作出披露声明"):
        mediator_accept(case=case, actor=world.mediator, disclosure="  ", nothing_to_disclose=False)
    with pytest.raises(InvalidInput, match="二选一"):
        mediator_accept(case=case, actor=world.mediator, disclosure="曾是申请人同事", nothing_to_disclose=True)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ASSIGNED
    assert not Disclosure.objects.exists()
    assert "mediator.disclosed" not in kinds(case)


def test_accepting_with_nothing_to_disclose(world):
    case = mediator_accept(case=assigned_case(world), actor=world.mediator, disclosure="", nothing_to_disclose=True)
    assert case.status == CaseStatus.ACCEPTED
    disclosure = Disclosure.objects.get(case=case)
    assert disclosure.nothing_to_disclose and disclosure.mediator == world.mediator
    assert kinds(case).index("mediator.disclosed") < kinds(case).index("case.mediator_accept")
    assert not NoticeText.objects.filter(code=DISCLOSURE_TEXT_CODE).exists()
    assert Timer.objects.filter(case=case, kind=TimerKind.MEDIATION_PERIOD, status=TimerStatus.RUNNING).exists()


def test_a_disclosure_is_published_and_each_party_answers_it(world):
    case = mediator_accept(
        case=assigned_case(world), actor=world.mediator, disclosure="本人曾与申请人在同一单位工作。",
        nothing_to_disclose=False,
    )
    disclosure = Disclosure.objects.get(case=case)
    text = NoticeText.objects.get(code=DISCLOSURE_TEXT_CODE)
    assert "本人曾与申请人在同一单位工作。" in text.body and case.reference in text.body
    event = AuditEvent.objects.get(case=case, kind="mediator.disclosed")
    assert event.data["text_sha256"] == text.sha256

    disclosure_answer(disclosure=disclosure, party=party(case, PartyRole.APPLICANT), actor=world.applicant, agree=True)
    refusal = disclosure_answer(
        disclosure=disclosure, party=party(case, PartyRole.RESPONDENT), actor=world.lawyer, agree=False
    )
    assert refusal.kind == ConsentKind.CONTINUE_AFTER_DISCLOSURE and not refusal.granted
    assert refusal.text == text  # the exact statement the party was shown
    assert Consent.objects.filter(case=case, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE).count() == 2


@pytest.mark.parametrize("name", ["outsider", "other_mediator", "clerk", "mediator"])
def test_only_a_party_answers_a_disclosure(world, name):
    case = mediator_accept(
        case=assigned_case(world), actor=world.mediator, disclosure="亲属关系", nothing_to_disclose=False
    )
    with pytest.raises(PermissionDenied):
        disclosure_answer(
            disclosure=Disclosure.objects.get(case=case), party=party(case, PartyRole.APPLICANT),
            actor=getattr(world, name), agree=True,
        )


def test_the_other_party_cannot_answer_for_the_applicant(world):
    case = mediator_accept(
        case=assigned_case(world), actor=world.mediator, disclosure="亲属关系", nothing_to_disclose=False
    )
    with pytest.raises(PermissionDenied):
        disclosure_answer(
            disclosure=Disclosure.objects.get(case=case), party=party(case, PartyRole.APPLICANT),
            actor=world.respondent, agree=True,
        )


def test_a_mediator_may_disclose_later_during_mediation(world):
    case = mediator_accept(case=assigned_case(world), actor=world.mediator, disclosure="", nothing_to_disclose=True)
    later = mediator_disclose(case=case, actor=world.mediator, statement="得知被申请人系本人远亲。")
    assert not later.nothing_to_disclose
    assert NoticeText.objects.filter(code=DISCLOSURE_TEXT_CODE, body__contains="远亲").exists()
    with pytest.raises(PermissionDenied):
        mediator_disclose(case=case, actor=world.other_mediator, statement="x")


@pytest.mark.parametrize("name", ["outsider", "other_mediator", "org_admin", "clerk", "applicant"])
def test_only_the_assigned_mediator_accepts(world, name):
    case = assigned_case(world)
    with pytest.raises(PermissionDenied):
        mediator_accept(case=case, actor=getattr(world, name), disclosure="", nothing_to_disclose=True)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ASSIGNED
    assert not Disclosure.objects.exists()


# --- Decline (OMR 12) ------------------------------------------------------------------------------------


def test_declining_without_reasons_is_refused_and_nothing_changes(world):
    case = assigned_case(world)
    with pytest.raises(InvalidInput, match="书面写明理由"):
        mediator_decline(case=case, actor=world.mediator, reasons="   ")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ASSIGNED
    assert CaseMediator.objects.get(case=case).is_active


def test_declining_with_reasons_returns_the_case_and_ends_access(world):
    case = mediator_decline(case=assigned_case(world), actor=world.mediator, reasons="超出本人擅长领域。")
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert not case_roles(world.mediator, case)
    event = AuditEvent.objects.get(case=case, kind="case.mediator_decline")
    assert event.data["note"] == "超出本人擅长领域。"
    # A new selection round: a fresh 2-working-day window.
    assert Timer.objects.filter(case=case, kind=TimerKind.SELECTION_WINDOW, status=TimerStatus.RUNNING).exists()


def test_the_organisation_admin_may_decline_for_the_organisation(world):
    case = mediator_decline(case=assigned_case(world), actor=world.org_admin, reasons="超出本组织章程范围。")
    assert case.status == CaseStatus.AWAITING_SELECTION


@pytest.mark.parametrize("name", ["outsider", "other_mediator", "clerk", "applicant", "other_clerk"])
def test_others_cannot_decline(world, name):
    case = assigned_case(world)
    with pytest.raises(PermissionDenied):
        mediator_decline(case=case, actor=getattr(world, name), reasons="理由")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ASSIGNED


def test_choices_from_an_earlier_round_do_not_count_after_a_decline(world, selecting, second_mediator):
    both_pick(world, selecting, world.mediator)
    case = mediator_decline(case=Case.objects.get(pk=selecting.pk), actor=world.mediator, reasons="不擅长")
    # Only the applicant picks again in the new round: no joint choice yet.
    mediator_choice_record(
        case=case, party=party(case, PartyRole.APPLICANT), mediator=second_mediator, actor=world.applicant
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_SELECTION


# --- Recusal (OMR 13-14; SIM 15) -------------------------------------------------------------------------


def scheduling_case(world) -> Case:
    on_roster(world.mediator, world.court)
    return world.drive(world.new_case(), CaseStatus.SCHEDULING)


def test_granted_recusal_returns_the_case_and_the_mediator_cannot_be_chosen_again(world):
    case = scheduling_case(world)
    request = recusal_request(
        case=case, party=party(case, PartyRole.RESPONDENT), actor=world.lawyer, grounds="调解员系申请人表兄。"
    )
    decided = recusal_decide(request=request, grant=True, note="存在亲属关系，准予回避。", actor=world.clerk)
    assert decided.decision == RecusalDecision.GRANTED and decided.decided_by == world.clerk
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert not case_roles(world.mediator, case)
    assert "case.change_mediator" in kinds(case) and kinds(case)[-1] == "recusal.decided"
    with pytest.raises(InvalidInput, match="已因回避退出本案"):
        mediator_choice_record(
            case=case, party=party(case, PartyRole.APPLICANT), mediator=world.mediator, actor=world.applicant
        )


def test_refused_recusal_keeps_the_mediator(world):
    case = scheduling_case(world)
    request = recusal_request(
        case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="不信任"
    )
    recusal_decide(request=request, grant=False, note="理由不成立。", actor=world.org_admin)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SCHEDULING
    assert tr.MEDIATOR in case_roles(world.mediator, case)
    with pytest.raises(StaleState):
        recusal_decide(request=request, grant=True, note="改变主意", actor=world.clerk)


def test_a_recusal_request_needs_grounds_and_a_mediator(world):
    case = scheduling_case(world)
    with pytest.raises(InvalidInput, match="请写明申请回避的理由"):
        recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds=" ")
    fresh = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with pytest.raises(InvalidInput, match="没有承办调解员"):
        recusal_request(case=fresh, party=party(fresh, PartyRole.APPLICANT), actor=world.applicant, grounds="理由")
    assert not RecusalRequest.objects.exists()


def test_a_pending_recusal_request_is_not_duplicated(world):
    case = scheduling_case(world)
    recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="理由一")
    with pytest.raises(InvalidInput, match="尚待决定"):
        recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="理由二")


@pytest.mark.parametrize("name", ["outsider", "other_mediator", "clerk", "mediator", "respondent"])
def test_only_the_party_or_its_agent_requests_recusal_for_it(world, name):
    case = scheduling_case(world)
    with pytest.raises(PermissionDenied):
        recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=getattr(world, name), grounds="理由")


@pytest.mark.parametrize("name", ["outsider", "mediator", "applicant", "other_clerk", "other_mediator", "judge"])
def test_only_the_organisation_or_the_court_decides_recusal(world, name):
    case = scheduling_case(world)
    request = recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="理由")
    with pytest.raises(PermissionDenied):
        recusal_decide(request=request, grant=True, note="准予", actor=getattr(world, name))
    assert RecusalRequest.objects.get(pk=request.pk).decision == RecusalDecision.PENDING


def test_a_recusal_decision_needs_a_note(world):
    case = scheduling_case(world)
    request = recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="理由")
    with pytest.raises(InvalidInput, match="请写明决定理由"):
        recusal_decide(request=request, grant=False, note="", actor=world.clerk)


@pytest.mark.parametrize("status", [CaseStatus.ASSIGNED, CaseStatus.ACCEPTED, CaseStatus.SCHEDULING])
def test_a_granted_recusal_ends_the_assignment_before_and_after_acceptance(world, status):
    on_roster(world.mediator, world.court)
    case = world.drive(world.new_case(), status)
    request = recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="理由")
    recusal_decide(request=request, grant=True, note="准予", actor=world.clerk)
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert not case.mediator_assignments.filter(is_active=True).exists()
    expected = "case.recuse_mediator" if status == CaseStatus.ASSIGNED else "case.change_mediator"
    assert expected in kinds(case)


def test_a_recusal_cannot_be_granted_once_mediation_has_ended(world):
    on_roster(world.mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    request = recusal_request(case=case, party=party(case, PartyRole.APPLICANT), actor=world.applicant, grounds="理由")
    case = world.drive(case, CaseStatus.TERMINATED)
    before = kinds(case)
    with pytest.raises(InvalidInput, match="不能因回避更换调解员"):
        recusal_decide(request=request, grant=True, note="准予", actor=world.clerk)
    assert RecusalRequest.objects.get(pk=request.pk).decision == RecusalDecision.PENDING
    assert kinds(case) == before
