"""The admin shows every model, keeps status read-only, changes it only through case_transition,
and audits every look at a case."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.choices import CaseStatus, ReturnReason
from mediation.models import AuditEvent, Case

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_clerk(world, client):
    world.clerk.is_staff = True
    world.clerk.is_superuser = True
    world.clerk.save()
    client.force_login(world.clerk)
    return world.clerk


@pytest.mark.parametrize(
    "model",
    ["organisation", "user", "mediatorprofile", "case", "auditevent", "consent", "noticetext", "timer",
     "holidayoverride", "agent", "casehelper", "onetimecode", "identityverification", "evidence", "serviceaddress",
     "complaint", "recusalrequest", "applicationdraft", "mediatorchoice", "disclosure", "servicerecord",
     "servicedelivery", "mediationsession", "sessionparticipant", "venue", "workinghours", "outboxmessage"],
)
def test_every_admin_list_page_renders(staff_clerk, world, client, model):
    world.drive(world.new_case(), CaseStatus.ACCEPTED)
    response = client.get(reverse(f"admin:mediation_{model}_changelist"))
    assert response.status_code == 200


def test_opening_a_case_in_the_admin_is_audited(staff_clerk, world, client):
    case = world.new_case()
    response = client.get(reverse("admin:mediation_case_change", args=[case.pk]))
    assert response.status_code == 200
    viewed = AuditEvent.objects.filter(stream=case.audit_stream, kind="admin.case_viewed")
    assert viewed.count() == 1
    assert viewed.get().actor == staff_clerk


def test_the_case_change_form_is_read_only_even_when_posted_to(staff_clerk, world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    url = reverse("admin:mediation_case_change", args=[case.pk])
    page = client.get(url).content.decode()
    assert 'name="status"' not in page
    assert 'name="court"' not in page
    forged = {"status": CaseStatus.CLOSED_SETTLED, "title": "改过的标题", "court": world.other_court.pk}
    response = client.post(url, forged)
    assert response.status_code == 403
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.title, fresh.court_id) == (CaseStatus.SUBMITTED, case.title, world.court.pk)


def test_saving_a_stale_case_instance_cannot_undo_a_transition(world):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    stale = Case.objects.get(pk=case.pk)
    world.drive(case, CaseStatus.AWAITING_SELECTION)
    stale.title = "新标题"
    stale.save()
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.AWAITING_SELECTION
    assert fresh.title == "新标题"


def test_the_transition_form_calls_the_service_and_audits(staff_clerk, world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    url = reverse("admin:mediation_case_transition", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "已退回".encode() in page.content
    response = client.post(url, {"target": CaseStatus.RETURNED, "reason": ReturnReason.UNSUITABLE_ONLINE, "note": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURNED
    assert AuditEvent.objects.filter(stream=case.audit_stream, kind="case.return", actor=staff_clerk).exists()


def test_the_transition_form_shows_the_refusal_and_changes_nothing(staff_clerk, world, client):
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    url = reverse("admin:mediation_case_transition", args=[case.pk])
    response = client.post(url, {"target": CaseStatus.RETURNED, "reason": "", "note": ""})
    assert response.status_code == 200
    assert "请选择事由".encode() in response.content
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_someone_without_a_role_on_the_case_gets_no_transition_page(world, client):
    """Not even a superuser: the transition page would show the case's status unaudited."""
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    url = reverse("admin:mediation_case_transition", args=[case.pk])
    for intruder in (world.outsider, world.other_judge):
        intruder.is_staff = intruder.is_superuser = True
        intruder.save()
        client.force_login(intruder)
        assert client.get(url).status_code == 404
        client.post(url, {"target": CaseStatus.AWAITING_SELECTION})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_a_role_without_a_transition_here_is_told_so(world, client):
    world.applicant.is_staff = True
    world.applicant.save()
    client.force_login(world.applicant)
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    page = client.get(reverse("admin:mediation_case_transition", args=[case.pk]))
    assert "没有可执行的状态变更".encode() in page.content


def test_audit_events_cannot_be_changed_or_deleted_in_the_admin(staff_clerk, world, client):
    case = world.new_case()
    event = AuditEvent.objects.filter(stream=case.audit_stream).first()
    assert event is not None
    response = client.post(reverse("admin:mediation_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_non_staff_are_sent_to_the_admin_login(world, client):
    client.force_login(world.applicant)
    response = client.get(reverse("admin:mediation_case_changelist"))
    assert response.status_code == 302


def test_a_holiday_entered_in_the_admin_is_audited_and_recomputes_clocks(staff_clerk, world, client):
    import datetime as dt

    from mediation.models import HolidayOverride

    response = client.post(
        reverse("admin:mediation_holidayoverride_add"),
        {"date": "2031-10-01", "is_workday": "", "name": "国庆节"},
    )
    assert response.status_code == 302
    assert HolidayOverride.objects.get(date=dt.date(2031, 10, 1)).name == "国庆节"
    assert AuditEvent.objects.filter(stream="platform", kind="holiday.set").count() == 1
