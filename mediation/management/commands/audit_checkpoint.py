"""Write a signed checkpoint of every audit chain head outside the database (Celery beat does it hourly)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mediation.audit_anchor import checkpoint_write


class Command(BaseCommand):
    help = "Append a signed checkpoint of every audit chain head to AUDIT_CHECKPOINT_PATH."

    def handle(self, *args: Any, **options: Any) -> None:
        record, refused = checkpoint_write()
        self.stdout.write(f"Checkpoint of {len(record['heads'])} heads written to {settings.AUDIT_CHECKPOINT_PATH}.")
        if refused:
            for item in refused:
                self.stderr.write(f"NOT ANCHORED {item}")
            raise CommandError(f"{len(refused)} chain heads do not verify and were left out of the checkpoint.")
