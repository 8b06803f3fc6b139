"""The case action pages: choosing or designating a mediator, accepting or declining, disclosure, recusal,
and the respondent's step. Each page refuses people without a role (404) and roles that may not act (403)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mediation.adapters import sms
from mediation.choices import CaseStatus, ConsentKind, OtpPurpose, PartyRole, RecusalDecision, RosterScope
from mediation.models import (
    Agent,
    Case,
    Consent,
    Disclosure,
    MediatorChoice,
    OutboxMessage,
    Party,
    RecusalRequest,
    RosterEntry,
)
from mediation.services.assignment import mediator_accept, mediator_choice_record, mediator_designate, recusal_request
from mediation.services.identity import otp_send, user_login_by_phone
from mediation.services.outbox import outbox_drain
from tests.apply_support import verify_identity

pytestmark = pytest.mark.django_db

RESPONDENT_PHONE = "13912345678"
PAGES = ["case_choose", "case_mediator_accept", "case_mediator_decline", "case_disclosure", "case_recusal",
         "case_respondent", "case_respond"]


@pytest.fixture(autouse=True)
def console_sms(settings):
    settings.SMS_BACKEND = "console"
    sms.outbox_clear()
    yield sms.outbox
    sms.outbox_clear()


@pytest.fixture
def rostered(world):
    RosterEntry.objects.create(mediator=world.mediator.mediator_profile, court=world.court, scope=RosterScope.COURT)
    return world.mediator


def url(name: str, case: Case) -> str:
    return reverse(name, args=[case.pk])


def page(client, user, name: str, case: Case, data: dict | None = None):
    client.force_login(user)
    if data is None:
        return client.get(url(name, case))
    return client.post(url(name, case), data)


def text(response) -> str:
    return response.content.decode()


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def all_defer(world, case: Case) -> Case:
    """Both parties leave the choice to the court, so it may designate within the window (OMR 10)."""
    for role, actor in ((PartyRole.APPLICANT, world.applicant), (PartyRole.RESPONDENT, world.lawyer)):
        mediator_choice_record(case=case, party=Party.objects.get(case=case, role=role), mediator=None, actor=actor,
                               defer_to_court=True)
    return fresh(case)


def assigned(world) -> Case:
    case = all_defer(world, world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION))
    return mediator_designate(case=case, mediator=world.mediator, actor=world.clerk)


def one_sided(world, *, status: str = CaseStatus.RESPONDENT_PENDING) -> Case:
    case = world.new_case(one_sided=True)
    respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
    respondent.user, respondent.phone = None, RESPONDENT_PHONE
    respondent.save()
    Agent.objects.filter(party=respondent).delete()
    return world.drive(case, status)


# --- Refusals common to every page ---------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("who", ["outsider", "other_clerk", "other_judge", "other_mediator"])
def test_people_without_a_role_on_the_case_get_not_found(world, client, rostered, name, who):
    case = assigned(world)
    assert page(client, getattr(world, who), name, case).status_code == 404
    assert page(client, getattr(world, who), name, case, {"action": "designate", "mediator": rostered.pk}).status_code \
        == 404
    assert fresh(case).status == CaseStatus.ASSIGNED


@pytest.mark.parametrize("name", PAGES[:-1])
def test_anonymous_visitors_are_sent_to_sign_in(world, client, name):
    case = world.new_case()
    response = client.get(url(name, case))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_respond_link_sends_anonymous_visitors_to_the_phone_sign_in(world, client):
    case = one_sided(world)
    response = client.get(url("case_respond", case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("phone_login"))
    assert "next=" in response["Location"]


# --- Choosing and designating ----------------------------------------------------------------------------


def test_a_party_sees_the_ranked_mediators_and_the_window(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    body = text(page(client, world.applicant, "case_choose", case))
    assert rostered.display_name in body
    assert "当事人共同选择调解员" in body  # the clock's name
    assert "交由法院指定" in body
    assert 'value="designate"' not in body


def test_both_parties_choose_through_the_page(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    first = page(client, world.applicant, "case_choose", case, {"action": "choose", "mediator": rostered.pk})
    assert first.status_code == 302 and first["Location"] == url("case_choose", case)
    assert fresh(case).status == CaseStatus.AWAITING_SELECTION
    second = page(client, world.lawyer, "case_choose", case, {"action": "choose", "mediator": rostered.pk})
    assert second["Location"] == reverse("case_detail", args=[case.pk])
    assert fresh(case).status == CaseStatus.ASSIGNED


def test_choosing_someone_off_the_roster_shows_why_and_saves_nothing(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    data = {"action": "choose", "mediator": world.other_mediator.pk}
    response = page(client, world.applicant, "case_choose", case, data)
    assert response.status_code == 200
    assert "不在本案管辖法院" in text(response)
    assert not MediatorChoice.objects.exists()


def test_choosing_a_mediator_that_does_not_exist_says_so(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    response = page(client, world.applicant, "case_choose", case, {"action": "choose", "mediator": 999999})
    assert "所选调解员不存在" in text(response)
    assert not MediatorChoice.objects.exists()


def test_a_party_cannot_designate(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    response = page(client, world.applicant, "case_choose", case, {"action": "designate", "mediator": rostered.pk})
    assert "指定调解员由本案管辖法院或调解组织进行" in text(response)
    assert fresh(case).status == CaseStatus.AWAITING_SELECTION


def test_the_clerk_is_not_offered_designation_while_the_parties_may_choose(world, client, rostered):
    from frontend.views.case_actions import case_action_links

    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    assert case_action_links(user=world.clerk, case=case) == []
    body = text(page(client, world.clerk, "case_choose", case))
    assert 'value="designate"' not in body and "期限届满后方可指定" in body
    response = page(client, world.clerk, "case_choose", case, {"action": "designate", "mediator": rostered.pk})
    assert "尚未届满" in text(response)
    assert fresh(case).status == CaseStatus.AWAITING_SELECTION


def test_the_clerk_designates_through_the_page_once_the_parties_defer(world, client, rostered):
    case = all_defer(world, world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION))
    body = text(page(client, world.clerk, "case_choose", case))
    assert 'value="designate"' in body and "指定调解员" in body
    response = page(client, world.clerk, "case_choose", case, {"action": "designate", "mediator": rostered.pk})
    assert response.status_code == 302
    assert fresh(case).status == CaseStatus.ASSIGNED


@pytest.mark.parametrize("who", ["mediator", "judge"])
def test_roles_that_neither_choose_nor_designate_are_told_so(world, client, rostered, who):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    response = page(client, getattr(world, who), "case_choose", case)
    assert response.status_code == 403
    assert "只有当事人本人或其特别授权代理人可以选择调解员" in text(response)


def test_the_choice_page_says_when_the_case_is_past_selection(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    body = text(page(client, world.applicant, "case_choose", case))
    assert "不在选定调解员阶段" in body
    assert 'name="mediator"' not in body


# --- Acceptance and decline ------------------------------------------------------------------------------


def test_accepting_without_a_disclosure_statement_is_refused_on_the_page(world, client, rostered):
    case = assigned(world)
    response = page(client, world.mediator, "case_mediator_accept", case, {"disclosure": ""})
    assert response.status_code == 200
    assert "请作出披露声明" in text(response)
    assert fresh(case).status == CaseStatus.ASSIGNED and not Disclosure.objects.exists()


def test_the_mediator_accepts_with_nothing_to_disclose(world, client, rostered):
    case = assigned(world)
    response = page(client, world.mediator, "case_mediator_accept", case, {"nothing_to_disclose": "on"})
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert fresh(case).status == CaseStatus.ACCEPTED


def test_accepting_a_one_sided_case_leads_to_the_respondent_step(world, client, rostered):
    case = world.new_case(one_sided=True)
    case = mediator_designate(case=world.drive(case, CaseStatus.AWAITING_SELECTION), mediator=world.mediator,
                              actor=world.clerk)
    response = page(client, world.mediator, "case_mediator_accept", case, {"nothing_to_disclose": "on"})
    assert response["Location"] == url("case_respondent", case)


@pytest.mark.parametrize("who", ["applicant", "respondent", "clerk", "org_admin"])
def test_only_the_mediator_may_accept(world, client, rostered, who):
    case = assigned(world)
    response = page(client, getattr(world, who), "case_mediator_accept", case, {"nothing_to_disclose": "on"})
    assert response.status_code == 403
    assert fresh(case).status == CaseStatus.ASSIGNED


def test_declining_needs_reasons_on_the_page(world, client, rostered):
    case = assigned(world)
    response = page(client, world.mediator, "case_mediator_decline", case, {"reasons": " "})
    assert "书面写明理由" in text(response)
    assert fresh(case).status == CaseStatus.ASSIGNED


def test_the_mediator_declines_and_leaves_the_case(world, client, rostered):
    case = assigned(world)
    response = page(client, world.mediator, "case_mediator_decline", case, {"reasons": "超出擅长领域"})
    assert response["Location"] == reverse("home")
    assert fresh(case).status == CaseStatus.AWAITING_SELECTION
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404


@pytest.mark.parametrize("who", ["applicant", "clerk", "judge"])
def test_others_with_a_role_may_not_decline(world, client, rostered, who):
    case = assigned(world)
    assert page(client, getattr(world, who), "case_mediator_decline", case, {"reasons": "x"}).status_code == 403
    assert fresh(case).status == CaseStatus.ASSIGNED


# --- Disclosure and recusal ------------------------------------------------------------------------------


def disclosed(world) -> Case:
    return mediator_accept(case=assigned(world), actor=world.mediator, disclosure="曾为申请人单位提供法律咨询。",
                           nothing_to_disclose=False)


def test_a_party_answers_a_disclosure_on_the_page(world, client, rostered):
    case = disclosed(world)
    disclosure = Disclosure.objects.get(case=case)
    applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
    body = text(page(client, world.applicant, "case_disclosure", case))
    assert "曾为申请人单位提供法律咨询。" in body
    response = page(client, world.applicant, "case_disclosure", case,
                    {"form": "answer", "disclosure": disclosure.pk, "party": applicant.pk, "agree": "0"})
    assert response["Location"] == url("case_recusal", case)  # a party who objects may ask for recusal
    consent = Consent.objects.get(case=case, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE)
    assert not consent.granted and consent.party == applicant


def test_a_party_cannot_answer_for_the_other_party(world, client, rostered):
    case = disclosed(world)
    applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
    page(client, world.respondent, "case_disclosure", case,
         {"form": "answer", "disclosure": Disclosure.objects.get(case=case).pk, "party": applicant.pk, "agree": "1"})
    assert not Consent.objects.filter(case=case, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE).exists()


def test_a_judge_has_no_disclosure_page(world, client, rostered):
    assert page(client, world.judge, "case_disclosure", disclosed(world)).status_code == 403


@pytest.mark.parametrize("who", ["clerk", "org_admin"])
def test_staff_see_disclosures_to_resolve_objections_but_do_not_answer_them(world, client, rostered, who):
    """OMR 13: the organisation (and the court, for a change) resolve a party's "no"; only parties answer."""
    case = disclosed(world)
    disclosure = Disclosure.objects.filter(case=case).first()
    assert page(client, getattr(world, who), "case_disclosure", case).status_code == 200
    applicant = case.parties.get(role="applicant")
    page(client, getattr(world, who), "case_disclosure", case,
         {"form": "answer", "disclosure": disclosure.pk, "party": applicant.pk, "agree": "1"})
    assert not Consent.objects.filter(case=case, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE).exists()


