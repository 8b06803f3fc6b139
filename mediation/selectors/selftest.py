"""Reads of the pre-join self-test (issue 14)."""

from __future__ import annotations

from mediation.models import SelfTest


def latest_self_tests(session_id: int) -> dict[int, SelfTest]:
    """The latest self-test of each person for one session, by user id (one query)."""
    latest: dict[int, SelfTest] = {}
    for test in SelfTest.objects.filter(session_id=session_id).order_by("user_id", "-created_at", "-id"):
        latest.setdefault(test.user_id, test)
    return latest
