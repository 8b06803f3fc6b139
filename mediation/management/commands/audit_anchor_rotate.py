"""Re-key the audit chain heads after the anchor key changed (see .env.example, AUDIT_ANCHOR_OLD_KEYS)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mediation.audit_anchor import rotate_head_keys


class Command(BaseCommand):
    help = ("Re-key every audit chain head whose MAC holds under a retired key (AUDIT_ANCHOR_OLD_KEYS) with the "
            "current AUDIT_ANCHOR_KEY, then write a checkpoint.")

    def handle(self, *args: Any, **options: Any) -> None:
        rekeyed, refused = rotate_head_keys()
        self.stdout.write(f"{rekeyed} chain heads re-keyed with the current anchor key; checkpoint written.")
        if refused:
            for item in refused:
                self.stderr.write(f"NOT RE-KEYED {item}")
            raise CommandError(f"{len(refused)} chain heads fit no configured key and were left as they are.")
