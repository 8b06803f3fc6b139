"""Create the development certificate authority that signs the per-signing event certificates (documents/ca.py)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from documents.ca import dev_ca_create


class Command(BaseCommand):
    help = "Create a development root CA and issuing CA (keys on disk; never for production)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dir", default=None, help="Where to write the CA files (default: settings.DEV_CA_DIR).")
        parser.add_argument("--force", action="store_true",
                            help="Replace an existing CA (its signatures stop verifying against the new root).")
        parser.add_argument("--if-missing", action="store_true",
                            help="Do nothing when a CA already exists there (for scripts such as make run).")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"] or settings.DEV_CA_DIR)
        if options["if_missing"] and (directory / "root.cert.pem").exists():
            self.stdout.write(f"Development CA already in {directory}")
            return
        try:
            written = dev_ca_create(directory, force=options["force"])
        except FileExistsError as exc:
            raise CommandError(str(exc)) from exc
        for path in written:
            self.stdout.write(f"wrote {path}")
        self.stdout.write(self.style.SUCCESS(
            f"Development CA created in {directory}. Trust {directory / 'root.cert.pem'} to verify signatures."
        ))
