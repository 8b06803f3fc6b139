"""The demo world's API clients (after ``seed_demo``): the 东城 court's case system and the labour union
mediation centre's system, each with a published token, like the demo passwords. Idempotent; refuses to run
with DEBUG off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiClient, ApiToken, Scope
from api.services import api_client_create, token_hash
from mediation.models import Organisation, User

# Published in the README with the demo passwords: never use them outside the demo world.
DEMO_TOKENS: dict[str, tuple[str, str, list[str], str]] = {
    "东城法院审判系统（演示）": ("北京市东城区人民法院", "clerk", list(Scope.values),
                          "yz_demo0001_court-system-demo-token"),
    "市总工会调解中心系统（演示）": ("北京市总工会劳动争议调解中心", "org_admin",
                            [Scope.CASES_READ, Scope.WEBHOOKS, Scope.APPLICATIONS_WRITE],
                            "yz_demo0002_partner-demo-token"),
}


class Command(BaseCommand):
    help = "Create the demo API clients with their published tokens and print how to try the API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--allow-production", action="store_true", help="A staging site with DEBUG off.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("seed_demo_api publishes its tokens; it refuses to run with DEBUG off.")
        for name, (org_name, username, scopes, token) in DEMO_TOKENS.items():
            organisation = Organisation.objects.filter(name=org_name).first()
            user = User.objects.filter(username=username).first()
            if organisation is None or user is None:
                raise CommandError("Run seed_demo first.")
            client = ApiClient.objects.filter(name=name).first() or api_client_create(
                name=name, organisation=organisation, acting_user=user, scopes=scopes, actor=None)
            if client.scopes != scopes:  # a demo database seeded before a scope was added
                client.scopes = scopes
                client.save(update_fields=["scopes"])
            ApiToken.objects.get_or_create(token_sha256=token_hash(token),
                                           defaults={"client": client, "prefix": token.split("_")[1]})
            self.stdout.write(f"  {name}: {token}")
        self.stdout.write("Try: curl -H 'Authorization: Bearer yz_demo0001_court-system-demo-token' "
                          "http://127.0.0.1:8000/api/v1/webhooks   (docs: http://127.0.0.1:8000/api/v1/docs)")
        self.stdout.write("The union's system prepares a party's application with POST /api/v1/applications; the "
                          "party's SMS link (var/sms.log) asks them to claim and submit it (docs/api.md).")
