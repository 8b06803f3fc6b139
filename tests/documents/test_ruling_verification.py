"""Issue 11: the 民事裁定书 says a joint verification (Interp 356) was held only when one was: the session ended as
questioned, with the parties admitted and the record confirmed. A mediation 笔录 reissued afterwards does not list
the court's session as a mediation session."""

from __future__ import annotations

import pytest

from documents.data import ruling_data, sessions_data, undisputed_facts
from mediation.choices import RoomOutcome
from mediation.models import Case
from mediation.selectors import rooms as room_selectors
from mediation.services import room_controls, room_record
from mediation.services.confirmation import confirmation_rule
from tests.mediation.test_verification_session import opened

pytestmark = pytest.mark.django_db


def test_the_ruling_names_the_verification_held_and_who_confirmed_its_record(world):
    case, _session, room, m = opened(world)
    room_record.room_record_add(member=m["judge"], text="问：协议是否出于自愿？答（双方）：是。")
    _entries, version = room_selectors.room_record_visible(member=m["applicant"])
    room_record.room_record_confirm(member=m["applicant"], version=version)
    room_record.room_record_confirm(member=m["respondent"], version=version)
    room_controls.room_end(room=room, actor=world.judge, outcome=RoomOutcome.QUESTIONED)
    case = Case.objects.get(pk=case.pk)
    confirmation_rule(case=case, actor=world.judge, confirm=True)
    data = ruling_data(Case.objects.get(pk=case.pk), now=room.opened_at)
    sentence = data["verification"]["sentence"]
    names = sorted(case.parties.values_list("name", flat=True))
    assert "通过在线视频组织询问" in sentence and all(name in sentence for name in names)
    assert "询问笔录经" in sentence
    # The court's session is not a mediation session of the case's own documents.
    assert all(s.get("room_id", None) != room.pk for s in sessions_data(case, with_record=True))
    assert sessions_data(case, with_record=False) == []
    assert undisputed_facts(case) == []


def test_without_a_held_verification_the_ruling_says_nothing_of_one(world):
    case, _session, room, _m = opened(world)  # opened, never ended: not held
    confirmation_rule(case=Case.objects.get(pk=case.pk), actor=world.judge, confirm=True)
    assert ruling_data(Case.objects.get(pk=case.pk), now=room.opened_at)["verification"] is None
