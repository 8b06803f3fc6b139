"""Reads, already filtered by permission, so no view can forget to filter."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import Role
from mediation.exceptions import NotFound
from mediation.models import Case, Membership, User
from mediation.permissions import can_view_case, case_transitions_for


def case_list_for_user(*, user: User) -> QuerySet[Case]:
    """Every case the user holds some role on, newest first, with what list pages show joined in."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    memberships = Membership.objects.filter(user=user, is_active=True)
    court_ids = memberships.filter(role__in=[Role.CLERK, Role.JUDGE, Role.COURT_PRESIDENT]).values("organisation_id")
    org_ids = memberships.filter(role=Role.ORG_ADMIN).values("organisation_id")
    visible = (
        Q(parties__user=user)
        | Q(parties__agents__user=user)
        | Q(mediator_assignments__mediator=user, mediator_assignments__is_active=True)
        | Q(court_id__in=court_ids)
        | Q(mediation_organisation_id__in=org_ids)
    )
    ids = Case.objects.filter(visible).values("pk")
    return (
        Case.objects.filter(pk__in=ids)
        .select_related("court", "mediation_organisation")
        .order_by("-created_at")
    )


def case_get_for_user(*, user: User, case_id: int) -> Case:
    case = Case.objects.select_related("court", "mediation_organisation").filter(pk=case_id).first()
    if case is None or not can_view_case(user, case):
        # The same answer for "absent" and "not yours": an outsider learns nothing from the id.
        raise NotFound(_("案件不存在或您无权查看。"))
    return case


def case_actions_available(*, user: User, case: Case) -> list[tr.Transition]:
    """The moves ``user`` may make on ``case`` now, as rows of the transition table in its order: what the
    admin's transition form offers, and what the case page's action bar is built from (each row that has a
    page of its own becomes a button there). Rows a service alone takes (``Transition.via``) are done in that
    service's workspace, never offered here."""
    return [row for row in case_transitions_for(user, case) if not row.via]
