"""``{% case_performance case %}``: the case page's schedule of obligations at a glance (PML 31), with what the
viewer may do on each, the enforceable title and CPL 250's two years, or why there is none (PML 32-33)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from mediation.models import Case, User
from mediation.selectors.performance import case_performance as performance_for
from mediation.services.evidence import ACCEPT_ATTRIBUTE

register = template.Library()


@register.inclusion_tag("frontend/performance/_case_performance.html", takes_context=True)
def case_performance(context: template.Context, case: Case) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"p": None}
    return {"p": performance_for(user=user, case=case), "case": case, "accept": ACCEPT_ATTRIBUTE,
            "today": timezone.localdate(), "csrf_token": context.get("csrf_token")}
