"""The intake pages: the clerk's queue, accept and return, referrals, the organisation's queue and the
mediator's dashboard. Every page and action is refused to people without the role it needs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from mediation.choices import RETURN_GUIDANCE, CaseOrigin, CaseStatus, PartyRole, ReturnReason, Role, TimerKind
from mediation.models import AuditEvent, Case, CaseMediator, Party, RosterEntry
from tests.factories import UserFactory, add_member, make_resident_id

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOT_STAFF = ["outsider", "applicant", "respondent", "lawyer", "mediator", "other_mediator", "org_admin", "judge"]


def local(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def page(client, user, url: str, **data):
    client.force_login(user)
    return client.post(url, data) if data else client.get(url)


def status_of(case: Case) -> str:
    case.refresh_from_db()
    return case.status


def another_org_admin(world):
    admin = UserFactory(username="fin_admin", real_name="金融中心管理员")
    add_member(admin, world.other_partner, Role.ORG_ADMIN)
    return admin


# --- The clerk's queue ------------------------------------------------------------------------------------


def test_the_clerk_sees_the_courts_queue_with_each_cases_clocks(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    html = page(client, world.clerk, reverse("intake_queue")).content.decode()
    assert case.reference in html
    assert "法院指定调解员（3个工作日）" in html
    assert reverse("intake_accept", args=[case.pk]) in html
    assert reverse("intake_return", args=[case.pk]) in html


def test_another_courts_clerk_gets_an_empty_queue(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    response = page(client, world.other_clerk, reverse("intake_queue"))
    assert response.status_code == 200
    assert case.reference not in response.content.decode()
    assert "目前没有待办案件" in response.content.decode()


@pytest.mark.parametrize("who", NOT_STAFF)
def test_the_queue_is_not_found_for_anyone_but_court_intake_staff(world, client, who):
    world.drive(world.new_case(), CaseStatus.SUBMITTED)
    assert page(client, getattr(world, who), reverse("intake_queue")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    for url in (reverse("intake_queue"), reverse("intake_org_queue"), reverse("intake_mine"),
                reverse("intake_referral_create")):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_an_overdue_case_is_highlighted_and_listed_first(world, client):
    with time_machine.travel(local(2025, 2, 24, 10), tick=False):
        late = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        fresh = world.drive(world.new_case(), CaseStatus.SUBMITTED)
        html = page(client, world.clerk, reverse("intake_queue")).content.decode()
    assert html.index(late.reference) < html.index(fresh.reference)
    assert f'class="queue-row overdue" data-case="{late.pk}"' in html
    assert f'class="queue-row" data-case="{fresh.pk}"' in html
    assert "已逾期 2 个工作日" in html  # due Thu 02-27; Fri 02-28 and Mon 03-03 late


def test_an_awaiting_case_links_to_designation_and_an_assigned_one_names_the_mediator(world, client):
    awaiting = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    assigned = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    html = page(client, world.clerk, reverse("intake_queue")).content.decode()
    try:
        designate = reverse("case_choose", args=[awaiting.pk])
    except NoReverseMatch:  # the designation page is another area's; until it exists the case page stands in
        designate = reverse("case_detail", args=[awaiting.pk])
    assert f'href="{designate}"' in html
    assert reverse("intake_refer_to_organisation", args=[awaiting.pk]) in html
    assert f"等待 {world.mediator.display_name} 确认接受" in html
    assert reverse("intake_accept", args=[assigned.pk]) not in html


def queue_queries(client, user, url: str) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_clerk_queue_costs_the_same_queries_for_one_case_or_many(world, client, django_assert_num_queries):
    world.drive(world.new_case(), CaseStatus.SUBMITTED)
    one = queue_queries(client, world.clerk, reverse("intake_queue"))
    for status in (CaseStatus.SUBMITTED, CaseStatus.AWAITING_SELECTION, CaseStatus.ASSIGNED) * 3:
        world.drive(world.new_case(), status)
    with django_assert_num_queries(one):
        client.get(reverse("intake_queue"))
    # session, user, memberships, the page's ids with their count, its cases, timers, parties, mediators, holidays,
    # the navigation's memberships, and the court-filed section (the user's courts, its cases)
    assert one == 12


def test_the_mediator_dashboard_costs_the_same_queries_for_one_case_or_many(world, client, django_assert_num_queries):
    world.drive(world.new_case(), CaseStatus.ASSIGNED)
    one = queue_queries(client, world.mediator, reverse("intake_mine"))
    for status in (CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION, CaseStatus.SCHEDULING) * 3:
        world.drive(world.new_case(), status)
    with django_assert_num_queries(one):
        client.get(reverse("intake_mine"))


def test_the_org_queue_costs_the_same_queries_for_one_case_or_many(world, client, django_assert_num_queries):
    world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    one = queue_queries(client, world.org_admin, reverse("intake_org_queue"))
    for _ in range(6):
        world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with django_assert_num_queries(one):
        client.get(reverse("intake_org_queue"))


def test_the_queue_is_paginated(world, client, monkeypatch):
    from mediation.selectors import intake as selectors_intake

    monkeypatch.setattr(selectors_intake, "PAGE_SIZE", 2)
    cases = [world.drive(world.new_case(), CaseStatus.SUBMITTED) for _ in range(3)]
    first = page(client, world.clerk, reverse("intake_queue")).content.decode()
    second = page(client, world.clerk, reverse("intake_queue") + "?page=2").content.decode()
    assert "第 1 / 2 页" in first
    assert sum(case.reference in first for case in cases) == 2
    assert sum(case.reference in second for case in cases) == 1


# --- Accept and return ------------------------------------------------------------------------------------


def test_the_clerk_accepts_from_the_queue(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    response = page(client, world.clerk, reverse("intake_accept", args=[case.pk]), go="1")
    assert response.status_code == 302
    assert response["Location"] == reverse("intake_queue")
    assert status_of(case) == CaseStatus.AWAITING_SELECTION


@pytest.mark.parametrize("who", [*NOT_STAFF, "other_clerk", "other_judge"])
def test_accepting_is_not_found_for_anyone_but_the_courts_clerk(world, client, who):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    assert page(client, getattr(world, who), reverse("intake_accept", args=[case.pk]), go="1").status_code == 404
    assert status_of(case) == CaseStatus.SUBMITTED


def test_accepting_by_get_is_refused(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    assert page(client, world.clerk, reverse("intake_accept", args=[case.pk])).status_code == 405
    assert status_of(case) == CaseStatus.SUBMITTED


def test_accepting_twice_says_what_happened(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    page(client, world.clerk, reverse("intake_accept", args=[case.pk]), go="1")
    response = client.post(reverse("intake_accept", args=[case.pk]), follow=True)
    assert "不能变更为" in response.content.decode()


def test_the_return_form_shows_the_guidance_each_reason_requires(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    html = page(client, world.clerk, reverse("intake_return", args=[case.pk])).content.decode()
    for reason in ReturnReason:
        assert str(reason.label) in html
        assert str(RETURN_GUIDANCE[reason]) in html


@pytest.mark.parametrize("reason", list(ReturnReason))
def test_the_applicant_sees_the_return_reason_and_its_guidance_on_the_case_page(world, client, reason):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    response = page(client, world.clerk, reverse("intake_return", args=[case.pk]), reason=reason, note="材料不全")
    assert response.status_code == 302
    assert status_of(case) == CaseStatus.RETURNED
    html = page(client, world.applicant, reverse("case_detail", args=[case.pk])).content.decode()
    assert 'id="return-reason"' in html
    assert str(reason.label) in html
    assert str(RETURN_GUIDANCE[reason]) in html
    assert "材料不全" in html


def test_a_return_without_a_reason_is_refused_with_a_clear_message_and_nothing_changes(world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    events = AuditEvent.objects.count()
    response = page(client, world.clerk, reverse("intake_return", args=[case.pk]), note="没有选择事由")
    assert response.status_code == 200
    assert "请选择退回事由。" in response.content.decode()
    assert status_of(case) == CaseStatus.SUBMITTED
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["other_clerk", "applicant", "respondent", "other_mediator", "outsider", "org_admin"])
def test_the_return_page_is_not_found_for_anyone_but_the_courts_clerk(world, client, who):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    url = reverse("intake_return", args=[case.pk])
    assert page(client, getattr(world, who), url).status_code == 404
    assert page(client, getattr(world, who), url, reason=ReturnReason.UNSUITABLE_ONLINE).status_code == 404
    assert status_of(case) == CaseStatus.SUBMITTED


# --- Referrals ---------------------------------------------------------------------------------------------


def referral_data(**overrides) -> dict[str, str]:
    data = {
        "origin": CaseOrigin.COURT_FILED, "court_case_number": "（2026）京0101民初77号", "procedure": "ordinary",
        "referral_number": "",
        "dispute_type": "labour", "title": "追索劳动报酬纠纷", "claims": "支付拖欠工资 8,000 元", "amount": "8000",
        "applicant_kind": "natural", "applicant_name": "王五", "applicant_phone": "13900000001",
        "applicant_id_number": make_resident_id(7), "respondent_kind": "entity",
        "respondent_name": "北京某某科技有限公司", "respondent_phone": "13900000002", "respondent_id_number": "",
    }
    data.update(overrides)
    return data


def post_referral(client, world, **overrides):
    client.force_login(world.clerk)
    data = referral_data(**overrides)
    data.setdefault("court", str(world.court.pk))
    return client.post(reverse("intake_referral_create"), data)


def test_a_clerk_registers_a_court_filed_referral_from_the_form(world, client):
    assert page(client, world.clerk, reverse("intake_referral_create")).status_code == 200
    response = post_referral(client, world)
    case = Case.objects.get(title="追索劳动报酬纠纷")
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert (case.origin, case.status) == (CaseOrigin.COURT_FILED, CaseStatus.AWAITING_SELECTION)
    assert case.parties.get(role=PartyRole.APPLICANT).id_number == make_resident_id(7)


def test_a_court_filed_referral_without_a_court_case_number_is_refused_on_the_form(world, client):
    before = Case.objects.count()
    response = post_referral(client, world, court_case_number="")
    assert response.status_code == 200
    assert "立案后委托调解须录入法院案号" in response.content.decode()
    assert Case.objects.count() == before


@pytest.mark.parametrize("origin", [CaseOrigin.DELEGATED, CaseOrigin.ENTRUSTED])
def test_delegation_before_filing_is_no_longer_offered_and_is_refused_citing_the_2025_rule(world, client, origin):
    form = page(client, world.clerk, reverse("intake_referral_create")).content.decode()
    assert 'value="delegated"' not in form and 'value="entrusted"' not in form
    before = (Case.objects.count(), AuditEvent.objects.count())
    response = post_referral(client, world, origin=origin, court_case_number="", procedure="")
    assert response.status_code == 200
    assert "最高人民法院关于严格依法规范民事案件立案与调解工作的意见" in response.content.decode()
    assert (Case.objects.count(), AuditEvent.objects.count()) == before


def test_a_court_filed_referral_with_its_case_number_is_created(world, client):
    number = "（2026）京0101民初9号"
    post_referral(client, world, procedure="simple", court_case_number=number)
    case = Case.objects.get(court_case_number=number)
    assert (case.origin, case.procedure) == (CaseOrigin.COURT_FILED, "simple")


def test_a_respondent_phone_abc_is_refused_naming_the_field_and_nothing_is_saved(world, client):
    before = (Case.objects.count(), Party.objects.count(), AuditEvent.objects.count())
    response = post_referral(client, world, respondent_phone="abc")
    html = response.content.decode()
    assert response.status_code == 200
    assert "被申请人“北京某某科技有限公司”的联系电话“abc”有误" in html
    assert 'value="abc"' in html  # what was typed stays, to be corrected
    assert (Case.objects.count(), Party.objects.count(), AuditEvent.objects.count()) == before


def test_a_clerk_cannot_refer_into_another_court(world, client):
    before = Case.objects.count()
    response = post_referral(client, world, court=str(world.other_court.pk))
    assert response.status_code == 200
    assert Case.objects.count() == before


@pytest.mark.parametrize("who", NOT_STAFF)
def test_the_referral_form_is_not_found_for_anyone_but_a_clerk(world, client, who):
    url = reverse("intake_referral_create")
    assert page(client, getattr(world, who), url).status_code == 404
    before = Case.objects.count()
    client.post(url, {**referral_data(), "court": str(world.court.pk)})
    assert Case.objects.count() == before


# --- Referring to an organisation, and distributing ---------------------------------------------------------


def test_a_clerk_refers_a_case_to_an_organisation_from_the_queue(world, client):
    RosterEntry.objects.create(mediator=world.other_mediator.mediator_profile, court=world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    url = reverse("intake_refer_to_organisation", args=[case.pk])
    assert world.other_partner.name in page(client, world.clerk, url).content.decode()
    response = page(client, world.clerk, url, organisation=str(world.other_partner.pk))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.mediation_organisation == world.other_partner


def test_an_ineligible_organisation_is_not_offered_nor_accepted(world, client):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    url = reverse("intake_refer_to_organisation", args=[case.pk])
    assert world.other_partner.name not in page(client, world.clerk, url).content.decode()
    response = page(client, world.clerk, url, organisation=str(world.other_partner.pk))
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.mediation_organisation == world.partner


@pytest.mark.parametrize("who", ["other_clerk", "org_admin", "mediator", "applicant", "outsider"])
def test_referring_to_an_organisation_is_not_found_for_anyone_but_the_courts_clerk(world, client, who):
    RosterEntry.objects.create(mediator=world.other_mediator.mediator_profile, court=world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    url = reverse("intake_refer_to_organisation", args=[case.pk])
    assert page(client, getattr(world, who), url, organisation=str(world.other_partner.pk)).status_code == 404
    case.refresh_from_db()
    assert case.mediation_organisation == world.partner


def test_the_org_admin_distributes_from_the_organisations_queue(world, client):
    # Only a mediator on the competent court's roster may take the case (OMR 9(2)).
    RosterEntry.objects.create(mediator=world.mediator.mediator_profile, court=world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    html = page(client, world.org_admin, reverse("intake_org_queue")).content.decode()
    assert case.reference in html
    assert f'<option value="{world.mediator.pk}">' in html
    assert f'<option value="{world.other_mediator.pk}">' not in html
    response = page(client, world.org_admin, reverse("intake_org_distribute", args=[case.pk]),
                    mediator=str(world.mediator.pk))
    assert response.status_code == 302
    assert status_of(case) == CaseStatus.ASSIGNED
    assert CaseMediator.objects.get(case=case, is_active=True).mediator == world.mediator


def test_a_mediator_of_another_organisation_is_refused_as_assignee_with_a_message(world, client):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    client.force_login(world.org_admin)
    response = client.post(
        reverse("intake_org_distribute", args=[case.pk]), {"mediator": str(world.other_mediator.pk)}, follow=True
    )
    assert "不是“北京市总工会劳动争议调解中心”在册且资格有效的调解员" in response.content.decode()
    assert status_of(case) == CaseStatus.AWAITING_SELECTION
    assert not CaseMediator.objects.filter(case=case).exists()


def test_distributing_without_choosing_a_mediator_says_so(world, client):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    client.force_login(world.org_admin)
    response = client.post(reverse("intake_org_distribute", args=[case.pk]), {"mediator": ""}, follow=True)
    assert "请选择调解员。" in response.content.decode()
    assert status_of(case) == CaseStatus.AWAITING_SELECTION


def test_another_organisations_admin_sees_nothing_and_cannot_distribute(world, client):
    stranger = another_org_admin(world)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    html = page(client, stranger, reverse("intake_org_queue")).content.decode()
    assert case.reference not in html
    url = reverse("intake_org_distribute", args=[case.pk])
    assert page(client, stranger, url, mediator=str(world.mediator.pk)).status_code == 404
    assert status_of(case) == CaseStatus.AWAITING_SELECTION


@pytest.mark.parametrize("who", ["mediator", "other_mediator", "clerk", "other_clerk", "applicant", "outsider"])
def test_the_org_queue_and_distribution_are_not_found_for_anyone_but_the_org_admin(world, client, who):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    user = getattr(world, who)
    assert page(client, user, reverse("intake_org_queue")).status_code == 404
    url = reverse("intake_org_distribute", args=[case.pk])
    assert page(client, user, url, mediator=str(world.mediator.pk)).status_code == 404
    assert status_of(case) == CaseStatus.AWAITING_SELECTION


# --- The mediator's dashboard --------------------------------------------------------------------------------


def test_the_mediator_sees_their_cases_with_the_acceptance_clock_and_answer_links(world, client):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    html = page(client, world.mediator, reverse("intake_mine")).content.decode()
    assert case.reference in html
    assert str(TimerKind.MEDIATOR_ACCEPTANCE.label) in html
    for name in ("case_mediator_accept", "case_mediator_decline"):
        try:
            target = reverse(name, args=[case.pk])
        except NoReverseMatch:  # the answer pages are another area's; until they exist the case page stands in
            target = reverse("case_detail", args=[case.pk])
        assert f'href="{target}"' in html


def test_another_mediator_sees_none_of_them(world, client):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    html = page(client, world.other_mediator, reverse("intake_mine")).content.decode()
    assert case.reference not in html


@pytest.mark.parametrize("who", ["clerk", "org_admin", "applicant", "respondent", "judge", "outsider"])
def test_the_mediator_dashboard_is_not_found_for_anyone_but_a_mediator(world, client, who):
    world.drive(world.new_case(), CaseStatus.ASSIGNED)
    assert page(client, getattr(world, who), reverse("intake_mine")).status_code == 404


def test_an_overdue_acceptance_is_highlighted_on_the_mediators_dashboard(world, client):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        traveller.move_to(local(2025, 3, 7, 9))  # not swept yet
        html = page(client, world.mediator, reverse("intake_mine")).content.decode()
    assert f'class="queue-row overdue" data-case="{case.pk}"' in html
    assert "已逾期" in html
