"""OMR 13: a party's "no" to a mediator's disclosure leads to a change of mediator or the end of mediation; OMR 14:
a party still objecting after a change is deemed to refuse mediation."""

from __future__ import annotations

import pytest

from mediation.choices import CaseStatus, EndReason, PartyRole
from mediation.exceptions import InvalidInput, PermissionDenied, TransitionNotAllowed
from mediation.models import AuditEvent, Case, CaseMediator, Disclosure
from mediation.services.assignment import (
    disclosure_answer,
    disclosure_objection_resolve,
    mediator_accept,
    mediator_change_refused,
)
from mediation.services.cases import case_transition

pytestmark = pytest.mark.django_db


def _objected(world) -> tuple[Case, Disclosure]:
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    case = mediator_accept(case=case, actor=world.mediator, disclosure="本人曾与被申请人在同一单位工作。",
                           nothing_to_disclose=False)
    disclosure = Disclosure.objects.get(case=case)
    disclosure_answer(disclosure=disclosure, party=case.parties.get(role=PartyRole.APPLICANT),
                      actor=world.applicant, agree=False)
    return Case.objects.get(pk=case.pk), disclosure


def test_an_objection_to_a_disclosure_changes_the_mediator(world):
    case, disclosure = _objected(world)
    case = disclosure_objection_resolve(disclosure=disclosure, actor=world.mediator, outcome="change",
                                        note="当事人不同意本人继续调解")
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert not CaseMediator.objects.filter(case=case, is_active=True).exists()
    event = AuditEvent.objects.get(case=case, kind="case.disclosure_objection_change")
    assert event.data["rule"] == "OMR 13"


def test_an_objection_to_a_disclosure_may_end_mediation(world):
    case, disclosure = _objected(world)
    case = disclosure_objection_resolve(disclosure=disclosure, actor=world.org_admin, outcome="terminate",
                                        note="无其他调解员可承办")
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.OTHER)


@pytest.mark.parametrize("name", ["applicant", "respondent", "outsider", "other_mediator", "judge"])
def test_others_cannot_resolve_an_objection(world, name):
    case, disclosure = _objected(world)
    with pytest.raises(PermissionDenied):
        disclosure_objection_resolve(disclosure=disclosure, actor=getattr(world, name), outcome="change", note="x")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_the_clerk_may_change_but_not_terminate(world):
    _case, disclosure = _objected(world)
    with pytest.raises(PermissionDenied):
        disclosure_objection_resolve(disclosure=disclosure, actor=world.clerk, outcome="terminate", note="x")


def test_without_an_objection_there_is_nothing_to_resolve(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    case = mediator_accept(case=case, actor=world.mediator, disclosure="远亲", nothing_to_disclose=False)
    disclosure = Disclosure.objects.get(case=case)
    disclosure_answer(disclosure=disclosure, party=case.parties.get(role=PartyRole.APPLICANT),
                      actor=world.applicant, agree=True)
    with pytest.raises(InvalidInput):
        disclosure_objection_resolve(disclosure=disclosure, actor=world.mediator, outcome="change", note="x")
    with pytest.raises(InvalidInput):
        disclosure_objection_resolve(disclosure=disclosure, actor=world.mediator, outcome="nonsense", note="x")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_a_party_still_objecting_after_a_change_is_deemed_to_refuse(world):
    case, disclosure = _objected(world)
    case = disclosure_objection_resolve(disclosure=disclosure, actor=world.mediator, outcome="change", note="更换")
    applicant = case.parties.get(role=PartyRole.APPLICANT)
    for name in ("applicant", "respondent", "mediator", "outsider", "judge"):
        with pytest.raises(PermissionDenied):
            mediator_change_refused(case=case, party=applicant, actor=getattr(world, name), note="仍拒绝选择")
    case = mediator_change_refused(case=case, party=applicant, actor=world.clerk, note="申请人拒绝选择任何调解员")
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.REFUSED_TO_CONTINUE)
    event = AuditEvent.objects.get(case=case, kind="case.deemed_refusal")
    assert "视为拒绝调解" in event.data["note"]


def test_deemed_refusal_needs_a_change_first(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    with pytest.raises(TransitionNotAllowed):
        mediator_change_refused(case=case, party=case.parties.first(), actor=world.org_admin, note="拒绝")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_MEDIATION


def test_deemed_refusal_after_a_partys_own_change_request(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    case = case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.applicant, note="申请更换")
    case = mediator_change_refused(case=case, party=case.parties.get(role=PartyRole.APPLICANT),
                                   actor=world.org_admin, note="更换后仍不同意")
    assert case.status == CaseStatus.TERMINATED


def test_pages_resolve_an_objection_and_record_a_deemed_refusal(world, client):
    from django.urls import reverse

    case, disclosure = _objected(world)
    url = reverse("case_disclosure", args=[case.pk])
    client.force_login(world.respondent)
    page = client.get(url).content.decode()
    assert f'data-objection="{disclosure.pk}"' not in page  # a party answers; it does not resolve
    client.post(url, {"form": "objection", "disclosure": disclosure.pk, "outcome": "change", "note": "x"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    client.force_login(world.mediator)
    assert f'data-objection="{disclosure.pk}"' in client.get(url).content.decode()
    response = client.post(url, {"form": "objection", "disclosure": disclosure.pk, "outcome": "change",
                                 "note": "当事人不同意"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_SELECTION

    recusal = reverse("case_recusal", args=[case.pk])
    applicant = case.parties.get(role=PartyRole.APPLICANT)
    client.force_login(world.applicant)
    assert "data-deemed-refusal" not in client.get(recusal).content.decode()
    client.post(recusal, {"form": "deemed_refusal", "party": applicant.pk, "note": "x"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_SELECTION
    client.force_login(world.clerk)
    assert "data-deemed-refusal" in client.get(recusal).content.decode()
    client.post(recusal, {"form": "deemed_refusal", "party": applicant.pk, "note": "仍拒绝选择调解员"})
    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.REFUSED_TO_CONTINUE)
