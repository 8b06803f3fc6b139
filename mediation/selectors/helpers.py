"""Reads of the interpreters and helpers linked to a case's parties (issue 18 item 4)."""

from __future__ import annotations

from django.db.models import QuerySet

from mediation.models import Case, CaseHelper


def case_helpers(case: Case) -> QuerySet[CaseHelper]:
    """The active interpreters and helpers of ``case``, with the party each assists, in party order. The
    callers (the mediator's page, a party's way into the room) already hold a place on the case."""
    return (
        CaseHelper.objects.filter(case=case, is_active=True)
        .select_related("assists", "user")
        .order_by("assists__role", "assists_id", "pk")
    )
