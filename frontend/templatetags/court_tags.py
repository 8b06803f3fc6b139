"""``{% case_confirmation case %}``: the case page's block on a judicial confirmation application: for a party,
where it stands and what the court asks of them; for a judge of the court, the way to its review page."""

from __future__ import annotations

from typing import Any

from django import template

from mediation import transitions as tr
from mediation.models import Case, User
from mediation.permissions import case_roles
from mediation.selectors.confirmation import INBOX_STATUSES, confirmation_for_party

register = template.Library()


@register.inclusion_tag("frontend/court/_case_confirmation.html", takes_context=True)
def case_confirmation(context: template.Context, case: Case) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or case.status not in INBOX_STATUSES:
        return {"show": False}
    is_judge = tr.JUDGE in case_roles(user, case)
    party_view = confirmation_for_party(user=user, case=case)
    return {"show": is_judge or party_view is not None, "case": case, "is_judge": is_judge, "mine": party_view,
            "csrf_token": context.get("csrf_token")}
