"""The session pages: the list in each viewer's own time, the mediator's form (with the free-time button),
rescheduling and cancelling with reasons, the case page's block; and who is refused (404 without a role on
the case, 403 with a role that may not act)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from mediation.choices import CaseStatus, SessionKind, SessionStatus
from mediation.models import MediationSession, OutboxMessage, Party
from mediation.services.scheduling import session_schedule
from tests.scheduling_support import NOW, at, fresh_case, hours, venue

pytestmark = pytest.mark.django_db

NO_ROLE = ["outsider", "other_mediator", "other_clerk", "other_judge"]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(world):
    return world.drive(world.new_case(), CaseStatus.SCHEDULING)


@pytest.fixture
def session(world, case):
    return session_schedule(case=case, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                            starts_at=at(4, 10), ends_at=at(4, 11))


def get(client, user, name, **kwargs):
    client.force_login(user)
    return client.get(reverse(name, kwargs=kwargs))


def post(client, user, name, data, **kwargs):
    client.force_login(user)
    return client.post(reverse(name, kwargs=kwargs), data)


def text(response) -> str:
    return response.content.decode()


def new_session_data(**overrides):
    data = {"kind": SessionKind.JOINT_ONLINE, "date": "2026-03-04", "start": "10:00", "duration": "60", "note": "",
            "save": "1"}
    data.update(overrides)
    return data


# --- the list ------------------------------------------------------------------------------------------------


def test_participants_see_the_session_in_their_own_time(client, world, case, session):
    page = text(get(client, world.applicant, "session_list", case_id=case.pk))
    assert "2026年3月4日 10:00–11:00（北京时间）" in page
    assert reverse("session_ics", kwargs={"case_id": case.pk, "session_id": session.pk}) in page


def test_an_overseas_participant_sees_their_local_time(client, world, case):
    hours(world.lawyer, days=range(7), start=dt.time(0), end=dt.time(23, 59), time_zone="America/Los_Angeles")
    session_schedule(case=case, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                     starts_at=at(4, 10), ends_at=at(4, 11))
    page = text(get(client, world.lawyer, "session_list", case_id=case.pk))
    assert "2026年3月3日 18:00–19:00（America/Los_Angeles 时间）" in page


def test_court_staff_of_the_case_see_the_sessions_but_no_download(client, world, case, session):
    page = text(get(client, world.clerk, "session_list", case_id=case.pk))
    assert "2026年3月4日 10:00–11:00" in page
    assert "invite.ics" not in page and reverse("session_new", kwargs={"case_id": case.pk}) not in page


@pytest.mark.parametrize("who", NO_ROLE)
def test_people_without_a_role_on_the_case_get_404_for_the_list(client, world, case, session, who):
    assert get(client, getattr(world, who), "session_list", case_id=case.pk).status_code == 404


def test_the_case_page_shows_the_viewers_upcoming_sessions(client, world, case, session):
    page = text(get(client, world.respondent, "case_detail", case_id=case.pk))
    assert 'id="sessions"' in page and "2026年3月4日 10:00–11:00（北京时间）" in page
    mediator_page = text(get(client, world.mediator, "case_detail", case_id=case.pk))
    assert reverse("session_new", kwargs={"case_id": case.pk}) in mediator_page


def test_the_case_page_has_no_session_block_for_a_party_when_there_are_none(client, world, case):
    assert 'id="sessions"' not in text(get(client, world.applicant, "case_detail", case_id=case.pk))


# --- scheduling ----------------------------------------------------------------------------------------------


def test_the_mediator_schedules_from_the_form(client, world, case):
    response = post(client, world.mediator, "session_new", new_session_data(), case_id=case.pk)
    assert response.status_code == 302 and response["Location"] == reverse("session_list", kwargs={"case_id": case.pk})
    session = MediationSession.objects.get(case=case)
    assert (session.starts_at, session.ends_at) == (at(4, 10), at(4, 11))
    assert OutboxMessage.objects.filter(idempotency_key__startswith=f"session:{session.pk}:invite:").exists()


def test_a_clash_is_shown_on_the_form_naming_it_with_nothing_saved(client, world, case):
    other = fresh_case(world, mediator=world.mediator)
    session_schedule(case=other, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                     starts_at=at(4, 10, 30), ends_at=at(4, 11, 30))
    response = post(client, world.mediator, "session_new", new_session_data(), case_id=case.pk)
    assert response.status_code == 200
    page = text(response)
    assert "时间冲突" in page and other.reference in page and "10:30–11:30" in page
    assert not MediationSession.objects.filter(case=case).exists()


def test_hybrid_from_the_form_puts_the_ticked_party_at_the_venue(client, world, case):
    room = venue(world)
    respondent = Party.objects.get(case=case, user=world.respondent)
    data = new_session_data(kind=SessionKind.HYBRID, venue=str(room.pk))
    data[f"attend_party-{world.respondent.pk}-{respondent.pk}"] = "on"
    assert post(client, world.mediator, "session_new", data, case_id=case.pk).status_code == 302
    session = MediationSession.objects.get(case=case)
    assert session.venue == room and session.participants.get(user=world.respondent).attendance == "venue"


def test_separate_slots_without_consent_are_refused_on_the_form(client, world, case):
    data = new_session_data(kind=SessionKind.SEPARATE_SLOTS)
    for party in case.parties.all():
        data[f"slot_start_{party.pk}"] = "10:00" if party.role == "applicant" else "10:30"
        data[f"slot_end_{party.pk}"] = "10:30" if party.role == "applicant" else "11:00"
    page = text(post(client, world.mediator, "session_new", data, case_id=case.pk))
    assert "各方当事人同意" in page
    assert not MediationSession.objects.exists()


def test_a_missing_date_is_a_form_error(client, world, case):
    response = post(client, world.mediator, "session_new", new_session_data(date=""), case_id=case.pk)
    assert response.status_code == 200 and not MediationSession.objects.exists()


def test_the_find_button_fills_in_the_first_common_free_time(client, world, case):
    other = fresh_case(world, mediator=world.mediator)
    session_schedule(case=other, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                     starts_at=at(2, 10), ends_at=at(2, 13))
    response = post(client, world.mediator, "session_new", {"kind": SessionKind.JOINT_ONLINE, "duration": "60",
                                                            "find": "1"}, case_id=case.pk)
    page = text(response)
    assert "最早的共同空闲时间：2026年3月2日 13:00–14:00（北京时间）" in page
    assert re.search(r'name="date"[^>]*value="2026-03-02"', page)
    assert re.search(r'name="start"[^>]*value="13:00(:00)?"', page)
    assert not MediationSession.objects.filter(case=case).exists()


@pytest.mark.parametrize("who", ["applicant", "lawyer", "clerk", "judge", "org_admin"])
def test_people_who_may_not_schedule_get_a_refusal(client, world, case, who):
    assert get(client, getattr(world, who), "session_new", case_id=case.pk).status_code == 403
    assert post(client, getattr(world, who), "session_new", new_session_data(), case_id=case.pk).status_code == 403
    assert not MediationSession.objects.exists()


@pytest.mark.parametrize("who", NO_ROLE)
def test_people_without_a_role_get_404_for_the_form(client, world, case, who):
    assert post(client, getattr(world, who), "session_new", new_session_data(), case_id=case.pk).status_code == 404
    assert not MediationSession.objects.exists()


def test_signing_in_is_needed(client, case):
    response = client.get(reverse("session_new", kwargs={"case_id": case.pk}))
    assert response.status_code == 302


# --- reschedule and cancel -----------------------------------------------------------------------------------


def test_rescheduling_without_a_reason_is_refused_on_the_form(client, world, case, session):
    data = {"date": "2026-03-05", "start": "14:00", "duration": "60", "reason": ""}
    page = text(post(client, world.mediator, "session_reschedule", data, case_id=case.pk, session_id=session.pk))
    assert "改期须写明理由" in page
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_the_mediator_reschedules_from_the_form(client, world, case, session):
    data = {"date": "2026-03-05", "start": "14:00", "duration": "90", "reason": "调解员出庭"}
    response = post(client, world.mediator, "session_reschedule", data, case_id=case.pk, session_id=session.pk)
    assert response.status_code == 302
    new = MediationSession.objects.get(rescheduled_from=session)
    assert (new.starts_at, new.ends_at) == (at(5, 14), at(5, 15, 30))


def test_cancelling_without_a_reason_is_refused_on_the_form(client, world, case, session):
    page = text(post(client, world.mediator, "session_cancel", {"reason": ""}, case_id=case.pk,
                     session_id=session.pk))
    assert "取消须写明理由" in page
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_the_mediator_cancels_from_the_form(client, world, case, session):
    response = post(client, world.mediator, "session_cancel", {"reason": "当事人生病"}, case_id=case.pk,
                    session_id=session.pk)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.cancel_reason == "当事人生病"
    page = text(get(client, world.applicant, "session_list", case_id=case.pk))
    assert "当事人生病" in page and "已取消" in page


@pytest.mark.parametrize("name", ["session_reschedule", "session_cancel"])
@pytest.mark.parametrize("who", ["applicant", "respondent", "lawyer", "clerk"])
def test_parties_and_staff_may_not_reschedule_or_cancel(client, world, case, session, name, who):
    data = {"date": "2026-03-05", "start": "14:00", "duration": "60", "reason": "想改"}
    assert post(client, getattr(world, who), name, data, case_id=case.pk, session_id=session.pk).status_code == 403
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


@pytest.mark.parametrize("name", ["session_reschedule", "session_cancel"])
@pytest.mark.parametrize("who", NO_ROLE)
def test_people_without_a_role_get_404_for_reschedule_and_cancel(client, world, case, session, name, who):
    assert get(client, getattr(world, who), name, case_id=case.pk, session_id=session.pk).status_code == 404


def test_a_session_of_another_case_cannot_be_reached_through_this_one(client, world, case, session):
    other = fresh_case(world, mediator=world.mediator)
    theirs = session_schedule(case=other, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                              starts_at=at(5, 10), ends_at=at(5, 11))
    assert get(client, world.mediator, "session_cancel", case_id=case.pk, session_id=theirs.pk).status_code == 404


def test_the_pages_read_in_english_too(client, world, case, session):
    client.force_login(world.applicant)
    response = client.get("/en" + reverse("session_list", kwargs={"case_id": case.pk}))
    assert response.status_code == 200


def test_the_form_says_when_the_case_cannot_have_sessions_yet(client, world):
    case = world.drive(world.new_case(one_sided=True), CaseStatus.ACCEPTED)
    page = text(get(client, world.mediator, "session_new", case_id=case.pk))
    assert "不能安排调解活动" in page
