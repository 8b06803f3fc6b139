"""Reads of the pre-join self-test (issue 14)."""

from __future__ import annotations

from collections.abc import Iterable

from mediation.models import RoomMember, SelfTest


def latest_self_tests(session_ids: Iterable[int]) -> dict[tuple[int, int], SelfTest]:
    """The latest self-test of each person for each of ``session_ids``, by (session id, user id): one query."""
    latest: dict[tuple[int, int], SelfTest] = {}
    rows = SelfTest.objects.filter(session_id__in=list(session_ids)).order_by("session_id", "user_id",
                                                                             "-created_at", "-id")
    for test in rows:
        latest.setdefault((test.session_id, test.user_id), test)
    return latest


def latest_verdict(member: RoomMember) -> str | None:
    """The latest self-test verdict of ``member`` for its room's session (one query)."""
    return (SelfTest.objects.filter(session__room__pk=member.room_id, user_id=member.user_id)
            .order_by("-created_at", "-id").values_list("verdict", flat=True).first())
