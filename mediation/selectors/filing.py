"""Reads for the court's filing queue (OMR 21(1)-(2)): failed mediations handed to a court, for its clerks."""

from __future__ import annotations

from django.db.models import QuerySet

from mediation.choices import Role
from mediation.models import CourtFiling, Membership, User


def filing_courts_for_clerk(user: User) -> list[int]:
    """The courts ``user`` is an active clerk of."""
    if not user.is_authenticated or not user.is_active:
        return []
    return list(Membership.objects.filter(user=user, role=Role.CLERK, is_active=True).values_list(
        "organisation_id", flat=True))


def filing_queue(*, user: User, pending: bool = True) -> QuerySet[CourtFiling]:
    """The hand-overs to ``user``'s courts, oldest first; ``pending`` keeps those not yet filed."""
    rows = CourtFiling.objects.filter(court_id__in=filing_courts_for_clerk(user)).select_related(
        "case", "court", "chosen_by_party")
    if pending:
        return rows.filter(filed_at__isnull=True).order_by("handed_at", "pk")
    return rows.filter(filed_at__isnull=False).order_by("-filed_at", "-pk")


def filing_get_for_clerk(*, user: User, filing_id: int) -> CourtFiling | None:
    """One hand-over to a court ``user`` clerks for; None for any other (absent and not yours read the same)."""
    return CourtFiling.objects.filter(
        pk=filing_id, court_id__in=filing_courts_for_clerk(user)).select_related("case", "case__court").first()
