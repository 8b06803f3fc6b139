"""Caucus isolation rules as pure functions, and a property test over random sessions through the services
and the routing functions: the excluded side never receives a caucus frame."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediation.exceptions import DomainError
from mediation.selectors import rooms as room_selectors
from mediation.services import room_controls, room_record
from mediation.spaces import MemberInfo, audience_for, may_see, share_space, space_of
from tests.room_support import joint_room

MEDIATOR = MemberInfo(pk=1, user_id=101, role="mediator", side="", state="admitted")
APPLICANT = MemberInfo(pk=2, user_id=102, role="party", side="applicant", state="admitted")
RESPONDENT = MemberInfo(pk=3, user_id=103, role="party", side="respondent", state="admitted")
LAWYER = MemberInfo(pk=4, user_id=104, role="agent", side="respondent", state="admitted")
HELPER = MemberInfo(pk=5, user_id=105, role="helper", side="", state="admitted")
WAITING = MemberInfo(pk=6, user_id=106, role="party", side="applicant", state="waiting")


def test_everyone_admitted_is_in_joint_without_a_caucus():
    assert {space_of(caucus_side="", member=m) for m in (MEDIATOR, APPLICANT, RESPONDENT, HELPER)} == {"joint"}


def test_caucus_puts_the_other_side_in_its_own_waiting_space():
    spaces = {m.pk: space_of(caucus_side="applicant", member=m) for m in (MEDIATOR, APPLICANT, RESPONDENT, LAWYER)}

    assert spaces == {1: "caucus", 2: "caucus", 3: "waiting:respondent", 4: "waiting:respondent"}


def test_helper_without_a_side_waits_alone_during_a_caucus():
    assert space_of(caucus_side="applicant", member=HELPER) == "waiting:member5"


def test_not_admitted_is_in_the_lobby():
    assert space_of(caucus_side="", member=WAITING) == "lobby"


def test_caucus_post_is_seen_by_that_side_and_the_mediator_only():
    audience = audience_for(caucus_side="applicant", member=APPLICANT)

    assert audience == "caucus:applicant"
    assert [may_see(audience=audience, member=m) for m in (MEDIATOR, APPLICANT, RESPONDENT, LAWYER, HELPER)] == [
        True, True, False, False, False,
    ]


def test_waiting_side_post_is_not_seen_by_the_mediator_or_the_caucus():
    audience = audience_for(caucus_side="applicant", member=LAWYER)

    assert audience == "side:respondent"
    assert [may_see(audience=audience, member=m) for m in (MEDIATOR, APPLICANT, RESPONDENT, LAWYER)] == [
        False, False, True, True,
    ]


def test_lobby_member_sees_only_what_is_addressed_to_them_or_everyone():
    assert not may_see(audience="all", member=WAITING)
    assert may_see(audience="mediators|user:106", member=WAITING)
    assert may_see(audience="everyone", member=WAITING)
    assert not may_see(audience="caucus:applicant", member=WAITING)


def test_unknown_audience_admits_nobody():
    assert not any(may_see(audience=a, member=MEDIATOR) for a in ("", "caucus", "side:", "caucus:", "nonsense"))


def test_signaling_needs_a_shared_space():
    assert share_space(caucus_side="", a=APPLICANT, b=RESPONDENT)
    assert not share_space(caucus_side="applicant", a=APPLICANT, b=RESPONDENT)
    assert share_space(caucus_side="applicant", a=RESPONDENT, b=LAWYER)
    assert not share_space(caucus_side="", a=WAITING, b=MEDIATOR)


# --- property: random sessions through the services and the routing functions ------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("caucus"), st.sampled_from(["applicant", "respondent"])),
        st.tuples(st.just("joint"), st.none()),
        st.tuples(st.just("chat"), st.sampled_from(["mediator", "applicant", "respondent", "lawyer"])),
        st.tuples(st.just("record"), st.sampled_from(["", "undisputed_fact", "settlement"])),
        st.tuples(st.just("signal"), st.tuples(st.sampled_from(["mediator", "applicant", "respondent", "lawyer"]),
                                               st.sampled_from(["mediator", "applicant", "respondent", "lawyer"]))),
    ),
    min_size=1, max_size=12,
)


_counter = iter(range(10**9))


def _crosses_the_caucus(caucus_side: str, a: MemberInfo, b: MemberInfo) -> bool:
    inside = [x.role == "mediator" or x.side == caucus_side for x in (a, b)]
    return bool(caucus_side) and inside[0] != inside[1]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_excluded_side_never_receives_anything_from_a_caucus(world, ops, request):
    """Each chat and record event is seen exactly by the members who shared the poster's space when it
    was posted, in every snapshot; a signal is never relayed across the caucus boundary."""
    cache = request.node.__dict__.setdefault("_room", {})
    if not cache:
        cache["case"], cache["room"], cache["members"] = joint_room(world)
    room, m = cache["room"], cache["members"]
    infos = {name: MemberInfo(pk=x.pk, user_id=x.user_id, role=x.role, side=x.side, state="admitted")
             for name, x in m.items()}
    posted: dict[int, tuple[str, str]] = {}  # seq -> (caucus side, poster) at the time
    for op, arg in ops:
        room.refresh_from_db()
        try:
            if op == "caucus":
                room_controls.room_caucus_start(room=room, actor=world.mediator, side=arg)
            elif op == "joint":
                room_controls.room_caucus_end(room=room, actor=world.mediator)
            elif op == "chat":
                event = room_record.room_chat_post(member=m[arg], text="消息", client_id=f"p{next(_counter)}")
                posted[event.seq] = (room.caucus_side, arg)
            elif op == "record":
                event = room_record.room_record_add(member=m["mediator"], text="笔录", tag=arg)
                posted[event.seq] = (room.caucus_side, "mediator")
            else:
                sender, target = (infos[name] for name in arg)
                if share_space(caucus_side=room.caucus_side, a=sender, b=target):
                    assert not _crosses_the_caucus(room.caucus_side, sender, target), (room.caucus_side, arg)
        except DomainError:
            continue
    for name, member in m.items():
        seen = {e["seq"] for e in room_selectors.room_snapshot(member=member)["events"]}
        for seq, (caucus_side, poster) in posted.items():
            shared = space_of(caucus_side=caucus_side, member=infos[name]) == space_of(
                caucus_side=caucus_side, member=infos[poster])
            assert (seq in seen) == shared, (name, poster, caucus_side, seq)
        for entry in room_selectors.room_record_visible(member=member)[0]:
            if entry.caucus_side and not entry.released_at:
                assert member.role == "mediator" or member.side == entry.caucus_side, name
