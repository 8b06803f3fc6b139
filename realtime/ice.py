"""ICE servers for a room member, from settings: STUN URLs, and TURN with coturn's time-limited REST
credentials (``use-auth-secret``): ``username = "<expiry unix time>:<member id>"``,
``credential = base64(HMAC-SHA1(secret, username))``, computed here without calling anything."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.utils import timezone


def turn_credentials(*, secret: str, member_id: int, ttl: int, now: dt.datetime) -> tuple[str, str]:
    username = f"{int(now.timestamp()) + ttl}:{member_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(*, member_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The ``ice_servers`` of a welcome. Empty by default: on one machine host candidates suffice."""
    servers: list[dict[str, Any]] = []
    stun = list(getattr(settings, "ICE_STUN_URLS", []) or [])
    if stun:
        servers.append({"urls": stun})
    turn = list(getattr(settings, "ICE_TURN_URLS", []) or [])
    secret = getattr(settings, "ICE_TURN_SECRET", "") or ""
    if turn and secret:
        username, credential = turn_credentials(
            secret=secret, member_id=member_id, ttl=int(settings.ICE_TURN_TTL), now=now or timezone.now()
        )
        servers.append({"urls": turn, "username": username, "credential": credential})
    return servers
