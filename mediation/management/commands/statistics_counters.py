"""Refresh the pre-computed statistics counters (Celery beat does it every STATISTICS_COUNTERS_SECONDS), or
rebuild them from scratch with --rebuild (D37)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mediation.models import StatisticsCounterState
from mediation.services.statistics_counters import statistics_counters_rebuild, statistics_counters_refresh


class Command(BaseCommand):
    help = "Refresh the statistics counters (the last days up to today), or rebuild every day with --rebuild."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Recompute every day before today.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = statistics_counters_rebuild() if options["rebuild"] else statistics_counters_refresh()
        state = StatisticsCounterState.objects.order_by("pk").first()
        until = f"{state.counted_until:%Y-%m-%d %H:%M %Z}" if state else "-"
        self.stdout.write(f"{rows} counter rows written; counted until {until}.")
