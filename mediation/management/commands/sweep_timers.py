"""Fire due legal clocks and send the reminders of those about to lapse, once, or every few seconds with
``--loop`` (for deployments without Celery beat)."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mediation.services.performance import defaults_escalate, obligations_remind
from mediation.services.reminders import timers_remind
from mediation.services.timer_sweep import timers_sweep


class Command(BaseCommand):
    help = "Fire the legal timers that are due and remind those about to lapse (legal-rules §B4)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", default=None,
            help="Sweep again every SECONDS seconds until interrupted (default: sweep once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval: float | None = options["loop"]
        if interval is not None and interval <= 0:
            raise CommandError("--loop needs a positive number of seconds")
        try:
            while True:
                fired = timers_sweep()
                self.stdout.write(f"{len(fired)} timer(s) fired")
                escalated = defaults_escalate()
                if escalated:
                    self.stdout.write(f"{escalated} case(s) now eligible for enforcement")
                reminded = timers_remind() + obligations_remind()
                if reminded:
                    self.stdout.write(f"{reminded} reminder(s) sent")
                if interval is None:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:  # the way a --loop run is meant to end
            return
