"""Roster pages: the public directory and a profile, complaints, the recommendation for a case, a court's
roster management and a mediator's answer to an adoption request. Each with its refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediation.choices import CaseStatus, ComplaintGround, ComplaintStatus, MediatorStatus, Role, RosterScope, Sector
from mediation.models import Complaint, MediatorProfile, RosterEntry, User
from mediation.services.complaints import complaint_file
from mediation.services.roster import roster_adoption_request, roster_entry_add
from tests.factories import UserFactory, add_member, make_mediator, make_resident_id

pytestmark = pytest.mark.django_db


def list_on(world, user: User, court=None) -> MediatorProfile:
    court = court or world.court
    clerk = world.clerk if court == world.court else world.other_clerk
    roster_entry_add(mediator=user.mediator_profile, court=court, scope=RosterScope.COURT, actor=clerk)
    return user.mediator_profile


# --- the directory -------------------------------------------------------------------------------------


def test_the_directory_is_public_and_publishes_what_omr_5_requires(world, client):
    MediatorProfile.objects.filter(user=world.mediator).update(
        title="退休法官", dispute_scope="劳动报酬、工伤赔偿纠纷", charges_fees=True, fee_schedule="每件 300 元"
    )
    profile = list_on(world, world.mediator)
    page = client.get(reverse("roster_directory")).content.decode()
    assert world.mediator.real_name in page
    assert "劳动争议" in page  # specialty
    assert "北京市总工会劳动争议调解中心" in page  # organisation
    assert "北京市东城区人民法院（本院名册）" in page  # inviting court
    assert "收费" in page
    detail = client.get(reverse("roster_mediator_detail", args=[profile.pk])).content.decode()
    for published in ("退休法官", "劳动报酬、工伤赔偿纠纷", "每件 300 元", "北京市东城区人民法院", "特邀调解员"):
        assert published in detail


def test_the_directory_never_shows_a_phone_or_id_number(world, client):
    User.objects.filter(pk=world.mediator.pk).update(id_type="resident_id", id_number=make_resident_id(7))
    world.mediator.refresh_from_db()
    profile = list_on(world, world.mediator)
    for url in (reverse("roster_directory"), reverse("roster_mediator_detail", args=[profile.pk])):
        page = client.get(url).content.decode()
        assert world.mediator.phone not in page
        assert world.mediator.id_number not in page
        assert world.mediator.id_number[-4:] + "<" not in page


def test_filters_narrow_the_directory(world, client):
    list_on(world, world.mediator)
    list_on(world, world.other_mediator)
    url = reverse("roster_directory")
    page = client.get(url, {"specialty": Sector.FINANCE}).content.decode()
    assert world.other_mediator.real_name in page and world.mediator.real_name not in page
    page = client.get(url, {"court": world.other_court.pk}).content.decode()
    assert world.mediator.real_name not in page
    page = client.get(url, {"language": "zh", "sector": Sector.LABOUR, "org_kind": "partner"}).content.decode()
    assert world.mediator.real_name in page and world.other_mediator.real_name not in page


def test_a_bad_region_code_is_explained(world, client):
    list_on(world, world.mediator)
    page = client.get(reverse("roster_directory"), {"region": "北京"}).content.decode()
    assert "地区代码应为 2 至 6 位数字" in page
    assert world.mediator.real_name not in page


def test_the_directory_pages_twenty_at_a_time(world, client):
    for _ in range(21):
        list_on(world, make_mediator(world.partner, specialties=[Sector.LABOUR]))
    first = client.get(reverse("roster_directory"))
    assert len(first.context["cards"]) == 20
    assert "第 1 / 2 页" in first.content.decode()
    second = client.get(reverse("roster_directory"), {"page": 2, "specialty": Sector.LABOUR})
    assert len(second.context["cards"]) == 1


def _directory_queries(client, **params: object) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("roster_directory"), params).status_code == 200
    return len(queries)


def test_the_directory_costs_the_same_number_of_queries_for_three_or_twenty_mediators(
    world, client, django_assert_num_queries
):
    for _ in range(3):
        list_on(world, make_mediator(world.partner, specialties=[Sector.LABOUR], regions=["110101"]))
    few = _directory_queries(client)
    few_filtered = _directory_queries(client, court=world.court.pk, specialty=Sector.LABOUR, region="11")
    for index in range(22):
        user = make_mediator(world.partner if index % 2 else world.other_partner, specialties=[Sector.LABOUR],
                             regions=["110101"])
        list_on(world, user, court=world.court if index % 3 else world.other_court)
    # count, page, courts of each card, organisations of each card, the court list in the filter form
    with django_assert_num_queries(5):
        client.get(reverse("roster_directory"))
    assert _directory_queries(client) == few
    assert _directory_queries(client, court=world.court.pk, specialty=Sector.LABOUR, region="11") == few_filtered


def test_a_suspended_mediators_profile_is_not_found(world, client):
    profile = list_on(world, world.mediator)
    MediatorProfile.objects.filter(pk=profile.pk).update(status=MediatorStatus.SUSPENDED)
    assert client.get(reverse("roster_mediator_detail", args=[profile.pk])).status_code == 404
    assert world.mediator.real_name not in client.get(reverse("roster_directory")).content.decode()


def test_an_unlisted_mediators_profile_is_not_found(world, client):
    assert client.get(reverse("roster_mediator_detail", args=[world.mediator.mediator_profile.pk])).status_code == 404
    assert client.get(reverse("roster_mediator_detail", args=[999999])).status_code == 404


# --- complaints ------------------------------------------------------------------------------------------


@pytest.fixture
def mediated(world):
    list_on(world, world.mediator)
    return world.drive(world.new_case(), CaseStatus.ACCEPTED)


def complain_url(world) -> str:
    return reverse("roster_complaint_new", args=[world.mediator.mediator_profile.pk])


def test_complaining_needs_sign_in(world, client, mediated):
    response = client.get(complain_url(world))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_party_complains_about_the_mediator_of_their_case(world, client, mediated):
    client.force_login(world.applicant)
    form = client.get(complain_url(world)).content.decode()
    assert mediated.reference in form
    response = client.post(complain_url(world), {
        "case": mediated.pk, "ground": ComplaintGround.GIFTS, "description": "调解员暗示需要“表示一下”。",
    })
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.case, complaint.court, complaint.complainant) == (mediated, world.court, world.applicant)


@pytest.mark.parametrize("name", ["outsider", "other_mediator", "other_clerk"])
def test_someone_outside_the_case_cannot_complain_about_it(world, client, mediated, name):
    client.force_login(getattr(world, name))
    assert mediated.reference not in client.get(complain_url(world)).content.decode()
    response = client.post(complain_url(world), {
        "case": mediated.pk, "ground": ComplaintGround.COERCION, "description": "冒充当事人投诉",
    })
    assert response.status_code == 200
    assert "有效的选项" in response.content.decode() or "valid choice" in response.content.decode()
    assert not Complaint.objects.exists()


def test_an_empty_complaint_is_explained_and_not_saved(world, client, mediated):
    client.force_login(world.applicant)
    response = client.post(complain_url(world), {"case": mediated.pk, "ground": ComplaintGround.COERCION,
                                                 "description": "   "})
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode() or "required" in response.content.decode()
    assert not Complaint.objects.exists()


@pytest.fixture
def complaint(world, mediated):
    return complaint_file(mediator=world.mediator.mediator_profile, complainant=world.applicant,
                          ground=ComplaintGround.COERCION, description="强迫签字", case=mediated)


def test_the_courts_handler_sees_and_decides_complaints(world, client, complaint):
    handler = UserFactory()
    add_member(handler, world.court, Role.COMPLAINT_HANDLER)
    client.force_login(handler)
    page = client.get(reverse("roster_complaint_list")).content.decode()
    assert "强迫签字" in page
    response = client.post(reverse("roster_complaint_decide", args=[complaint.pk]), {
        "status": ComplaintStatus.UPHELD, "outcome": "suspension", "note": "经调查属实，暂停资格。",
    })
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.UPHELD
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.SUSPENDED
    assert world.mediator.real_name not in client.get(reverse("roster_directory")).content.decode()


def test_an_inconsistent_decision_is_shown_and_not_saved(world, client, complaint):
    client.force_login(world.clerk)
    response = client.post(reverse("roster_complaint_decide", args=[complaint.pk]), {
        "status": ComplaintStatus.DISMISSED, "outcome": "removal", "note": "不实",
    }, follow=True)
    assert "查证不实的投诉不能给予处理" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.FILED


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "other_judge", "mediator", "other_mediator", "applicant",
                                  "org_admin"])
def test_nobody_else_sees_or_decides_the_courts_complaints(world, client, complaint, name):
    client.force_login(getattr(world, name))
    list_response = client.get(reverse("roster_complaint_list"))
    assert list_response.status_code == 404 or "强迫签字" not in list_response.content.decode()
    response = client.post(reverse("roster_complaint_decide", args=[complaint.pk]), {
        "status": ComplaintStatus.DISMISSED, "outcome": "", "note": "不实",
    })
    assert response.status_code == 404
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.FILED


# --- recommendation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["applicant", "respondent", "lawyer", "clerk", "judge", "org_admin"])
def test_anyone_with_a_role_on_the_case_sees_the_explained_recommendation(world, client, name):
    list_on(world, world.mediator)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    client.force_login(getattr(world, name))
    page = client.get(reverse("roster_recommend", args=[case.pk])).content.decode()
    assert world.mediator.real_name in page
    assert "为什么推荐" in page and "擅长劳动争议" in page and "87.5 分" in page


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "other_judge", "other_mediator"])
def test_people_without_a_role_on_the_case_get_not_found(world, client, name):
    case = world.new_case()
    client.force_login(getattr(world, name))
    assert client.get(reverse("roster_recommend", args=[case.pk])).status_code == 404


def test_the_recommendation_needs_sign_in(world, client):
    response = client.get(reverse("roster_recommend", args=[world.new_case().pk]))
    assert response.status_code == 302


def test_the_parties_language_reorders_the_list(world, client):
    cantonese = make_mediator(world.partner, specialties=[Sector.LABOUR], languages=["yue"])
    list_on(world, world.mediator)
    list_on(world, cantonese)
    case = world.new_case()
    client.force_login(world.applicant)
    response = client.get(reverse("roster_recommend", args=[case.pk]), {"language": "yue"})
    first, _card = response.context["recommendations"][0]
    assert first.mediator.user == cantonese


# --- roster management -----------------------------------------------------------------------------------


def test_a_clerk_manages_the_courts_roster(world, client):
    client.force_login(world.clerk)
    page = client.get(reverse("roster_manage"), {"q": world.mediator.real_name}).content.decode()
    assert world.mediator.real_name in page
    response = client.post(reverse("roster_manage_add", args=[world.court.pk]), {
        "profile": world.mediator.mediator_profile.pk, "scope": RosterScope.COURT, "specialty": "",
    })
    assert response.status_code == 302
    assert RosterEntry.objects.filter(court=world.court, mediator__user=world.mediator, is_active=True).exists()
    client.post(reverse("roster_manage_suspend", args=[world.mediator.mediator_profile.pk]),
                {"reason": "证书年审未通过", "court": world.court.pk})
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.SUSPENDED
    client.post(reverse("roster_manage_reinstate", args=[world.mediator.mediator_profile.pk]),
                {"court": world.court.pk})
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.ACTIVE


@pytest.mark.parametrize("name", ["outsider", "mediator", "org_admin", "judge", "applicant"])
def test_people_who_are_not_court_staff_cannot_open_roster_management(world, client, name):
    client.force_login(getattr(world, name))
    assert client.get(reverse("roster_manage")).status_code == 404
    response = client.post(reverse("roster_manage_add", args=[world.court.pk]), {
        "profile": world.mediator.mediator_profile.pk, "scope": RosterScope.COURT,
    })
    assert response.status_code == 404
    assert not RosterEntry.objects.exists()


def test_another_courts_clerk_cannot_add_to_or_suspend_on_this_courts_roster(world, client):
    list_on(world, world.mediator)
    client.force_login(world.other_clerk)
    response = client.post(reverse("roster_manage_add", args=[world.court.pk]), {
        "profile": world.other_mediator.mediator_profile.pk, "scope": RosterScope.COURT,
    })
    assert response.status_code == 404
    response = client.post(reverse("roster_manage_suspend", args=[world.mediator.mediator_profile.pk]),
                           {"reason": "越权"}, follow=True)
    assert "只有将该调解员列入名册的法院" in response.content.decode()
    assert MediatorProfile.objects.get(user=world.mediator).status == MediatorStatus.ACTIVE
    assert not RosterEntry.objects.filter(mediator__user=world.other_mediator).exists()


def test_a_bad_scope_is_explained_and_nothing_is_added(world, client):
    client.force_login(world.clerk)
    response = client.post(reverse("roster_manage_add", args=[world.court.pk]), {
        "profile": world.mediator.mediator_profile.pk, "scope": RosterScope.REGIONAL,
    }, follow=True)
    assert "只有高级、中级人民法院可以设立区域性名册" in response.content.decode()
    assert not RosterEntry.objects.exists()


# --- adoption ------------------------------------------------------------------------------------------


@pytest.fixture
def adoption(world) -> RosterEntry:
    high_clerk = UserFactory()
    add_member(high_clerk, world.high_court, Role.CLERK)
    star = make_mediator(world.partner, specialties=[Sector.LABOUR])
    entry = roster_entry_add(mediator=star.mediator_profile, court=world.high_court, scope=RosterScope.COURT,
                             actor=high_clerk)
    return entry


def test_a_clerk_asks_and_the_mediator_consents_to_adoption(world, client, adoption):
    client.force_login(world.clerk)
    page = client.get(reverse("roster_manage")).content.decode()
    assert adoption.mediator.user.real_name in page
    client.post(reverse("roster_manage_adopt", args=[world.court.pk, adoption.pk]))
    adopted = RosterEntry.objects.get(court=world.court, adopted_from=adoption)
    assert not adopted.is_active

    client.force_login(adoption.mediator.user)
    assert world.court.name in client.get(reverse("roster_adoptions")).content.decode()
    client.post(reverse("roster_adoption_answer", args=[adopted.pk]), {"answer": "accept"})
    adopted.refresh_from_db()
    assert adopted.is_active and adopted.mediator_consented_at is not None


@pytest.mark.parametrize("name", ["mediator", "clerk", "outsider"])
def test_nobody_but_the_mediator_answers_an_adoption_request(world, client, adoption, name):
    adopted = roster_adoption_request(entry=adoption, court=world.court, actor=world.clerk)
    client.force_login(getattr(world, name))
    assert adoption.mediator.user.real_name not in client.get(reverse("roster_adoptions")).content.decode()
    response = client.post(reverse("roster_adoption_answer", args=[adopted.pk]), {"answer": "accept"})
    assert response.status_code == 404
    adopted.refresh_from_db()
    assert not adopted.is_active
