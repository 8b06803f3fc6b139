"""Recompute the figures the lists read instead of aggregating per request: every case's ``next_due_at``
(the queues' sort key) and every mediator's ``MediatorCaseLoad`` (the recommendation's load and outcomes).
The services keep both current; run this after a migration that adds them, a restore or a bulk import."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from mediation.services.mediator_load import mediator_load_rebuild
from mediation.services.timers import case_next_due_refresh


class Command(BaseCommand):
    help = "重新计算案件的最近届满时间（队列排序）与调解员在办/办结案件数（推荐）。"

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            cases = case_next_due_refresh()
            mediators = mediator_load_rebuild()
        self.stdout.write(f"next_due_at: {cases} 件案件；调解员案件数: {mediators} 名调解员")
