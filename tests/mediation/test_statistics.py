"""The statistics selector against hand-computed figures on a small case set built through the services, and
who may see which numbers.

The case set (court = 东城法院 and other_court = 西城法院 under the 二中院, under the 高院):

    A  application, 东城, partner      received 5 Jan, accepted 5 Jan, agreement (full)    10 Feb  (36 days)
    B  application, 东城, partner      received 5 Jan, returned 5 Jan
    C  delegated,   西城, none         received 5 Jan, accepted 5 Jan, terminated         15 Jan  (10 days)
    D  entrusted,   东城, partner      received 5 Jan, accepted 5 Jan, withdrawn           15 Jan  (10 days)
    E  application, 东城, partner      received 5 Jan, accepted 5 Jan, agreement (partial) 10 Feb  (36 days)
    F  application, 东城, partner      received 5 Jan, accepted 5 Jan, assigned; the mediator lets the 3-day
                                       acceptance clock lapse (fired 1 Feb)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.choices import AgreementScope, CaseOrigin, CaseStatus, PartyRole, ReturnReason, Role, Sector
from mediation.exceptions import PermissionDenied
from mediation.models import Case, Party
from mediation.selectors import statistics as st
from mediation.services import room_controls, room_entry
from mediation.services.agreements import agreement_update
from mediation.services.cases import case_create, case_transition
from mediation.services.statistics_counters import statistics_counters_rebuild
from mediation.services.timer_sweep import timers_sweep
from tests.agreement_support import draft_labour_agreement, open_signing
from tests.factories import UserFactory, add_member, make_resident_id
from tests.room_support import open_room, ready_member

TZ = ZoneInfo("Asia/Shanghai")
JAN_5 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=TZ)
JAN_15 = dt.datetime(2026, 1, 15, 10, 0, tzinfo=TZ)
FEB_1 = dt.datetime(2026, 2, 1, 10, 0, tzinfo=TZ)
FEB_10 = dt.datetime(2026, 2, 10, 10, 0, tzinfo=TZ)


def _case(world, *, origin: str, court, organisation) -> Case:
    case = case_create(
        actor=world.clerk if origin != CaseOrigin.PARTY_APPLICATION else world.applicant, origin=origin, court=court,
        dispute_type=Sector.LABOUR, title="劳动报酬纠纷", claims="支付工资", mediation_organisation=organisation,
        court_case_number="（2026）京0101民初1号" if origin == CaseOrigin.ENTRUSTED else "",
        procedure="ordinary" if origin == CaseOrigin.ENTRUSTED else "",
    )
    Party.objects.create(case=case, user=world.applicant, role=PartyRole.APPLICANT, name="张三",
                         id_type="resident_id", id_number=make_resident_id(1), phone=world.applicant.phone)
    Party.objects.create(case=case, user=world.respondent, role=PartyRole.RESPONDENT, name="李四",
                         id_type="resident_id", id_number=make_resident_id(2), phone=world.respondent.phone)
    return case


def _at_other_court(world):
    """The world with the other court's staff, so the drive's clerk and judge act within their own court."""
    return dataclasses.replace(world, clerk=world.other_clerk, judge=world.other_judge)


@pytest.fixture
def case_set(world):
    with time_machine.travel(JAN_5, tick=False):
        a = world.drive(_case(world, origin=CaseOrigin.PARTY_APPLICATION, court=world.court,
                              organisation=world.partner), CaseStatus.AWAITING_SELECTION)
        b = _case(world, origin=CaseOrigin.PARTY_APPLICATION, court=world.court, organisation=world.partner)
        b = world.drive(b, CaseStatus.SUBMITTED)
        case_transition(case=b, to=CaseStatus.RETURNED, actor=world.clerk, reason=ReturnReason.OUTSIDE_JURISDICTION)
        c = _at_other_court(world).drive(
            _case(world, origin=CaseOrigin.DELEGATED, court=world.other_court, organisation=None),
            CaseStatus.AWAITING_SELECTION,
        )
        d = world.drive(_case(world, origin=CaseOrigin.ENTRUSTED, court=world.court, organisation=world.partner),
                        CaseStatus.AWAITING_SELECTION)
        e = world.drive(_case(world, origin=CaseOrigin.PARTY_APPLICATION, court=world.court,
                              organisation=world.partner), CaseStatus.AWAITING_SELECTION)
        f = world.drive(_case(world, origin=CaseOrigin.PARTY_APPLICATION, court=world.court,
                              organisation=world.partner), CaseStatus.ASSIGNED)
    with time_machine.travel(JAN_15, tick=False):
        _at_other_court(world).drive(c, CaseStatus.TERMINATED)
        world.drive(d, CaseStatus.WITHDRAWN)
    with time_machine.travel(FEB_1, tick=False):
        timers_sweep(now=FEB_1)
    f.refresh_from_db()
    assert f.status == CaseStatus.AWAITING_SELECTION  # the acceptance clock lapsed
    with time_machine.travel(FEB_10, tick=False):
        world.drive(a, CaseStatus.AGREEMENT_EFFECTIVE)
        agreement = draft_labour_agreement(world, e)
        agreement_update(agreement=agreement, actor=world.mediator, scope=AgreementScope.PARTIAL,
                         unresolved_claims="加班费另行解决")
        open_signing(world, agreement)
        e.refresh_from_db()
        case_transition(case=e, to=CaseStatus.AGREEMENT_EFFECTIVE, actor=None)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def _leader(world, court):
    user = UserFactory(real_name=f"{court.name}院长")
    add_member(user, court, Role.COURT_PRESIDENT)
    return user


def _mid(world):
    return world.court.parent


_SOURCE = {"counters": False}


@pytest.fixture(autouse=True, params=["live", "counters"])
def source(request):
    """Every hand count twice: computed live, and from the pre-computed daily counters (built just before the
    report, as the beat task does; a mediator's own report is always live)."""
    _SOURCE["counters"] = request.param == "counters"
    yield request.param
    _SOURCE["counters"] = False


def _report(user, kind, root_id, dimension=st.TOTAL):
    scope = st.statistics_scope_for_user(user=user, kind=kind, root_id=root_id)
    if _SOURCE["counters"]:
        statistics_counters_rebuild()
    report = st.statistics_report(scope=scope, dimension=dimension)
    assert (report.counted_until is not None) == (_SOURCE["counters"] and kind != st.MEDIATOR)
    return report


def test_totals_for_a_court_and_the_courts_below_it_match_the_hand_count(world, case_set):
    total = _report(_leader(world, _mid(world)), st.COURT, _mid(world).pk).total
    assert total.value("received") == 6
    assert total.value("received_application") == 4
    assert total.value("received_delegated") == 1
    assert total.value("received_entrusted") == 1
    assert total.value("acceptance_rate") == pytest.approx(83.33)  # 5 accepted of 6 decided
    assert total.value("diversion_rate") == pytest.approx(66.67)  # A, C, E, F before filing, of 6 received
    assert total.value("concluded") == 4  # A, E agreements; C terminated; D withdrawn
    assert total.value("success_rate") == 50  # the withdrawal is concluded, not a success
    assert total.value("partial_share") == 50  # E of A, E
    assert total.value("withdrawn_share") == 25
    assert total.value("avg_days_to_outcome") == 23  # (36 + 36 + 10 + 10) / 4
    # Five acceptance clocks: A, C, D, E accepted at once, F lapsed.
    assert total.value("acceptance_compliance") == 80
    assert total.value("confirmation_decision_compliance") is None  # waits for [court-workspace]


def test_cases_spanning_months_count_where_each_event_happened(world, case_set):
    report = _report(_leader(world, _mid(world)), st.COURT, _mid(world).pk, st.MONTH)
    months = {row.key: row for row in report.rows}
    assert sorted(months) == ["2026-01", "2026-02"]
    january, february = months["2026-01"], months["2026-02"]
    assert january.value("received") == 6
    assert january.value("concluded") == 2
    assert january.value("success_rate") == 0
    assert february.value("received") == 0
    assert february.value("concluded") == 2
    assert february.value("success_rate") == 100
    assert february.value("avg_days_to_outcome") == 36


def test_court_rows_roll_up_the_lower_courts(world, case_set):
    report = _report(_leader(world, world.high_court), st.COURT, world.high_court.pk, st.COURT)
    by_court = {row.key: row.value("received") for row in report.rows}
    assert by_court == {
        str(world.high_court.pk): 6, str(_mid(world).pk): 6, str(world.court.pk): 5, str(world.other_court.pk): 1,
    }
    assert [row.key for row in report.rows][:2] == [str(world.high_court.pk), str(_mid(world).pk)]


def test_slices_by_organisation_mediator_and_dispute_type(world, case_set):
    leader = _leader(world, _mid(world))
    by_org = {row.label: row.value("received") for row in _report(leader, st.COURT, _mid(world).pk,
                                                                   st.ORGANISATION).rows}
    assert by_org == {world.partner.name: 5, "未分配": 1}
    by_mediator = {row.key: row.value("received") for row in _report(leader, st.COURT, _mid(world).pk,
                                                                      st.MEDIATOR).rows}
    assert by_mediator == {str(world.mediator.pk): 5, "none": 1}  # B never had a mediator
    by_type = {row.label: row.value("received") for row in _report(leader, st.COURT, _mid(world).pk,
                                                                    st.DISPUTE_TYPE).rows}
    assert by_type == {"劳动争议": 6}


def test_a_basic_court_leader_sees_only_their_court(world, case_set):
    leader = _leader(world, world.court)
    assert _report(leader, st.COURT, world.court.pk).total.value("received") == 5
    with pytest.raises(PermissionDenied):
        st.statistics_scope_for_user(user=leader, kind=st.COURT, root_id=_mid(world).pk)


def test_a_leader_of_a_sibling_court_is_refused(world, case_set):
    sibling = _leader(world, world.other_court)
    with pytest.raises(PermissionDenied):
        st.statistics_scope_for_user(user=sibling, kind=st.COURT, root_id=world.court.pk)
    assert _report(sibling, st.COURT, world.other_court.pk).total.value("received") == 1


def test_an_organisation_admin_sees_their_organisation_only(world, case_set):
    total = _report(world.org_admin, st.ORGANISATION, world.partner.pk).total
    assert total.value("received") == 5
    assert total.value("success_rate") == pytest.approx(66.67)  # A, E of A, D, E
    for kind, root in ((st.ORGANISATION, world.other_partner.pk), (st.COURT, world.court.pk)):
        with pytest.raises(PermissionDenied):
            st.statistics_scope_for_user(user=world.org_admin, kind=kind, root_id=root)


def test_a_mediator_sees_their_own_numbers_only(world, case_set):
    assert _report(world.mediator, st.MEDIATOR, world.mediator.pk).total.value("received") == 5
    assert _report(world.other_mediator, st.MEDIATOR, world.other_mediator.pk).total.value("received") == 0
    with pytest.raises(PermissionDenied):
        st.statistics_scope_for_user(user=world.other_mediator, kind=st.MEDIATOR, root_id=world.mediator.pk)


@pytest.mark.parametrize("name", ["outsider", "clerk", "judge", "applicant", "lawyer"])
def test_people_without_a_statistics_role_see_nothing(world, case_set, name):
    user = getattr(world, name)
    assert st.statistics_scopes_for_user(user=user) == []
    with pytest.raises(PermissionDenied):
        st.statistics_scope_for_user(user=user, kind=st.COURT, root_id=world.court.pk)


def test_the_report_costs_the_same_queries_however_many_cases(world, case_set):
    leader = _leader(world, world.high_court)
    scope = st.statistics_scope_for_user(user=leader, kind=st.COURT, root_id=world.high_court.pk)
    with CaptureQueriesContext(connection) as few:
        st.statistics_report(scope=scope, dimension=st.COURT)
    with time_machine.travel(FEB_10, tick=False):
        for _ in range(3):
            world.drive(_case(world, origin=CaseOrigin.PARTY_APPLICATION, court=world.court,
                              organisation=world.partner), CaseStatus.WITHDRAWN)
    with CaptureQueriesContext(connection) as more:
        report = st.statistics_report(scope=scope, dimension=st.COURT)
    assert report.total.value("received") == 9
    assert len(more) == len(few)


def test_room_figures_come_from_the_rooms_own_events(world):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    with time_machine.travel(start, tick=False) as clock:
        _case, _session, room = open_room(world)
        ready_member(room, world.mediator)
        applicant = ready_member(room, world.applicant)
        ready_member(room, world.respondent)  # waits and is never let in
        clock.shift(dt.timedelta(seconds=40))
        applicant = room_controls.room_admit(room=room, actor=world.mediator, member=applicant)
        clock.shift(dt.timedelta(minutes=5))
        room_entry.room_leave(member=applicant)
        clock.shift(dt.timedelta(seconds=90))
        back = room_entry.room_member_get_or_create(room=room, user=world.applicant)
        clock.shift(dt.timedelta(seconds=20))
        room_controls.room_admit(room=room, actor=world.mediator, member=back)
    total = _report(world.mediator, st.MEDIATOR, world.mediator.pk).total
    assert total.value("join_success") == 50  # the applicant in, the respondent never
    assert total.value("time_to_join") == 30  # (40 + 20) / 2 admissions
    assert total.value("rejoins_per_session") == 1
    assert total.value("minutes_lost") == 1.5
