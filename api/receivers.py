"""Status changes become webhook deliveries, after the change commits (``mediation.signals``)."""

from __future__ import annotations

from typing import Any

from mediation import signals
from mediation.models import Case


def on_case_status_changed(sender: Any, *, case_id: int, old: str, new: str, **kwargs: Any) -> None:
    from api.webhooks import webhooks_enqueue_status_change

    case = Case.objects.filter(pk=case_id).first()
    if case is not None:
        webhooks_enqueue_status_change(case=case, old=old, new=new)


def connect() -> None:
    signals.case_status_changed.connect(on_case_status_changed, dispatch_uid="api.webhooks.status_changed")
