"""Calendars: a session's .ics invitation and each person's private feed, parsed back with icalendar; and
who may fetch them (nobody else's feed, nobody another case's .ics)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from mediation.choices import CaseStatus, ParticipantRole, SessionKind
from mediation.models import Agent, AuditEvent, CalendarFeedToken, CaseMediator
from mediation.services.calendar_feed import calendar_feed_rotate, calendar_feed_token_for, calendar_feed_user
from mediation.services.scheduling import (
    ParticipantSpec,
    session_cancel,
    session_participants_default,
    session_reschedule,
    session_schedule,
)
from tests.scheduling_support import NOW, at, consent_separate, fresh_case, venue

pytestmark = pytest.mark.django_db


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


def ics_url(session) -> str:
    return reverse("session_ics", kwargs={"case_id": session.case_id, "session_id": session.pk})


def download(client, user, session):
    client.force_login(user)
    return client.get(ics_url(session), follow=True)


def events(body: bytes) -> list:
    return list(Calendar.from_ical(body).walk("VEVENT"))


def feed(client, token: str):
    client.logout()
    return client.get(reverse("calendar_feed", kwargs={"token": token}))


# --- the .ics file -------------------------------------------------------------------------------------------


def test_a_participant_downloads_the_invitation_and_it_parses_back(client, world, case, session):
    response = download(client, world.lawyer, session)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    assert str(cal["METHOD"]) == "REQUEST"
    (event,) = events(response.content)
    assert event["UID"] == f"session-{session.pk}@127.0.0.1"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == at(4, 10) and event.decoded("DTEND") == at(4, 11)
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)  # written in UTC
    assert b"DTSTART:20260304T020000Z" in response.content
    assert str(event["SUMMARY"]) == f"调解：案件{case.reference}（同时在线调解）"
    assert str(event["LOCATION"]) == "线上（一站平台）"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_invitation_carries_no_settlement_content(client, world, case, session):
    body = download(client, world.applicant, session).content.decode()
    assert "12,000" not in body and "12000" not in body and "拖欠工资" not in body


def test_an_in_person_session_names_its_venue(client, world, case):
    room = venue(world)
    session = session_schedule(case=case, actor=world.mediator, kind=SessionKind.IN_PERSON, venue=room,
                               starts_at=at(5, 10), ends_at=at(5, 11))
    (event,) = events(download(client, world.applicant, session).content)
    assert room.name in str(event["LOCATION"])


def test_a_party_in_separate_slots_gets_their_own_slot(client, world, case):
    consent_separate(case)
    specs = []
    for spec in session_participants_default(case=case):
        if spec.role == ParticipantRole.PARTY:
            slot = (at(4, 10), at(4, 10, 30)) if spec.party.role == "applicant" else (at(4, 10, 30), at(4, 11))
            spec = ParticipantSpec(role=spec.role, user=spec.user, party=spec.party,
                                   slot_starts_at=slot[0], slot_ends_at=slot[1])
        specs.append(spec)
    session = session_schedule(case=case, actor=world.mediator, kind=SessionKind.SEPARATE_SLOTS,
                               starts_at=at(4, 10), ends_at=at(4, 11), participants=specs)
    (event,) = events(download(client, world.respondent, session).content)
    assert event.decoded("DTSTART") == at(4, 10, 30)
    (whole,) = events(download(client, world.mediator, session).content)
    assert whole.decoded("DTSTART") == at(4, 10) and whole.decoded("DTEND") == at(4, 11)


def test_a_rescheduled_session_keeps_its_uid_and_counts_up_the_sequence(client, world, case, session):
    new = session_reschedule(session=session, starts_at=at(5, 14), ends_at=at(5, 15), reason="改期",
                             actor=world.mediator)
    (event,) = events(download(client, world.applicant, new).content)
    assert event["UID"] == f"session-{session.pk}@127.0.0.1" and event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == at(5, 14)
    # The old link leads to the current version.
    response = download(client, world.applicant, session)
    assert response.redirect_chain and events(response.content)[0]["SEQUENCE"] == 1


def test_a_cancelled_session_is_sent_as_a_cancellation(client, world, case, session):
    session_cancel(session=session, reason="双方已和解", actor=world.mediator)
    response = download(client, world.applicant, session)
    assert str(Calendar.from_ical(response.content)["METHOD"]) == "CANCEL"
    (event,) = events(response.content)
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1


@pytest.mark.parametrize("who", ["outsider", "clerk", "judge", "org_admin", "other_mediator", "other_clerk",
                                 "other_judge"])
def test_only_participants_download_the_invitation(client, world, session, who):
    assert download(client, getattr(world, who), session).status_code == 404


def test_nobody_downloads_another_cases_invitation(client, world, session):
    other = fresh_case(world)
    other_mediator = other.mediator_assignments.get().mediator
    theirs = session_schedule(case=other, actor=other_mediator, kind=SessionKind.JOINT_ONLINE,
                              starts_at=at(4, 14), ends_at=at(4, 15))
    assert download(client, world.applicant, theirs).status_code == 404
    # Not through one's own case's URL either.
    client.force_login(world.applicant)
    crafted = reverse("session_ics", kwargs={"case_id": session.case_id, "session_id": theirs.pk})
    assert client.get(crafted).status_code == 404


def test_a_removed_agent_and_a_replaced_mediator_no_longer_download_the_invitation(client, world, case, session):
    assert download(client, world.lawyer, session).status_code == 200
    Agent.objects.filter(party__case=case, user=world.lawyer).delete()
    CaseMediator.objects.filter(case=case, mediator=world.mediator).update(is_active=False)
    assert download(client, world.lawyer, session).status_code == 404
    assert download(client, world.mediator, session).status_code == 404


def test_a_removed_agent_no_longer_sees_the_session_in_their_feed(client, world, case, session):
    token = calendar_feed_token_for(user=world.lawyer)
    assert len(events(feed(client, token.token).content)) == 1
    Agent.objects.filter(party__case=case, user=world.lawyer).delete()
    assert events(feed(client, token.token).content) == []


def test_signing_in_is_needed_for_the_invitation(client, session):
    response = client.get(ics_url(session))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the private feed ----------------------------------------------------------------------------------------


def test_the_feed_lists_the_persons_sessions_and_only_theirs(client, world, case, session):
    other = fresh_case(world)
    session_schedule(case=other, actor=other.mediator_assignments.get().mediator, kind=SessionKind.JOINT_ONLINE,
                     starts_at=at(6, 10), ends_at=at(6, 11))
    token = calendar_feed_token_for(user=world.lawyer)
    response = feed(client, token.token)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    assert "METHOD" not in cal
    assert [e["UID"] for e in cal.walk("VEVENT")] == [f"session-{session.pk}@127.0.0.1"]


def test_the_mediators_feed_shows_the_sessions_of_the_cases_they_mediate(client, world, case, session):
    token = calendar_feed_token_for(user=world.mediator)
    uids = [e["UID"] for e in events(feed(client, token.token).content)]
    assert uids == [f"session-{session.pk}@127.0.0.1"]


def test_the_feed_shows_a_reschedule_as_one_moved_event_and_a_cancellation_as_cancelled(client, world, case,
                                                                                       session):
    new = session_reschedule(session=session, starts_at=at(5, 14), ends_at=at(5, 15), reason="改期",
                             actor=world.mediator)
    second = session_schedule(case=case, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                              starts_at=at(6, 10), ends_at=at(6, 11))
    session_cancel(session=second, reason="不再需要", actor=world.mediator)
    token = calendar_feed_token_for(user=world.applicant)
    found = {str(e["UID"]): e for e in events(feed(client, token.token).content)}
    assert set(found) == {f"session-{session.pk}@127.0.0.1", f"session-{second.pk}@127.0.0.1"}
    moved = found[f"session-{session.pk}@127.0.0.1"]
    assert moved.decoded("DTSTART") == at(5, 14) and moved["SEQUENCE"] == new.sequence
    assert str(found[f"session-{second.pk}@127.0.0.1"]["STATUS"]) == "CANCELLED"


def test_a_wrong_token_is_a_plain_404(client, world, session):
    calendar_feed_token_for(user=world.applicant)
    assert feed(client, "not-a-token").status_code == 404
    assert feed(client, "x" * 300).status_code == 404


def test_rotating_the_token_revokes_the_old_url(client, world, session):
    old = calendar_feed_token_for(user=world.applicant).token
    new = calendar_feed_rotate(user=world.applicant).token
    assert new != old
    assert feed(client, old).status_code == 404
    assert feed(client, new).status_code == 200
    assert AuditEvent.objects.filter(stream=f"user.{world.applicant.pk}", kind="calendar.feed_rotated").exists()


def test_an_inactive_account_has_no_feed(world):
    token = calendar_feed_token_for(user=world.applicant).token
    world.applicant.is_active = False
    world.applicant.save()
    assert calendar_feed_user(token=token) is None


def test_tokens_are_long_random_and_one_per_person(world):
    first = calendar_feed_token_for(user=world.applicant)
    assert calendar_feed_token_for(user=world.applicant) == first
    assert len(first.token) >= 43
    assert CalendarFeedToken.objects.count() == 1
    assert calendar_feed_token_for(user=world.respondent).token != first.token


def test_the_subscribe_page_makes_the_token_on_the_first_visit_and_rotates_it_on_request(client, world):
    client.force_login(world.lawyer)
    page = client.get(reverse("calendar_subscribe"))
    token = CalendarFeedToken.objects.get(user=world.lawyer).token
    assert page.status_code == 200 and token in page.content.decode()
    response = client.post(reverse("calendar_subscribe"))
    assert response.status_code == 302
    assert CalendarFeedToken.objects.get(user=world.lawyer).token != token


def test_the_subscribe_page_shows_only_ones_own_feed(client, world):
    theirs = calendar_feed_token_for(user=world.applicant).token
    client.force_login(world.outsider)
    page = client.get(reverse("calendar_subscribe")).content.decode()
    assert theirs not in page
