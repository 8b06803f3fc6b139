"""``{% case_sessions case %}``: the case page's block of sessions, in the viewer's own time."""

from __future__ import annotations

from typing import Any

from django import template

from mediation import transitions as tr
from mediation.models import Case, User
from mediation.permissions import case_roles
from mediation.selectors.scheduling import sessions_for_case
from mediation.services.scheduling import case_allows_scheduling

register = template.Library()

SHOWN = 3


@register.inclusion_tag("frontend/scheduling/_case_sessions.html", takes_context=True)
def case_sessions(context: template.Context, case: Case) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    roles = case_roles(user, case) if isinstance(user, User) else set()
    if not isinstance(user, User) or not roles:
        return {"show": False}
    rows = sessions_for_case(user=user, case=case)
    upcoming = [row for row in rows if row.upcoming]
    upcoming.reverse()  # soonest first
    may_schedule = tr.MEDIATOR in roles and case_allows_scheduling(case)
    return {
        "show": bool(rows) or may_schedule, "case": case, "upcoming": upcoming[:SHOWN],
        "more": max(len(rows) - min(len(upcoming), SHOWN), 0), "may_schedule": may_schedule,
        "may_invite_helpers": tr.MEDIATOR in roles,  # issue 18 item 4: frontend/views/helpers.py
    }
