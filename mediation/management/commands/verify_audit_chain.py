"""Check every audit stream's hash chain and report the first broken link of each."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mediation.audit_chain import verify_all, verify_stream
from mediation.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the hash-chained audit trail; exits non-zero at the first broken link of any stream."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stream", help="Check one stream only, e.g. case.42")
        parser.add_argument("--case", type=int, help="Check one case's stream")

    def handle(self, *args: Any, **options: Any) -> None:
        stream = options["stream"] or (f"case.{options['case']}" if options["case"] else None)
        if stream:
            found = verify_stream(stream)
            breaks = [found] if found else []
            checked = 1
        else:
            breaks = verify_all()
            checked = AuditEvent.objects.values("stream").distinct().count()
        if breaks:
            for item in breaks:
                self.stderr.write(f"BROKEN {item}")
            raise CommandError(f"{len(breaks)} of {checked} audit streams are broken; first break: {breaks[0]}")
        self.stdout.write(f"OK: {checked} audit streams intact ({AuditEvent.objects.count()} events).")
