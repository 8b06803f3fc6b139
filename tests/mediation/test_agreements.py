"""The agreement drafted together: who may draft and assent, assents bound to the wording, freezing and
opening signing, revisions, numbering and the announcements to the room."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from mediation.choices import (
    AgentAuthority,
    AgentKind,
    AgreementScope,
    AgreementStatus,
    AgreementVariant,
    CaseOrigin,
    CaseStatus,
    ClauseKind,
    OrganisationKind,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import Agent, Agreement, AuditEvent, Case, CaseMediator, ClauseAssent, Organisation
from mediation.selectors.agreements import agreement_current_for_user, agreement_view_for_user
from mediation.services.agreements import (
    agreement_clause_add,
    agreement_clause_assent,
    agreement_clause_delete,
    agreement_clause_move,
    agreement_clause_update,
    agreement_clause_withdraw_assent,
    agreement_is_fully_assented,
    agreement_open_signing,
    agreement_revise,
    agreement_start,
    agreement_update,
)
from tests.agreement_support import assent_all, draft_labour_agreement, open_signing, parties_of
from tests.factories import UserFactory


def _in_mediation(world, **kwargs) -> Case:
    return world.drive(world.new_case(**kwargs), CaseStatus.IN_MEDIATION)


def _committee(world, name: str = "北京市东城区和平里街道人民调解委员会", short: str = "京和平里") -> Organisation:
    return Organisation.objects.create(
        name=name, short_name=short, kind=OrganisationKind.PEOPLES_MEDIATION_COMMITTEE, parent=world.court
    )


def _general_agent_for_applicant(world, case: Case):
    user = UserFactory(username="relative", real_name="张小三")
    applicant, _respondent = parties_of(case)
    Agent.objects.create(party=applicant, user=user, name=user.real_name, kind=AgentKind.RELATIVE,
                         authority=AgentAuthority.GENERAL)
    return user


# --- starting -------------------------------------------------------------------------------------------------


def test_starting_moves_the_case_to_drafting_and_prefills_facts_and_claims(world):
    case = _in_mediation(world)
    agreement = agreement_start(case=case, actor=world.mediator)
    case.refresh_from_db()
    assert case.status == CaseStatus.AGREEMENT_DRAFT
    assert agreement.status == AgreementStatus.DRAFTING and agreement.version == 1
    assert agreement.disputed_matters == case.claims == "支付拖欠工资 12,000 元"
    assert AuditEvent.objects.filter(case=case, kind="agreement.started").exists()


def test_starting_again_returns_the_version_being_drafted(world):
    case = _in_mediation(world)
    first = agreement_start(case=case, actor=world.mediator)
    assert agreement_start(case=case, actor=world.mediator) == first
    assert Agreement.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("who", ["applicant", "lawyer", "outsider", "other_mediator", "judge", "org_admin"])
def test_only_the_presiding_mediator_starts_drafting(world, who):
    case = _in_mediation(world)
    with pytest.raises(PermissionDenied):
        agreement_start(case=case, actor=getattr(world, who))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION


def test_a_second_mediator_who_does_not_preside_cannot_start_drafting(world):
    case = _in_mediation(world)
    CaseMediator.objects.create(case=case, mediator=world.other_mediator, presiding=False)
    with pytest.raises(PermissionDenied, match="主持调解员"):
        agreement_start(case=case, actor=world.other_mediator)


def test_drafting_cannot_start_before_mediation(world):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    with pytest.raises(TransitionNotAllowed, match="调解进行中"):
        agreement_start(case=case, actor=world.mediator)


def test_a_peoples_mediation_committee_case_takes_the_peoples_variant_and_a_yearly_committee_number(world):
    committee = _committee(world)
    year = timezone.localdate().year
    numbers = []
    for _ in range(2):
        case = world.new_case()
        case.mediation_organisation = committee
        case.save()
        agreement = agreement_start(case=world.drive(case, CaseStatus.IN_MEDIATION), actor=world.mediator)
        assert agreement.variant == AgreementVariant.PEOPLES
        numbers.append(agreement.number)
    assert numbers == [f"（{year}）京和平里人调字第1号", f"（{year}）京和平里人调字第2号"]


def test_a_delegated_case_takes_the_delegated_variant_and_a_platform_number(world):
    case = _in_mediation(world, origin=CaseOrigin.DELEGATED)
    agreement = agreement_start(case=case, actor=world.mediator)
    assert agreement.variant == AgreementVariant.DELEGATED
    assert agreement.number == f"{case.reference}-XY"


def test_an_entrusted_case_takes_the_entrusted_variant(world):
    agreement = agreement_start(case=_in_mediation(world, origin=CaseOrigin.ENTRUSTED), actor=world.mediator)
    assert agreement.variant == AgreementVariant.ENTRUSTED


def test_a_party_application_takes_the_delegated_variant(world):
    agreement = agreement_start(case=_in_mediation(world), actor=world.mediator)
    assert agreement.variant == AgreementVariant.DELEGATED


# --- editing --------------------------------------------------------------------------------------------------


def test_every_edit_bumps_the_revision_and_is_audited(world):
    agreement = agreement_start(case=_in_mediation(world), actor=world.mediator)
    agreement = agreement_update(agreement=agreement, actor=world.mediator, facts="事实")
    assert agreement.revision == 1
    clause = agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.OTHER, text="条款")
    agreement_clause_update(clause=clause, actor=world.mediator, text="改过的条款")
    agreement.refresh_from_db()
    assert agreement.revision == 3
    kinds = list(AuditEvent.objects.filter(case=agreement.case, kind__startswith="agreement.").values_list(
        "kind", flat=True))
    assert kinds == ["agreement.started", "agreement.updated", "agreement.clause_added", "agreement.clause_updated"]


def test_saving_unchanged_content_is_not_a_revision(world):
    agreement = draft_labour_agreement(world, assent=False)
    clause = agreement.clauses.get(number=2)
    agreement_clause_update(clause=clause, actor=world.mediator, text=clause.text)
    agreement.refresh_from_db()
    assert agreement.revision == 3  # the header and the two clauses


@pytest.mark.parametrize("who", ["applicant", "respondent", "lawyer", "outsider", "judge", "clerk", "org_admin"])
def test_only_the_mediator_edits_the_agreement(world, who):
    agreement = draft_labour_agreement(world, assent=False)
    with pytest.raises(PermissionDenied):
        agreement_update(agreement=agreement, actor=getattr(world, who), facts="改写的事实")
    with pytest.raises(PermissionDenied):
        agreement_clause_add(agreement=agreement, actor=getattr(world, who), kind=ClauseKind.OTHER, text="新条款")


def test_the_mediator_of_another_case_cannot_edit_this_agreement(world):
    agreement = draft_labour_agreement(world, assent=False)
    other = world.new_case()
    CaseMediator.objects.create(case=other, mediator=world.other_mediator)
    with pytest.raises(PermissionDenied):
        agreement_update(agreement=agreement, actor=world.other_mediator, facts="改写的事实")


def test_a_clause_cannot_name_a_party_of_another_case(world):
    agreement = draft_labour_agreement(world, assent=False)
    stranger, _r = parties_of(world.new_case())
    with pytest.raises(InvalidInput, match="本案当事人"):
        agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.PAYMENT, obligor=stranger)


def test_an_unknown_header_field_is_refused(world):
    agreement = draft_labour_agreement(world, assent=False)
    with pytest.raises(InvalidInput):
        agreement_update(agreement=agreement, actor=world.mediator, number="（2026）自拟第1号")


def test_an_edit_drops_the_assents_given_to_the_old_wording(world):
    agreement = draft_labour_agreement(world)
    clause = agreement.clauses.get(number=1)
    old_hash = clause.content_sha256
    clause = agreement_clause_update(clause=clause, actor=world.mediator, amount=Decimal("11000"))
    assert clause.content_sha256 != old_hash
    assert not ClauseAssent.objects.filter(clause=clause).exists()
    assert ClauseAssent.objects.filter(clause__agreement=agreement, clause__number=2).count() == 2
    assert not agreement_is_fully_assented(agreement)


def test_editing_a_clause_back_to_its_old_wording_does_not_revive_old_assents(world):
    agreement = draft_labour_agreement(world)
    clause = agreement.clauses.get(number=2)
    original = clause.text
    agreement_clause_update(clause=clause, actor=world.mediator, text="临时修改")
    agreement_clause_update(clause=clause, actor=world.mediator, text=original)
    assert not agreement_is_fully_assented(agreement)


def test_moving_a_clause_renumbers_and_keeps_its_assents(world):
    agreement = draft_labour_agreement(world)
    second = agreement.clauses.get(number=2)
    agreement_clause_move(clause=second, actor=world.mediator, position=1)
    assert list(agreement.clauses.order_by("number").values_list("kind", flat=True)) == [
        ClauseKind.OTHER, ClauseKind.PAYMENT,
    ]
    assert agreement_is_fully_assented(agreement)


def test_deleting_a_clause_closes_the_gap_in_the_numbering(world):
    agreement = draft_labour_agreement(world, assent=False)
    agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.COSTS,
                         text="案件受理费减半收取，由被申请人负担。")
    agreement_clause_delete(clause=agreement.clauses.get(number=2), actor=world.mediator)
    assert list(agreement.clauses.order_by("number").values_list("number", "kind")) == [
        (1, ClauseKind.PAYMENT), (2, ClauseKind.COSTS),
    ]


# --- assent ---------------------------------------------------------------------------------------------------


def test_a_party_assents_in_person_to_the_current_wording(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    assent = agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant,
                                     content_sha256=clause.content_sha256)
    assert assent.content_sha256 == clause.content_sha256 and assent.user == world.applicant
    event = AuditEvent.objects.get(case=agreement.case, kind="agreement.clause_assented")
    assert event.data["party"] == applicant.pk and event.data["by_agent"] is False


def test_an_agent_with_special_authority_assents_for_the_party(world):
    agreement = draft_labour_agreement(world, assent=False)
    _a, respondent = parties_of(agreement.case)
    agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=world.lawyer, party=respondent)
    assert AuditEvent.objects.get(case=agreement.case, kind="agreement.clause_assented").data["by_agent"] is True


def test_an_agent_with_general_authority_cannot_assent(world):
    agreement = draft_labour_agreement(world, assent=False)
    relative = _general_agent_for_applicant(world, agreement.case)
    applicant, _r = parties_of(agreement.case)
    with pytest.raises(PermissionDenied, match="特别授权"):
        agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=relative, party=applicant)


def test_the_other_party_cannot_assent_for_you(world):
    agreement = draft_labour_agreement(world, assent=False)
    _a, respondent = parties_of(agreement.case)
    with pytest.raises(PermissionDenied):
        agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=world.applicant, party=respondent)


@pytest.mark.parametrize("who", ["outsider", "mediator", "judge"])
def test_nobody_else_assents_for_a_party(world, who):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    with pytest.raises(PermissionDenied):
        agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=getattr(world, who), party=applicant)


def test_a_party_of_another_case_cannot_be_assented_for_here(world):
    agreement = draft_labour_agreement(world, assent=False)
    other_case = world.new_case()
    other_applicant, _r = parties_of(other_case)
    with pytest.raises(PermissionDenied):
        agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=world.applicant, party=other_applicant)


def test_an_assent_to_wording_that_changed_meanwhile_is_refused(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    read = clause.content_sha256
    agreement_clause_update(clause=clause, actor=world.mediator, method="现金")
    with pytest.raises(StaleState, match="修改"):
        agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant, content_sha256=read)
    assert not ClauseAssent.objects.filter(clause=clause).exists()


def test_assenting_twice_records_one_assent(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant)
    agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant)
    assert ClauseAssent.objects.filter(clause=clause).count() == 1
    assert AuditEvent.objects.filter(case=agreement.case, kind="agreement.clause_assented").count() == 1


def test_a_party_withdraws_an_assent_while_drafting(world):
    agreement = draft_labour_agreement(world)
    applicant, _r = parties_of(agreement.case)
    agreement_clause_withdraw_assent(clause=agreement.clauses.get(number=2), actor=world.applicant, party=applicant)
    assert not agreement_is_fully_assented(agreement)
    assert AuditEvent.objects.filter(case=agreement.case, kind="agreement.assent_withdrawn").exists()


def test_fully_assented_needs_every_party_on_every_clause(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    for clause in agreement.clauses.all():
        agreement_clause_assent(clause=clause, actor=world.applicant, party=applicant)
    assert not agreement_is_fully_assented(agreement)
    assent_all(world, agreement)
    assert agreement_is_fully_assented(agreement)


def test_an_agreement_without_clauses_is_not_fully_assented(world):
    agreement = agreement_start(case=_in_mediation(world), actor=world.mediator)
    assert not agreement_is_fully_assented(agreement)


# --- opening signing ------------------------------------------------------------------------------------------


def test_signing_opens_once_everyone_assented_and_the_case_reaches_signing(world):
    agreement = open_signing(world, draft_labour_agreement(world))
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.FROZEN and agreement.frozen_at is not None
    assert Case.objects.get(pk=agreement.case_id).status == CaseStatus.SIGNING
    frozen = AuditEvent.objects.get(case=agreement.case, kind="agreement.frozen")
    assert len(frozen.data["sha256"]) == 64


def test_signing_is_refused_until_every_clause_has_each_partys_assent(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=world.applicant, party=applicant)
    with pytest.raises(InvalidInput, match="第1条：李四尚未同意"):
        agreement_open_signing(agreement=agreement, actor=world.mediator)
    assert Case.objects.get(pk=agreement.case_id).status == CaseStatus.AGREEMENT_DRAFT


def test_signing_is_refused_while_the_draft_has_errors_even_with_all_assents(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.PAYMENT, obligee=applicant,
                         subject="经济补偿", amount=Decimal("3000"))
    assent_all(world, agreement)
    with pytest.raises(InvalidInput, match="第3条（给付金钱）缺少：义务人、履行方式、履行期限"):
        agreement_open_signing(agreement=agreement, actor=world.mediator)


def test_signing_is_refused_when_the_agreement_changed_since_the_mediator_looked(world):
    agreement = draft_labour_agreement(world)
    with pytest.raises(StaleState):
        agreement_open_signing(agreement=agreement, actor=world.mediator, revision=agreement.revision - 1)


@pytest.mark.parametrize("who", ["applicant", "lawyer", "outsider", "other_mediator", "judge"])
def test_only_the_presiding_mediator_opens_signing(world, who):
    agreement = draft_labour_agreement(world)
    with pytest.raises(PermissionDenied):
        agreement_open_signing(agreement=agreement, actor=getattr(world, who))


def test_a_frozen_agreement_is_not_edited_nor_assented(world):
    agreement = open_signing(world, draft_labour_agreement(world))
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    with pytest.raises(TransitionNotAllowed):
        agreement_clause_update(clause=clause, actor=world.mediator, amount=Decimal("1"))
    with pytest.raises(TransitionNotAllowed):
        agreement_clause_withdraw_assent(clause=clause, actor=world.applicant, party=applicant)


# --- revisions ------------------------------------------------------------------------------------------------


def test_only_the_mediator_revises_during_signing(world):
    agreement = open_signing(world, draft_labour_agreement(world))
    with pytest.raises(PermissionDenied):
        agreement_revise(agreement=agreement, actor=world.applicant)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.FROZEN


def test_a_revision_supersedes_the_frozen_version_and_needs_fresh_assents(world):
    frozen = open_signing(world, draft_labour_agreement(world))
    revised = agreement_revise(agreement=frozen, actor=world.mediator)
    frozen.refresh_from_db()
    assert frozen.status == AgreementStatus.SUPERSEDED
    assert (revised.version, revised.supersedes, revised.number) == (2, frozen, frozen.number)
    assert [c.content_sha256 for c in revised.clauses.order_by("number")] == [
        c.content_sha256 for c in frozen.clauses.order_by("number")
    ]
    assert not agreement_is_fully_assented(revised)
    assert Case.objects.get(pk=frozen.case_id).status == CaseStatus.AGREEMENT_DRAFT
    _case, current = agreement_current_for_user(user=world.applicant, case_id=frozen.case_id)
    assert current == revised


def test_a_drafting_agreement_cannot_be_revised(world):
    with pytest.raises(TransitionNotAllowed):
        agreement_revise(agreement=draft_labour_agreement(world), actor=world.mediator)


# --- reading --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mediator", "applicant", "respondent", "lawyer"])
def test_the_parties_their_agents_and_the_mediator_read_the_draft(world, who):
    agreement = draft_labour_agreement(world, assent=False)
    _case, seen = agreement_current_for_user(user=getattr(world, who), case_id=agreement.case_id)
    assert seen == agreement


@pytest.mark.parametrize("who", ["outsider", "other_mediator", "other_judge", "judge", "clerk", "org_admin"])
def test_nobody_else_reads_the_draft(world, who):
    agreement = draft_labour_agreement(world, assent=False)
    with pytest.raises(PermissionDenied):
        agreement_current_for_user(user=getattr(world, who), case_id=agreement.case_id)


def test_the_view_shows_who_assented_to_which_clause(world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, respondent = parties_of(agreement.case)
    agreement_clause_assent(clause=agreement.clauses.get(number=2), actor=world.lawyer, party=respondent)
    view = agreement_view_for_user(user=world.mediator, case_id=agreement.case_id)
    assert [[ok for _p, ok in row.cells] for row in view.rows] == [[False, False], [False, True]]
    assert [(p, done, total) for p, done, total in view.progress] == [(applicant, 0, 2), (respondent, 1, 2)]
    assert view.blockers == ["第1条：张三、李四尚未同意", "第2条：张三尚未同意"]


def test_reading_the_agreement_costs_a_constant_number_of_queries(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agreement = draft_labour_agreement(world)
    with CaptureQueriesContext(connection) as two_clauses:
        agreement_view_for_user(user=world.applicant, case_id=agreement.case_id)
    for n in range(5):
        agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.OTHER, text=f"条款{n}")
    with CaptureQueriesContext(connection) as seven_clauses:
        agreement_view_for_user(user=world.applicant, case_id=agreement.case_id)
    assert len(seven_clauses) == len(two_clauses)


# --- announcements --------------------------------------------------------------------------------------------


def test_changes_are_announced_to_the_room_with_the_change_and_to_the_case_after_commit(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    room_events: list[dict] = []
    case_events: list[dict] = []
    monkeypatch.setattr("mediation.services.agreements.room_announce",
                        lambda *, case, kind, payload: room_events.append({"case": case.pk, "kind": kind, **payload}))
    monkeypatch.setattr("realtime.broadcast.case_broadcast",
                        lambda *, case_id, event: case_events.append({"case": case_id, **event}))
    agreement = draft_labour_agreement(world, assent=False)
    room_events.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        agreement_clause_add(agreement=agreement, actor=world.mediator, kind=ClauseKind.OTHER, text="新条款")
    assert room_events == [
        {"case": agreement.case_id, "kind": "agreement.updated", "agreement": agreement.pk, "revision": 4}
    ]
    assert case_events == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert case_events == [{"case": agreement.case_id, "type": "agreement.updated", "agreement": agreement.pk,
                            "revision": 4}]


def test_an_assent_is_announced_too(world, monkeypatch):
    announced: list[str] = []
    monkeypatch.setattr("mediation.services.agreements.room_announce",
                        lambda *, case, kind, payload: announced.append(kind))
    agreement = draft_labour_agreement(world, assent=False)
    announced.clear()
    applicant, _r = parties_of(agreement.case)
    agreement_clause_assent(clause=agreement.clauses.get(number=1), actor=world.applicant, party=applicant)
    assert announced == ["agreement.updated"]


def test_partial_scope_is_saved_with_the_unresolved_claims(world):
    agreement = draft_labour_agreement(world, assent=False)
    agreement = agreement_update(agreement=agreement, actor=world.mediator, scope=AgreementScope.PARTIAL,
                                 unresolved_claims="加班费请求未达成协议")
    assert (agreement.scope, agreement.unresolved_claims) == (AgreementScope.PARTIAL, "加班费请求未达成协议")
