"""Create an API client for an organisation (or reuse one by name) and print a new token for it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiClient, Scope
from api.services import api_client_create, api_token_issue
from mediation.models import Organisation, User


class Command(BaseCommand):
    help = "Issue an API token: for an existing client by name, or a new client of an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The client's name, e.g. “东城法院审判系统”.")
        parser.add_argument("--organisation", help="Name of the court or organisation (new client only).")
        parser.add_argument("--user", help="Username of the account the client acts as (new client only).")
        parser.add_argument("--scopes", default=",".join(Scope.values),
                            help=f"Comma-separated, from: {', '.join(Scope.values)} (new client only).")

    def handle(self, *args: Any, **options: Any) -> None:
        client = ApiClient.objects.filter(name=options["name"], is_active=True).first()
        if client is None:
            if not options["organisation"] or not options["user"]:
                raise CommandError("A new client needs --organisation and --user.")
            organisation = Organisation.objects.filter(name=options["organisation"]).first()
            user = User.objects.filter(username=options["user"]).first()
            if organisation is None or user is None:
                raise CommandError("No such organisation or user.")
            scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
            client = api_client_create(name=options["name"], organisation=organisation, acting_user=user,
                                       scopes=scopes, actor=None)
        token, _row = api_token_issue(client=client, actor=None)
        self.stdout.write(token)
