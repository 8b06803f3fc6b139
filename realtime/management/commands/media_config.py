"""Write the media servers' configuration (``realtime.media_config``): Janus into ``OUT/janus/`` and coturn into
``OUT/turnserver.conf``, with the secrets of the settings (JANUS_ADMIN_SECRET, JANUS_VIDEOROOM_ADMIN_KEY,
ICE_TURN_SECRET). A secret the settings lack is generated and written, with the others, to ``OUT/media.env``
(mode 0600) for the app's environment: no Debian default is ever used. Prints the commands that start both."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from realtime import media_config


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


class Command(BaseCommand):
    help = "Generate Janus's and coturn's configuration with the project's own secrets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="var/media", help="output directory (default var/media)")
        parser.add_argument(
            "--ice-address",
            default=settings.JANUS_ICE_ADDRESS,
            help="the non-loopback address Janus and coturn use for media (JANUS_ICE_ADDRESS)",
        )
        parser.add_argument("--bind", default="127.0.0.1", help="the private address of Janus's APIs and TURN")
        parser.add_argument("--turn-port", type=int, default=3478)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        generated: dict[str, str] = {}

        def secret(name: str) -> str:
            value = str(getattr(settings, name, "") or "")
            if not value:
                value = generated[name] = media_config.new_secret()
            return value

        try:
            janus = media_config.JanusConfig(
                admin_secret=secret("JANUS_ADMIN_SECRET"),
                admin_key=secret("JANUS_VIDEOROOM_ADMIN_KEY"),
                ice_address=options["ice_address"],
                bind=options["bind"],
                admin_port=_port(settings.JANUS_ADMIN_URL, 7088),
                ws_port=_port(settings.JANUS_WS_URL, 8188),
            )
            coturn = media_config.CoturnConfig(
                secret=secret("ICE_TURN_SECRET"),
                relay_ip=options["ice_address"],
                listening_ips=tuple(dict.fromkeys((options["bind"], options["ice_address"]))),
                port=options["turn_port"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        paths = media_config.write(out, janus=janus, coturn=coturn)
        env = {
            "MEDIA": "sfu",
            "JANUS_ADMIN_URL": janus.admin_url,
            "JANUS_WS_URL": janus.ws_url,
            "JANUS_ADMIN_SECRET": janus.admin_secret,
            "JANUS_VIDEOROOM_ADMIN_KEY": janus.admin_key,
            "JANUS_ICE_ADDRESS": janus.ice_address,
            "ICE_TURN_SECRET": coturn.secret,
            "ICE_TURN_URLS": f"turn:{options['bind']}:{coturn.port}?transport=udp",
        }
        env_path = out / "media.env"
        media_config.write_private(env_path, "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()))
        self.stdout.write(f"wrote {len(paths)} files under {out}/ and {env_path}")
        if generated:
            self.stdout.write(f"generated new secrets for {', '.join(sorted(generated))} (in {env_path})")
        self.stdout.write("janus:     " + shlex.join(media_config.janus_command(out)))
        self.stdout.write("turnserver: " + shlex.join(media_config.coturn_command(out)))
