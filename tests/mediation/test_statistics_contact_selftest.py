"""Contact-request figures (D41) and self-test figures (issue 14) in the statistics, against hand counts, from
both sources (live and the pre-computed counters), and who may see them.

Contact requests (2 March 2026 is a Monday; the first clock is 1 working day, the feedback clock 2):

    r1  X (东城, partner, world.mediator)  asked 2 Mar 10:00, reached 2 Mar 15:00 with the result  on time, on time
    r2  X                                  asked 2 Mar 11:00, reached 6 Mar 10:00, no result      late, none
    r3  X                                  asked 1 Apr 10:00, never reached                       -
    r4  Y (西城, no organisation)          asked 2 Mar 10:00, reached 2 Mar 16:00 with the result  on time, on time

Self-tests (case X's room, opened 9 Mar; its session starts the same day):

    applicant   tests 'too_weak' then 'good' before being admitted          → tested before, verdict good
    respondent  admitted first, tests 'audio_only' afterwards                → not before,    verdict audio_only
    lawyer      admitted, never tests                                        → not before,    no verdict
    mediator    tests 'good' (mediators are left out of the share, their last verdict still counts)
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from mediation.choices import (
    CaseOrigin,
    CaseStatus,
    ContactCategory,
    ContactMethod,
    ParticipantRole,
    PartyRole,
    Role,
)
from mediation.exceptions import PermissionDenied
from mediation.models import ContactRequest, Party, RoomMember, SelfTest
from mediation.selectors import statistics as st
from mediation.services.contact_requests import contact_request_create, contact_request_record
from mediation.services.statistics_counters import statistics_counters_rebuild
from tests.factories import UserFactory, add_member
from tests.mediation.test_statistics import TZ, _at_other_court, _case, _leader, _mid
from tests.room_support import open_room

pytestmark = pytest.mark.django_db

MAR_2 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
MAR_9 = dt.datetime(2026, 3, 9, 9, 0, tzinfo=TZ)
APR_1 = dt.datetime(2026, 4, 1, 10, 0, tzinfo=TZ)
MAY_1 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=TZ)


def _ask(case, user, category, at):
    with time_machine.travel(at, tick=False):
        return contact_request_create(case=case, actor=user, category=category, question="想了解案件进展")


def _reach(request, actor, at, *, result=""):
    with time_machine.travel(at, tick=False):
        return contact_request_record(request=request, actor=actor, method=ContactMethod.PHONE, contacted_at=at,
                                      result=result)


@pytest.fixture
def figures_set(world):
    with time_machine.travel(MAR_2 - dt.timedelta(hours=1), tick=False):
        x = world.drive(world.new_case(), CaseStatus.SCHEDULING)
        y = _at_other_court(world).drive(
            _case(world, origin=CaseOrigin.DELEGATED, court=world.other_court, organisation=None),
            CaseStatus.AWAITING_SELECTION,
        )
    r1 = _ask(x, world.applicant, ContactCategory.PROGRESS, MAR_2)
    r2 = _ask(x, world.applicant, ContactCategory.SCHEDULE, MAR_2 + dt.timedelta(hours=1))
    r4 = _ask(y, world.applicant, ContactCategory.PROGRESS, MAR_2)
    _reach(r1, world.mediator, MAR_2 + dt.timedelta(hours=5), result="下周三组织调解")
    _reach(r2, world.mediator, dt.datetime(2026, 3, 6, 10, 0, tzinfo=TZ))
    _reach(r4, world.other_judge, MAR_2 + dt.timedelta(hours=6), result="已转交调解组织")
    _ask(x, world.applicant, ContactCategory.MATERIALS, APR_1)

    with time_machine.travel(MAR_9, tick=False):
        x, session, room = open_room(world, x)
    people = {PartyRole.APPLICANT: world.applicant, PartyRole.RESPONDENT: world.respondent}
    members = {}
    for n, (name, user, role) in enumerate((("applicant", world.applicant, ParticipantRole.PARTY),
                                            ("respondent", world.respondent, ParticipantRole.PARTY),
                                            ("lawyer", world.lawyer, ParticipantRole.AGENT))):
        side = PartyRole.APPLICANT if name == "applicant" else PartyRole.RESPONDENT
        party = Party.objects.filter(case=x, role=side).first() if user in people.values() else None
        members[name] = RoomMember.objects.create(
            room=room, user=user, party=party, role=role, side=side, display_name=name,
            admitted_at=MAR_9 + dt.timedelta(minutes=30 + n),
        )

    def tested(user, verdict, minutes):
        row = SelfTest.objects.create(session=session, user=user, verdict=verdict)
        SelfTest.objects.filter(pk=row.pk).update(created_at=MAR_9 + dt.timedelta(minutes=minutes))

    tested(world.applicant, "too_weak", 5)
    tested(world.applicant, "good", 10)
    tested(world.respondent, "audio_only", 40)  # after being admitted at 9:31
    tested(world.mediator, "good", 1)
    assert ContactRequest.objects.count() == 4
    return {"x": x, "y": y, "session": session}


@pytest.fixture(params=["live", "counters"])
def source(request):
    return request.param


def _report(user, kind, root_id, source, dimension=st.TOTAL):
    scope = st.statistics_scope_for_user(user=user, kind=kind, root_id=root_id)
    if source == "counters":
        with time_machine.travel(MAY_1, tick=False):
            statistics_counters_rebuild()
    report = st.statistics_report(scope=scope, dimension=dimension)
    assert (report.counted_until is not None) == (source == "counters" and kind != st.MEDIATOR)
    return report


def test_contact_figures_for_a_court_and_the_courts_below_it(world, figures_set, source):
    report = _report(_leader(world, _mid(world)), st.COURT, _mid(world).pk, source, st.MONTH)
    total = report.total
    assert total.value("contact_requests") == 4
    assert total.value("contact_reached") == 75.0  # r1, r2, r4 of 4
    assert total.value("contact_reached_on_time") == 50.0  # r1, r4
    assert total.value("contact_feedback_on_time") == 50.0  # r1, r4
    months = {row.key: row for row in report.rows}
    assert months["2026-03"].value("contact_requests") == 3
    assert months["2026-03"].value("contact_reached_on_time") == 66.67
    assert months["2026-04"].value("contact_requests") == 1
    assert months["2026-04"].value("contact_reached") == 0.0
    courts = {row.key: row for row in _report(_leader(world, _mid(world)), st.COURT, _mid(world).pk, source,
                                              st.COURT).rows}
    assert courts[str(world.court.pk)].value("contact_requests") == 3
    assert courts[str(world.court.pk)].value("contact_feedback_on_time") == 33.33
    assert courts[str(world.other_court.pk)].value("contact_reached_on_time") == 100.0


def test_contact_figures_by_organisation_and_mediator(world, figures_set, source):
    org = _report(world.org_admin, st.ORGANISATION, world.partner.pk, source, st.MEDIATOR)
    assert org.total.value("contact_requests") == 3  # case Y has no organisation
    assert org.total.value("contact_reached") == 66.67
    by_mediator = {row.key: row for row in org.rows}
    assert by_mediator[str(world.mediator.pk)].value("contact_reached_on_time") == 33.33
    own = _report(world.mediator, st.MEDIATOR, world.mediator.pk, source).total
    assert own.value("contact_requests") == 3
    assert own.value("contact_feedback_on_time") == 33.33


def test_self_test_share_and_verdicts(world, figures_set, source):
    total = _report(_leader(world, world.court), st.COURT, world.court.pk, source).total
    # Admitted non-mediators: applicant, respondent, lawyer; only the applicant tested before being admitted.
    assert total.value("selftest_before_join") == 33.33
    # Last verdict per person and session: applicant good, respondent audio_only, mediator good.
    assert total.value("selftest_good") == 66.67
    assert total.value("selftest_audio_only") == 33.33
    assert total.value("selftest_too_weak") == 0.0
    org = _report(world.org_admin, st.ORGANISATION, world.partner.pk, source, st.MONTH)
    months = {row.key: row.value("selftest_before_join") for row in org.rows}
    assert months == {"2026-03": 33.33, "2026-04": None}  # April: a contact request, no room
    own = _report(world.mediator, st.MEDIATOR, world.mediator.pk, source).total
    assert own.value("selftest_good") == 66.67
    # The sibling court sees none of it.
    other = _report(_leader(world, world.other_court), st.COURT, world.other_court.pk, source).total
    assert other.value("selftest_before_join") is None
    assert other.value("contact_requests") == 1


def test_others_are_refused_the_figures(world, figures_set):
    sibling = _leader(world, world.other_court)
    stranger = UserFactory(real_name="外人")
    other_admin = UserFactory(real_name="另一组织管理员")
    add_member(other_admin, world.other_partner, Role.ORG_ADMIN)
    for user, kind, root in ((sibling, st.COURT, world.court.pk), (world.outsider, st.COURT, world.court.pk),
                             (stranger, st.ORGANISATION, world.partner.pk),
                             (other_admin, st.ORGANISATION, world.partner.pk),
                             (world.other_mediator, st.MEDIATOR, world.mediator.pk)):
        with pytest.raises(PermissionDenied):
            st.statistics_scope_for_user(user=user, kind=kind, root_id=root)


def test_the_definitions_are_beside_the_figures():
    for code in ("contact_requests", "contact_reached", "contact_reached_on_time", "contact_feedback_on_time",
                 "selftest_before_join", "selftest_good", "selftest_audio_only", "selftest_too_weak"):
        figure = st.FIGURE_BY_CODE[code]
        assert str(figure.definition) and figure.group in (st.CONTACT, st.SELFTEST)