def test_a_party_requests_recusal_and_the_clerk_decides(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    response = page(client, world.applicant, "case_recusal", case, {"form": "request", "grounds": "调解员系对方亲属。"})
    assert response.status_code == 302
    request = RecusalRequest.objects.get(case=case)
    assert "调解员系对方亲属。" in text(page(client, world.clerk, "case_recusal", case))
    response = page(client, world.clerk, "case_recusal", case,
                    {"form": "decide", "request": request.pk, "grant": "1", "note": "存在亲属关系。"})
    assert response.status_code == 302
    assert RecusalRequest.objects.get(pk=request.pk).decision == RecusalDecision.GRANTED
    assert fresh(case).status == CaseStatus.AWAITING_SELECTION


def test_a_recusal_request_without_grounds_shows_why(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    response = page(client, world.applicant, "case_recusal", case, {"form": "request", "grounds": ""})
    assert "请写明申请回避的理由" in text(response)
    assert not RecusalRequest.objects.exists()


def test_a_party_cannot_decide_recusal(world, client, rostered):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    request = recusal_request(case=case, party=Party.objects.get(case=case, role=PartyRole.APPLICANT),
                              actor=world.applicant, grounds="理由")
    page(client, world.respondent, "case_recusal", case,
         {"form": "decide", "request": request.pk, "grant": "1", "note": "准予"})
    assert RecusalRequest.objects.get(pk=request.pk).decision == RecusalDecision.PENDING


@pytest.mark.parametrize("who", ["mediator", "judge"])
def test_the_mediator_and_the_judge_neither_request_nor_decide_recusal(world, client, rostered, who):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    assert page(client, getattr(world, who), "case_recusal", case).status_code == 403


# --- The respondent step ---------------------------------------------------------------------------------


def test_the_mediator_seeks_invites_and_records_unreachable(world, client, rostered, console_sms):
    case = one_sided(world, status=CaseStatus.ACCEPTED)
    assert page(client, world.mediator, "case_respondent", case, {"action": "seek"}).status_code == 302
    assert fresh(case).status == CaseStatus.RESPONDENT_PENDING
    assert page(client, world.mediator, "case_respondent", case, {"action": "invite"}).status_code == 302
    [invitation] = OutboxMessage.objects.filter(case=case)
    assert invitation.address == RESPONDENT_PHONE and invitation.idempotency_key == f"respondent-invite:{case.pk}:0"
    outbox_drain(worker_id="t")
    assert console_sms[-1].phone == RESPONDENT_PHONE
    assert "短信邀请" in text(page(client, world.mediator, "case_respondent", case))
    response = page(client, world.mediator, "case_respondent", case, {"action": "unreachable", "note": ""})
    assert "请写明联系被申请人的经过" in text(response)
    assert fresh(case).status == CaseStatus.RESPONDENT_PENDING
    page(client, world.mediator, "case_respondent", case, {"action": "unreachable", "note": "多次致电未接通"})
    assert fresh(case).status == CaseStatus.TERMINATED


@pytest.mark.parametrize("who", ["applicant", "clerk", "org_admin"])
def test_only_the_mediator_runs_the_respondent_step(world, client, rostered, who):
    case = one_sided(world)
    assert page(client, getattr(world, who), "case_respondent", case, {"action": "unreachable", "note": "x"}) \
        .status_code == 403
    assert fresh(case).status == CaseStatus.RESPONDENT_PENDING


def sign_in_by_phone(client, phone: str = RESPONDENT_PHONE):
    otp_send(phone=phone, purpose=OtpPurpose.LOGIN)
    code = re.search(r"\d{6}", sms.outbox[-1].text).group(0)
    user = user_login_by_phone(phone=phone, code=code)
    client.force_login(user)
    return user


def test_the_respondent_signs_in_confirms_and_agrees(world, client, rostered):
    case = one_sided(world)
    user = sign_in_by_phone(client)
    link_page = client.get(url("case_respond", case))
    assert link_page.status_code == 200 and "我是被申请人" in text(link_page)
    assert client.post(url("case_respond", case), {"action": "link"})["Location"] == url("case_respond", case)
    gate = client.get(url("case_respond", case))  # the real-name step first (issue 17 item 15)
    assert gate.status_code == 302 and gate["Location"].startswith(reverse("identity_verify"))
    user.real_name = "李四"
    user.save(update_fields=["real_name"])
    verify_identity(user)
    answer_page = text(client.get(url("case_respond", case)))
    assert "在线调解告知书" in answer_page and "愿意在线调解" in answer_page
    notice = re.search(r'name="notice_text" value="(\d+)"', answer_page).group(1)
    consent = re.search(r'name="consent_text" value="(\d+)"', answer_page).group(1)
    response = client.post(url("case_respond", case), {"answer": "yes", "notice_text": notice, "consent_text": consent})
    assert response.status_code == 302
    assert fresh(case).status == CaseStatus.SCHEDULING
    assert Party.objects.get(case=case, role=PartyRole.RESPONDENT).user == user


def test_the_respondent_refuses_on_the_page(world, client, rostered):
    case = one_sided(world)
    user = sign_in_by_phone(client)
    client.post(url("case_respond", case), {"action": "link"})
    user.real_name = "李四"
    user.save(update_fields=["real_name"])
    verify_identity(user)  # the real-name step before answering (issue 17 item 15)
    client.post(url("case_respond", case), {"answer": "no"})
    assert fresh(case).status == CaseStatus.TERMINATED


def test_someone_with_another_phone_gets_not_found_on_the_respond_page(world, client, rostered):
    case = one_sided(world)
    sign_in_by_phone(client, "13700000000")
    assert client.get(url("case_respond", case)).status_code == 404
    assert client.post(url("case_respond", case), {"action": "link"}).status_code == 404
    assert Party.objects.get(case=case, role=PartyRole.RESPONDENT).user is None


def test_the_applicant_cannot_answer_for_the_respondent(world, client, rostered):
    case = one_sided(world)
    response = page(client, world.applicant, "case_respond", case, {"answer": "no"})
    assert response.status_code == 403
    assert "只有被申请人本人或其代理人" in text(response)
    assert fresh(case).status == CaseStatus.RESPONDENT_PENDING


# --- Links for the case page -----------------------------------------------------------------------------


def test_each_role_is_offered_only_its_own_actions(world, rostered):
    from frontend.views.case_actions import case_action_links

    selecting = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    assert [label for label, _ in case_action_links(user=world.applicant, case=selecting)] == ["选择调解员"]
    assert case_action_links(user=world.clerk, case=selecting) == []  # the parties choose first (OMR 10)
    selecting = all_defer(world, selecting)
    assert [label for label, _ in case_action_links(user=world.clerk, case=selecting)] == ["指定调解员"]
    assert case_action_links(user=world.judge, case=selecting) == []
    waiting = assigned(world)
    assert [href for _, href in case_action_links(user=world.mediator, case=waiting)][:2] == [
        url("case_mediator_accept", waiting), url("case_mediator_decline", waiting),
    ]
    assert url("case_mediator_accept", waiting) not in [h for _, h in case_action_links(user=world.org_admin,
                                                                                           case=waiting)]
    pending = one_sided(world)
    assert url("case_respondent", pending) in [h for _, h in case_action_links(user=world.mediator, case=pending)]
    assert url("case_respond", pending) not in [h for _, h in case_action_links(user=world.applicant, case=pending)]
