"""The one way our adapters POST JSON to an outside service and read its JSON answer (SMS gateway, identity
provider). Every failure becomes the adapter's own error class, worded with the service's name."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def post_json(
    *, url: str, body: bytes, headers: dict[str, str], timeout: float, service: str, error: type[Exception]
) -> Any:
    """POST ``body`` to ``url`` and return the decoded JSON answer. ``service`` names the other side in the error
    ("The SMS gateway"); ``error`` is raised for an HTTP error, no connection, a non-2xx status or no JSON."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
        raise error(f"{service} answered HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise error(f"{service} at {url} cannot be reached: {reason}") from exc
    if not 200 <= status < 300:
        raise error(f"{service} answered HTTP {status}.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise error(f"{service}'s answer is not JSON.") from exc
