"""Reads of the pre-join self-test (issue 14)."""

from __future__ import annotations

from mediation.models import RoomMember, SelfTest


def latest_self_tests(session_id: int) -> dict[int, SelfTest]:
    """The latest self-test of each person for one session, by user id (one query)."""
    latest: dict[int, SelfTest] = {}
    for test in SelfTest.objects.filter(session_id=session_id).order_by("user_id", "-created_at", "-id"):
        latest.setdefault(test.user_id, test)
    return latest


def latest_verdict(member: RoomMember) -> str | None:
    """The latest self-test verdict of ``member`` for its room's session (one query)."""
    return (SelfTest.objects.filter(session__room__pk=member.room_id, user_id=member.user_id)
            .order_by("-created_at", "-id").values_list("verdict", flat=True).first())
