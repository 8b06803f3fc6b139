"""Reads of the contact ledger (issue 18): a party's own requests, a handler's queue, and the figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from mediation import calendar
from mediation import transitions as tr
from mediation.choices import ContactHandler, ContactStatus, Role
from mediation.exceptions import NotFound
from mediation.models import Agent, Case, CaseMediator, ContactRequest, Membership, Party, User
from mediation.permissions import case_roles

_RELATED = (
    "case",
    "party",
    "assigned_to",
    "handler_organisation",
    "requested_by",
    "logged_by",
    "contacted_by",
    "first_timer",
    "feedback_timer",
)
STAFF_ROLES = frozenset({tr.MEDIATOR, tr.CLERK, tr.JUDGE, tr.ORG_ADMIN, tr.PRESIDENT})


def _with_due_days(rows: list[ContactRequest]) -> list[ContactRequest]:
    """Each clock's last day (a due moment is the end of that day, shown as the next midnight otherwise)."""
    for row in rows:
        row.contact_due_day = calendar.last_day(row.first_timer.due_at) if row.first_timer else None  # type: ignore[attr-defined]
        row.feedback_due_day = (  # type: ignore[attr-defined]
            calendar.last_day(row.feedback_timer.due_at) if row.feedback_timer else None
        )
    return rows


def contact_requests_for_case(*, user: User, case: Case) -> list[ContactRequest]:
    """What ``user`` may see of the case's ledger: a party (or agent) only their own party's requests, never
    the other side's; the case's staff all of them; anyone else nothing."""
    rows = ContactRequest.objects.filter(case=case).select_related(*_RELATED)
    roles = case_roles(user, case)
    if roles & STAFF_ROLES:
        return _with_due_days(list(rows))
    if tr.PARTY not in roles:
        return []
    own = Party.objects.filter(case=case, user=user).values("pk")
    agented = Agent.objects.filter(party__case=case, user=user).values("party_id")
    return _with_due_days(list(rows.filter(Q(party_id__in=own) | Q(party_id__in=agented))))


def _membership_orgs(user: User, roles: tuple[str, ...]) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(user=user, is_active=True, role__in=roles).values("organisation_id")


def _queue_filter(user: User) -> Q:
    mine = Q(assigned_to=user) | Q(
        handler=ContactHandler.MEDIATOR,
        case_id__in=CaseMediator.objects.filter(mediator=user, is_active=True).values("case_id"),
    )
    judges = Q(
        handler=ContactHandler.JUDGES,
        handler_organisation_id__in=_membership_orgs(user, (Role.JUDGE, Role.COURT_PRESIDENT)),
    )
    supervisors = Q(
        handler=ContactHandler.SUPERVISOR,
        handler_organisation_id__in=_membership_orgs(user, (Role.COMPLAINT_HANDLER, Role.COURT_PRESIDENT)),
    )
    heads = Q(escalated_to_id__in=_membership_orgs(user, (Role.ORG_ADMIN, Role.COURT_PRESIDENT)))
    return mine | judges | supervisors | heads


def contact_queue(*, user: User) -> list[ContactRequest]:
    """The requests ``user`` must answer or may take over, open ones first, oldest first."""
    if not user.is_authenticated:
        return []
    rows = ContactRequest.objects.filter(_queue_filter(user)).select_related(*_RELATED)
    return _with_due_days(sorted(rows, key=lambda r: (r.status == ContactStatus.ANSWERED, r.created_at)))


def contact_request_get_for_handler(*, user: User, request_id: int) -> ContactRequest:
    """A request in ``user``'s queue; ``NotFound`` for absent and not theirs alike."""
    found = (
        ContactRequest.objects.filter(_queue_filter(user), pk=request_id).select_related(*_RELATED).first()
        if user.is_authenticated
        else None
    )
    if found is None:
        raise NotFound(_("联系请求不存在或不由您办理。"))
    return found


@dataclass(frozen=True)
class ContactFigure:
    label: str
    total: int
    reached: int
    reached_on_time: int
    answered: int
    answered_on_time: int


def _figures(rows: QuerySet[ContactRequest], key: str, labels: Mapping[int, str]) -> list[ContactFigure]:
    grouped = (
        rows.values(key)
        .annotate(
            total=Count("pk"),
            reached=Count("pk", filter=Q(contacted_at__isnull=False)),
            reached_on_time=Count("pk", filter=Q(contacted_on_time=True)),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            answered_on_time=Count("pk", filter=Q(answered_on_time=True)),
        )
        .order_by(key)
    )
    return [
        ContactFigure(
            label=labels.get(row[key] or 0, "—"),
            total=row["total"],
            reached=row["reached"],
            reached_on_time=row["reached_on_time"],
            answered=row["answered"],
            answered_on_time=row["answered_on_time"],
        )
        for row in grouped
    ]


def contact_figures(*, user: User) -> dict[str, list[ContactFigure]]:
    """Reached and on time, by court and by the person who made the contact, over the cases of the courts and
    organisations where ``user`` is a president or an organisation admin."""
    orgs = _membership_orgs(user, (Role.COURT_PRESIDENT, Role.ORG_ADMIN))
    rows = ContactRequest.objects.filter(Q(case__court_id__in=orgs) | Q(case__mediation_organisation_id__in=orgs))
    courts = dict(rows.values_list("case__court_id", "case__court__name").distinct())
    people = {
        pk: name or username
        for pk, name, username in rows.filter(contacted_by__isnull=False)
        .values_list("contacted_by_id", "contacted_by__real_name", "contacted_by__username")
        .distinct()
    }
    return {
        "by_court": _figures(rows, "case__court_id", courts),
        "by_person": _figures(rows.filter(contacted_by__isnull=False), "contacted_by_id", people),
    }


CONTACT_TIMER_KINDS = frozenset({"contact_first", "contact_feedback"})


def timeline_hides_contact_events(*, user: User, case: Case) -> bool:
    """Contact requests stay out of the case timeline for everyone but the case's staff: one party's request
    is not the other side's business (the party reads their own on the contact page)."""
    return not case_roles(user, case) & STAFF_ROLES


def is_contact_event(kind: str, data: dict[str, object] | None) -> bool:
    if kind.startswith("contact."):
        return True
    return kind.startswith("timer.") and (data or {}).get("kind") in CONTACT_TIMER_KINDS
