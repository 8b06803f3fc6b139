"""Reads for a person's in-app inbox: only their own delivered in-app messages, newest first."""

from __future__ import annotations

from django.db.models import Count, F, FilteredRelation, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from mediation.choices import MessageChannel, OutboxStatus
from mediation.models import OutboxMessage, User


def inbox_list_for_user(*, user: User) -> QuerySet[OutboxMessage]:
    """The user's in-app messages that have been delivered (a message for later is not shown before its
    time), newest first."""
    if not user.is_authenticated:
        return OutboxMessage.objects.none()
    return (
        OutboxMessage.objects.filter(recipient=user, channel=MessageChannel.IN_APP, status=OutboxStatus.SENT)
        .only("pk", "subject", "body", "sent_at", "read_at", "case_id")
        .order_by("-sent_at", "-pk")
    )


def inbox_unread_count(*, user: User) -> int:
    """How many of the user's delivered in-app messages are unread (one query)."""
    return inbox_list_for_user(user=user).filter(read_at__isnull=True).count()


def navigation_roles_and_unread(*, user: User) -> tuple[set[str], int]:
    """The user's active staff roles and their unread in-app count, in one query for the navigation bar
    shown on every page: one row per active membership (or a single row without one), each carrying the
    count."""
    unread = (
        OutboxMessage.objects.filter(
            recipient=OuterRef("pk"), channel=MessageChannel.IN_APP, status=OutboxStatus.SENT, read_at__isnull=True
        )
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        User.objects.filter(pk=user.pk)
        .annotate(
            active=FilteredRelation("memberships", condition=Q(memberships__is_active=True)),
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        )
        .values_list(F("active__role"), "unread")
    )
    roles: set[str] = set()
    count = 0
    for role, unread_count in rows:
        if role:
            roles.add(role)
        count = unread_count
    return roles, count
