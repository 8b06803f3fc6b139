"""The mediators' case figures the recommendation ranks by (``MediatorCaseLoad``), kept current where they
change: ``case_transition`` (a case opens, finishes, or releases its mediators) and ``case_mediator_assign``
(a designation, a replaced presiding mediator). Each refresh recomputes the figures of the mediators it is
given from their assignments, under a lock on their rows, so concurrent transitions cannot leave a stale
count, and a refresh that runs twice changes nothing."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q

from mediation.lifecycle import OPEN_STATUSES, SETTLED_STATUSES, UNSETTLED_STATUSES
from mediation.models import CaseMediator, MediatorCaseLoad

FIGURES = ("open_cases", "settled_cases", "finished_cases")


def mediator_figures_aggregate(mediator_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int, int]]:
    """The figures computed afresh from the active assignments (a released one does not count):
    {mediator id: (open, settled, finished)}. Every mediator when ``mediator_ids`` is None."""
    assignments = CaseMediator.objects.filter(
        is_active=True, case__status__in=OPEN_STATUSES | SETTLED_STATUSES | UNSETTLED_STATUSES
    )
    if mediator_ids is not None:
        assignments = assignments.filter(mediator_id__in=list(mediator_ids))
    rows = (
        assignments.order_by()
        .values("mediator_id")
        .annotate(
            open_cases=Count("pk", filter=Q(case__status__in=OPEN_STATUSES)),
            settled_cases=Count("pk", filter=Q(case__status__in=SETTLED_STATUSES)),
            finished_cases=Count("pk", filter=Q(case__status__in=SETTLED_STATUSES | UNSETTLED_STATUSES)),
        )
        .values_list("mediator_id", *FIGURES)
    )
    return {mediator_id: (open_, settled, finished) for mediator_id, open_, settled, finished in rows}


def mediator_load_refresh(mediator_ids: Iterable[int]) -> None:
    """Recompute the figures of ``mediator_ids`` inside the caller's transaction (which holds the case row).
    The mediators' rows are created if missing and locked in id order before counting, so of two
    transitions touching one mediator the second counts after the first has committed."""
    ids = sorted(set(mediator_ids))
    if not ids:
        return
    MediatorCaseLoad.objects.bulk_create([MediatorCaseLoad(mediator_id=pk) for pk in ids], ignore_conflicts=True)
    rows = list(MediatorCaseLoad.objects.select_for_update().filter(mediator_id__in=ids).order_by("mediator_id"))
    fresh = mediator_figures_aggregate(ids)
    for row in rows:
        row.open_cases, row.settled_cases, row.finished_cases = fresh.get(row.mediator_id, (0, 0, 0))
    MediatorCaseLoad.objects.bulk_update(rows, FIGURES)


def mediator_load_rebuild() -> int:
    """Recompute every mediator's figures from the assignments (``manage.py rebuild_list_figures``): after
    a restore, a bulk import, or to check the kept figures. Returns the number of rows written."""
    fresh = mediator_figures_aggregate()
    rows = [
        MediatorCaseLoad(mediator_id=pk, open_cases=o, settled_cases=s, finished_cases=f)
        for pk, (o, s, f) in fresh.items()
    ]
    MediatorCaseLoad.objects.exclude(mediator_id__in=list(fresh)).update(
        open_cases=0, settled_cases=0, finished_cases=0
    )
    MediatorCaseLoad.objects.bulk_create(
        rows, batch_size=5000, update_conflicts=True, unique_fields=["mediator"], update_fields=list(FIGURES)
    )
    return len(rows)
