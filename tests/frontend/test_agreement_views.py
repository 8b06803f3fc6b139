"""The agreement pages: the mediator's editor, the parties' clause-by-clause assent, the room's panel, and
who is refused (404 without a role on the case, 403 with a role that may not see the draft)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.choices import AgentAuthority, AgentKind, AgreementStatus, CaseStatus, ClauseKind
from mediation.models import Agent, Agreement, Case, ClauseAssent
from mediation.services.agreements import agreement_update
from tests.agreement_support import draft_labour_agreement, parties_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _url(name: str, case: Case, *extra: int) -> str:
    return reverse(name, args=[case.pk, *extra])


def _get(client, user, name: str, case: Case, *extra: int):
    client.force_login(user)
    return client.get(_url(name, case, *extra))


def _post(client, user, name: str, case: Case, data: dict, *extra: int, panel: bool = False):
    client.force_login(user)
    headers = {"X-Agreement-Panel": "1"} if panel else {}
    return client.post(_url(name, case, *extra), data, headers=headers, follow=not panel)


def _clause_data(prefix: str, **fields) -> dict:
    values = {"kind": ClauseKind.OTHER, "text": ""}
    values.update(fields)
    return {f"{prefix}-{name}": value for name, value in values.items() if value is not None}


# --- refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["agreement_page", "agreement_panel"])
@pytest.mark.parametrize("who", ["outsider", "other_mediator", "other_judge"])
def test_people_without_a_role_on_the_case_get_not_found(client, world, name, who):
    agreement = draft_labour_agreement(world, assent=False)
    assert _get(client, getattr(world, who), name, agreement.case).status_code == 404


@pytest.mark.parametrize("who", ["judge", "clerk", "org_admin"])
def test_court_and_organisation_staff_do_not_see_the_draft(client, world, who):
    agreement = draft_labour_agreement(world, assent=False)
    response = _get(client, getattr(world, who), "agreement_page", agreement.case)
    assert response.status_code == 403 and agreement.clauses.get(number=2).text not in response.content.decode()


def test_an_outsider_cannot_post_an_assent(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    response = _post(client, world.outsider, "agreement_clause_assent", agreement.case,
                     {"party": applicant.pk, "sha256": clause.content_sha256}, clause.pk)
    assert response.status_code == 404 and not ClauseAssent.objects.exists()


def test_a_party_cannot_edit_a_clause(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    clause = agreement.clauses.get(number=2)
    response = _post(client, world.respondent, "agreement_clause_edit", agreement.case,
                     _clause_data(f"c{clause.pk}", text="被申请人不再支付任何款项。"), clause.pk)
    assert "只有本案调解员" in response.content.decode()
    clause.refresh_from_db()
    assert clause.text == "申请人放弃其他请求，双方就本案劳动报酬纠纷再无其他争议。"


def test_the_other_party_cannot_assent_for_you_through_the_page(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    _a, respondent = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    response = _post(client, world.applicant, "agreement_clause_assent", agreement.case,
                     {"party": respondent.pk, "sha256": clause.content_sha256}, clause.pk)
    assert "不能代表该当事人" in response.content.decode()
    assert not ClauseAssent.objects.exists()


def test_an_agent_with_general_authority_sees_no_assent_button_and_is_refused(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    relative = UserFactory(username="relative", real_name="张小三")
    Agent.objects.create(party=applicant, user=relative, name="张小三", kind=AgentKind.RELATIVE,
                         authority=AgentAuthority.GENERAL)
    page = _get(client, relative, "agreement_page", agreement.case).content.decode()
    assert "同意本条" not in page and "一般授权代理人" in page
    clause = agreement.clauses.get(number=1)
    response = _post(client, relative, "agreement_clause_assent", agreement.case,
                     {"party": applicant.pk, "sha256": clause.content_sha256}, clause.pk)
    assert "特别授权" in response.content.decode() and not ClauseAssent.objects.exists()


# --- the mediator drafts --------------------------------------------------------------------------------------


def test_the_mediator_starts_drafting_from_the_page(client, world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    assert "开始起草调解协议" in _get(client, world.mediator, "agreement_page", case).content.decode()
    response = _post(client, world.mediator, "agreement_start", case, {})
    case.refresh_from_db()
    assert case.status == CaseStatus.AGREEMENT_DRAFT
    assert "已开始起草调解协议" in response.content.decode()


def test_a_party_sees_that_drafting_has_not_started(client, world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    page = _get(client, world.applicant, "agreement_page", case).content.decode()
    assert "调解员尚未开始起草调解协议" in page and "开始起草调解协议</button>" not in page


def test_the_mediator_adds_a_clause_and_sees_what_it_is_missing(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, respondent = parties_of(agreement.case)
    response = _post(client, world.mediator, "agreement_clause_add", agreement.case, _clause_data(
        "new", kind=ClauseKind.PAYMENT, obligor=respondent.pk, obligee=applicant.pk, subject="经济补偿", amount="3000",
    ))
    page = response.content.decode()
    assert "已增加第3条" in page
    assert "第3条（给付金钱）缺少：履行方式、履行期限" in page
    assert agreement.clauses.get(number=3).amount == 3000


def test_the_mediator_edits_the_header(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    _post(client, world.mediator, "agreement_header", agreement.case, {
        "facts": "新的事实", "disputed_matters": "争议", "responsibilities": "", "scope": "partial",
        "unresolved_claims": "加班费",
    })
    agreement.refresh_from_db()
    assert (agreement.facts, agreement.scope, agreement.unresolved_claims) == ("新的事实", "partial", "加班费")


def test_the_mediator_moves_and_deletes_clauses(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    second = agreement.clauses.get(number=2)
    _post(client, world.mediator, "agreement_clause_move", agreement.case, {"direction": "up"}, second.pk)
    second.refresh_from_db()
    assert second.number == 1
    _post(client, world.mediator, "agreement_clause_delete", agreement.case, {}, second.pk)
    assert list(agreement.clauses.values_list("number", "kind")) == [(1, ClauseKind.PAYMENT)]


def test_editing_a_clause_on_the_page_drops_its_assents(client, world):
    agreement = draft_labour_agreement(world)
    clause = agreement.clauses.get(number=2)
    _post(client, world.mediator, "agreement_clause_edit", agreement.case,
          _clause_data(f"c{clause.pk}", text="双方再无其他争议。"), clause.pk)
    assert not ClauseAssent.objects.filter(clause=clause).exists()


def test_the_signing_button_stays_disabled_and_says_what_blocks_it(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    page = _get(client, world.mediator, "agreement_page", agreement.case).content.decode()
    assert "第1条：张三、李四尚未同意" in page
    assert 'type="submit" disabled>发起签署' in page


def test_opening_signing_from_the_page_freezes_and_moves_the_case_to_signing(client, world):
    agreement = draft_labour_agreement(world)
    response = _post(client, world.mediator, "agreement_open_signing", agreement.case,
                     {"revision": agreement.revision})
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.FROZEN
    assert Case.objects.get(pk=agreement.case_id).status == CaseStatus.SIGNING
    assert "协议已定稿" in response.content.decode()


def test_opening_signing_before_everyone_assented_is_refused_on_the_page(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    response = _post(client, world.mediator, "agreement_open_signing", agreement.case,
                     {"revision": agreement.revision})
    assert "暂不能发起签署" in response.content.decode()
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.DRAFTING


# --- the parties assent ---------------------------------------------------------------------------------------


def test_a_party_assents_to_a_clause_on_the_page(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    page = _get(client, world.applicant, "agreement_page", agreement.case).content.decode()
    assert "同意本条" in page and "人民币12,000.00元（大写：壹万贰仟元整）" in page
    response = _post(client, world.applicant, "agreement_clause_assent", agreement.case,
                     {"party": applicant.pk, "sha256": clause.content_sha256}, clause.pk)
    assert ClauseAssent.objects.filter(clause=clause, party=applicant).exists()
    assert "已同意 1/2 条" in response.content.decode()


def test_the_lawyer_with_special_authority_assents_for_the_respondent(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    _a, respondent = parties_of(agreement.case)
    clause = agreement.clauses.get(number=2)
    _post(client, world.lawyer, "agreement_clause_assent", agreement.case,
          {"party": respondent.pk, "sha256": clause.content_sha256}, clause.pk)
    assert ClauseAssent.objects.get(clause=clause).user == world.lawyer


def test_an_assent_to_a_wording_that_changed_is_refused_on_the_page(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    response = _post(client, world.applicant, "agreement_clause_assent", agreement.case,
                     {"party": applicant.pk, "sha256": "0" * 64}, clause.pk)
    assert "请阅读修改后的内容" in response.content.decode() and not ClauseAssent.objects.exists()


def test_a_party_withdraws_an_assent_on_the_page(client, world):
    agreement = draft_labour_agreement(world)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    _post(client, world.applicant, "agreement_clause_assent", agreement.case,
          {"party": applicant.pk, "action": "withdraw"}, clause.pk)
    assert not ClauseAssent.objects.filter(clause=clause, party=applicant).exists()


# --- the room's panel -----------------------------------------------------------------------------------------


def test_the_panel_is_a_fragment_without_the_site_layout(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    page = _get(client, world.respondent, "agreement_panel", agreement.case).content.decode()
    assert "<html" not in page and "data-agreement-panel" in page and "data-agreement-form" in page
    assert "同意本条" in page


def test_a_post_from_the_panel_returns_the_fresh_panel(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    applicant, _r = parties_of(agreement.case)
    clause = agreement.clauses.get(number=1)
    response = _post(client, world.applicant, "agreement_clause_assent", agreement.case,
                     {"party": applicant.pk, "sha256": clause.content_sha256}, clause.pk, panel=True)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "已同意第1条" in page and "已同意 1/2 条" in page


def test_text_typed_by_the_mediator_is_escaped(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    agreement_update(agreement=agreement, actor=world.mediator, facts='<script>alert("x")</script>')
    for name in ("agreement_page", "agreement_panel"):
        page = _get(client, world.applicant, name, agreement.case).content.decode()
        assert "<script>alert" not in page and "&lt;script&gt;alert" in page


# --- the case page links to it --------------------------------------------------------------------------------


def test_the_case_page_links_the_parties_to_the_agreement_while_drafting(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    client.force_login(world.applicant)
    page = client.get(reverse("case_detail", args=[agreement.case_id])).content.decode()
    assert _url("agreement_page", agreement.case) in page


def test_the_case_page_does_not_link_a_judge_to_the_draft(client, world):
    agreement = draft_labour_agreement(world, assent=False)
    client.force_login(world.judge)
    page = client.get(reverse("case_detail", args=[agreement.case_id])).content.decode()
    assert _url("agreement_page", agreement.case) not in page
