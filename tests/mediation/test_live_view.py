"""The staff's live view (issue 14 item 3): who may watch which sessions, where each participant stands
(waiting / in / reconnecting / left / not yet in), their latest self-test verdict, the quality their room
client reported, and the message to one participant (stored for that person only, audited)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.cache import caches
from django.utils import timezone

from mediation.choices import ConnectionQuality, LivePresence, Role, SelfTestVerdict, SessionKind
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, RoomEnded
from mediation.models import AuditEvent, MediationSession, RoomEvent, SelfTest
from mediation.selectors.live_view import live_sessions, live_view_scope_for_user
from mediation.selectors.rooms import room_snapshot
from mediation.services import live_view, room_controls, room_entry
from mediation.services.scheduling import session_schedule
from tests.factories import OrganisationFactory, UserFactory, add_member
from tests.room_support import joint_room, open_room, ready_member

pytestmark = pytest.mark.django_db

_caches = itertools.count()


@pytest.fixture(autouse=True)
def live_cache(settings):
    """A private in-memory live cache per test (the setting change resets Django's cache handler), so
    reports of one test never show in another and nothing is left in Redis."""
    settings.CACHES = {**settings.CACHES, "live": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                   "LOCATION": f"live-test-{next(_caches)}"}}
    return caches["live"]


def _session(board, session_id):
    return next(s for s in board["sessions"] if s["id"] == session_id)


def _person(session, user):
    return next(p for p in session["participants"] if p["user"] == user.pk)


# --- scope --------------------------------------------------------------------------------------------


def test_org_admin_and_the_courts_staff_see_the_live_session(world):
    _case, session, _room = open_room(world)
    for staff in (world.org_admin, world.clerk, world.judge):
        assert [s["id"] for s in live_sessions(user=staff)["sessions"]] == [session.pk], staff


def test_a_president_sees_the_courts_below(world):
    _case, session, _room = open_room(world)
    president = UserFactory(username="hc_president")
    add_member(president, world.high_court, Role.COURT_PRESIDENT)
    assert [s["id"] for s in live_sessions(user=president)["sessions"]] == [session.pk]


def test_others_are_refused_or_see_nothing_of_it(world):
    open_room(world)
    other_admin = UserFactory(username="other_admin")
    add_member(other_admin, world.other_partner, Role.ORG_ADMIN)
    # Another organisation's admin and another court's staff may watch their own, which is empty here.
    for staff in (other_admin, world.other_clerk, world.other_judge):
        assert live_sessions(user=staff)["sessions"] == [], staff
    # No scope at all: parties, the mediator, an outsider.
    for person in (world.applicant, world.respondent, world.lawyer, world.mediator, world.outsider, None):
        assert live_view_scope_for_user(user=person) is None
        with pytest.raises(PermissionDenied):
            live_sessions(user=person)


def test_only_todays_scheduled_or_live_sessions(world):
    case, live, room = open_room(world)
    ready_member(room, world.mediator, otp=False)
    now = timezone.now()
    later_today = MediationSession.objects.filter(pk=live.pk).values_list("starts_at", flat=True).get()
    tomorrow = session_schedule(case=case, actor=world.mediator, kind=SessionKind.JOINT_ONLINE,
                                starts_at=later_today + dt.timedelta(days=1, hours=6),
                                ends_at=later_today + dt.timedelta(days=1, hours=7))
    ids = [s["id"] for s in live_sessions(user=world.clerk, now=now)["sessions"]]
    assert live.pk in ids and tomorrow.pk not in ids
    # The live room stays on the board the next day too, until it ends.
    ids = [s["id"] for s in live_sessions(user=world.clerk, now=now + dt.timedelta(days=1))["sessions"]]
    assert live.pk in ids
    room_controls.room_end(room=room, actor=world.mediator, outcome="continue", note="下次继续",
                           continue_at=now + dt.timedelta(days=3))
    ids = [s["id"] for s in live_sessions(user=world.clerk, now=now + dt.timedelta(days=1))["sessions"]]
    assert live.pk not in ids


# --- presence, verdicts, quality ----------------------------------------------------------------------


def test_presence_verdict_and_quality_of_each_participant(world, django_assert_max_num_queries):
    _case, session, room = open_room(world)
    mediator = ready_member(room, world.mediator, otp=False)
    applicant = ready_member(room, world.applicant, admit_by=world.mediator, otp=False)
    respondent = ready_member(room, world.respondent, otp=False)  # in the waiting room
    lawyer = ready_member(room, world.lawyer, admit_by=world.mediator, otp=False)
    for member, channel in ((mediator, "c-med"), (applicant, "c-app"), (respondent, "c-resp"), (lawyer, "c-law")):
        room_entry.room_presence_set(member=member, channel=channel)
    # The lawyer's socket dropped without leaving; the applicant reported a fair line.
    room_entry.room_presence_clear(member_id=lawyer.pk, channel="c-law")
    live_view.room_presence_dropped(member_id=lawyer.pk)
    live_view.room_quality_report(member_id=applicant.pk, level="fair", rtt_ms=420, loss_pct=3.456)
    SelfTest.objects.create(session=session, user=world.applicant, verdict=SelfTestVerdict.TOO_WEAK)
    SelfTest.objects.create(session=session, user=world.applicant, verdict=SelfTestVerdict.AUDIO_ONLY)
    SelfTest.objects.create(session=session, user=world.respondent, verdict=SelfTestVerdict.GOOD)

    with django_assert_max_num_queries(8):
        board = live_sessions(user=world.org_admin)
    row = _session(board, session.pk)
    assert row["room"] == "joint" and row["waiting"] == 1 and row["reconnecting"] == 1
    app, resp, law, med = (_person(row, u) for u in (world.applicant, world.respondent, world.lawyer, world.mediator))
    assert (app["presence"], resp["presence"], law["presence"], med["presence"]) == (
        LivePresence.IN, LivePresence.WAITING, LivePresence.RECONNECTING, LivePresence.IN)
    assert app["presence_label"] == "在会中" and law["presence_label"] == "正在重连"
    assert (app["verdict"], app["verdict_label"]) == (SelfTestVerdict.AUDIO_ONLY, "建议仅用语音")  # the latest
    assert resp["verdict_label"] == "视频良好"
    assert (law["verdict"], law["verdict_label"]) == ("", "未自检")
    assert app["quality"]["level"] == ConnectionQuality.FAIR and app["quality"]["label"] == "一般"
    assert (app["quality"]["rtt_ms"], app["quality"]["loss_pct"]) == (420, 3.5)
    assert law["quality"]["level"] == ConnectionQuality.LOST and law["quality"]["rtt_ms"] is None
    assert resp["quality"]["level"] == ConnectionQuality.NONE
    assert app["member"] == applicant.pk and resp["member"] == respondent.pk

    # The lawyer leaves for good: 已离开, and no longer someone to message.
    room_entry.room_leave(member=lawyer)
    law = _person(_session(live_sessions(user=world.org_admin), session.pk), world.lawyer)
    assert law["presence"] == LivePresence.LEFT and law["member"] is None


def test_an_expired_report_or_a_closed_socket_shows_no_quality(world, live_cache):
    _case, session, room = open_room(world)
    ready_member(room, world.mediator, otp=False)
    applicant = ready_member(room, world.applicant, admit_by=world.mediator, otp=False)
    live_view.room_quality_report(member_id=applicant.pk, level="good", rtt_ms=40, loss_pct=0)
    # Never connected a socket (only passed the way in): not yet in, whatever the cache says.
    person = _person(_session(live_sessions(user=world.clerk), session.pk), world.applicant)
    assert person["presence"] == LivePresence.NOT_JOINED and person["quality"]["level"] == ConnectionQuality.NONE
    room_entry.room_presence_set(member=applicant, channel="c-app")
    person = _person(_session(live_sessions(user=world.clerk), session.pk), world.applicant)
    assert person["quality"]["level"] == ConnectionQuality.GOOD
    live_cache.delete(f"room-quality:{applicant.pk}")  # what the TTL does
    person = _person(_session(live_sessions(user=world.clerk), session.pk), world.applicant)
    assert person["quality"]["level"] == ConnectionQuality.NONE


def test_an_invited_participant_not_yet_in_the_room_is_listed(world):
    _case, session, _room = open_room(world)
    row = _session(live_sessions(user=world.clerk), session.pk)
    applicant = _person(row, world.applicant)
    assert applicant["presence"] == LivePresence.NOT_JOINED and applicant["member"] is None


# --- the message --------------------------------------------------------------------------------------


def test_the_message_is_stored_for_that_person_only_and_audited(world):
    _case, _room, members = joint_room(world, otp=False)
    event = live_view.room_staff_message(actor=world.clerk, member_id=members["respondent"].pk,
                                         text="  您的网络较差，\n请换到信号好的位置。 ")
    assert event.kind == "staff.message" and event.audience == f"user:{world.respondent.pk}"
    assert event.payload["text"] == "您的网络较差， 请换到信号好的位置。"
    assert event.payload["from"] == "工作人员陈书记员"
    seen = {name: [e["kind"] for e in room_snapshot(member=m)["events"]] for name, m in members.items()}
    assert "staff.message" in seen["respondent"]
    assert all("staff.message" not in kinds for name, kinds in seen.items() if name != "respondent")
    audit = AuditEvent.objects.get(kind="room.staff_message")
    assert audit.actor == world.clerk and audit.data["member"] == members["respondent"].pk
    assert audit.data["text"] == event.payload["text"]


def test_the_message_is_refused_outside_the_scope_and_to_someone_gone(world):
    _case, room, members = joint_room(world, otp=False)
    other_admin = UserFactory(username="other_admin")
    add_member(other_admin, OrganisationFactory(name="另一调解组织"), Role.ORG_ADMIN)
    for person in (world.outsider, world.applicant, world.mediator, other_admin, world.other_clerk, world.other_judge):
        exc = PermissionDenied if person in (world.outsider, world.applicant, world.mediator) else NotFound
        with pytest.raises(exc):
            live_view.room_staff_message(actor=person, member_id=members["respondent"].pk, text="你好")
    with pytest.raises(InvalidInput):
        live_view.room_staff_message(actor=world.clerk, member_id=members["respondent"].pk, text="   ")
    with pytest.raises(InvalidInput):
        live_view.room_staff_message(actor=world.clerk, member_id=members["respondent"].pk, text="长" * 201)
    room_entry.room_leave(member=members["lawyer"])
    with pytest.raises(InvalidInput):
        live_view.room_staff_message(actor=world.clerk, member_id=members["lawyer"].pk, text="你好")
    room_controls.room_end(room=room, actor=world.mediator, outcome="continue", note="改期",
                           continue_at=timezone.now() + dt.timedelta(days=2))
    with pytest.raises(RoomEnded):
        live_view.room_staff_message(actor=world.clerk, member_id=members["respondent"].pk, text="你好")
    assert not RoomEvent.objects.filter(kind="staff.message").exists()
    assert not AuditEvent.objects.filter(kind="room.staff_message").exists()
