"""``{% case_performance case %}``: the case page's schedule of obligations at a glance (PML 31), with what the
viewer may do on each, the enforceable title and CPL 250's two years, or why there is none (PML 32-33)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from documents.models import Document
from mediation.choices import DocumentKind
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
    performance = performance_for(user=user, case=case)
    enforcement = None
    if performance is not None and performance.title is not None:
        # The paper exists only once it was rendered: the page links it then, and says so otherwise.
        enforcement = (Document.objects.filter(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION,
                                               superseded_by__isnull=True).order_by("-version").first())
    return {"p": performance, "case": case, "accept": ACCEPT_ATTRIBUTE, "enforcement": enforcement,
            "today": timezone.localdate(), "csrf_token": context.get("csrf_token")}
