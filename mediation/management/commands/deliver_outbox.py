"""Deliver the outbox messages that are due, once, or every few seconds with ``--loop`` (for the embedded
default and deployments without Celery beat)."""

from __future__ import annotations

import os
import socket
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mediation.services.outbox import outbox_drain


class Command(BaseCommand):
    help = "Deliver due outbox messages (SMS, e-mail, in-app) with retries and backoff."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", default=None,
            help="Deliver again every SECONDS seconds until interrupted (default: once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval: float | None = options["loop"]
        if interval is not None and interval <= 0:
            raise CommandError("--loop needs a positive number of seconds")
        worker_id = f"command@{socket.gethostname()}:{os.getpid()}"
        try:
            while True:
                sent = outbox_drain(worker_id=worker_id)
                if sent or interval is None:
                    self.stdout.write(f"{sent} message(s) sent")
                if interval is None:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:  # the way a --loop run is meant to end
            return
